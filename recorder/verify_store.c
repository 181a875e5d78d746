/* verify_store.c: verification of a store: journal, sessions, and the set
 * of sessions (see verify.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/journal_prune.h"
#include "recorder/merkle.h"
#include "recorder/rec_error.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/verify.h"

/* How long to wait before looking again at an incomplete tail. */
static const struct timespec vs_retry = { 0, 200000000 };

struct vs {
	verify_report_cb cb;
	void *arg;
	int problems;
	struct journal_entry *je;	/* journal entries, in order */
	uint32_t *jidx;			/* their journal segment index */
	size_t nje, capje;
	char **ids;			/* sessions to consider */
	size_t nids, capids;
	uint8_t (*leaves)[MERKLE_HASH_LEN];	/* Merkle leaves of the journal */
	const struct seal_verifier *v;
	int flags;			/* VERIFY_* */
	const char *store;		/* for vs_refresh */
	int refreshed;			/* times the journal was read again */
	/* While the journal is read under a tree head's cover, its reports
	 * wait here: they stand only if the cover holds (vs_read_journal). */
	int defer;
	struct vs_pending *pend;
	size_t npend;
	int pend_lost;			/* more than VS_PENDING_MAX */
	char **ptext;			/* the texts of PRUNE entries (their
					   je[].text points here) */
	size_t nptext, capptext;
};

#define VS_PENDING_MAX 32
#define VS_REFRESH_MAX 3	/* journal reads again per verify (vs_refresh) */
#define VS_HEAD_TRIES 10	/* looks at a new session's head, vs_retry apart */

static int vs_refresh(struct vs *s);
static int vs_read_journal(struct vs *s, const char *store, uint64_t *bad, int *torn);

struct vs_pending {
	int ok;
	char id[SEAL_ID_MAX + 1];
	uint32_t index;
	uint64_t off;
	char msg[300];
};

static void
vs_report(struct vs *s, int ok, const char *id, uint32_t index, uint64_t off,
    const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->defer) {
		struct vs_pending *p;

		if (s->npend == VS_PENDING_MAX) {
			s->pend_lost = 1;
			return;
		}
		p = &s->pend[s->npend++];
		p->ok = ok;
		snprintf(p->id, sizeof(p->id), "%s", id);
		p->index = index;
		p->off = off;
		memcpy(p->msg, msg, sizeof(msg));
		return;
	}
	if (ok == VERIFY_PROBLEM || ok == VERIFY_IOERR)
		s->problems++;
	if (s->cb != NULL)
		s->cb(s->arg, ok, id, index, off, msg);
}

static int
vs_journal_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct vs *s = arg;
	void *p;

	if (s->nje == s->capje) {
		s->capje = s->capje ? s->capje * 2 : 64;
		if ((p = realloc(s->je, s->capje * sizeof(*s->je))) == NULL)
			return REC_ENOMEM;
		s->je = p;
		if ((p = realloc(s->jidx, s->capje * sizeof(*s->jidx))) == NULL)
			return REC_ENOMEM;
		s->jidx = p;
		if ((p = realloc(s->leaves, s->capje * MERKLE_HASH_LEN)) == NULL)
			return REC_ENOMEM;
		s->leaves = p;
	}
	merkle_leaf(e->raw, e->rawlen, s->leaves[s->nje]);
	s->jidx[s->nje] = index;
	s->je[s->nje] = *e;
	s->je[s->nje].text = NULL;	/* borrowed: gone after this call */
	s->je[s->nje].raw = NULL;
	if (e->kind == JOURNAL_PRUNE) {	/* the object's address: kept */
		if (s->nptext == s->capptext) {
			s->capptext = s->capptext ? s->capptext * 2 : 16;
			if ((p = realloc(s->ptext, s->capptext *
			    sizeof(*s->ptext))) == NULL)
				return REC_ENOMEM;
			s->ptext = p;
		}
		if ((s->ptext[s->nptext] = strdup(e->text != NULL ? e->text :
		    "")) == NULL)
			return REC_ENOMEM;
		s->je[s->nje].text = s->ptext[s->nptext++];
	}
	s->nje++;
	switch (e->kind) {
	case JOURNAL_REBUILD:
		vs_report(s, VERIFY_NOTICE, "journal", index, offset,
		    "rebuilt at entry %" PRIu32 ": %s", index, e->text);
		break;
	case JOURNAL_RECOVER:
		if (strcmp(e->id, "journal") == 0)
			vs_report(s, VERIFY_NOTICE, "journal", index, offset,
			    "recovered after a crash: %s", e->text);
		break;
	case JOURNAL_ALTERED:
		vs_report(s, VERIFY_PROBLEM, e->id, UINT32_MAX, e->offset,
		    "tampered: %s (journal entry %" PRIu32 ")", e->text, index);
		break;
	}
	return 0;
}

