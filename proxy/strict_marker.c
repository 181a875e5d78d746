/* strict_marker: the streaming scanner for the strict-mode loop's markers
 * (contract in strict_marker.h).
 *
 * State: hold[] keeps the bytes of a sequence that began with ESC and may
 * still be a marker (at most SM_MARK_MAX); the leak matcher keeps how many
 * bytes of the nonce the pass-through output ends with (KMP, so a match
 * split across chunks or markers is found). */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proxy/strict_marker.h"

#define SM_PREFIX_LEN (sizeof(SB_MARK_PREFIX) - 1)
#define SM_ESC 0x1b
#define SM_BEL 0x07
#define SM_PWD_MAX (sizeof(((struct sm_marker *)0)->pwd) - 1)

struct sm {
	uint8_t hold[SM_MARK_MAX];
	size_t hlen;
	int have_nonce;
	char nonce[SB_NONCE_HEX];
	uint8_t fail[SB_NONCE_HEX];     /* KMP failure function of nonce */
	size_t k;                       /* nonce bytes matched so far */
};

struct sm *
px__sm_new(void)
{
	return calloc(1, sizeof(struct sm));
}

void
px__sm_free(struct sm *s)
{
	if (s != NULL) {
		explicit_bzero(s->nonce, sizeof(s->nonce));
		free(s);
	}
}

