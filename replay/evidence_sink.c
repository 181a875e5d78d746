/* evidence_sink.c: writes the files of an evidence bundle (evidence.h) to
 * a new directory or to a POSIX ustar archive, through one small table of
 * operations per kind, hashing every file's bytes (SHA-256) as they are
 * written for the bundle's index.  Output goes to OUT.tmp-PID beside OUT
 * and is renamed at commit, so a failed export leaves nothing behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "replay/evidence.h"

#define EVIDENCE_TAR_BLOCK 512
#define EVIDENCE_COPY_CHUNK (1u << 20)

struct evidence_sink_ops {
	/* Starts file rel of size bytes (its directories made as needed). */
	int (*begin)(struct evidence_sink *s, const char *rel, uint64_t size);
	int (*write)(struct evidence_sink *s, const void *p, size_t n);
	int (*end)(struct evidence_sink *s);
	int (*finish)(struct evidence_sink *s);	/* before the rename */
};

struct evidence_sink {
	const struct evidence_sink_ops *ops;
	char *out;			/* the final name */
	char *tmp;			/* what is written now */
	char *top;			/* tar: the directory of the members */
	int fd;				/* tar archive, or the current file */
	time_t mtime;
	uint64_t left;			/* tar: bytes of the member still due */
	uint64_t written;		/* tar: of the member so far */
	EVP_MD_CTX *md;
	struct evidence_file *files;
	size_t nfiles, capfiles;
	char **dirs;			/* made (directory) or written (tar) */
	size_t ndirs, capdirs;
};

static int
evidence_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 when directory rel was already made or written. */
static int
evidence_dir_known(struct evidence_sink *s, const char *rel)
{
	for (size_t i = 0; i < s->ndirs; i++)
		if (strcmp(s->dirs[i], rel) == 0)
			return 1;
	return 0;
}

static int
evidence_dir_note(struct evidence_sink *s, const char *rel)
{
	char **d;

	if (s->ndirs == s->capdirs) {
		s->capdirs = s->capdirs ? s->capdirs * 2 : 16;
		if ((d = realloc(s->dirs, s->capdirs * sizeof(*d))) == NULL)
			return -1;
		s->dirs = d;
	}
	if ((s->dirs[s->ndirs] = strdup(rel)) == NULL)
		return -1;
	s->ndirs++;
	return 0;
}

/* Calls mk(s, dir) for every directory of rel not seen yet, outermost
 * first. */
static int
evidence_parents(struct evidence_sink *s, const char *rel,
    int (*mk)(struct evidence_sink *, const char *))
{
	char buf[1024];
	size_t n = strlen(rel);

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, rel, n + 1);
	for (char *p = strchr(buf, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (!evidence_dir_known(s, buf) && (mk(s, buf) != 0 ||
		    evidence_dir_note(s, buf) != 0))
			return -1;
		*p = '/';
	}
	return 0;
}

/* ---- a directory ---------------------------------------------------------- */

