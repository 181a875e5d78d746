/* verify_receipts.c: "escort-replay verify --anchor FILE" for the receipt
 * lines of FILE (what escort-proxy keeps in STATEDIR/receipts, see
 * recorder/receipt.h): every receipt must be signed by the key, and the
 * store must hold its session, closed, with that final record: the journal's
 * close entry and the session file's FINAL segment both match it.  A
 * session deleted, rolled back to before its close, or replaced by another
 * file contradicts its receipt; the first one is named by file:line.  A
 * session pruned (its file removed once the object store held it, after a
 * prune entry) holds its receipt by its close entry. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/receipt.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/verify.h"
#include "replay/replay.h"

/* FINAL segment payload: kind, index, last seq, head, wall, offset, key
 * id, signature (escort-transcript(5), CHECKPOINT and FINAL). */
#define RVR_FINAL_LEN	(1 + 4 + 8 + SEAL_HASH_LEN + 8 + 8 + SEAL_KEYID_LEN + \
			 SEAL_SIG_LEN)
#define RVR_SIG_AT	(RVR_FINAL_LEN - SEAL_SIG_LEN)

/* What the journal says of one session. */
struct rvr_sess {
	char id[SEAL_ID_MAX + 1];
	int closed;
	int pruned;			/* a prune entry follows the close */
	struct journal_entry close;	/* text, raw: not kept */
};

struct rvr {
	struct rvr_sess *s;
	size_t n, cap;
};

static struct rvr_sess *
rvr_find(struct rvr *t, const char *id)
{
	/* newest first: a session id is named once per open */
	for (size_t i = t->n; i-- > 0;)
		if (strcmp(t->s[i].id, id) == 0)
			return &t->s[i];
	return NULL;
}

static int
rvr_journal_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct rvr *t = arg;
	struct rvr_sess *s;
	void *p;

	(void)index;
	(void)offset;
	if (e->kind == JOURNAL_OPEN) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 256;
			if ((p = realloc(t->s, t->cap * sizeof(*t->s))) == NULL)
				return REC_ENOMEM;
			t->s = p;
		}
		s = &t->s[t->n++];
		memset(s, 0, sizeof(*s));
		snprintf(s->id, sizeof(s->id), "%s", e->id);
	} else if (e->kind == JOURNAL_CLOSE && (s = rvr_find(t, e->id)) != NULL) {
		s->closed = 1;
		s->close = *e;
		s->close.text = NULL;
		s->close.raw = NULL;
	} else if (e->kind == JOURNAL_PRUNE && (s = rvr_find(t, e->id)) != NULL) {
		s->pruned = 1;
	}
	return 0;
}

/* Reads the segment at rc's offset of the session file: "" when it is
 * the FINAL record the receipt names, else why not (into why). */
static void
rvr_file(const char *store, const struct seal_receipt *rc, char *why,
    size_t n)
{
	char path[4200];
	uint8_t b[SEG_HDR_LEN + RVR_FINAL_LEN];
	ssize_t got;
	int fd;

	why[0] = '\0';
	if (tw_path(store, rc->cp.id, path, sizeof(path)) != REC_OK) {
		snprintf(why, n, "its id is not a session id");
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, n, "its file sessions/%s%s: %s (the session "
		    "was deleted)", rc->cp.id, TR_SUFFIX, strerror(errno));
		return;
	}
	got = pread(fd, b, sizeof(b), (off_t)rc->cp.offset);
	close(fd);
	if (got != (ssize_t)sizeof(b) || memcmp(b, SEG_MAGIC, 4) != 0 ||
	    b[5] != SEG_FINAL || b[SEG_HDR_LEN] != SEAL_FINAL ||
	    memcmp(b + SEG_HDR_LEN + RVR_SIG_AT, rc->sig, SEAL_SIG_LEN) != 0)
		snprintf(why, n, "its file sessions/%s%s holds no such final "
		    "record at offset %" PRIu64 " (the session was cut, "
		    "rolled back or replaced)", rc->cp.id, TR_SUFFIX,
		    rc->cp.offset);
}

/* Why the store contradicts rc ("" when it does not); *pruned = 1 when it
 * holds rc's session by its close and prune entries, the file gone. */
static void
rvr_check(const char *store, struct rvr *t, const struct seal_verifier *v,
    struct seal_receipt *rc, char *why, size_t n, int *pruned)
{
	struct rvr_sess *s;
	char path[4200];

