/* recd_recover: unfinished session files at startup, and the final record
 * of finished ones for senders that missed it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/buf.h"
#include "recorder/rec_error.h"
#include "recorder/recd_log.h"
#include "recorder/recd_session.h"
#include "recorder/seal.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"

/* 1 when the file visibly ends with a FINAL segment (cheap check). */
static int
looks_finished(const char *path)
{
	uint8_t h[SEG_HDR_LEN];
	struct stat sb;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &sb) == 0 && sb.st_size >= SEG_HDR_LEN + SEG_SEAL_LEN &&
	    pread(fd, h, sizeof(h), sb.st_size - SEG_HDR_LEN - SEG_SEAL_LEN) ==
	    (ssize_t)sizeof(h))
		ok = memcmp(h, SEG_MAGIC, 4) == 0 && h[5] == SEG_FINAL &&
		    buf_ld32(h + 12) == SEG_SEAL_LEN;
	close(fd);
	return ok;
}

int
recd_sess_recover_all(struct recd *d)
{
	char dir[1024], path[2048], id[SEAL_ID_MAX + 1], err[512];
	struct dirent *de;
	struct recd_sess *s;
	DIR *dp;
	int bad = 0;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/%s", d->cfg.store, TR_SESSIONS_DIR);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		n = strlen(de->d_name);
		if (n <= strlen(TR_SUFFIX) || n - strlen(TR_SUFFIX) > SEAL_ID_MAX
		    || strcmp(de->d_name + n - strlen(TR_SUFFIX), TR_SUFFIX))
			continue;
		memcpy(id, de->d_name, n - strlen(TR_SUFFIX));
		id[n - strlen(TR_SUFFIX)] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!tw_id_valid(id) || looks_finished(path) ||
		    recd_sess_find(d, id) != NULL)
			continue;
		if (recd_sess_reopen(d, id, &s, err, sizeof(err)) == REC_OK)
			recd_log(LOG_INFO, "session %s: recovered after a "
			    "restart; waiting %u s for the sender to resume",
			    id, d->cfg.resume_timeout);
		else if (strstr(err, "already closed") == NULL) {
			recd_log(LOG_ERR, "%s: %s", path, err);
			bad++;
		}
	}
	closedir(dp);
	recd_kick(d);
	return bad;
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
