/* search_index.c: the search index of a store, its file and the
 * questions asked of its records (search_index.h); the records are built
 * by search_index_build.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "replay/search_index.h"
#include "replay/search_text.h"

#define SXI_MAGIC "escort-replay-index 1\n"
#define SXI_VALUE_MAX 4096

/* ---- the index ------------------------------------------------------------ */

struct search_index {
	char *buf;			/* the file as loaded, edited in place */
	struct search_index_rec *v;
	size_t n, cap;
	char **owned;			/* ids and bodies of records added */
	size_t nowned, capowned;
	int sorted, dirty;
};

static int
sxi_rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct search_index_rec *)a)->id,
	    ((const struct search_index_rec *)b)->id);
}

static int
sxi_rec_push(struct search_index *x, const struct search_index_rec *r)
{
	struct search_index_rec *nv;
	size_t cap;

	if (x->n == x->cap) {
		cap = x->cap ? 2 * x->cap : 256;
		if ((nv = realloc(x->v, cap * sizeof(*nv))) == NULL)
			return REC_ENOMEM;
		x->v = nv;
		x->cap = cap;
	}
	x->v[x->n++] = *r;
	return 0;
}

/* Parses the loaded file (NUL-terminated, checksum line cut off).
 * Returns 0, REC_EFORMAT when it is not an index, or REC_ENOMEM. */
static int
sxi_parse(struct search_index *x, char *p)
{
	struct search_index_rec r;
	unsigned long long size, start, ctime_ns;
	char *nl, *sp, *end, *prev = NULL;
	int n;

	if (strncmp(p, SXI_MAGIC, strlen(SXI_MAGIC)) != 0)
		return REC_EFORMAT;
	p += strlen(SXI_MAGIC);
	while (*p != '\0') {
		if (*p != '@' || (nl = strchr(p, '\n')) == NULL ||
		    (sp = memchr(p, ' ', (size_t)(nl - p))) == NULL)
			return REC_EFORMAT;
		*sp = '\0';
		*nl = '\0';
		if (sscanf(sp + 1, "%llu %llu %llu%n", &size, &ctime_ns, &start,
		    &n) != 3 ||
		    sp[1 + n] != '\0' || !tw_id_valid(p + 1) ||
		    (prev != NULL && strcmp(prev, p + 1) >= 0))
			return REC_EFORMAT;
		r.id = prev = p + 1;
		r.size = size;
		r.ctime_ns = ctime_ns;
		r.start = start;
		r.body = nl + 1;
		if (nl[1] == '.' && nl[2] == '\n')
			end = nl;	/* no fact line */
		else if ((end = strstr(nl + 1, "\n.\n")) == NULL)
			return REC_EFORMAT;
		r.blen = (size_t)(end + 1 - r.body);
		if (sxi_rec_push(x, &r) != 0)
			return REC_ENOMEM;
		p = end + 3;
	}
	return 0;
}

int
search_index_open(const char *store, struct search_index **out, char *note,
    size_t notesz)
{
	struct search_index *x;
	uint8_t sum[SEAL_HASH_LEN];
	char path[4096], hex[2 * SEAL_HASH_LEN + 1], *t;
	struct stat st;
	ssize_t got;
	size_t have = 0, i;
	int fd, rc;

	note[0] = '\0';
	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return REC_ENOMEM;
	x->sorted = 1;
	snprintf(path, sizeof(path), "%s/%s", store, SEARCH_INDEX_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			snprintf(note, notesz, "%s: %s", path, strerror(errno));
		*out = x;
		return 0;
	}
	if (fstat(fd, &st) != 0 || (x->buf = malloc((size_t)st.st_size + 1)) ==
	    NULL) {
		rc = errno == ENOMEM ? REC_ENOMEM : REC_EIO;
		close(fd);
		free(x);
		return rc;
	}
	while (have < (size_t)st.st_size &&
	    (got = read(fd, x->buf + have, (size_t)st.st_size - have)) > 0)
		have += (size_t)got;
	close(fd);
	x->buf[have] = '\0';
	/* the last line: "# sha256 HEX\n" over every byte before it */
	t = have > 0 && x->buf[have - 1] == '\n' ? x->buf + have - 1 : NULL;
	if (t != NULL) {
		*t = '\0';
		t = strrchr(x->buf, '\n');
	}
	if (t == NULL || strncmp(t + 1, "# sha256 ", 9) != 0) {
		snprintf(note, notesz, "%s: damaged (no checksum line)", path);
		goto empty;
	}
	seal_sha256(x->buf, (size_t)(t + 1 - x->buf), sum);
	for (i = 0; i < SEAL_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	if (strcmp(t + 10, hex) != 0) {
		snprintf(note, notesz, "%s: damaged (checksum does not match)", path);
		goto empty;
	}
	t[1] = '\0';
	if ((rc = sxi_parse(x, x->buf)) != 0) {
		if (rc == REC_ENOMEM) {
			search_index_free(x);
			return rc;
		}
		snprintf(note, notesz, "%s: damaged (not an index of this version)",
		    path);
		goto empty;
	}
	*out = x;
	return 0;
empty:
	x->n = 0;
	x->dirty = 1;
	*out = x;
	return 0;
}

void
search_index_free(struct search_index *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < x->nowned; i++)
		free(x->owned[i]);
	free(x->owned);
	free(x->v);
	free(x->buf);
	free(x);
}