static int
vs_add_id(struct vs *s, const char *id)
{
	size_t i;
	void *p;

	for (i = 0; i < s->nids; i++)
		if (strcmp(s->ids[i], id) == 0)
			return REC_OK;
	if (s->nids == s->capids) {
		s->capids = s->capids ? s->capids * 2 : 64;
		if ((p = realloc(s->ids, s->capids * sizeof(*s->ids))) == NULL)
			return REC_ENOMEM;
		s->ids = p;
	}
	if ((s->ids[s->nids] = strdup(id)) == NULL)
		return REC_ENOMEM;
	s->nids++;
	return REC_OK;
}

static int
vs_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
vs_scan_dir(struct vs *s, const char *store)
{
	char dir[4096], id[256];
	struct dirent *d;
	size_t n, sl = strlen(TR_SUFFIX);
	DIR *dp;
	int r = REC_OK;

	snprintf(dir, sizeof(dir), "%s/%s", store, TR_SESSIONS_DIR);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? REC_OK : rec_from_errno(errno);
	while ((d = readdir(dp)) != NULL) {
		n = strlen(d->d_name);
		if (n <= sl || strcmp(d->d_name + n - sl, TR_SUFFIX) != 0 ||
		    n - sl >= sizeof(id))
			continue;
		memcpy(id, d->d_name, n - sl);
		id[n - sl] = '\0';
		if (!tw_id_valid(id)) {
			vs_report(s, 0, id, UINT32_MAX, UINT64_MAX,
			    "unexpected file %s in the store", d->d_name);
			continue;
		}
		if ((r = vs_add_id(s, id)) != REC_OK)
			break;
	}
	closedir(dp);
	return r;
}

/* Is journal entry i undone by a later RECOVER of the same session? */
static int
vs_superseded(const struct vs *s, size_t i)
{
	size_t j;

	for (j = i + 1; j < s->nje; j++)
		if (s->je[j].kind == JOURNAL_RECOVER &&
		    strcmp(s->je[j].id, s->je[i].id) == 0 &&
		    s->je[j].offset <= s->je[i].offset)
			return 1;
	return 0;
}

static const char *
vs_kind(uint8_t k)
{
	switch (k) {
	case JOURNAL_OPEN:
		return "open";
	case JOURNAL_CHECKPOINT:
		return "checkpoint";
	case JOURNAL_CLOSE:
		return "close";
	default:
		return "recovery";
	}
}

/* Checks the journal's entries for one session against its file. */
static void
vs_cross(struct vs *s, const char *id, const struct verify_file_result *vr,
    int *closed)
{
	const struct journal_entry *e;
	const struct verify_seg *g;
	size_t i;
	int known = 0, ok;

	*closed = 0;
	for (i = 0; i < s->nje; i++) {
		e = &s->je[i];
		if (strcmp(e->id, id) != 0 || e->kind > JOURNAL_RECOVER)
			continue;
		known = 1;
		if (e->kind == JOURNAL_RECOVER && *closed)
			vs_report(s, VERIFY_PROBLEM, id, e->seg_index, e->offset,
			    "tampered: journal entry %" PRIu32 " records a "
			    "recovery after the session was closed (a closed "
			    "session is never reopened)", s->jidx[i]);
		if (e->kind == JOURNAL_CLOSE)
			*closed = 1;
		if (vs_superseded(s, i))
			continue;
		g = e->seg_index < vr->nseg ? &vr->seg[e->seg_index] : NULL;
		switch (e->kind) {
		case JOURNAL_OPEN:
			ok = g != NULL && e->seg_index == 0 && g->end == e->offset &&
			    memcmp(g->head_after, e->head, SEAL_HASH_LEN) == 0;
			break;
		case JOURNAL_CHECKPOINT:
		case JOURNAL_CLOSE:
			ok = g != NULL && g->offset == e->offset &&
			    g->type == (e->kind == JOURNAL_CLOSE ? SEG_FINAL :
			    SEG_CHECKPOINT) &&
			    memcmp(g->head_before, e->head, SEAL_HASH_LEN) == 0;
			break;
		default:
			ok = g != NULL && g->offset == e->offset &&
			    g->type == SEG_RECOVERY &&
			    memcmp(g->head_before, e->head, SEAL_HASH_LEN) == 0;
			break;
		}
		if (!ok)
			vs_report(s, 0, id, e->seg_index, e->offset,
			    "tampered: the %s record of journal entry %" PRIu32
			    " is missing or altered in the session file",
			    vs_kind(e->kind), s->jidx[i]);
	}
	if (!known)
		vs_report(s, 0, id, UINT32_MAX, UINT64_MAX,
		    "session is not recorded in the journal");
}

