/* verify_store.c: verification of a store: journal, sessions, and the set
 * of sessions (see verify.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recorder/journal.h"
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
	if (!ok)
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

	(void)offset;
	if (s->nje == s->capje) {
		s->capje = s->capje ? s->capje * 2 : 64;
		if ((p = realloc(s->je, s->capje * sizeof(*s->je))) == NULL)
			return REC_ENOMEM;
		s->je = p;
		if ((p = realloc(s->jidx, s->capje * sizeof(*s->jidx))) == NULL)
			return REC_ENOMEM;
		s->jidx = p;
	}
	s->jidx[s->nje] = index;
	s->je[s->nje++] = *e;
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
		if (strcmp(e->id, id) != 0)
			continue;
		known = 1;
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
			    "the %s record of journal entry %" PRIu32
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

static void
vs_session(struct vs *s, const char *store, const char *id,
    const struct seal_verifier *v, int flags)
{
	struct verify_file_result vr;
	char path[4096];
	int fd, r, closed, before = s->problems;

	if (tw_path(store, id, path, sizeof(path)) != REC_OK) {
		vs_report(s, 0, id, UINT32_MAX, UINT64_MAX, "invalid session id");
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && vs_in_journal(s, id))
			vs_report(s, 0, id, UINT32_MAX, UINT64_MAX,
			    "session file %s is missing (deleted)", path);
		else if (errno == ENOENT)
			vs_report(s, 0, id, UINT32_MAX, UINT64_MAX,
			    "no such session");
		else
			vs_report(s, 0, id, UINT32_MAX, UINT64_MAX,
			    "%s: %s", path, strerror(errno));
		return;
	}
	r = verify_file(fd, id, v, flags, &vr);
	if ((flags & VERIFY_WAIT_LIVE) && r == REC_OK && vr.err == REC_OK &&
	    vr.tail_torn && !vr.finished) {
		/* A live session may be in the middle of a write: look again
		 * once the writer had time to finish it. */
		verify_file_result_free(&vr);
		nanosleep(&vs_retry, NULL);
		r = verify_file(fd, id, v, flags, &vr);
	}
	close(fd);
	if (r != REC_OK) {
		vs_report(s, 0, id, UINT32_MAX, UINT64_MAX, "%s: %s", path,
		    rec_strerror(r));
		verify_file_result_free(&vr);
		return;
	}
	if (vr.err != REC_OK)
		vs_report(s, 0, id, vr.err_index, vr.err_offset, "%s", vr.msg);
	else if (vr.segments == 0)
		vs_report(s, 0, id, 0, 0, "the head segment is incomplete");
	else if (vr.tail_torn)
		vs_report(s, 0, id, vr.segments, vr.valid_end,
		    "incomplete segment at the end of the file (%" PRIu64
		    " bytes, torn and not recovered)", vr.file_size - vr.valid_end);
	if (vr.err == REC_OK) {
		vs_cross(s, id, &vr, &closed);
		if (closed && !vr.finished)
			vs_report(s, 0, id, vr.segments, vr.valid_end,
			    "the journal says the session was closed but its "
			    "final record is missing (truncated at offset %"
			    PRIu64 ")", vr.valid_end);
		if (!closed && vr.finished && s->nje > 0)
			vs_report(s, 0, id, vr.segments - 1,
			    vr.seg[vr.nseg - 1].offset,
			    "the final record is not in the journal");
	}
	if (s->problems == before)
		vs_report(s, 1, id, UINT32_MAX, UINT64_MAX,
		    "ok: %" PRIu32 " segments, %" PRIu64 " bytes, %s%s",
		    vr.segments, vr.file_size,
		    vr.finished ? "closed" : "open",
		    !vr.finished && vr.signed_end < vr.valid_end ?
		    " (data after the last checkpoint is not signed yet)" : "");
	verify_file_result_free(&vr);
}

int
verify_store(const char *store, const struct seal_verifier *v,
    const char *const *ids, size_t nids, int flags, verify_report_cb cb,
    void *arg)
{
	struct vs s;
	uint64_t bad = UINT64_MAX;
	size_t i;
	int torn = 0, r;

	memset(&s, 0, sizeof(s));
	s.cb = cb;
	s.arg = arg;
	r = journal_read(store, v, vs_journal_cb, &s, &bad, &torn);
	if ((flags & VERIFY_WAIT_LIVE) && r == REC_OK && torn) {
		/* Perhaps an entry being appended right now: read again. */
		s.nje = 0;
		nanosleep(&vs_retry, NULL);
		r = journal_read(store, v, vs_journal_cb, &s, &bad, &torn);
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
	if (nids > 0) {
		for (i = 0; i < nids; i++)
			if ((r = vs_add_id(&s, ids[i])) != REC_OK)
				goto out;
	} else {
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
	r = s.problems;
out:
	for (i = 0; i < s.nids; i++)
		free(s.ids[i]);
	free(s.ids);
	free(s.je);
	free(s.jidx);
	return r;
}
