/* search_index_build.c: the record of one session for the search index,
 * built while the session is read (search_index.h): the facts of its head,
 * decisions and files, and the words of its text as search_text rebuilds
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/search_index.h"
#include "replay/search_text.h"

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

int
search_index_build_add(struct search_index *x, struct search_index_build *b,
    const char *id, uint64_t size, uint64_t ctime_ns, uint64_t last_t)
{
	struct sxi_str body = { 0 };
	uint64_t start = b->start;
	int rc;

	search_text_finish(b->st, last_t);
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
	if (rc != 0 || body.p == NULL) {
		free(body.p);
		return REC_ENOMEM;
	}
	return search_index_add(x, id, size, ctime_ns, start, body.p, body.n);
}
