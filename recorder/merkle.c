/* merkle.c: RFC 9162 Merkle tree hashes and consistency proofs (see
 * merkle.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "recorder/merkle.h"

void
merkle_leaf(const void *p, size_t n, uint8_t out[MERKLE_HASH_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t z = 0;

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, &z, 1) != 1 || EVP_DigestUpdate(c, p, n) != 1 ||
	    EVP_DigestFinal_ex(c, out, NULL) != 1)
		abort();	/* SHA-256 does not fail but for lack of memory */
	EVP_MD_CTX_free(c);
}

static void
merkle_node(const uint8_t l[MERKLE_HASH_LEN], const uint8_t r[MERKLE_HASH_LEN],
    uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t b[1 + 2 * MERKLE_HASH_LEN];

	b[0] = 1;
	memcpy(b + 1, l, MERKLE_HASH_LEN);
	memcpy(b + 1 + MERKLE_HASH_LEN, r, MERKLE_HASH_LEN);
	SHA256(b, sizeof(b), out);
}

/* Largest power of two smaller than n (n >= 2). */
static uint64_t
merkle_split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

void
merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n,
    uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t stack[64][MERKLE_HASH_LEN];
	uint64_t i, sizes[64];
	int top = 0;

	if (n == 0) {
		SHA256((const uint8_t *)"", 0, out);
		return;
	}
	/* Left to right with a stack of perfect subtrees, merged when two of
	 * the same size meet; the ragged right edge is folded at the end. */
	for (i = 0; i < n; i++) {
		memcpy(stack[top], leaves[i], MERKLE_HASH_LEN);
		sizes[top++] = 1;
		while (top >= 2 && sizes[top - 1] == sizes[top - 2]) {
			merkle_node(stack[top - 2], stack[top - 1], stack[top - 2]);
			sizes[top - 2] *= 2;
			top--;
		}
	}
	while (top >= 2) {
		merkle_node(stack[top - 2], stack[top - 1], stack[top - 2]);
		top--;
	}
	memcpy(out, stack[0], MERKLE_HASH_LEN);
}

struct merkle_proof {
	uint8_t (*h)[MERKLE_HASH_LEN];
	size_t n, cap;
	int failed;
};

static void
merkle_proof_add(struct merkle_proof *p, const uint8_t h[MERKLE_HASH_LEN])
{
	void *nh;

	if (p->failed)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		if ((nh = realloc(p->h, p->cap * MERKLE_HASH_LEN)) == NULL) {
			p->failed = 1;
			return;
		}
		p->h = nh;
	}
	memcpy(p->h[p->n++], h, MERKLE_HASH_LEN);
}

/* SUBPROOF(m, D[0:n], b) of RFC 9162 2.1.4.1 over leaves[0..n). */
static void
merkle_subproof(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t m,
    uint64_t n, int b, struct merkle_proof *p)
{
	uint8_t h[MERKLE_HASH_LEN];
	uint64_t k;

	if (m == n) {
		if (!b) {
			merkle_root(leaves, n, h);
			merkle_proof_add(p, h);
		}
		return;
	}
	k = merkle_split(n);
	if (m <= k) {
		merkle_subproof(leaves, m, k, b, p);
		merkle_root(leaves + k, n - k, h);
		merkle_proof_add(p, h);
	} else {
		merkle_subproof(leaves + k, m - k, n - k, 0, p);
		merkle_root(leaves, k, h);
		merkle_proof_add(p, h);
	}
}

int
merkle_consistency(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t m,
    uint64_t n, uint8_t (**proof)[MERKLE_HASH_LEN], size_t *nproof)
{
	struct merkle_proof p = { NULL, 0, 0, 0 };

	*proof = NULL;
	*nproof = 0;
	if (m == 0 || m > n)
		return -1;
	merkle_subproof(leaves, m, n, 1, &p);
	if (p.failed) {
		free(p.h);
		return -1;
	}
	*proof = p.h;
	*nproof = p.n;
	return 0;
}

int
rec__merkle_consistency_verify(uint64_t m, const uint8_t old_root[MERKLE_HASH_LEN],
    uint64_t n, const uint8_t new_root[MERKLE_HASH_LEN],
    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t nproof)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;

	if (m == 0 || m > n)
		return 0;
	if (m == n)
		return nproof == 0 && memcmp(old_root, new_root,
		    MERKLE_HASH_LEN) == 0;
	/* RFC 9162 2.1.4.2. */
	if ((m & (m - 1)) == 0) {	/* m a power of two: old_root first */
		memcpy(fr, old_root, MERKLE_HASH_LEN);
	} else {
		if (nproof == 0)
			return 0;
		memcpy(fr, proof[0], MERKLE_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < nproof; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			merkle_node(proof[i], fr, fr);
			merkle_node(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, old_root, MERKLE_HASH_LEN) == 0 &&
	    memcmp(sr, new_root, MERKLE_HASH_LEN) == 0;
}

void
rec__merkle_frontier_init(struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

void
rec__merkle_frontier_add(struct merkle_frontier *f, const uint8_t leaf[MERKLE_HASH_LEN])
{
	memcpy(f->h[f->top], leaf, MERKLE_HASH_LEN);
	f->size[f->top++] = 1;
	while (f->top >= 2 && f->size[f->top - 1] == f->size[f->top - 2]) {
		merkle_node(f->h[f->top - 2], f->h[f->top - 1], f->h[f->top - 2]);
		f->size[f->top - 2] *= 2;
		f->top--;
	}
	f->n++;
}

void
rec__merkle_frontier_root(const struct merkle_frontier *f, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t acc[MERKLE_HASH_LEN];
	int i;

	if (f->top == 0) {
		SHA256((const uint8_t *)"", 0, out);
		return;
	}
	memcpy(acc, f->h[f->top - 1], MERKLE_HASH_LEN);
	for (i = f->top - 2; i >= 0; i--)
		merkle_node(f->h[i], acc, acc);
	memcpy(out, acc, MERKLE_HASH_LEN);
}
