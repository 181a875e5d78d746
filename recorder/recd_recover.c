/* recd_recover: at startup, the sessions the journal shows open (their
 * unsigned tails cut, see tw_recover) and session files it never named
 * (never adopted); and the final record of finished sessions for senders
 * that missed it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/recd_audit.h"
#include "recorder/recd_log.h"
#include "recorder/recd_session.h"
#include "recorder/recd_worker.h"
#include "recorder/seal.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/verify.h"

struct recover_all {
	struct recd *d;
	int bad;
};

/* Reopens one session the journal shows open (its unsigned tail cut), in
 * the struct recd of the worker it belongs to (not running yet). */
static int
recover_one(void *arg, const char *id)
{
	struct recover_all *ra = arg;
	struct recd *home = recd_pool_home(ra->d, id);	/* its worker */
	struct recd_sess *s;
	char err[512];

	if (recd_sess_find(home, id) != NULL)
		return 0;
	if (recd_sess_reopen(home, id, &s, err, sizeof(err)) == REC_OK) {
		recd_sess_set_recovered(s);
		recd_log(LOG_INFO, "session %s: recovered after a restart; "
		    "waiting %u s for the sender to resume", id,
		    ra->d->cfg.resume_timeout);
	} else if (strstr(err, "already closed") == NULL) {
		recd_log(LOG_ERR, "%s", err);
		ra->bad++;
	}
	return 0;
}

/*
 * A session file the journal never named is never adopted.  One holding no
 * more than its head is the trace of a crash between its creation and its
 * journal entry (it was never accepted): it is set aside as ID.est.orphan.
 * Anything else stays where it is, for verify to report.
 */
static int
recover_strangers(struct recd *d)
{
	char dir[1024], path[2048], orphan[2100], id[SEAL_ID_MAX + 1];
	struct journal_session js;
	struct verify_file_result vr;
	struct dirent *de;
	DIR *dp;
	size_t n, sl = strlen(TR_SUFFIX);
	int fd, bad = 0;

	snprintf(dir, sizeof(dir), "%s/%s", d->cfg.store, TR_SESSIONS_DIR);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		n = strlen(de->d_name);
		if (n <= sl || n - sl > SEAL_ID_MAX ||
		    strcmp(de->d_name + n - sl, TR_SUFFIX) != 0)
			continue;
		memcpy(id, de->d_name, n - sl);
		id[n - sl] = '\0';
		if (journal_session_get(d->journal, id, &js) == REC_OK)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (tw_id_valid(id) && verify_file(fd, id, NULL, 0, &vr) == REC_OK) {
			if (vr.err == REC_OK && vr.signed_end == 0 &&
			    vr.nseg <= 1 && vr.file_size == vr.valid_end) {
				snprintf(orphan, sizeof(orphan), "%s%s", path,
				    JOURNAL_ORPHAN_SUFFIX);
				if (rename(path, orphan) == 0)
					recd_log(LOG_WARNING, "%s: holds only a "
					    "head the journal never recorded "
					    "(a crash at its creation); set "
					    "aside as %s", path, orphan);
				verify_file_result_free(&vr);
				close(fd);
				continue;
			}
			verify_file_result_free(&vr);
		}
		close(fd);
		recd_log(LOG_ERR, "%s: not in the store's journal; not adopted "
		    "(escort-replay verify reports it)", path);
		{
			struct recd_audit_finding f = { .finding =
			    "not-adopted", .detail = "a session file the "
			    "store's journal never named; not adopted" };

			recd_audit_integrity(d, NULL, id, 0, &f);
		}
		bad++;
	}
	closedir(dp);
	return bad;
}

int
recd_sess_recover_all(struct recd *d)
{
	struct recover_all ra = { d, 0 };

	journal_each_open(d->journal, recover_one, &ra);
	ra.bad += recover_strangers(d);
	recd_kick(d);
	return ra.bad;
}

int
recd_sess_final(struct recd *d, const char *id, struct seal_receipt *rc,
    char *err, size_t errlen)
{
	uint8_t tail[SEG_HDR_LEN + SEG_SEAL_LEN];
	char path[1024];
	struct stat sb;
	struct seg sg;
	size_t used;
	int fd, r = REC_EFORMAT;

	if (tw_path(d->cfg.store, id, path, sizeof(path)) != REC_OK) {
		snprintf(err, errlen, "invalid session id");
		return REC_EINVAL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rec_from_errno(errno);
	}
	if (fstat(fd, &sb) == 0 && sb.st_size >= (off_t)sizeof(tail) &&
	    pread(fd, tail, sizeof(tail), sb.st_size - (off_t)sizeof(tail)) ==
	    (ssize_t)sizeof(tail) &&
	    seg_decode(tail, sizeof(tail), &sg, &used) == REC_OK &&
	    sg.type == SEG_FINAL && used == sizeof(tail))
		r = seg_seal_get(&sg, rc);
	close(fd);
	if (r != REC_OK) {
		snprintf(err, errlen, "%s: no readable final record", path);
		return r;
	}
	snprintf(rc->cp.id, sizeof(rc->cp.id), "%s", id);
	return REC_OK;
}
