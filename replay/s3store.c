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

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/s3.h"
#include "recorder/s3_layout.h"
#include "recorder/transcript.h"
#include "recorder/treehead.h"
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
	r = s3_open(&c, out, err, sizeof(err));
	explicit_bzero(&c, sizeof(c));
	if (r != REC_OK) {
		replay_err("%s: %s", url, err);
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

/* A session read from its parts (no sealed object in the bucket). */
struct s3store_part {
	char id[SEAL_ID_MAX + 1];
	uint64_t end;		/* bytes [0, end) of the file assembled */
	unsigned parts;
	int stopped;		/* a gap or an overlap: read up to end */
};

/* What to read of the bucket. */
enum s3store_what {
	S3STORE_STORE,		/* everything, laid out as a Store */
	S3STORE_HEADS		/* heads/ only, into an anchor file */
};

/* What one listing found, in the bucket's (ascending) order. */
struct s3store_list {
	struct s3 *s3;
	const char *url, *dir;
	int heads_fd, journal_fd;	/* -1: not wanted */
	uint64_t journal_end;
	int journal_gap;
	unsigned sessions, heads;
	struct s3store_part *pv;	/* sessions read from parts */
	size_t np, pcap;
	char err[1024];
	int failed;
};

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

/* The session id being read from parts, made when absent (NULL: out of
 * memory, l->err set). */
static struct s3store_part *
part_get(struct s3store_list *l, const char *id, int make)
{
	for (size_t i = 0; i < l->np; i++)
		if (strcmp(l->pv[i].id, id) == 0)
			return &l->pv[i];
	if (!make)
		return NULL;
	if (l->np == l->pcap) {
		size_t cap = l->pcap ? 2 * l->pcap : 8;
		struct s3store_part *v = realloc(l->pv, cap * sizeof(*v));

		if (v == NULL) {
			snprintf(l->err, sizeof(l->err), "out of memory");
			return NULL;
		}
		l->pv = v;
		l->pcap = cap;
	}
	memset(&l->pv[l->np], 0, sizeof(l->pv[0]));
	snprintf(l->pv[l->np].id, sizeof(l->pv[0].id), "%s", id);
	l->sessions++;
	return &l->pv[l->np++];
}

/*
 * One part, sessions/ID.est.part-OFFSET: appended to sessions/ID.est when
 * it continues the parts before it (the listing gives a session's parts in
 * the order of their offsets).  Skipped when the sealed whole was read
 * (sessions/ID.est lists before its parts).  A gap or an overlap is
 * reported, and the session is read up to there.
 */
static int
on_part(struct s3store_list *l, const char *name, const char *id,
    uint64_t off)
{
	struct s3store_part *pt = part_get(l, id, 0);
	char path[2048];
	off_t end;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s/%s%s", l->dir, TR_SESSIONS_DIR, id,
	    TR_SUFFIX);
	if (pt == NULL && access(path, F_OK) == 0)
		return 0;		/* the sealed session is there */
	if (pt == NULL && (pt = part_get(l, id, 1)) == NULL)
		return l->failed = -1;
	if (pt->stopped)
		return 0;
	if (off != pt->end) {
		replay_err("%s: warning: session %s: part %s %s %" PRIu64 " "
		    "bytes: the session is read from its parts up to offset %"
		    PRIu64 " only", l->url, id, name, off > pt->end ?
		    "leaves a gap after the parts before it of" :
		    "overlaps the parts before it by", off > pt->end ?
		    off - pt->end : pt->end - off, pt->end);
		pt->stopped = 1;
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    (pt->parts == 0 ? O_EXCL : 0), 0600);
	if (fd < 0) {
		snprintf(l->err, sizeof(l->err), "%.900s: %s", path,
		    strerror(errno));
		return l->failed = -1;
	}
	r = s3_get_fd(l->s3, name, fd, l->err, sizeof(l->err));
	end = lseek(fd, 0, SEEK_END);
	if (close(fd) != 0 && r == REC_OK) {
		snprintf(l->err, sizeof(l->err), "%.900s: %s", path,
		    strerror(errno));
		r = REC_EIO;
	}
	if (r != REC_OK || end < 0)
		return l->failed = -1;
	pt->end = (uint64_t)end;
	pt->parts++;
	return 0;
}