static int
vs_in_journal(const struct vs *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nje; i++)
		if (strcmp(s->je[i].id, id) == 0)
			return 1;
	return 0;
}

/* Whether the journal holds a close entry for id. */
static int
vs_closes(const struct vs *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nje; i++)
		if (s->je[i].kind == JOURNAL_CLOSE && strcmp(s->je[i].id, id) == 0)
			return 1;
	return 0;
}

/*
 * The PRUNE entries of id (escort-transcript(5), JOURNAL, kind 8): each
 * must follow the session's close entry and name its FINAL segment, last
 * seq and the size that implies; else reported as tampering.  Returns the
 * index in je of the last prune entry that holds, or -1 (none, or one that
 * does not hold: reported).
 */
static ssize_t
vs_prune_check(struct vs *s, const char *id)
{
	const struct journal_entry *c = NULL, *e;
	ssize_t last = -1;
	int bad = 0;

	for (size_t i = 0; i < s->nje; i++) {
		e = &s->je[i];
		if (strcmp(e->id, id) != 0)
			continue;
		if (e->kind == JOURNAL_CLOSE)
			c = e;
		if (e->kind != JOURNAL_PRUNE)
			continue;
		if (c == NULL) {
			vs_report(s, VERIFY_PROBLEM, id, e->seg_index, UINT64_MAX,
			    "tampered: journal entry %" PRIu32 " prunes a "
			    "session that was not closed", s->jidx[i]);
			bad = 1;
		} else if (e->seg_index != c->seg_index ||
		    e->last_seq != c->last_seq ||
		    e->offset != c->offset + SEG_HDR_LEN + SEG_SEAL_LEN) {
			vs_report(s, VERIFY_PROBLEM, id, e->seg_index, UINT64_MAX,
			    "tampered: the prune entry (journal entry %" PRIu32
			    ") disagrees with the session's close entry: it "
			    "names segment %" PRIu32 ", %" PRIu64 " bytes, seq "
			    "%" PRIu64 "; the close entry seals segment %"
			    PRIu32 ", %" PRIu64 " bytes, seq %" PRIu64,
			    s->jidx[i], e->seg_index, e->offset, e->last_seq,
			    c->seg_index, c->offset + SEG_HDR_LEN +
			    SEG_SEAL_LEN, c->last_seq);
			bad = 1;
		} else if (last >= 0) {
			vs_report(s, VERIFY_PROBLEM, id, e->seg_index, UINT64_MAX,
			    "tampered: a second prune entry (journal entry %"
			    PRIu32 ")", s->jidx[i]);
			bad = 1;
		} else {
			last = (ssize_t)i;
		}
	}
	return bad ? -1 : last;
}

static void
vs_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* A session whose file is absent: pruned (VERIFY_INTACT, "pruned, held in
 * s3://..."), a prune entry that does not hold (reported by
 * vs_prune_check), or deleted. */
static void
vs_absent(struct vs *s, const char *id, const char *path)
{
	const struct journal_entry *e;
	char sha[2 * SEAL_HASH_LEN + 1], when[32], store[600], *cut;
	char addr[600], user[8], target[8];
	ssize_t p;
	int before = s->problems;
	time_t t;
	struct tm tm;

	for (p = 0; p < (ssize_t)s->nje; p++)
		if (s->je[p].kind == JOURNAL_PRUNE &&
		    strcmp(s->je[p].id, id) == 0)
			break;
	if (p == (ssize_t)s->nje) {
		vs_report(s, 0, id, UINT32_MAX, UINT64_MAX,
		    "session file %s is missing (deleted)", path);
		return;
	}
	if ((p = vs_prune_check(s, id)) < 0 || s->problems != before)
		return;
	e = &s->je[p];
	/* the object's address: the text's first line (journal_prune.h) */
	journal_prune_text_parse(e->text, addr, sizeof(addr), user,
	    sizeof(user), target, sizeof(target));
	snprintf(store, sizeof(store), "%s", addr);
	if ((cut = strstr(store, "/" TR_SESSIONS_DIR "/")) != NULL)
		*cut = '\0';	/* s3://BUCKET/PREFIX */
	vs_hex(e->head, SEAL_HASH_LEN, sha);
	t = (time_t)(e->wall_ns / 1000000000u);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	vs_report(s, VERIFY_INTACT, id, UINT32_MAX, UINT64_MAX,
	    "pruned, held in %s (%" PRIu64 " bytes, SHA-256 %.16s..., pruned "
	    "%s; verify it there: --store %s)", addr[0] ? addr : "?",
	    e->offset, sha, when, store);
}

