/*
 * Fuzzer: the strict-mode marker scanner (proxy/strict_marker).
 *
 * Input: one settings byte, then the target's output.  Bit 0 sets the
 * nonce 0123456789abcdef0123456789abcdef; bits 1-7 seed the chunk sizes
 * (1 to 64 bytes, from a small generator).  Bytes fed whole and bytes fed in
 * chunks must give the same output and the same markers; every call makes
 * progress; the scanner never holds SM_MARK_MAX bytes; no more bytes come
 * out than went in; a reported marker's fields are in range; a leak is
 * reported right after the nonce ended the output.  With bit 0 the chunked
 * run also writes to a small output buffer (64 bytes, drained when full):
 * -1 must lose nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proxy/strict_marker.h"

#define FUZZ_NONCE "0123456789abcdef0123456789abcdef"
#define FUZZ_MARKS 4096

struct fuzz_run {
	struct buf out;
	enum sm_kind kinds[FUZZ_MARKS];
	uint64_t seqs[FUZZ_MARKS];
	size_t nm;
};

/* A leak is reported just after the nonce (in either case) ended the
 * output so far. */
static void
fuzz_check_leak(const struct buf *out)
{
	const uint8_t *p = buf_ptr(out);
	size_t n = buf_len(out);

	if (n < 32)
		abort();
	for (size_t i = 0; i < 32; i++) {
		uint8_t c = p[n - 32 + i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + ('a' - 'A'));
		if (c != (uint8_t)FUZZ_NONCE[i])
			abort();
	}
}

static void
fuzz_check_marker(const struct sm_marker *m)
{
	switch (m->kind) {
	case SM_PROMPT:
		if (strlen(m->nonce) != 32 || m->status < 0 || m->status > 255 ||
		    strlen(m->pwd) > 1024)
			abort();
		break;
	case SM_DISCARD:
		if (strlen(m->nonce) != 32)
			abort();
		break;
	case SM_HELLO:
		if (m->version < 1)
			abort();
		break;
	default:
		break;
	}
}

/* Feeds d in chunks (sizes from seed; 0: whole) into a fresh scanner;
 * outcap 0 means an unlimited output buffer. */
static void
fuzz_feed(const uint8_t *d, size_t n, int nonce, unsigned seed, size_t outcap,
    struct fuzz_run *r)
{
	struct sm *s = px__sm_new();
	struct buf small;
	size_t i = 0;
	unsigned x = seed * 2654435761u + 1;
	int stalls = 0;

	if (s == NULL)
		abort();
	if (nonce)
		px__sm_set_nonce(s, FUZZ_NONCE);
	buf_init(&r->out, 0);
	buf_init(&small, outcap);
	r->nm = 0;
	while (i < n) {
		struct sm_marker m;
		size_t len = n - i;
		struct buf *o = outcap ? &small : &r->out;
		long k;

		if (seed != 0) {
			x = x * 1103515245u + 12345u;
			len = 1 + (x >> 16) % 64;
			if (len > n - i)
				len = n - i;
		}
		k = px__sm_feed(s, d + i, len, o, &m);
		if (k < 0) {
			if (!outcap || ++stalls > 1000000)
				abort();
			(void)buf_put(&r->out, buf_ptr(&small), buf_len(&small));
			buf_reset(&small);
			continue;
		}
		if (k == 0 || (size_t)k > len)
			abort();
		if (px__sm_held(s) >= SM_MARK_MAX)
			abort();
		i += (size_t)k;
		if (m.kind != SM_NONE) {
			fuzz_check_marker(&m);
			if (m.kind == SM_LEAK && !outcap)
				fuzz_check_leak(&r->out);
			if (r->nm < FUZZ_MARKS) {
				r->kinds[r->nm] = m.kind;
				r->seqs[r->nm] = m.kind == SM_PROMPT || m.kind == SM_DISCARD ? m.seq : 0;
			}
			r->nm++;
		}
	}
	if (outcap)
		(void)buf_put(&r->out, buf_ptr(&small), buf_len(&small));
	if (buf_len(&r->out) + px__sm_held(s) > n)
		abort();
	buf_free(&small);
	px__sm_free(s);
}

static struct fuzz_run fuzz_a, fuzz_b;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int nonce;
	unsigned seed;

	if (size < 1)
		return 0;
	nonce = data[0] & 1;
	seed = (data[0] >> 1) | 1;
	fuzz_feed(data + 1, size - 1, nonce, 0, 0, &fuzz_a);
	fuzz_feed(data + 1, size - 1, nonce, seed, nonce ? 64 : 0, &fuzz_b);
	if (buf_len(&fuzz_a.out) != buf_len(&fuzz_b.out) ||
	    (buf_len(&fuzz_a.out) > 0 &&
	    memcmp(buf_ptr(&fuzz_a.out), buf_ptr(&fuzz_b.out), buf_len(&fuzz_a.out)) != 0))
		abort();
	if (fuzz_a.nm != fuzz_b.nm)
		abort();
	for (size_t i = 0; i < fuzz_a.nm && i < FUZZ_MARKS; i++)
		if (fuzz_a.kinds[i] != fuzz_b.kinds[i] || fuzz_a.seqs[i] != fuzz_b.seqs[i])
			abort();
	buf_free(&fuzz_a.out);
	buf_free(&fuzz_b.out);
	return 0;
}