	why[0] = '\0';
	*pruned = 0;
	memcpy(rc->keyid, seal_verifier_keyid(v), SEAL_KEYID_LEN);
	if (seal_receipt_verify(v, rc) != REC_OK)
		snprintf(why, n, "its signature does not verify with the key");
	else if ((s = rvr_find(t, rc->cp.id)) == NULL)
		snprintf(why, n, "the journal does not name the session "
		    "(deleted, or the store rolled back)");
	else if (!s->closed)
		snprintf(why, n, "the journal shows the session open (the "
		    "store rolled back to before its close)");
	else if (s->close.last_seq != rc->cp.last_seq ||
	    s->close.offset != rc->cp.offset ||
	    memcmp(s->close.head, rc->cp.head, SEAL_HASH_LEN) != 0)
		snprintf(why, n, "the journal closed it at seq %" PRIu64
		    ", offset %" PRIu64 " with another chain head (replaced)",
		    s->close.last_seq, s->close.offset);
	else if (s->pruned && tw_path(store, rc->cp.id, path, sizeof(path)) ==
	    REC_OK && access(path, F_OK) != 0)
		*pruned = 1;	/* held in the object store: the close entry
				   matched, and verify_store checks the prune
				   entry against it */
	else
		rvr_file(store, rc, why, n);
}

int
replay_verify_receipts(const char *store, const struct seal_verifier *v,
    const char *path, verify_report_cb report, void *arg, int *heads)
{
	struct rvr t = { NULL, 0, 0 };
	struct seal_receipt rc;
	char line[RECEIPT_LINE_MAX + 2], why[900], pruned[300] = "";
	uint64_t bad_off = 0;
	int lineno = 0, nrec = 0, bad = 0, torn = 0, r, loaded = 0;
	int npruned = 0, was_pruned;
	FILE *f;

	*heads = 0;
	if ((f = fopen(path, "re")) == NULL)
		return 0;	/* verify_store_anchored reports it */
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		lineno++;
		if (strncmp(line, "escort-head ", 12) == 0)
			(*heads)++;
		if (strncmp(line, RECEIPT_PREFIX, strlen(RECEIPT_PREFIX)) != 0) {
			while (len > 0 && line[len - 1] != '\n' &&
			    fgets(line, sizeof(line), f) != NULL)
				len = strlen(line);
			continue;
		}
		nrec++;
		if ((len == 0 || line[len - 1] != '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "%s:%d: receipt line too "
			    "long", path, lineno);
			goto contradicted;
		}
		if (receipt_parse(line, &rc) != REC_OK) {
			snprintf(why, sizeof(why), "%s:%d: not a receipt line "
			    "(escort-receipt v1 ID SEQ HEAD INDEX TIME OFFSET "
			    "SIG)", path, lineno);
			goto contradicted;
		}
		if (!loaded) {
			loaded = 1;
			r = journal_read(store, NULL, rvr_journal_cb, &t,
			    &bad_off, &torn);
			if (r == REC_ENOMEM) {
				fclose(f);
				free(t.s);
				return r;
			}
			/* a damaged journal is reported by the store check;
			 * the entries before the damage still count */
		}
		rvr_check(store, &t, v, &rc, line, sizeof(line), &was_pruned);
		if (line[0] == '\0') {
			if (was_pruned && npruned++ < 4)
				snprintf(pruned + strlen(pruned), sizeof(pruned) -
				    strlen(pruned), "%s%s", npruned > 1 ? ", " : "",
				    rc.cp.id);
			continue;
		}
		snprintf(why, sizeof(why), "%s:%d: the store contradicts the "
		    "receipt of session %s (seq %" PRIu64 "): %.400s", path,
		    lineno, rc.cp.id, rc.cp.last_seq, line);
contradicted:
		if (bad++ == 0)
			report(arg, VERIFY_PROBLEM, "anchor", UINT32_MAX,
			    UINT64_MAX, why);
	}
	fclose(f);
	free(t.s);
	if (bad > 1) {
		snprintf(why, sizeof(why), "%s: %d more receipts contradicted",
		    path, bad - 1);
		report(arg, VERIFY_PROBLEM, "anchor", UINT32_MAX, UINT64_MAX,
		    why);
	} else if (nrec == 0 && *heads == 0) {
		snprintf(why, sizeof(why), "%s holds no tree head and no "
		    "receipt", path);
		report(arg, VERIFY_PROBLEM, "anchor", UINT32_MAX, UINT64_MAX,
		    why);
	} else if (bad == 0 && nrec > 0) {
		snprintf(why, sizeof(why), "ok: the store holds, closed as "
		    "they say, all %d sessions the receipts of %.500s name", nrec,
		    path);
		if (npruned > 0)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
			    "; %d of them pruned from it, held in the object "
			    "store: %s%s", npruned, pruned, npruned > 4 ?
			    ", ..." : "");
		report(arg, VERIFY_INTACT, "anchor", UINT32_MAX, UINT64_MAX,
		    why);
	}
	return 0;
}
