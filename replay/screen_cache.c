/* screen_cache.c: the cache of screen snapshots (screen_cache.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "replay/screen_cache.h"

static const char scache_magic[8] = { 'E', 'S', 'C', 'R', 'S', 'C', 'R', '1' };

int
scache_key_make(const char *path, const char *id, uint64_t size,
    uint64_t last_seq, uint64_t last_t_ns, struct scache_key *k)
{
	uint8_t tail[512];
	size_t n = size < sizeof(tail) ? (size_t)size : sizeof(tail);
	int fd;

	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", id);
	k->size = size;
	k->last_seq = last_seq;
	k->last_t_ns = last_t_ns;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (pread(fd, tail, n, (off_t)(size - n)) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	k->tail_crc = crc32c(0, tail, n);
	return 0;
}

int
scache_path(const char *store, const char *id, char *out, size_t outsz)
{
	const char *dir = getenv("ESCORT_REPLAY_CACHE"), *base;
	char real[4096], d[4096];
	int n;

	if (realpath(store, real) == NULL)
		snprintf(real, sizeof(real), "%s", store);
	if (dir != NULL && *dir != '\0') {
		n = snprintf(d, sizeof(d), "%s", dir);
	} else if ((base = getenv("XDG_CACHE_HOME")) != NULL && base[0] == '/') {
		n = snprintf(d, sizeof(d), "%s/escort-replay", base);
	} else if ((base = getenv("HOME")) != NULL && base[0] == '/') {
		n = snprintf(d, sizeof(d), "%s/.cache/escort-replay", base);
	} else
		return -1;
	if (n < 0 || (size_t)n >= sizeof(d))
		return -1;
	n = snprintf(out, outsz, "%s/%s-%08x.screen", d,
	    id, crc32c(0, real, strlen(real)));
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
scache_add(struct scache *c, uint64_t seq, uint64_t frame_off, uint64_t t_ns,
    int rows, int cols, const uint8_t *p, size_t n)
{
	struct scache_snap *v;

	if (c->n == c->cap) {
		v = realloc(c->v, (c->cap ? c->cap * 2 : 64) * sizeof(*v));
		if (v == NULL)
			return -1;
		c->v = v;
		c->cap = c->cap ? c->cap * 2 : 64;
	}
	c->v[c->n] = (struct scache_snap){ .seq = seq, .frame_off = frame_off,
	    .t_ns = t_ns,
	    .rows = rows, .cols = cols, .off = buf_len(&c->data), .len = n };
	if (buf_put(&c->data, p, n) != 0)
		return -1;
	c->n++;
	return 0;
}

const uint8_t *
scache_bytes(const struct scache *c, const struct scache_snap *s)
{
	return buf_ptr(&c->data) + s->off;
}

/* Reads exactly n bytes at *pos of p[0..len); returns NULL past the end. */
static const uint8_t *
scache_take(const uint8_t *p, size_t len, size_t *pos, size_t n)
{
	const uint8_t *q = p + *pos;

	if (len - *pos < n)
		return NULL;
	*pos += n;
	return q;
}

static uint64_t
scache_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Parses file bytes p[0..len) into c against k.  Returns 1 or 0. */
static int
scache_parse(struct scache *c, const uint8_t *p, size_t len,
    const struct scache_key *k)
{
	const uint8_t *q, *d;
	size_t pos = 0, idlen, i, n, sl;
	uint64_t seq, off, t;
	int rows, cols;

	if (len < 12 || scache_be(p + len - 4, 4) != crc32c(0, p, len - 4))
		return 0;
	len -= 4;
	if ((q = scache_take(p, len, &pos, 10)) == NULL ||
	    memcmp(q, scache_magic, 8) != 0)
		return 0;
	idlen = (size_t)scache_be(q + 8, 2);
	if ((q = scache_take(p, len, &pos, idlen)) == NULL ||
	    idlen != strlen(k->id) || memcmp(q, k->id, idlen) != 0 ||
	    (q = scache_take(p, len, &pos, 32)) == NULL ||
	    scache_be(q, 8) != k->size || scache_be(q + 24, 4) != k->tail_crc)
		return 0;
	c->key.last_seq = scache_be(q + 8, 8);
	c->key.last_t_ns = scache_be(q + 16, 8);
	n = (size_t)scache_be(q + 28, 4);
	for (i = 0; i < n; i++) {
		if ((q = scache_take(p, len, &pos, 32)) == NULL)
			return 0;
		seq = scache_be(q, 8);
		off = scache_be(q + 8, 8);
		t = scache_be(q + 16, 8);
		rows = (int)scache_be(q + 24, 2);
		cols = (int)scache_be(q + 26, 2);
		sl = (size_t)scache_be(q + 28, 4);
		if ((d = scache_take(p, len, &pos, sl)) == NULL || rows < 1 ||
		    cols < 1 || (c->n > 0 && (seq < c->v[c->n - 1].seq ||
		    t < c->v[c->n - 1].t_ns)) ||
		    scache_add(c, seq, off, t, rows, cols, d, sl) != 0)
			return 0;
	}
	return pos == len;
}

