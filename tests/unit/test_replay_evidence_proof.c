/* Unit tests: evidence_proof (replay/evidence.h), the Merkle inclusion
 * proofs of an evidence bundle: for every tree size from 1 to 70 and every
 * leaf, the root is merkle.h's MTH and the path verifies with the
 * algorithm of RFC 9162 2.1.3.2 (the one the bundle's verify.py runs);
 * a path with one bit changed, for another leaf or for another size does
 * not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recorder/merkle.h"
#include "recorder/seal.h"
#include "replay/evidence.h"

#define NMAX 70

/* RFC 9162 2.1.3.2. */
static int
verify_path(uint64_t index, uint64_t size, const uint8_t leaf[32],
    uint8_t path[][32], size_t np, const uint8_t root[32])
{
	uint64_t fn = index, sn = size - 1;
	uint8_t r[32], b[65];

	if (index >= size)
		return 0;
	memcpy(r, leaf, 32);
	for (size_t i = 0; i < np; i++) {
		if (sn == 0)
			return 0;
		b[0] = 0x01;
		if ((fn & 1) || fn == sn) {
			memcpy(b + 1, path[i], 32);
			memcpy(b + 33, r, 32);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			memcpy(b + 1, r, 32);
			memcpy(b + 33, path[i], 32);
		}
		seal_sha256(b, sizeof(b), r);
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, 32) == 0;
}

static void
test_every_size_and_leaf(void **state)
{
	uint8_t leaves[NMAX][32], root[32], mth[32], path[64][32];
	struct evidence_tree t;
	size_t np;

	(void)state;
	for (int i = 0; i < NMAX; i++) {
		uint8_t entry[8] = { 'e', 'n', 't', 'r', 'y', (uint8_t)i, 0, 1 };

		merkle_leaf(entry, sizeof(entry), leaves[i]);
	}
	for (uint64_t n = 1; n <= NMAX; n++) {
		assert_int_equal(evidence_tree_build(&t,
		    (const uint8_t (*)[32])leaves, n), 0);
		evidence_tree_root(&t, root);
		merkle_root((const uint8_t (*)[MERKLE_HASH_LEN])leaves, n, mth);
		assert_memory_equal(root, mth, 32);
		for (uint64_t m = 0; m < n; m++) {
			np = evidence_tree_path(&t, m, path);
			assert_true(verify_path(m, n, leaves[m], path, np, root));
			if (m + 1 < n)	/* the same path for a smaller tree */
				assert_false(verify_path(m, m + 1, leaves[m], path,
				    np, root));
			if (n > 1) {
				assert_false(verify_path((m + 1) % n, n, leaves[m],
				    path, np, root));
				assert_false(verify_path(m, n, leaves[(m + 1) % n],
				    path, np, root));
				path[np / 2][7] ^= 0x10;
				assert_false(verify_path(m, n, leaves[m], path, np,
				    root));
			}
		}
		evidence_tree_free(&t);
	}
}

static void
test_empty_is_refused(void **state)
{
	struct evidence_tree t;
	uint8_t leaf[1][32] = { { 0 } };

	(void)state;
	assert_int_equal(evidence_tree_build(&t, (const uint8_t (*)[32])leaf, 0),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_size_and_leaf),
		cmocka_unit_test(test_empty_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