static int
on_object(void *arg, const char *name, uint64_t size)
{
	struct s3store_list *l = arg;
	char path[2048], id[SEAL_ID_MAX + 1];
	unsigned long long off;
	uint64_t poff;

	if (strncmp(name, "heads/", 6) == 0 && l->heads_fd >= 0) {
		if (s3_get_fd(l->s3, name, l->heads_fd, l->err,
		    sizeof(l->err)) != REC_OK)
			return l->failed = -1;
		l->heads++;
		return 0;
	}
	if (l->dir == NULL)
		return 0;
	switch (s3_session_parse(name, id, &poff)) {
	case S3_SESSION_WHOLE:
		snprintf(path, sizeof(path), "%s/%s", l->dir, name);
		if (get_file(l, name, path) < 0)
			return l->failed = -1;
		l->sessions++;
		return 0;
	case S3_SESSION_PART:
		return on_part(l, name, id, poff);
	default:
		break;
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

/*
 * The opening both entry points share: a client for url, a new private
 * directory (its path into dir), and the bucket listed into it as what
 * asks: a Store (sessions/, journal.esj, heads.esh, public-key.pem), or
 * the heads alone into dir/anchor.  Fills *l (free l->pv).  Returns 0, or
 * 2 after an error message.
 */
static int
s3store_fetch(const char *url, enum s3store_what what, char *dir,
    size_t dirlen, struct s3store_list *l)
{
	char sess[2048];
	int r, x = 2;

	memset(l, 0, sizeof(*l));
	l->url = url;
	l->heads_fd = l->journal_fd = -1;
	if (s3store_open(url, &l->s3) != 0)
		return 2;
	if (s3store_mkdtemp(url, dir, dirlen) != 0)
		goto out;
	if (what == S3STORE_HEADS) {
		if ((l->heads_fd = open_new(url, dir, "anchor")) < 0)
			goto out;
	} else {
		snprintf(sess, sizeof(sess), "%s/%s", dir, TR_SESSIONS_DIR);
		if (mkdir(sess, 0700) != 0) {
			replay_err("%s: %s: %s", url, sess, strerror(errno));
			goto out;
		}
		l->dir = dir;
		if ((l->heads_fd = open_new(url, dir, TREEHEAD_FILE)) < 0 ||
		    (l->journal_fd = open_new(url, dir, JOURNAL_FILE)) < 0)
			goto out;
	}
	r = s3_list(l->s3, what == S3STORE_HEADS ? "heads/" : "", on_object,
	    l, l->err, sizeof(l->err));
	if (r != REC_OK || l->failed) {
		replay_err("%s: %s", url, l->err);
		goto out;
	}
	x = 0;
out:
	if (l->heads_fd >= 0)
		close(l->heads_fd);
	if (l->journal_fd >= 0)
		close(l->journal_fd);
	l->heads_fd = l->journal_fd = -1;
	s3_close(l->s3);
	l->s3 = NULL;
	return x;
}

/* Says which sessions are read from their parts. */
static void
parts_note(const struct s3store_list *l)
{
	char ids[400];
	size_t n = 0, shown = 0, w = 0;

	ids[0] = '\0';
	for (size_t i = 0; i < l->np; i++) {
		if (l->pv[i].parts == 0)
			continue;
		if (shown < 5 && w < sizeof(ids)) {
			w += (size_t)snprintf(ids + w, sizeof(ids) - w, "%s%s",
			    shown ? ", " : "", l->pv[i].id);
			shown++;
		}
		n++;
	}
	if (n > 0)
		replay_err("%s: %zu session(s) have no sealed object in the "
		    "bucket and are read from their parts (live, or their "
		    "recorder stopped before sealing them): %s%s", l->url, n,
		    ids, n > shown ? ", ..." : "");
}

int
replay_s3_store(const char *url, char *out, size_t outlen)
{
	struct s3store_list l;
	int x;

	if ((x = s3store_fetch(url, S3STORE_STORE, out, outlen, &l)) == 0 &&
	    l.journal_end == 0 && l.sessions == 0 && l.heads == 0) {
		replay_err("%s: no store there (no journal, session or tree "
		    "head objects)", url);
		x = 2;
	}
	if (x == 0)
		parts_note(&l);
	free(l.pv);
	return x;
}

int
replay_s3_heads(const char *url, char *out, size_t outlen)
{
	struct s3store_list l;
	char dir[1024];
	int x;

	if ((x = s3store_fetch(url, S3STORE_HEADS, dir, sizeof(dir), &l)) == 0 &&
	    l.heads == 0) {
		replay_err("%s: no tree heads in the bucket (heads/)", url);
		x = 2;
	}
	if (x == 0)
		snprintf(out, outlen, "%s/anchor", dir);
	free(l.pv);
	return x;
}
