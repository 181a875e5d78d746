/* search_index.c: the search index of a store (search_index.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/search_index.h"
#include "replay/search_text.h"

#define SXI_MAGIC "escort-replay-index 1\n"
#define SXI_VALUE_MAX 4096

/* A growable string; mem is set when a growth failed. */
struct sxi_str {
	char *p;
	size_t n, cap;
	int mem;
};

static void
sxi_put(struct sxi_str *s, const void *p, size_t n)
{
	char *np;
	size_t cap;

	if (s->mem)
		return;
	if (s->n + n + 1 > s->cap) {
		cap = s->cap ? s->cap : 256;
		while (cap < s->n + n + 1)
			cap *= 2;
		if ((np = realloc(s->p, cap)) == NULL) {
			s->mem = 1;
			return;
		}
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	s->p[s->n] = '\0';
}

static void
sxi_puts(struct sxi_str *s, const char *p)
{
	sxi_put(s, p, strlen(p));
}

/* Appends p[0..n) escaped (%XX for controls, DEL and '%'). */
static void
sxi_put_esc(struct sxi_str *s, const uint8_t *p, size_t n)
{
	char hex[4];
	size_t i, a = 0;

	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] != 0x7f && p[i] != '%')
			continue;
		sxi_put(s, p + a, i - a);
		snprintf(hex, sizeof(hex), "%%%02X", p[i]);
		sxi_put(s, hex, 3);
		a = i + 1;
	}
	sxi_put(s, p + a, n - a);
}

/* ---- sets of strings (words, fact lines) --------------------------------- */

struct sxi_set {
	struct sxi_str arena;	/* the strings, each NUL-terminated */
	size_t *slot;		/* 1 + arena offset, 0: empty */
	size_t nslot, n;
	int full;		/* SEARCH_INDEX_WORDS_MAX reached */
};

static uint64_t
sxi_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