const struct search_index_rec *
search_index_find(const struct search_index *cx, const char *id, uint64_t size,
    uint64_t ctime_ns)
{
	struct search_index *x = (struct search_index *)cx;
	struct search_index_rec key, *r;

	if (x->n == 0)
		return NULL;
	if (!x->sorted) {
		qsort(x->v, x->n, sizeof(*x->v), sxi_rec_cmp);
		x->sorted = 1;
	}
	key.id = id;
	r = bsearch(&key, x->v, x->n, sizeof(*x->v), sxi_rec_cmp);
	return r != NULL && r->size == size && r->ctime_ns == ctime_ns ? r : NULL;
}

/* Unescapes p[0..n) into out (outsz > 0), cut at outsz - 1 bytes. */
static void
sxi_unesc(const char *p, size_t n, char *out, size_t outsz)
{
	size_t i, k = 0;
	unsigned v;

	for (i = 0; i < n && k + 1 < outsz; i++) {
		if (p[i] == '%' && i + 2 < n && sscanf(p + i + 1, "%2x", &v) == 1) {
			out[k++] = (char)v;
			i += 2;
		} else {
			out[k++] = p[i];
		}
	}
	out[k] = '\0';
}

int
search_index_each(const struct search_index_rec *r, char key,
    int (*fn)(void *arg, const char *value), void *arg)
{
	const char *p = r->body, *end = r->body + r->blen, *nl;
	char v[SXI_VALUE_MAX];
	int x;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if (p[0] != key || p[1] != ' ')
			continue;
		sxi_unesc(p + 2, (size_t)(nl - p - 2), v, sizeof(v));
		if ((x = fn(arg, v)) != 0)
			return x;
	}
	return 0;
}

struct sxi_get {
	char *out;
	size_t outsz;
};

static int
sxi_get_one(void *arg, const char *v)
{
	struct sxi_get *g = arg;

	snprintf(g->out, g->outsz, "%s", v);
	return 1;
}

void
search_index_get(const struct search_index_rec *r, char key, char *out,
    size_t outsz)
{
	struct sxi_get g = { out, outsz };

	out[0] = '\0';
	search_index_each(r, key, sxi_get_one, &g);
}

/* The line of r starting with c (as "c" alone or "c ..."), or NULL;
 * *len its length without the newline. */
static const char *
sxi_line(const struct search_index_rec *r, char c, size_t *len)
{
	const char *p = r->body, *end = r->body + r->blen, *nl;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if (p[0] == c && (p + 1 == nl || p[1] == ' ')) {
			*len = (size_t)(nl - p);
			return p;
		}
	}
	return NULL;
}

int
search_index_text_may(const struct search_index_rec *r, char kind,
    const char *pat, size_t n)
{
	const char *line;
	char needle[2 + SEARCH_TEXT_PAT_MAX + 2];
	size_t llen, a, b, k, len;

	if (sxi_line(r, (char)(kind == 'i' ? 'I' : 'O'), &llen) != NULL)
		return 1;	/* its words are not all known */
	if ((line = sxi_line(r, kind, &llen)) == NULL)
		return 1;	/* an older record: no word list */
	line++;
	llen--;
	for (a = 0; a < n; a = b) {
		while (a < n && !search_text_is_word((uint8_t)pat[a]))
			a++;
		if (a == n)
			break;
		for (b = a; b < n && search_text_is_word((uint8_t)pat[b]); b++)
			;
		if (b - a > SEARCH_TEXT_PAT_MAX)
			return 0;
		k = 0;
		if (a > 0)		/* a separator before: a word's start */
			needle[k++] = ' ';
		memcpy(needle + k, pat + a, b - a);
		k += b - a;
		if (b < n)		/* a separator after: a word's end */
			needle[k++] = ' ';
		len = k;
		if (memmem(line, llen, needle, len) == NULL)
			return 0;
	}
	return 1;
}