/* The user or target prune entry e names that the META of the session
 * file at path does not (""), into what; 0 when they agree or e names
 * none (journal_prune.h). */
static int
vs_prune_names(const struct journal_entry *e, const char *path, char *what,
    size_t whatlen)
{
	char addr[8], want[2][JOURNAL_TEXT_MAX + 1], got[2][JOURNAL_TEXT_MAX + 1];
	static const char *const key[2] = { "user", "target" };
	static const uint16_t tag[2] = { EVF_USER, EVF_TARGET };
	const uint8_t *meta;
	struct tr *r;
	struct ev ev;
	size_t mlen, used;
	int k;

	journal_prune_text_parse(e->text, addr, sizeof(addr), want[0],
	    sizeof(want[0]), want[1], sizeof(want[1]));
	if (want[0][0] == '\0' && want[1][0] == '\0')
		return 0;
	got[0][0] = got[1][0] = '\0';
	if (tr_open(path, &r) == REC_OK) {
		tr_meta(r, &meta, &mlen);
		if (ev_decode(meta, mlen, &ev, &used) == REC_OK &&
		    ev.type == EV_META)
			for (k = 0; k < 2; k++)
				ev_fields_get_str(ev.data, ev.len, tag[k],
				    got[k], sizeof(got[k]));
		tr_free(r);
	}
	for (k = 0; k < 2; k++)
		if (want[k][0] != '\0' && strcmp(want[k], got[k]) != 0) {
			snprintf(what, whatlen, "%s \"%.128s\" where the file's "
			    "META says \"%.128s\"", key[k], want[k], got[k]);
			return 1;
		}
	return 0;
}

/* A session file present whose journal has a prune entry (a copy read
 * from the object store, or a removal a crash stopped): it must be the
 * file the entry names, and of the user and target it names.  Sets note
 * (for the ok line) when it is. */
