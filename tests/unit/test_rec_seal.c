/* Unit tests: hash chain, Ed25519 signing and receipts, segment framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/rec_fixture.h"
#include "recorder/segment.h"

static void
test_chain(void **state)
{
	uint8_t a[SEAL_HASH_LEN], b[SEAL_HASH_LEN], c[SEAL_HASH_LEN];

	(void)state;
	seal_chain_init(a, "s1", 2);
	seal_chain_init(b, "s2", 2);
	assert_memory_not_equal(a, b, SEAL_HASH_LEN);
	memcpy(c, a, SEAL_HASH_LEN);
	seal_chain_step(a, "one", 3);
	seal_chain_step(a, "two", 3);
	seal_chain_step(c, "two", 3);
	seal_chain_step(c, "one", 3);
	assert_memory_not_equal(a, c, SEAL_HASH_LEN);	/* order matters */
}

static void
test_receipt(void **state)
{
	struct fx *x = fx_new();
	struct seal_receipt rc;
	struct seal_verifier *other, *self;
	struct buf m;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	rc.cp.kind = SEAL_FINAL;
	snprintf(rc.cp.id, sizeof(rc.cp.id), "abc");
	rc.cp.seg_index = 7;
	rc.cp.last_seq = 99;
	rc.cp.wall_ns = 1234;
	rc.cp.offset = 5678;
	memcpy(rc.keyid, rec__seal_signer_keyid(x->signer), SEAL_KEYID_LEN);
	buf_init(&m, 0);
	assert_int_equal(seal_checkpoint_message(&rc.cp, &m), REC_OK);
	assert_int_equal(seal_sign(x->signer, buf_ptr(&m), buf_len(&m), rc.sig), REC_OK);
	assert_int_equal(seal_receipt_verify(x->verifier, &rc), REC_OK);
	assert_int_equal(rec__seal_signer_verifier(x->signer, &self), REC_OK);
	assert_int_equal(seal_receipt_verify(self, &rc), REC_OK);
	seal_verifier_free(self);
	/* Any field changed: the signature no longer verifies. */
	rc.cp.last_seq++;
	assert_int_equal(seal_receipt_verify(x->verifier, &rc), REC_ESIG);
	rc.cp.last_seq--;
	rc.cp.id[0] = 'x';
	assert_int_equal(seal_receipt_verify(x->verifier, &rc), REC_ESIG);
	rc.cp.id[0] = 'a';
	/* Another key: refused by key id before any signature check. */
	assert_int_equal(seal_verifier_load(x->otherpub, &other), REC_OK);
	assert_int_equal(seal_receipt_verify(other, &rc), REC_EKEY);
	seal_verifier_free(other);
	/* A public key is not a signing key; a private key verifies too. */
	assert_int_equal(seal_signer_load(x->pub, &(struct seal_signer *){ NULL }), REC_EKEY);
	assert_int_equal(seal_verifier_load(x->key, &other), REC_OK);
	assert_int_equal(seal_receipt_verify(other, &rc), REC_OK);
	seal_verifier_free(other);
	buf_free(&m);
	fx_free(x);
}

static void
test_segment_framing(void **state)
{
	struct buf b;
	struct seg s;
	size_t used, i;
	uint8_t *p;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(rec__seg_encode(&b, SEG_DATA, 0, 3, "payload", 7), REC_OK);
	assert_int_equal(buf_len(&b), SEG_HDR_LEN + 7);
	assert_int_equal(seg_decode(buf_ptr(&b), buf_len(&b), &s, &used), REC_OK);
	assert_int_equal(s.index, 3);
	assert_int_equal(s.len, 7);
	assert_memory_equal(s.payload, "payload", 7);
	for (i = 0; i < buf_len(&b); i++)
		assert_int_equal(seg_decode(buf_ptr(&b), i, &s, &used), REC_ETRUNC);
	p = buf_mutable_ptr(&b);
	for (i = 0; i < buf_len(&b); i++) {
		p[i] ^= 0x10;
		assert_int_not_equal(seg_decode(buf_ptr(&b), buf_len(&b), &s, &used), REC_OK);
		p[i] ^= 0x10;
	}
	p[4] = 2;	/* a later version */
	assert_int_equal(seg_decode(buf_ptr(&b), buf_len(&b), &s, &used), REC_EVERSION);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_receipt),
		cmocka_unit_test(test_segment_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