/* Adds p[0..n) (no NUL inside). */
static void
sxi_set_add(struct sxi_set *s, const uint8_t *p, size_t n)
{
	size_t i, j, off, *ns, nn;

	if (s->full || s->arena.mem)
		return;
	if (2 * (s->n + 1) > s->nslot) {
		nn = s->nslot ? 2 * s->nslot : 64;
		if ((ns = calloc(nn, sizeof(*ns))) == NULL) {
			s->arena.mem = 1;
			return;
		}
		for (i = 0; i < s->nslot; i++) {
			if (s->slot[i] == 0)
				continue;
			off = s->slot[i] - 1;
			j = sxi_hash((const uint8_t *)s->arena.p + off,
			    strlen(s->arena.p + off)) & (nn - 1);
			while (ns[j] != 0)
				j = (j + 1) & (nn - 1);
			ns[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = ns;
		s->nslot = nn;
	}
	j = sxi_hash(p, n) & (s->nslot - 1);
	while (s->slot[j] != 0) {
		off = s->slot[j] - 1;
		if (strlen(s->arena.p + off) == n &&
		    memcmp(s->arena.p + off, p, n) == 0)
			return;
		j = (j + 1) & (s->nslot - 1);
	}
	if (s->n == SEARCH_INDEX_WORDS_MAX) {
		s->full = 1;
		return;
	}
	off = s->arena.n;
	sxi_put(&s->arena, p, n);
	sxi_put(&s->arena, "", 1);
	if (s->arena.mem)
		return;
	s->slot[j] = off + 1;
	s->n++;
}

static const char *sxi_sort_base;

static int
sxi_off_cmp(const void *a, const void *b)
{
	return strcmp(sxi_sort_base + *(const size_t *)a,
	    sxi_sort_base + *(const size_t *)b);
}

/* Appends the strings of s, sorted, each after sep.  */
static void
sxi_set_emit(struct sxi_set *s, struct sxi_str *out, const char *sep,
    const char *end)
{
	size_t *v, i, k = 0;

	if ((v = calloc(s->n ? s->n : 1, sizeof(*v))) == NULL) {
		out->mem = 1;
		return;
	}
	for (i = 0; i < s->nslot; i++)
		if (s->slot[i] != 0)
			v[k++] = s->slot[i] - 1;
	sxi_sort_base = s->arena.p;
	qsort(v, k, sizeof(*v), sxi_off_cmp);
	for (i = 0; i < k; i++) {
		sxi_puts(out, sep);
		sxi_puts(out, s->arena.p + v[i]);
		sxi_puts(out, end);
	}
	free(v);
}

static void
sxi_set_free(struct sxi_set *s)
{
	free(s->arena.p);
	free(s->slot);
}

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
		if ((end = strstr(nl + 1, "\n.\n")) == NULL)
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

/* ---- building ------------------------------------------------------------- */

struct search_index_build {
	struct sxi_str head;		/* u, t, l, a lines */
	struct sxi_set facts;		/* c, v, m, f, h lines */
	struct sxi_set words[2];	/* input, output */
	int incomplete[2];
	struct search_text *st;
	uint64_t start;
};

/* search_text_line_fn: the words of a piece of text. */
static void
sxi_build_line(void *arg, enum search_text_kind k, const uint8_t *p, size_t n)
{
	struct search_index_build *b = arg;
	int w = k == SEARCH_TEXT_INPUT ? 0 : 1;
	size_t i = 0, a;

	while (i < n) {
		while (i < n && !search_text_is_word(p[i]))
			i++;
		for (a = i; i < n && search_text_is_word(p[i]); i++)
			;
		if (i == a)
			continue;
		if (i - a >= SEARCH_TEXT_PAT_MAX)
			b->incomplete[w] = 1;
		else
			sxi_set_add(&b->words[w], p + a, i - a);
	}
}

static void
sxi_head_field(struct sxi_str *s, char key, const uint8_t *v, size_t len)
{
	char k[3] = { key, ' ', '\0' };

	sxi_puts(s, k);
	sxi_put_esc(s, v, len);
	sxi_puts(s, "\n");
}

struct search_index_build *
search_index_build_new(struct tr *r)
{
	static const struct { uint16_t tag; char key; } head[] = {
		{ EVF_USER, 'u' }, { EVF_TARGET, 't' }, { EVF_LOGIN, 'l' },
		{ EVF_ATTR, 'a' },
	};
	struct search_index_build *b;
	struct ev_fields_iter it;
	const uint8_t *meta, *v;
	size_t mlen, used, len, k;
	uint16_t tag;
	struct ev e;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->st = search_text_new(NULL, 0, NULL, NULL)) == NULL) {
		free(b);
		return NULL;
	}
	search_text_set_line(b->st, sxi_build_line, b);
	b->start = tr_start_wall_ns(r);
	tr_meta(r, &meta, &mlen);
	if (ev_decode(meta, mlen, &e, &used) == REC_OK && e.type == EV_META)
		for (k = 0; k < sizeof(head) / sizeof(head[0]); k++) {
			ev_fields_begin(&it, e.data, e.len);
			while (ev_fields_next(&it, &tag, &v, &len) == 1)
				if (tag == head[k].tag)
					sxi_head_field(&b->head, head[k].key, v, len);
		}
	return b;
}

/* Adds the fact "key value" (escaped) to the set. */
static void
sxi_fact(struct search_index_build *b, char key, const uint8_t *v, size_t len)
{
	struct sxi_str s = { 0 };

	sxi_head_field(&s, key, v, len);
	if (s.mem) {
		b->facts.arena.mem = 1;
		return;
	}
	sxi_set_add(&b->facts, (const uint8_t *)s.p, s.n);
	free(s.p);
}

int
search_index_build_event(struct search_index_build *b, const struct ev *e)
{
	struct ev_fields_iter it;
	const uint8_t *v;
	char hex[2 * SEAL_HASH_LEN + 1], mode[16];
	size_t len, i;
	uint16_t tag;

	if (search_text_event(b->st, e) != 0)
		return REC_ENOMEM;
	if (e->type == EV_DECISION) {
		/* the first of each, as the search reads them */
		if (ev_fields_find(e->data, e->len, EVF_COMMAND, &v, &len) == REC_OK)
			sxi_fact(b, 'c', v, len);
		if (ev_fields_find(e->data, e->len, EVF_VERDICT, &v, &len) == REC_OK)
			sxi_fact(b, 'v', v, len);
		replay_cmd_mode(e, mode, sizeof(mode));
		sxi_fact(b, 'm', (const uint8_t *)mode, strlen(mode));
	} else if (e->type == EV_FILE) {
		ev_fields_begin(&it, e->data, e->len);
		while (ev_fields_next(&it, &tag, &v, &len) == 1)
			if (tag == EVF_PATH) {
				sxi_fact(b, 'f', v, len);
			} else if (tag == EVF_SHA256 && len == SEAL_HASH_LEN) {
				for (i = 0; i < SEAL_HASH_LEN; i++)
					snprintf(hex + 2 * i, 3, "%02x", v[i]);
				sxi_fact(b, 'h', (const uint8_t *)hex, 2 * SEAL_HASH_LEN);
			}
	}
	return b->facts.arena.mem || b->words[0].arena.mem ||
	    b->words[1].arena.mem ? REC_ENOMEM : 0;
}