static void
vs_present_pruned(struct vs *s, const char *id, const char *path, int fd,
    char *note, size_t notelen)
{
	char what[400];
	const struct journal_entry *e;
	uint8_t sha[SEAL_HASH_LEN];
	struct stat sb;
	void *map = NULL;
	ssize_t p;

	note[0] = '\0';
	for (p = 0; p < (ssize_t)s->nje; p++)
		if (s->je[p].kind == JOURNAL_PRUNE &&
		    strcmp(s->je[p].id, id) == 0)
			break;
	if (p == (ssize_t)s->nje || (p = vs_prune_check(s, id)) < 0)
		return;
	e = &s->je[p];
	if (fstat(fd, &sb) != 0 || (sb.st_size > 0 && (map = mmap(NULL,
	    (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)) {
		vs_report(s, VERIFY_PROBLEM, id, UINT32_MAX, UINT64_MAX,
		    "reading the file to compare with its prune entry: %s",
		    strerror(errno));
		return;
	}
	seal_sha256(map != NULL ? map : "", (size_t)sb.st_size, sha);
	if (map != NULL)
		munmap(map, (size_t)sb.st_size);
	if ((uint64_t)sb.st_size != e->offset ||
	    memcmp(sha, e->head, SEAL_HASH_LEN) != 0)
		vs_report(s, VERIFY_PROBLEM, id, UINT32_MAX, UINT64_MAX,
		    "tampered: the file is not the one its prune entry "
		    "(journal entry %" PRIu32 ") names: %lld bytes where it "
		    "says %" PRIu64 ", or another SHA-256", s->jidx[p],
		    (long long)sb.st_size, e->offset);
	else if (vs_prune_names(e, path, what, sizeof(what)))
		vs_report(s, VERIFY_PROBLEM, id, UINT32_MAX, UINT64_MAX,
		    "tampered: its prune entry (journal entry %" PRIu32 ") "
		    "names %s", s->jidx[p], what);
	else
		snprintf(note, notelen, "; pruned from the recorder's Store "
		    "(journal entry %" PRIu32 "), this is the file pruned",
		    s->jidx[p]);
}

static void
vs_session(struct vs *s, const char *store, const char *id,
    const struct seal_verifier *v, int flags)
{
	char pruned[160];
	struct verify_file_result vr;
	char path[4096];
	char refused[160];
	struct stat sb;
	int fd, r, closed, before = s->problems;

	if (tw_path(store, id, path, sizeof(path)) != REC_OK) {
		vs_report(s, 0, id, UINT32_MAX, UINT64_MAX, "invalid session id");
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && vs_in_journal(s, id))
			vs_absent(s, id, path);
		else if (errno == ENOENT)
			vs_report(s, 0, id, UINT32_MAX, UINT64_MAX,
			    "no such session");
		else
			vs_report(s, VERIFY_IOERR, id, UINT32_MAX, UINT64_MAX,
			    "%s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		close(fd);	/* read() would give EISDIR, seen as REC_EIO */
		vs_report(s, VERIFY_IOERR, id, UINT32_MAX, UINT64_MAX,
		    "%s: %s", path, strerror(EISDIR));
		return;
	}
	for (;;) {
		r = verify_file(fd, id, v, flags, &vr);
		if ((flags & VERIFY_WAIT_LIVE) && r == REC_OK &&
		    vr.err == REC_OK && vr.tail_torn && !vr.finished) {
			/* A live session may be in the middle of a write: look
			 * again once the writer had time to finish it. */
			verify_file_result_free(&vr);
			nanosleep(&vs_retry, NULL);
			r = verify_file(fd, id, v, flags, &vr);
		}
		/* One just created has no whole head segment yet: the writer
		 * gets up to VS_HEAD_TRIES more looks to write it. */
		for (int i = 0; (flags & VERIFY_WAIT_LIVE) && r == REC_OK &&
		    vr.err == REC_OK && vr.segments == 0 && i < VS_HEAD_TRIES; i++) {
			verify_file_result_free(&vr);
			nanosleep(&vs_retry, NULL);
			r = verify_file(fd, id, v, flags, &vr);
		}
		/* Opened or closed since the journal was read?  Then the
		 * journal is read again, and the file after it: the recorder
		 * writes a segment before its journal entry, so a file read
		 * after the journal holds at least what the journal says. */
		if (r != REC_OK || vr.err != REC_OK || vr.segments == 0 ||
		    (vs_in_journal(s, id) && (!vr.finished || vs_closes(s, id))) ||
		    !vs_refresh(s))
			break;
		verify_file_result_free(&vr);
	}
	if (r != REC_OK) {
		close(fd);
		vs_report(s, r == REC_EIO ? VERIFY_IOERR : VERIFY_PROBLEM, id,
		    UINT32_MAX, UINT64_MAX, "%s: %s", path, rec_strerror(r));
		verify_file_result_free(&vr);
		return;
	}
	closed = 0;
	if (vr.err == REC_OK && vr.segments > 0)
		vs_cross(s, id, &vr, &closed);
	vs_present_pruned(s, id, path, fd, pruned, sizeof(pruned));
	close(fd);
	if (vr.err != REC_OK)
		vs_report(s, 0, id, vr.err_index, vr.err_offset, "%s", vr.msg);
	else if (vr.segments == 0)
		vs_report(s, 0, id, 0, 0, "the head segment is incomplete");
	else if (vr.tail_torn)
		vs_report(s, 0, id, vr.segments, vr.valid_end,
		    "%s segment at the end of the file (%" PRIu64 " bytes, %s)",
		    closed ? "tampered: an incomplete" : "incomplete",
		    vr.file_size - vr.valid_end, closed ? "the session was "
		    "closed: nothing is ever written after its end" :
		    "torn and not recovered");
	if (vr.err == REC_OK) {
		if (closed && !vr.finished)
			vs_report(s, 0, id, vr.segments, vr.valid_end,
			    "tampered: the journal says the session was closed "
			    "but its final record is missing (truncated at "
			    "offset %" PRIu64 ")", vr.valid_end);
		if (!closed && vr.finished && s->nje > 0)
			vs_report(s, 0, id, vr.segments - 1,
			    vr.seg[vr.nseg - 1].offset,
			    "the final record is not in the journal");
	}
	refused[0] = '\0';
	if (vr.resumes_refused > 0)
		snprintf(refused, sizeof(refused), "; %" PRIu32 " resume%s "
		    "refused (acknowledged seq %" PRIu64 ", store had %" PRIu64
		    ")", vr.resumes_refused, vr.resumes_refused == 1 ? "" : "s",
		    vr.refused_acked, vr.refused_stored);
	if (s->problems == before && vr.recovered)
		vs_report(s, VERIFY_NOTICE, id, UINT32_MAX, UINT64_MAX,
		    "recovered, %" PRIu64 " bytes cut at %" PRIu64 " (after a "
		    "restart; the rest intact): %" PRIu32 " segments, %" PRIu64
		    " bytes, %s%s%s", vr.cut_bytes, vr.cut_offset, vr.segments,
		    vr.file_size, vr.finished ? "closed" : "open", refused,
		    pruned);
	else if (s->problems == before)
		vs_report(s, VERIFY_INTACT, id, UINT32_MAX, UINT64_MAX,
		    "ok: %" PRIu32 " segments, %" PRIu64 " bytes, %s%s%s%s",
		    vr.segments, vr.file_size,
		    vr.finished ? "closed" : "open",
		    !vr.finished && vr.signed_end < vr.valid_end ?
		    " (data after the last checkpoint is not signed yet)" : "",
		    refused, pruned);
	verify_file_result_free(&vr);
}

/* journal_cover's must_sign: the entries of the journal itself and of the
 * sessions asked for keep their own signature checks. */
static int
vs_must_sign(void *arg, const char *id)
{
	const struct vs *s = arg;
	size_t i;

	if (strcmp(id, "journal") == 0)
		return 1;
	for (i = 0; i < s->nids; i++)
		if (strcmp(s->ids[i], id) == 0)
			return 1;
	return 0;
}

/*
 * Reads the journal into s.  With VERIFY_READER and a key, first under the
 * cover of the newest tree head that verifies (journal.h): its reports are
 * held back, and given only when the cover held; else (a head the journal
 * contradicts, too many reports to hold) they are dropped and the journal
 * is read again with every signature checked, so that a report never rests
 * on a head that does not hold.
 */
static int
vs_read_journal(struct vs *s, const char *store, uint64_t *bad, int *torn)
{
	struct tree_head h;
	struct journal_cover c = { &h, vs_must_sign, s, 0 };
	size_t i;
	int r;

	if ((s->flags & VERIFY_READER) && s->v != NULL &&
	    journal_newest_head(store, s->v, &h) == REC_OK &&
	    (s->pend = calloc(VS_PENDING_MAX, sizeof(*s->pend))) != NULL) {
		s->defer = 1;
		s->npend = 0;
		s->pend_lost = 0;
		r = rec__journal_read_cover(store, s->v, &c, vs_journal_cb, s, bad,
		    torn);
		s->defer = 0;
		if (c.held && !s->pend_lost) {
			for (i = 0; i < s->npend; i++)
				vs_report(s, s->pend[i].ok, s->pend[i].id,
				    s->pend[i].index, s->pend[i].off, "%s",
				    s->pend[i].msg);
			free(s->pend);
			s->pend = NULL;
			return r;
		}
		free(s->pend);
		s->pend = NULL;
		s->nje = 0;
	}
	return journal_read(store, s->v, vs_journal_cb, s, bad, torn);
}

/*
 * A live store changes while it is read: a session may open or close, and a
 * tree head be issued, after the journal was read (the recorder appends the
 * journal entry first, then the head).  With VERIFY_WAIT_LIVE, what looks
 * like a journal behind the files is first looked at again: the journal is
 * read anew (its notices were reported the first time).  Only an append can
 * make it longer; what still disagrees after that is reported.  Returns 1
 * when the journal was read again, 0 when not (not live, or done
 * VS_REFRESH_MAX times already).
 */
static int
vs_refresh(struct vs *s)
{
	verify_report_cb cb = s->cb;
	int problems = s->problems, torn;
	uint64_t bad;

	if (!(s->flags & VERIFY_WAIT_LIVE) || s->store == NULL ||
	    s->refreshed >= VS_REFRESH_MAX)
		return 0;
	nanosleep(&vs_retry, NULL);
	s->nje = 0;
	s->cb = NULL;
	(void)vs_read_journal(s, s->store, &bad, &torn);
	s->cb = cb;
	s->problems = problems;
	s->refreshed++;
	return 1;
}

/* ---- tree heads: STORE/heads.esh and an anchor file ------------------ */

struct vs_heads {
	struct tree_head *h;
	int *line;
	size_t n, cap;
};

static int
vs_head_cb(void *arg, const struct tree_head *h, int lineno)
{
	struct vs_heads *hs = arg;
	void *p;

	if (hs->n == hs->cap) {
		hs->cap = hs->cap ? hs->cap * 2 : 64;
		if ((p = realloc(hs->h, hs->cap * sizeof(*hs->h))) == NULL)
			return REC_ENOMEM;
		hs->h = p;
		if ((p = realloc(hs->line, hs->cap * sizeof(*hs->line))) == NULL)
			return REC_ENOMEM;
		hs->line = p;
	}
	hs->line[hs->n] = lineno;
	hs->h[hs->n++] = *h;
	return 0;
}

static int
vs_size_cmp(const void *a, const void *b)
{
	uint64_t x = **(const uint64_t *const *)a, y = **(const uint64_t *const *)b;

	return x < y ? -1 : x > y;
}

/*
 * Checks every head of the file at path against the journal read so far:
 * its signature, and that the Merkle root of the journal's first SIZE
 * entries is its root.  Roots are computed in one pass over the leaves.
 * Reports the first head the store contradicts (and counts the others).
 */
static int
vs_heads(struct vs *s, const char *path, const char *what, int required)
{
	struct vs_heads hs = { NULL, NULL, 0, 0 };
	struct merkle_frontier f;
	uint8_t (*roots)[MERKLE_HASH_LEN] = NULL;
	uint64_t **order = NULL, i, k;
	int r, bad_line = 0, bad = 0;
	size_t n;

	r = treehead_read(path, !required, vs_head_cb, &hs, &bad_line);
	if (r == REC_ENOENT && !required) {
		r = REC_OK;
		goto out;
	}
	if (r == REC_EFORMAT) {
		vs_report(s, VERIFY_PROBLEM, what, UINT32_MAX, UINT64_MAX,
		    "%s:%d: not a tree head line (escort-head v1 SIZE ROOT "
		    "TIME SIG)", path, bad_line);
		r = REC_OK;
		goto out;
	}
	if (r != REC_OK) {
		vs_report(s, VERIFY_PROBLEM, what, UINT32_MAX, UINT64_MAX,
		    "%s: %s", path, rec_strerror(r));
		r = r == REC_ENOMEM ? r : REC_OK;
		goto out;
	}
	if (hs.n == 0) {
		if (required)
			vs_report(s, VERIFY_PROBLEM, what, UINT32_MAX,
			    UINT64_MAX, "%s holds no tree head", path);
		goto out;
	}
	n = hs.n;
	for (i = 0; i < n; i++)
		if (hs.h[i].size > s->nje) {
			(void)vs_refresh(s); /* issued after the journal was read? */
			break;
		}
	roots = calloc(n, MERKLE_HASH_LEN);
	order = calloc(n, sizeof(*order));
	if (roots == NULL || order == NULL) {
		r = REC_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		order[i] = &hs.h[i].size;
	qsort(order, n, sizeof(*order), vs_size_cmp);
	rec__merkle_frontier_init(&f);
	for (i = 0, k = 0; k < n; k++) {
		uint64_t want = *order[k];
		size_t idx = (size_t)((struct tree_head *)((char *)order[k] -
		    offsetof(struct tree_head, size)) - hs.h);

		if (want > s->nje)
			break;
		for (; i < want; i++)
			rec__merkle_frontier_add(&f, s->leaves[i]);
		rec__merkle_frontier_root(&f, roots[idx]);
	}
	for (i = 0; i < n; i++) {
		const struct tree_head *h = &hs.h[i];
		char why[160];

		why[0] = '\0';
		if ((s->flags & VERIFY_READER) && !required &&
		    h->size <= s->nje &&
		    memcmp(roots[i], h->root, MERKLE_HASH_LEN) == 0)
			continue;	/* true of the journal: its signature
					   adds nothing for a reader */
		if (s->v != NULL && treehead_verify(s->v, h) != REC_OK)
			snprintf(why, sizeof(why), "its signature does not "
			    "verify with the key");
		else if (h->size > s->nje)
			snprintf(why, sizeof(why), "it covers %" PRIu64
			    " journal entries, the journal holds %zu (entries "
			    "deleted, or the store rolled back)", h->size,
			    s->nje);
		else if (memcmp(roots[i], h->root, MERKLE_HASH_LEN) != 0)
			snprintf(why, sizeof(why), "the journal's first %"
			    PRIu64 " entries do not have its root (the journal "
			    "was rewritten or replaced)", h->size);
		if (why[0] == '\0')
			continue;
		if (bad++ == 0)
			vs_report(s, VERIFY_PROBLEM, what, UINT32_MAX, UINT64_MAX,
			    "%s:%d: the store contradicts this tree head (size %"
			    PRIu64 ", time %" PRIu64 "): %s", path, hs.line[i],
			    h->size, h->time_ns, why);
	}
	if (bad > 1)
		vs_report(s, VERIFY_PROBLEM, what, UINT32_MAX, UINT64_MAX,
		    "%s: %d more tree heads contradicted", path, bad - 1);
	else if (bad == 0 && required)
		vs_report(s, VERIFY_INTACT, what, UINT32_MAX, UINT64_MAX,
		    "ok: the journal extends all %zu tree heads of %s (the "
		    "last covers %" PRIu64 " entries)", n, path,
		    hs.h[n - 1].size);
out:
	free(hs.h);
	free(hs.line);
	free(roots);
	free(order);
	return r;
}

int
verify_store(const char *store, const struct seal_verifier *v,
    const char *const *ids, size_t nids, int flags, verify_report_cb cb,
    void *arg)
{
	return verify_store_anchored(store, v, ids, nids, flags, NULL, cb, arg);
}

int
verify_store_anchored(const char *store, const struct seal_verifier *v,
    const char *const *ids, size_t nids, int flags, const char *anchor,
    verify_report_cb cb, void *arg)
{
	char hpath[4200];
	struct vs s;
	uint64_t bad = UINT64_MAX;
	size_t i;
	int torn = 0, r;

	memset(&s, 0, sizeof(s));
	s.cb = cb;
	s.arg = arg;
	s.v = v;
	s.flags = flags;
	s.store = store;
	for (i = 0; i < nids; i++)	/* before the journal: vs_must_sign */
		if ((r = vs_add_id(&s, ids[i])) != REC_OK)
			goto out;
	r = vs_read_journal(&s, store, &bad, &torn);
	if ((flags & VERIFY_WAIT_LIVE) && r == REC_OK && torn) {
		/* Perhaps an entry being appended right now: read again. */
		s.nje = 0;
		s.problems = 0;
		s.cb = NULL;	/* its notices were reported once */
		nanosleep(&vs_retry, NULL);
		r = vs_read_journal(&s, store, &bad, &torn);
		s.cb = cb;
	}
	if (r == REC_ENOENT)
		vs_report(&s, 0, "journal", UINT32_MAX, UINT64_MAX,
		    "%s/%s is missing", store, JOURNAL_FILE);
	else if (r == REC_ENOMEM || r == REC_EIO)
		goto out;
	else if (r != REC_OK)
		vs_report(&s, 0, "journal", (uint32_t)s.nje, bad,
		    "invalid journal entry: %s", rec_strerror(r));
	else if (torn)
		vs_report(&s, 0, "journal", (uint32_t)s.nje, UINT64_MAX,
		    "the journal ends in an incomplete entry");
	if (nids == 0 && !(flags & VERIFY_NO_SESSIONS)) {
		for (i = 0; i < s.nje; i++)
			if (strcmp(s.je[i].id, "journal") != 0 &&
			    (r = vs_add_id(&s, s.je[i].id)) != REC_OK)
				goto out;
		if ((r = vs_scan_dir(&s, store)) != REC_OK)
			goto out;
		if (s.nids > 0)
			qsort(s.ids, s.nids, sizeof(*s.ids), vs_cmp);
	}
	for (i = 0; i < s.nids; i++)
		vs_session(&s, store, s.ids[i], v, flags);
	snprintf(hpath, sizeof(hpath), "%s/%s", store, TREEHEAD_FILE);
	if ((r = vs_heads(&s, hpath, "heads", 0)) != REC_OK)
		goto out;
	if (anchor != NULL && (r = vs_heads(&s, anchor, "anchor", 1)) != REC_OK)
		goto out;
	r = s.problems;
out:
	for (i = 0; i < s.nids; i++)
		free(s.ids[i]);
	free(s.ids);
	free(s.je);
	free(s.jidx);
	free(s.leaves);
	for (i = 0; i < s.nptext; i++)
		free(s.ptext[i]);
	free(s.ptext);
	return r;
}