int
scache_load(struct scache *c, const char *path, const struct scache_key *k)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t got = 0;
	ssize_t r;
	int fd, ok = 0;

	memset(c, 0, sizeof(*c));
	buf_init(&c->data, 0);
	c->key = *k;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) != 0 ||
	    st.st_size > (off_t)(256u << 20) ||
	    (p = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	while (got < (size_t)st.st_size &&
	    (r = read(fd, p + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	if (got == (size_t)st.st_size)
		ok = scache_parse(c, p, got, k);
out:
	close(fd);
	free(p);
	if (!ok) {
		scache_free(c);
		buf_init(&c->data, 0);
		c->key = *k;
	}
	return ok;
}

/* Makes the directories of path (mode 0700). */
static void
scache_mkdirs(const char *path)
{
	char d[4096];
	char *s;

	snprintf(d, sizeof(d), "%s", path);
	for (s = d + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		(void)mkdir(d, 0700);
		*s = '/';
	}
}

int
scache_save(const struct scache *c, const char *path)
{
	struct buf b;
	char tmp[4200];
	size_t i, idlen = strlen(c->key.id);
	int fd, r = 0, saved;
	ssize_t w;

	buf_init(&b, 0);
	r |= buf_put(&b, scache_magic, 8);
	r |= buf_put_u16(&b, (uint16_t)idlen);
	r |= buf_put(&b, c->key.id, idlen);
	r |= buf_put_u64(&b, c->key.size);
	r |= buf_put_u64(&b, c->key.last_seq);
	r |= buf_put_u64(&b, c->key.last_t_ns);
	r |= buf_put_u32(&b, c->key.tail_crc);
	r |= buf_put_u32(&b, (uint32_t)c->n);
	for (i = 0; i < c->n && r == 0; i++) {
		r |= buf_put_u64(&b, c->v[i].seq);
		r |= buf_put_u64(&b, c->v[i].frame_off);
		r |= buf_put_u64(&b, c->v[i].t_ns);
		r |= buf_put_u16(&b, (uint16_t)c->v[i].rows);
		r |= buf_put_u16(&b, (uint16_t)c->v[i].cols);
		r |= buf_put_u32(&b, (uint32_t)c->v[i].len);
		r |= buf_put(&b, scache_bytes(c, &c->v[i]), c->v[i].len);
	}
	r |= buf_put_u32(&b, crc32c(0, buf_ptr(&b), buf_len(&b)));
	if (r != 0) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	scache_mkdirs(path);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		buf_free(&b);
		return -1;
	}
	w = write(fd, buf_ptr(&b), buf_len(&b));
	saved = errno;
	if (close(fd) != 0 || w != (ssize_t)buf_len(&b) || rename(tmp, path) != 0) {
		saved = w < 0 ? saved : errno;
		unlink(tmp);
		buf_free(&b);
		errno = saved;
		return -1;
	}
	buf_free(&b);
	return 0;
}

const struct scache_snap *
scache_find(const struct scache *c, uint64_t at_ns, uint64_t stop_seq)
{
	size_t lo = 0, hi = c->n, mid;

	/* the first snapshot past the stop, by bisection */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (stop_seq != 0 ? c->v[mid].seq <= stop_seq :
		    c->v[mid].t_ns <= at_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NULL : &c->v[lo - 1];
}

void
scache_free(struct scache *c)
{
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
	buf_free(&c->data);
}
