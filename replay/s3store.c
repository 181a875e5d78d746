/* s3store: a store read from a bucket (see s3store.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/s3.h"
#include "replay/replay.h"
#include "replay/s3store.h"

#define S3STORE_DIRS_MAX 4

/* Directories and files to remove at exit. */
static char s3store_tmp[S3STORE_DIRS_MAX][1024];
static int s3store_ntmp;

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static void
s3store_cleanup(void)
{
	for (int i = 0; i < s3store_ntmp; i++)
		nftw(s3store_tmp[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remembers path for removal at exit. */
static int
s3store_keep(const char *path)
{
	if (s3store_ntmp == S3STORE_DIRS_MAX)
		return -1;
	if (s3store_ntmp == 0)
		atexit(s3store_cleanup);
	snprintf(s3store_tmp[s3store_ntmp++], sizeof(s3store_tmp[0]), "%s",
	    path);
	return 0;
}

/* A client for url from the environment.  Returns 0 or 2 (reported). */
static int
s3store_open(const char *url, struct s3 **out)
{
	struct s3_cfg c;
	char err[1024];
	int r;

	memset(&c, 0, sizeof(c));
	s3_cfg_env(&c);
	if (s3_url_parse(url, &c, err, sizeof(err)) != REC_OK ||
	    s3_cfg_finish(&c, err, sizeof(err)) != REC_OK) {
		replay_err("%s: %s", url, err);
		return 2;
	}
	r = s3_open(&c, out);
	explicit_bzero(&c, sizeof(c));
	if (r != REC_OK) {
		replay_err("%s: %s", url, rec_strerror(r));
		return 2;
	}
	return 0;
}

/* A new private directory; its path into out. */
static int
s3store_mkdtemp(const char *url, char *out, size_t outlen)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, outlen, "%s/escort-replay-s3.XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(out) == NULL || s3store_keep(out) != 0) {
		replay_err("%s: cannot make a temporary directory %s: %s", url,
		    out, strerror(errno));
		return 2;
	}
	return 0;
}

/* What one listing found, in the bucket's (ascending) order. */
struct s3store_list {
	struct s3 *s3;
	const char *url, *dir;
	int heads_fd, journal_fd;	/* -1: not wanted */
	uint64_t journal_end;
	int journal_gap;
	unsigned sessions, heads;
	char err[1024];
	int failed;
};

/* A session id as the recorder names files: no '/', no leading '.'. */
static int
safe_name(const char *s)
{
	if (*s == '\0' || *s == '.')
		return 0;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* GET name into the new file path. */
static int
get_file(struct s3store_list *l, const char *name, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int r;

	if (fd < 0) {
		snprintf(l->err, sizeof(l->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	r = s3_get_fd(l->s3, name, fd, l->err, sizeof(l->err));
	if (close(fd) != 0 && r == REC_OK) {
		snprintf(l->err, sizeof(l->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	return r == REC_OK ? 0 : -1;
}

static int
on_object(void *arg, const char *name, uint64_t size)
{
	struct s3store_list *l = arg;
	char path[2048];
	unsigned long long off;

	if (strncmp(name, "heads/", 6) == 0 && l->heads_fd >= 0) {
		if (s3_get_fd(l->s3, name, l->heads_fd, l->err,
		    sizeof(l->err)) != REC_OK)
			return l->failed = -1;
		l->heads++;
		return 0;
	}
	if (l->dir == NULL)
		return 0;
	if (strncmp(name, "sessions/", 9) == 0) {
		if (!safe_name(name + 9))
			return 0;
		snprintf(path, sizeof(path), "%s/%s", l->dir, name);
		if (get_file(l, name, path) < 0)
			return l->failed = -1;
		l->sessions++;
		return 0;
	}
	if (sscanf(name, "journal/%20llu.esj", &off) == 1) {
		if (off != l->journal_end) {
			/* a piece missing: what follows cannot continue it */
			if (!l->journal_gap)
				replay_err("%s: warning: journal piece %s does "
				    "not continue the journal (%" PRIu64 " bytes "
				    "before it): the journal is read up to "
				    "there", l->url, name, l->journal_end);
			l->journal_gap = 1;
			return 0;
		}
		if (l->journal_gap)
			return 0;
		if (s3_get_fd(l->s3, name, l->journal_fd, l->err,
		    sizeof(l->err)) != REC_OK)
			return l->failed = -1;
		l->journal_end = off + size;
		return 0;
	}
	if (strcmp(name, "public-key.pem") == 0) {
		snprintf(path, sizeof(path), "%s/%s", l->dir, name);
		if (get_file(l, name, path) < 0)
			return l->failed = -1;
	}
	return 0;
}

/* Opens dir/name for writing (new file). */
static int
open_new(const char *url, const char *dir, const char *name)
{
	char path[2048];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
	    0600)) < 0)
		replay_err("%s: %s: %s", url, path, strerror(errno));
	return fd;
}

int
replay_s3_store(const char *url, char *out, size_t outlen)
{
	struct s3store_list l;
	char sess[2048];
	int r, x = 2;

	memset(&l, 0, sizeof(l));
	l.url = url;
	l.heads_fd = l.journal_fd = -1;
	if (s3store_open(url, &l.s3) != 0)
		return 2;
	if (s3store_mkdtemp(url, out, outlen) != 0)
		goto out;
	snprintf(sess, sizeof(sess), "%s/sessions", out);
	if (mkdir(sess, 0700) != 0) {
		replay_err("%s: %s: %s", url, sess, strerror(errno));
		goto out;
	}
	l.dir = out;
	if ((l.heads_fd = open_new(url, out, "heads.esh")) < 0 ||
	    (l.journal_fd = open_new(url, out, "journal.esj")) < 0)
		goto out;
	r = s3_list(l.s3, "", on_object, &l, l.err, sizeof(l.err));
	if (r != REC_OK || l.failed) {
		replay_err("%s: %s", url, l.err);
		goto out;
	}
	if (l.journal_end == 0 && l.sessions == 0 && l.heads == 0) {
		replay_err("%s: no store there (no journal, session or tree "
		    "head objects)", url);
		goto out;
	}
	x = 0;
out:
	if (l.heads_fd >= 0)
		close(l.heads_fd);
	if (l.journal_fd >= 0)
		close(l.journal_fd);
	s3_close(l.s3);
	return x;
}

int
replay_s3_heads(const char *url, char *out, size_t outlen)
{
	struct s3store_list l;
	char dir[1024];
	int r, x = 2;

	memset(&l, 0, sizeof(l));
	l.url = url;
	l.heads_fd = l.journal_fd = -1;
	if (s3store_open(url, &l.s3) != 0)
		return 2;
	if (s3store_mkdtemp(url, dir, sizeof(dir)) != 0 ||
	    (l.heads_fd = open_new(url, dir, "anchor")) < 0)
		goto out;
	snprintf(out, outlen, "%s/anchor", dir);
	r = s3_list(l.s3, "heads/", on_object, &l, l.err, sizeof(l.err));
	if (r != REC_OK || l.failed) {
		replay_err("%s: %s", url, l.err);
		goto out;
	}
	if (l.heads == 0) {
		replay_err("%s: no tree heads in the bucket (heads/)", url);
		goto out;
	}
	x = 0;
out:
	if (l.heads_fd >= 0)
		close(l.heads_fd);
	s3_close(l.s3);
	return x;
}
