/* journal_rebuild.c: the administrator's explicit rebuild of a store's
 * journal from its session files (see journal_rebuild in journal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recorder/journal_internal.h"
#include "recorder/rec_error.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/tw_internal.h"
#include "recorder/verify.h"

typedef void (*rebuild_cb)(void *arg, const char *id, int taken,
    const char *why);

/* Moves STORE/name aside as name.replaced-STAMP when it exists. */
static int
rebuild_set_aside(const char *store, const char *name, const char *stamp,
    char *kept, size_t keptlen)
{
	char from[4200];

	kept[0] = '\0';
	snprintf(from, sizeof(from), "%s/%s", store, name);
	snprintf(kept, keptlen, "%s/%s.replaced-%s", store, name, stamp);
	if (rename(from, kept) == 0)
		return REC_OK;
	kept[0] = '\0';
	return errno == ENOENT ? REC_OK : rec_from_errno(errno);
}

static int
rebuild_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Journals one verified session file. */
static int
rebuild_session(struct journal *j, const struct verify_file_result *vr)
{
	struct journal_entry e;
	size_t g;
	int r;

	memset(&e, 0, sizeof(e));
	e.kind = JOURNAL_OPEN;
	snprintf(e.id, sizeof(e.id), "%s", vr->id);
	e.offset = vr->seg[0].end;
	memcpy(e.head, vr->seg[0].head_after, SEAL_HASH_LEN);
	e.wall_ns = rec__tw_now_wall();
	if ((r = rec__journal_append_locked(j, &e)) != REC_OK)
		return r;
	/* The last signed record: FINAL (close) or CHECKPOINT. */
	for (g = vr->nseg; g-- > 1;)
		if (vr->seg[g].type == SEG_FINAL || vr->seg[g].type == SEG_CHECKPOINT)
			break;
	if (g == 0)
		return REC_OK;
	e.kind = vr->seg[g].type == SEG_FINAL ? JOURNAL_CLOSE : JOURNAL_CHECKPOINT;
	e.seg_index = (uint32_t)g;
	e.offset = vr->seg[g].offset;
	e.last_seq = vr->seg[g].type == SEG_FINAL ? vr->last_seq : 0;
	memcpy(e.head, vr->seg[g].head_before, SEAL_HASH_LEN);
	return rec__journal_append_locked(j, &e);
}

int
journal_rebuild(const char *store, const struct seal_signer *signer,
    const char *reason, rebuild_cb cb, void *arg)
{
	char path[4400], stamp[32], keptj[4300], kepth[4300], text[JOURNAL_TEXT_MAX + 1];
	char dir[4200], **names = NULL;
	struct journal *j = NULL;
	struct journal_entry e;
	struct seal_verifier *v = NULL;
	struct verify_file_result vr;
	struct dirent *d;
	struct tm tm;
	time_t now = time(NULL);
	size_t n = 0, cap = 0, i, sl = strlen(TR_SUFFIX), len;
	DIR *dp;
	int fd = -1, r;

	if (reason == NULL || reason[0] == '\0')
		return REC_EINVAL;
	snprintf(path, sizeof(path), "%s/%s", store, JOURNAL_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd);
			return REC_ESTATE;	/* a recorder runs on it */
		}
		close(fd);
		fd = -1;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if ((r = rebuild_set_aside(store, JOURNAL_FILE, stamp, keptj,
	    sizeof(keptj))) != REC_OK ||
	    (r = rebuild_set_aside(store, TREEHEAD_FILE, stamp, kepth,
	    sizeof(kepth))) != REC_OK)
		return r;
	if ((r = rec__journal_open_file(path, 1, &fd)) != REC_OK)
		return r;
	if ((r = rec__journal_new(store, signer, 0, fd, &j)) != REC_OK) {
		close(fd);
		return r;
	}
	snprintf(text, sizeof(text), "journal rebuilt by the administrator: "
	    "%.700s; previous journal %s%s", reason, keptj[0] ?
	    "kept as " JOURNAL_FILE ".replaced-" : "missing",
	    keptj[0] ? stamp : "");
	memset(&e, 0, sizeof(e));
	e.kind = JOURNAL_REBUILD;
	snprintf(e.id, sizeof(e.id), "%s", JOURNAL_CHAIN_ID);
	e.wall_ns = rec__tw_now_wall();
	e.text = text;
	if ((r = rec__journal_append_locked(j, &e)) != REC_OK ||
	    (r = rec__seal_signer_verifier(signer, &v)) != REC_OK)
		goto out;
	snprintf(dir, sizeof(dir), "%s/%s", store, TR_SESSIONS_DIR);
	if ((dp = opendir(dir)) != NULL) {
		while ((d = readdir(dp)) != NULL) {
			len = strlen(d->d_name);
			if (len <= sl || strcmp(d->d_name + len - sl, TR_SUFFIX) != 0)
				continue;
			if (n == cap) {
				char **nn;

				cap = cap ? cap * 2 : 64;
				if ((nn = realloc(names, cap * sizeof(*nn))) == NULL) {
					r = REC_ENOMEM;
					break;
				}
				names = nn;
			}
			if ((names[n] = strndup(d->d_name, len - sl)) == NULL) {
				r = REC_ENOMEM;
				break;
			}
			n++;
		}
		closedir(dp);
		if (r != REC_OK)
			goto out;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), rebuild_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, names[i], TR_SUFFIX);
		if (!tw_id_valid(names[i]) ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			if (cb != NULL)
				cb(arg, names[i], 0, "not a readable session file");
			continue;
		}
		r = verify_file(fd, names[i], v, 0, &vr);
		close(fd);
		fd = -1;
		if (r != REC_OK)
			goto out;
		if (vr.err != REC_OK || vr.nseg == 0 || vr.tail_torn ||
		    vr.valid_end != vr.file_size) {
			if (cb != NULL)
				cb(arg, names[i], 0, vr.err != REC_OK ? vr.msg :
				    "incomplete or torn at its end");
		} else if ((r = rebuild_session(j, &vr)) != REC_OK) {
			verify_file_result_free(&vr);
			goto out;
		} else if (cb != NULL)
			cb(arg, names[i], 1, vr.finished ? "closed" : "open");
		verify_file_result_free(&vr);
	}
	r = rec__journal_head_issue_locked(j, 1, NULL);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	seal_verifier_free(v);
	journal_close(j);
	return r;
}
