/* evidence_proof.c: Merkle inclusion proofs (RFC 9162 2.1.3) for the
 * journal entries an evidence bundle carries (evidence.h).  The tree is
 * kept level by level: level i+1 pairs the nodes of level i, and a last
 * node without a pair is carried up as it is; that is the tree of
 * RFC 9162 2.1.1 (its left subtrees are the largest powers of two), so
 * the root is merkle.h's MTH and the path is PATH(m, D[0:n]). */
#include <stdlib.h>
#include <string.h>

#include "recorder/seal.h"
#include "replay/evidence.h"

/* out = SHA-256(0x01 || l || r). */
static void
evidence_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
	uint8_t b[65];

	b[0] = 0x01;
	memcpy(b + 1, l, 32);
	memcpy(b + 33, r, 32);
	seal_sha256(b, sizeof(b), out);
}

int
evidence_tree_build(struct evidence_tree *t, const uint8_t (*leaves)[32],
    uint64_t n)
{
	uint64_t i, m;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return -1;
	t->lv[0] = (uint8_t (*)[32])(uintptr_t)leaves;
	t->len[0] = n;
	t->nlv = 1;
	while (t->len[t->nlv - 1] > 1) {
		const uint8_t (*below)[32] = t->lv[t->nlv - 1];

		m = (t->len[t->nlv - 1] + 1) / 2;
		if ((t->lv[t->nlv] = malloc(m * 32)) == NULL) {
			evidence_tree_free(t);
			return -1;
		}
		for (i = 0; i < m; i++) {
			if (2 * i + 1 < t->len[t->nlv - 1])
				evidence_node(below[2 * i], below[2 * i + 1],
				    t->lv[t->nlv][i]);
			else
				memcpy(t->lv[t->nlv][i], below[2 * i], 32);
		}
		t->len[t->nlv] = m;
		t->nlv++;
	}
	return 0;
}

void
evidence_tree_free(struct evidence_tree *t)
{
	for (int i = 1; i < t->nlv; i++)
		free(t->lv[i]);
	memset(t, 0, sizeof(*t));
}

void
evidence_tree_root(const struct evidence_tree *t, uint8_t out[32])
{
	memcpy(out, t->lv[t->nlv - 1][0], 32);
}

size_t
evidence_tree_path(const struct evidence_tree *t, uint64_t m,
    uint8_t path[64][32])
{
	size_t np = 0;

	for (int i = 0; i + 1 < t->nlv; i++, m >>= 1) {
		uint64_t sib = m ^ 1;

		if (sib < t->len[i])
			memcpy(path[np++], t->lv[i][sib], 32);
		/* else: carried up, no sibling at this level */
	}
	return np;
}