void
search_index_keep(struct search_index *x, char *const *ids, size_t n)
{
	size_t i, k = 0, lo, hi, mid;
	int c, found;

	for (i = 0; i < x->n; i++) {
		found = 0;
		for (lo = 0, hi = n; lo < hi && !found;) {
			mid = lo + (hi - lo) / 2;
			c = strcmp(x->v[i].id, ids[mid]);
			if (c == 0)
				found = 1;
			else if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (found)
			x->v[k++] = x->v[i];
		else
			x->dirty = 1;
	}
	x->n = k;
}

size_t
search_index_count(const struct search_index *x)
{
	return x->n;
}

static int
sxi_own(struct search_index *x, char *p)
{
	char **nv;
	size_t cap;

	if (x->nowned == x->capowned) {
		cap = x->capowned ? 2 * x->capowned : 64;
		if ((nv = realloc(x->owned, cap * sizeof(*nv))) == NULL) {
			free(p);
			return REC_ENOMEM;
		}
		x->owned = nv;
		x->capowned = cap;
	}
	x->owned[x->nowned++] = p;
	return 0;
}

/* Adds r to x, in place of a record of the same id. */
static int
sxi_add_rec(struct search_index *x, const struct search_index_rec *r)
{
	size_t i;

	x->dirty = 1;
	for (i = 0; i < x->n; i++)
		if (strcmp(x->v[i].id, r->id) == 0) {
			x->v[i] = *r;
			return 0;
		}
	x->sorted = x->n == 0 || (x->sorted && strcmp(x->v[x->n - 1].id,
	    r->id) < 0);
	return sxi_rec_push(x, r);
}

int
search_index_add(struct search_index *x, const char *id, uint64_t size,
    uint64_t ctime_ns, uint64_t start, char *body, size_t blen)
{
	struct search_index_rec r;
	char *idc;

	if ((idc = strdup(id)) == NULL) {
		free(body);
		return REC_ENOMEM;
	}
	if (sxi_own(x, idc) != 0) {
		free(body);
		return REC_ENOMEM;
	}
	if (sxi_own(x, body) != 0)
		return REC_ENOMEM;
	r.id = idc;
	r.size = size;
	r.ctime_ns = ctime_ns;
	r.start = start;
	r.body = body;
	r.blen = blen;
	return sxi_add_rec(x, &r);
}

int
search_index_save(const char *store, struct search_index *x, char *note,
    size_t notesz)
{
	uint8_t sum[SEAL_HASH_LEN];
	char path[4096], tmp[4200], *p = NULL;
	size_t i, off, len = 0;
	ssize_t w;
	FILE *m;
	int fd, rc = -1;

	note[0] = '\0';
	if (!x->dirty || x->n == 0)
		return 0;
	if (!x->sorted) {
		qsort(x->v, x->n, sizeof(*x->v), sxi_rec_cmp);
		x->sorted = 1;
	}
	if ((m = open_memstream(&p, &len)) == NULL) {
		snprintf(note, notesz, "%s", strerror(errno));
		return -1;
	}
	fputs(SXI_MAGIC, m);
	for (i = 0; i < x->n; i++) {
		fprintf(m, "@%s %llu %llu %llu\n", x->v[i].id,
		    (unsigned long long)x->v[i].size,
		    (unsigned long long)x->v[i].ctime_ns,
		    (unsigned long long)x->v[i].start);
		fwrite(x->v[i].body, 1, x->v[i].blen, m);
		fputs(".\n", m);
	}
	if (fflush(m) != 0) {
		snprintf(note, notesz, "%s", strerror(errno));
		goto out;
	}
	seal_sha256(p, len, sum);
	fputs("# sha256 ", m);
	for (i = 0; i < SEAL_HASH_LEN; i++)
		fprintf(m, "%02x", sum[i]);
	fputs("\n", m);
	if (fclose(m) != 0) {
		m = NULL;
		snprintf(note, notesz, "%s", strerror(errno));
		goto out;
	}
	m = NULL;
	snprintf(path, sizeof(path), "%s/%s", store, SEARCH_INDEX_DIR);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		snprintf(note, notesz, "%s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", store, SEARCH_INDEX_FILE);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		snprintf(note, notesz, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, p + off, len - off)) <= 0)
			break;
	if (close(fd) != 0 || off < len || rename(tmp, path) != 0) {
		snprintf(note, notesz, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	x->dirty = 0;
	rc = 0;
out:
	if (m != NULL)
		fclose(m);
	free(p);
	return rc;
}