static int
evidence_dir_mk(struct evidence_sink *s, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", s->tmp, rel);
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int
evidence_dir_begin(struct evidence_sink *s, const char *rel, uint64_t size)
{
	char path[4096];

	(void)size;
	if (evidence_parents(s, rel, evidence_dir_mk) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", s->tmp, rel);
	s->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	return s->fd < 0 ? -1 : 0;
}

static int
evidence_dir_write(struct evidence_sink *s, const void *p, size_t n)
{
	return evidence_write_all(s->fd, p, n);
}

static int
evidence_dir_end(struct evidence_sink *s)
{
	int r = close(s->fd);

	s->fd = -1;
	return r;
}

static int
evidence_dir_finish(struct evidence_sink *s)
{
	(void)s;
	return 0;
}

static const struct evidence_sink_ops evidence_dir_ops = {
	evidence_dir_begin, evidence_dir_write, evidence_dir_end,
	evidence_dir_finish,
};

/* ---- a ustar archive ------------------------------------------------------ */

/* Octal, right-aligned in w-1 digits and a NUL; GNU base-256 when it does
 * not fit (sizes of 8 GiB and more). */
static void
evidence_tar_num(char *f, size_t w, uint64_t v)
{
	if (w < 12 || v < (1ull << 33)) {
		snprintf(f, w, "%0*" PRIo64, (int)(w - 1), v);
		return;
	}
	memset(f, 0, w);
	f[0] = (char)0x80;
	for (size_t i = w - 1; i > 0 && v; i--, v >>= 8)
		f[i] = (char)(v & 0xff);
}

/* Writes a ustar header for member TOP/rel (type '0' file, '5' dir). */
static int
evidence_tar_header(struct evidence_sink *s, const char *rel, char type,
    uint64_t size)
{
	char h[EVIDENCE_TAR_BLOCK], name[1024];
	size_t n, cut = 0, sum = 0;

	n = (size_t)snprintf(name, sizeof(name), "%s/%s%s", s->top, rel,
	    type == '5' ? "/" : "");
	if (n >= sizeof(name))
		goto toolong;
	memset(h, 0, sizeof(h));
	if (n > 100) {
		/* prefix (up to 155) '/' name (up to 100) */
		for (size_t i = n - 1; i > 0; i--)
			if (name[i] == '/' && i <= 155 && n - i - 1 <= 100 &&
			    n - i - 1 > 0) {
				cut = i;
				break;
			}
		if (cut == 0)
			goto toolong;
		memcpy(h + 345, name, cut);
		memcpy(h, name + cut + 1, n - cut - 1);
	} else {
		memcpy(h, name, n);
	}
	evidence_tar_num(h + 100, 8, type == '5' ? 0755 : 0644);
	evidence_tar_num(h + 108, 8, 0);
	evidence_tar_num(h + 116, 8, 0);
	evidence_tar_num(h + 124, 12, size);
	evidence_tar_num(h + 136, 12, (uint64_t)s->mtime);
	memset(h + 148, ' ', 8);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06zo", sum);
	h[155] = ' ';
	return evidence_write_all(s->fd, h, sizeof(h));
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

static int
evidence_tar_mk(struct evidence_sink *s, const char *rel)
{
	return evidence_tar_header(s, rel, '5', 0);
}

static int
evidence_tar_begin(struct evidence_sink *s, const char *rel, uint64_t size)
{
	if (evidence_parents(s, rel, evidence_tar_mk) != 0)
		return -1;
	s->left = size;
	s->written = 0;
	return evidence_tar_header(s, rel, '0', size);
}

static int
evidence_tar_write(struct evidence_sink *s, const void *p, size_t n)
{
	if (n > s->left) {
		errno = EIO;	/* more than the header said */
		return -1;
	}
	s->left -= n;
	s->written += n;
	return evidence_write_all(s->fd, p, n);
}

static int
evidence_tar_end(struct evidence_sink *s)
{
	static const char zero[EVIDENCE_TAR_BLOCK];
	size_t pad = (size_t)((EVIDENCE_TAR_BLOCK - s->written %
	    EVIDENCE_TAR_BLOCK) % EVIDENCE_TAR_BLOCK);

	if (s->left != 0) {
		errno = EIO;
		return -1;
	}
	return evidence_write_all(s->fd, zero, pad);
}

static int
evidence_tar_finish(struct evidence_sink *s)
{
	static const char zero[2 * EVIDENCE_TAR_BLOCK];

	if (evidence_write_all(s->fd, zero, sizeof(zero)) != 0 ||
	    fsync(s->fd) != 0)
		return -1;
	return 0;
}

static const struct evidence_sink_ops evidence_tar_ops = {
	evidence_tar_begin, evidence_tar_write, evidence_tar_end,
	evidence_tar_finish,
};

/* ---- the sink ------------------------------------------------------------- */

static int
evidence_is_tar(const char *out)
{
	size_t n = strlen(out);

	return n > 4 && strcmp(out + n - 4, ".tar") == 0;
}

/* 1 when directory path holds anything (or cannot be read). */
static int
evidence_dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int any = 0;

	if (d == NULL)
		return 1;
	while (!any && (e = readdir(d)) != NULL)
		any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return any;
}

int
evidence_sink_open(const char *out, struct evidence_sink **sp, char *err,
    size_t errsz)
{
	struct evidence_sink *s;
	struct stat st;
	const char *base;
	int tar = evidence_is_tar(out);

	*sp = NULL;
	if (lstat(out, &st) == 0) {
		if (tar || !S_ISDIR(st.st_mode)) {
			snprintf(err, errsz, "%s exists: give a new name (an "
			    "existing file is never overwritten)", out);
			return -1;
		}
		if (evidence_dir_nonempty(out)) {
			snprintf(err, errsz, "%s exists and is not empty: give a "
			    "new or empty directory", out);
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errsz, "%s: %s", out, strerror(errno));
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	s->fd = -1;
	if ((s->out = strdup(out)) == NULL ||
	    asprintf(&s->tmp, "%s.tmp-%ld", out, (long)getpid()) < 0) {
		s->tmp = NULL;
		evidence_sink_abort(s);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	s->mtime = time(NULL);
	s->ops = tar ? &evidence_tar_ops : &evidence_dir_ops;
	if (tar) {
		base = strrchr(out, '/');
		base = base ? base + 1 : out;
		s->top = strndup(base, strlen(base) - 4);
		if (s->top == NULL || s->top[0] == '\0' ||
		    strcmp(s->top, ".") == 0 || strcmp(s->top, "..") == 0) {
			snprintf(err, errsz, "%s: the archive needs a name "
			    "before .tar", out);
			evidence_sink_abort(s);
			return -1;
		}
		s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
		if (s->fd < 0)
			goto fail_tmp;
	} else if (mkdir(s->tmp, 0755) != 0) {
		goto fail_tmp;
	}
	if ((s->md = EVP_MD_CTX_new()) == NULL) {
		snprintf(err, errsz, "out of memory");
		evidence_sink_abort(s);
		return -1;
	}
	*sp = s;
	return 0;
fail_tmp:
	snprintf(err, errsz, "%s: %s", s->tmp, strerror(errno));
	free(s->tmp);
	s->tmp = NULL;	/* not made: nothing to remove */
	evidence_sink_abort(s);
	return -1;
}

static int
evidence_file_begin(struct evidence_sink *s, const char *rel, uint64_t size)
{
	struct evidence_file *f;

	if (s->nfiles == s->capfiles) {
		s->capfiles = s->capfiles ? s->capfiles * 2 : 64;
		if ((f = realloc(s->files, s->capfiles * sizeof(*f))) == NULL)
			return -1;
		s->files = f;
	}
	f = &s->files[s->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->rel = strdup(rel)) == NULL)
		return -1;
	f->size = size;
	s->nfiles++;
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		errno = ENOMEM;
		return -1;
	}
	return s->ops->begin(s, rel, size);
}

static int
evidence_file_write(struct evidence_sink *s, const void *p, size_t n)
{
	if (EVP_DigestUpdate(s->md, p, n) != 1) {
		errno = ENOMEM;
		return -1;
	}
	return s->ops->write(s, p, n);
}

static int
evidence_file_end(struct evidence_sink *s)
{
	unsigned int len = 32;

	if (EVP_DigestFinal_ex(s->md, s->files[s->nfiles - 1].sha256, &len)
	    != 1) {
		errno = ENOMEM;
		return -1;
	}
	return s->ops->end(s);
}

int
evidence_sink_put(struct evidence_sink *s, const char *rel, const void *p,
    size_t n)
{
	if (evidence_file_begin(s, rel, n) != 0 ||
	    evidence_file_write(s, p, n) != 0)
		return -1;
	return evidence_file_end(s);
}

int
evidence_sink_copy(struct evidence_sink *s, const char *rel, int fd,
    uint64_t n)
{
	uint8_t *b;
	uint64_t off = 0;
	ssize_t r;
	int ret = -1;

	if ((b = malloc(EVIDENCE_COPY_CHUNK)) == NULL)
		return -1;
	if (evidence_file_begin(s, rel, n) != 0)
		goto out;
	while (off < n) {
		size_t want = n - off < EVIDENCE_COPY_CHUNK ?
		    (size_t)(n - off) : EVIDENCE_COPY_CHUNK;

		if ((r = pread(fd, b, want, (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0) {
			errno = EIO;	/* the file is shorter than it was */
			goto out;
		}
		if (evidence_file_write(s, b, (size_t)r) != 0)
			goto out;
		off += (uint64_t)r;
	}
	ret = evidence_file_end(s);
out:
	free(b);
	return ret;
}

const struct evidence_file *
evidence_sink_files(const struct evidence_sink *s, size_t *n)
{
	*n = s->nfiles;
	return s->files;
}

static void
evidence_sink_free(struct evidence_sink *s)
{
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i].rel);
	for (size_t i = 0; i < s->ndirs; i++)
		free(s->dirs[i]);
	free(s->files);
	free(s->dirs);
	EVP_MD_CTX_free(s->md);
	free(s->out);
	free(s->tmp);
	free(s->top);
	free(s);
}

int
evidence_sink_commit(struct evidence_sink *s)
{
	int r, e;

	r = s->ops->finish(s);
	if (s->fd >= 0 && close(s->fd) != 0)
		r = -1;
	s->fd = -1;
	if (r == 0)
		r = rename(s->tmp, s->out);
	if (r != 0) {
		e = errno;
		evidence_sink_abort(s);
		errno = e;
		return -1;
	}
	evidence_sink_free(s);
	return 0;
}

void
evidence_sink_abort(struct evidence_sink *s)
{
	char path[4096];
	size_t i;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp != NULL && s->top != NULL) {
		unlink(s->tmp);
	} else if (s->tmp != NULL) {
		for (i = 0; i < s->nfiles; i++) {
			snprintf(path, sizeof(path), "%s/%s", s->tmp,
			    s->files[i].rel);
			unlink(path);
		}
		for (i = s->ndirs; i > 0; i--) {
			snprintf(path, sizeof(path), "%s/%s", s->tmp,
			    s->dirs[i - 1]);
			rmdir(path);
		}
		rmdir(s->tmp);
	}
	evidence_sink_free(s);
}