static char
sm_lower(uint8_t c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

void
px__sm_set_nonce(struct sm *s, const char *nonce)
{
	size_t i, k;

	s->have_nonce = 0;
	s->k = 0;
	if (nonce == NULL || strlen(nonce) != SB_NONCE_HEX)
		return;
	for (i = 0; i < SB_NONCE_HEX; i++)
		s->nonce[i] = sm_lower((uint8_t)nonce[i]);
	s->fail[0] = 0;
	for (i = 1, k = 0; i < SB_NONCE_HEX; i++) {
		while (k > 0 && s->nonce[i] != s->nonce[k])
			k = s->fail[k - 1];
		if (s->nonce[i] == s->nonce[k])
			k++;
		s->fail[i] = (uint8_t)k;
	}
	s->have_nonce = 1;
}

size_t
px__sm_held(const struct sm *s)
{
	return s->hlen;
}

/* Runs the leak matcher over p[0..n); returns the number of bytes up to and
 * including the one that completes the nonce, or n when none does. */
static size_t
sm__leak_scan(struct sm *s, const uint8_t *p, size_t n, int *leak)
{
	size_t i;

	*leak = 0;
	if (!s->have_nonce)
		return n;
	for (i = 0; i < n; i++) {
		char c = sm_lower(p[i]);

		while (s->k > 0 && c != s->nonce[s->k])
			s->k = s->fail[s->k - 1];
		if (c == s->nonce[s->k])
			s->k++;
		if (s->k == SB_NONCE_HEX) {
			s->k = s->fail[SB_NONCE_HEX - 1];
			*leak = 1;
			return i + 1;
		}
	}
	return n;
}

/* Appends up to n pass-through bytes to out (as many as it has room for,
 * stopping after a leak); returns the number appended (0: out is full). */
static size_t
sm__pass(struct sm *s, struct buf *out, const uint8_t *p, size_t n, int *leak)
{
	size_t room = buf_room(out), k0 = s->k;

	*leak = 0;
	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	n = sm__leak_scan(s, p, n, leak);
	if (buf_put(out, p, n) != 0) {
		s->k = k0;
		*leak = 0;
		return 0;
	}
	return n;
}

/* ---- marker bodies ----------------------------------------------------- */

/* A field: [p, p + n). */
struct sm_field {
	const char *p;
	size_t n;
};

/* Decimal without sign or leading zeros, at most max. */
static int
sm__dec(struct sm_field f, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (f.n == 0 || f.n > 20 || (f.n > 1 && f.p[0] == '0'))
		return -1;
	for (i = 0; i < f.n; i++) {
		unsigned d = (unsigned)(f.p[i] - '0');

		if (d > 9 || x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int
sm__hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
sm__nonce(struct sm_field f, char out[SB_NONCE_HEX + 1])
{
	size_t i;

	if (f.n != SB_NONCE_HEX)
		return -1;
	for (i = 0; i < f.n; i++)
		if (sm__hexval(f.p[i]) < 0)
			return -1;
	memcpy(out, f.p, f.n);
	out[f.n] = '\0';
	return 0;
}

/* Lower-case hex of at most SM_PWD_MAX bytes, none of them NUL. */
static int
sm__pwd(struct sm_field f, char *out)
{
	size_t i;

	if (f.n % 2 != 0 || f.n / 2 > SM_PWD_MAX)
		return -1;
	for (i = 0; i < f.n; i += 2) {
		int hi = sm__hexval(f.p[i]), lo = sm__hexval(f.p[i + 1]);

		if (hi < 0 || lo < 0 || (hi | lo) == 0)
			return -1;
		out[i / 2] = (char)(hi << 4 | lo);
	}
	out[f.n / 2] = '\0';
	return 0;
}

static int
sm__hello(const struct sm_field *f, struct sm_marker *m)
{
	uint64_t v;

	if (sm__dec(f[0], 9999, &v) != 0 || v == 0)
		return -1;
	m->version = (int)v;
	return 0;
}

static int
sm__prompt(const struct sm_field *f, struct sm_marker *m)
{
	uint64_t st;

	if (sm__nonce(f[0], m->nonce) != 0 || sm__dec(f[1], UINT64_MAX, &m->seq) != 0 ||
	    sm__dec(f[2], 255, &st) != 0 || sm__pwd(f[3], m->pwd) != 0)
		return -1;
	m->status = (int)st;
	return 0;
}

static int
sm__discard(const struct sm_field *f, struct sm_marker *m)
{
	if (sm__nonce(f[0], m->nonce) != 0 || sm__dec(f[1], UINT64_MAX, &m->seq) != 0 ||
	    sm__dec(f[2], UINT64_MAX, &m->nbytes) != 0)
		return -1;
	return 0;
}

#define SM_FIELDS_MAX 4

static const struct sm_kind_entry {
	char tag;
	size_t nfields;
	enum sm_kind kind;
	int (*parse)(const struct sm_field *, struct sm_marker *);
} sm_kinds[] = {
	{ 'h', 1, SM_HELLO, sm__hello },
	{ 'p', 4, SM_PROMPT, sm__prompt },
	{ 'd', 3, SM_DISCARD, sm__discard },
};

/* Parses "TAG;FIELD;..." (the bytes between the prefix and BEL) into m. */
static void
sm__parse(const char *body, size_t n, struct sm_marker *m)
{
	struct sm_field f[SM_FIELDS_MAX + 1];
	const struct sm_kind_entry *e = NULL;
	size_t i, nf = 0, start;

	memset(m, 0, sizeof(*m));
	m->kind = SM_BAD;
	if (n < 2 || body[1] != ';')
		return;
	for (i = 0; i < sizeof(sm_kinds) / sizeof(sm_kinds[0]); i++)
		if (sm_kinds[i].tag == body[0])
			e = &sm_kinds[i];
	if (e == NULL)
		return;
	for (i = start = 2; i <= n; i++) {
		if (i < n && body[i] != ';')
			continue;
		if (nf == SM_FIELDS_MAX + 1)
			return;
		f[nf].p = body + start;
		f[nf].n = i - start;
		nf++;
		start = i + 1;
	}
	if (nf != e->nfields)
		return;
	if (e->parse(f, m) != 0) {
		memset(m, 0, sizeof(*m));
		m->kind = SM_BAD;
		return;
	}
	m->kind = e->kind;
}

/* Bytes that may appear between the prefix and BEL. */
static int
sm__body_byte(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == ';';
}

static void
sm__report(struct sm_marker *m, enum sm_kind kind)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
}

long
px__sm_feed(struct sm *s, const uint8_t *d, size_t n, struct buf *out, struct sm_marker *m)
{
	size_t i = 0;
	int leak;

	m->kind = SM_NONE;
	while (i < n) {
		uint8_t c = d[i];

		if (s->hlen == 0) {
			const uint8_t *e = memchr(d + i, SM_ESC, n - i);
			size_t run = e != NULL ? (size_t)(e - (d + i)) : n - i, took;

			if (run == 0) {
				s->hold[s->hlen++] = SM_ESC;
				i++;
				continue;
			}
			took = sm__pass(s, out, d + i, run, &leak);
			if (took == 0)
				return i > 0 ? (long)i : -1;
			i += took;
			if (leak) {
				sm__report(m, SM_LEAK);
				return (long)i;
			}
			continue;
		}
		if (s->hlen < SM_PREFIX_LEN) {
			if (c == (uint8_t)SB_MARK_PREFIX[s->hlen]) {
				s->hold[s->hlen++] = c;
				i++;
				continue;
			}
			/* Not ours: the held bytes (fewer than the prefix)
			 * are output all at once; c is looked at again (it may
			 * start another sequence). */
			if (buf_room(out) < s->hlen ||
			    sm__pass(s, out, s->hold, s->hlen, &leak) != s->hlen)
				return i > 0 ? (long)i : -1;
			s->hlen = 0;
			if (leak) {
				sm__report(m, SM_LEAK);
				return (long)i;
			}
			continue;
		}
		if (c == SM_BEL) {
			sm__parse((const char *)s->hold + SM_PREFIX_LEN,
			    s->hlen - SM_PREFIX_LEN, m);
			s->hlen = 0;
			return (long)(i + 1);
		}
		if (!sm__body_byte(c) || s->hlen + 1 >= SM_MARK_MAX) {
			/* Malformed or too long: removed, reported.  An ESC
			 * starts the next sequence. */
			s->hlen = 0;
			sm__report(m, SM_BAD);
			if (c == SM_ESC)
				s->hold[s->hlen++] = SM_ESC;
			return (long)(i + 1);
		}
		s->hold[s->hlen++] = c;
		i++;
	}
	return (long)i;
}