void
search_index_build_free(struct search_index_build *b)
{
	if (b == NULL)
		return;
	search_text_free(b->st);
	free(b->head.p);
	sxi_set_free(&b->facts);
	sxi_set_free(&b->words[0]);
	sxi_set_free(&b->words[1]);
	free(b);
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
search_index_build_add(struct search_index *x, struct search_index_build *b,
    const char *id, uint64_t size, uint64_t ctime_ns, uint64_t last_t)
{
	struct search_index_rec r;
	struct sxi_str body = { 0 };
	char *idc;
	int rc;

	search_text_finish(b->st, last_t);
	r.start = b->start;
	sxi_put(&body, b->head.p ? b->head.p : "", b->head.n);
	sxi_set_emit(&b->facts, &body, "", "");
	sxi_puts(&body, "i");
	sxi_set_emit(&b->words[0], &body, " ", "");
	sxi_puts(&body, " \no");
	sxi_set_emit(&b->words[1], &body, " ", "");
	sxi_puts(&body, " \n");
	if (b->incomplete[0] || b->words[0].full)
		sxi_puts(&body, "I\n");
	if (b->incomplete[1] || b->words[1].full)
		sxi_puts(&body, "O\n");
	rc = body.mem || b->facts.arena.mem || b->words[0].arena.mem ||
	    b->words[1].arena.mem ? REC_ENOMEM : 0;
	search_index_build_free(b);
	if (rc != 0 || body.p == NULL || (idc = strdup(id)) == NULL) {
		free(body.p);
		return REC_ENOMEM;
	}
	if (sxi_own(x, idc) != 0) {
		free(body.p);
		return REC_ENOMEM;
	}
	if (sxi_own(x, body.p) != 0)
		return REC_ENOMEM;
	r.id = idc;
	r.size = size;
	r.ctime_ns = ctime_ns;
	r.body = body.p;
	r.blen = body.n;
	return sxi_add_rec(x, &r);
}

int
search_index_save(const char *store, struct search_index *x, char *note,
    size_t notesz)
{
	struct sxi_str s = { 0 };
	uint8_t sum[SEAL_HASH_LEN];
	char path[4096], tmp[4200], line[200];
	size_t i, off;
	ssize_t w;
	int fd, rc = -1;

	note[0] = '\0';
	if (!x->dirty || x->n == 0)
		return 0;
	if (!x->sorted) {
		qsort(x->v, x->n, sizeof(*x->v), sxi_rec_cmp);
		x->sorted = 1;
	}
	sxi_puts(&s, SXI_MAGIC);
	for (i = 0; i < x->n; i++) {
		snprintf(line, sizeof(line), " %llu %llu %llu\n",
		    (unsigned long long)x->v[i].size,
		    (unsigned long long)x->v[i].ctime_ns,
		    (unsigned long long)x->v[i].start);
		sxi_puts(&s, "@");
		sxi_puts(&s, x->v[i].id);
		sxi_puts(&s, line);
		sxi_put(&s, x->v[i].body, x->v[i].blen);
		sxi_puts(&s, ".\n");
	}
	if (s.mem) {
		snprintf(note, notesz, "out of memory");
		free(s.p);
		return -1;
	}
	seal_sha256(s.p, s.n, sum);
	sxi_puts(&s, "# sha256 ");
	for (i = 0; i < SEAL_HASH_LEN; i++) {
		snprintf(line, sizeof(line), "%02x", sum[i]);
		sxi_puts(&s, line);
	}
	sxi_puts(&s, "\n");
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
	for (off = 0; !s.mem && off < s.n; off += (size_t)w)
		if ((w = write(fd, s.p + off, s.n - off)) <= 0)
			break;
	if (close(fd) != 0 || off < s.n || rename(tmp, path) != 0) {
		snprintf(note, notesz, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	x->dirty = 0;
	rc = 0;
out:
	free(s.p);
	return rc;
}
