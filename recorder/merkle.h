/*
 * merkle.h: the Merkle tree of the journal, as Certificate Transparency
 * defines it (RFC 9162 section 2.1), over SHA-256:
 *
 *   MTH({})      = SHA-256("")
 *   leaf hash    = SHA-256(0x00 || entry bytes)
 *   MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the
 *                  largest power of two smaller than n
 *
 * The entry bytes of journal entry i are its whole segment (header and
 * payload) as stored in STORE/journal.esj.  Functions work on an array of
 * leaf hashes owned by the caller; nothing here allocates except
 * merkle_consistency (its proof array, which the caller frees).
 */
#ifndef ESCORT_MERKLE_H
#define ESCORT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32

/* out = SHA-256(0x00 || p[0..n)). */
void merkle_leaf(const void *p, size_t n, uint8_t out[MERKLE_HASH_LEN]);

/* out = MTH of leaves[0..n) (n may be 0). */
void merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n,
    uint8_t out[MERKLE_HASH_LEN]);

/*
 * The consistency proof PROOF(m, D[0:n]) of RFC 9162 2.1.4.1 for
 * 0 < m <= n: *proof (malloc'd, *nproof hashes, caller frees; NULL when
 * empty).  Returns 0, or -1 (bad sizes, out of memory).
 */
int merkle_consistency(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t m,
    uint64_t n, uint8_t (**proof)[MERKLE_HASH_LEN], size_t *nproof);

/*
 * Checks a consistency proof between the tree of size m with root
 * old_root and the tree of size n with root new_root (RFC 9162 2.1.4.2).
 * Returns 1 when it proves that the first tree is a prefix of the second,
 * else 0.
 */
int rec__merkle_consistency_verify(uint64_t m, const uint8_t old_root[MERKLE_HASH_LEN],
    uint64_t n, const uint8_t new_root[MERKLE_HASH_LEN],
    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t nproof);



/*
 * The right edge of a growing tree: the roots of its perfect subtrees,
 * enough to compute MTH after each append in O(log n) without keeping the
 * leaves.
 */
struct merkle_frontier {
	uint8_t h[64][MERKLE_HASH_LEN];
	uint64_t size[64];
	int top;
	uint64_t n;		/* leaves added */
};

void rec__merkle_frontier_init(struct merkle_frontier *f);
void rec__merkle_frontier_add(struct merkle_frontier *f,
    const uint8_t leaf[MERKLE_HASH_LEN]);
void rec__merkle_frontier_root(const struct merkle_frontier *f,
    uint8_t out[MERKLE_HASH_LEN]);

#endif
