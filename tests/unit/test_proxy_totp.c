/* Unit tests for proxy/totp: the RFC 6238 Appendix B vectors (SHA1, SHA256,
 * SHA512, 8 digits), secrets as base32 and otpauth URIs, the +-1 window,
 * and replay refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proxy/px_error.h"
#include "proxy/totp.h"

static void
key_ascii(struct px_totp_key *k, const char *secret, enum px_totp_alg alg)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->key, secret, strlen(secret));
	k->keylen = strlen(secret);
	k->alg = alg;
	k->digits = 8;
	k->period = 30;
}

/* RFC 6238, Appendix B: time, algorithm, code. */
static void
test_rfc6238_vectors(void **state)
{
	static const struct { uint64_t t; enum px_totp_alg alg; const char *code; } v[] = {
		{ 59, PX_TOTP_SHA1, "94287082" }, { 59, PX_TOTP_SHA256, "46119246" },
		{ 59, PX_TOTP_SHA512, "90693936" }, { 1111111109, PX_TOTP_SHA1, "07081804" },
		{ 1111111111, PX_TOTP_SHA256, "67062674" }, { 1234567890, PX_TOTP_SHA512, "93441116" },
		{ 2000000000, PX_TOTP_SHA1, "69279037" }, { 20000000000ull, PX_TOTP_SHA256, "77737706" },
	};
	struct px_totp_key k;
	char out[9];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		key_ascii(&k, v[i].alg == PX_TOTP_SHA1 ? "12345678901234567890" :
		    v[i].alg == PX_TOTP_SHA256 ? "12345678901234567890123456789012" :
		    "1234567890123456789012345678901234567890123456789012345678901234", v[i].alg);
		assert_int_equal(px__totp_code(&k, v[i].t / 30, out), PX_OK);
		assert_string_equal(out, v[i].code);
	}
}

static void
test_parse(void **state)
{
	struct px_totp_key k;
	char why[160];

	(void)state;
	/* base32 of "12345678901234567890", lower case with padding and spaces */
	assert_int_equal(px__totp_parse("gezd gnbv gy3t qojq gezd gnbv gy3t qojq====", &k, why, sizeof(why)), PX_OK);
	assert_int_equal(k.keylen, 20);
	assert_memory_equal(k.key, "12345678901234567890", 20);
	assert_int_equal(k.digits, 6);
	assert_int_equal(k.period, 30);
	assert_int_equal(px__totp_parse("otpauth://totp/Escort:alice?issuer=Escort&algorithm=SHA256&digits=8"
	    "&period=60&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", &k, why, sizeof(why)), PX_OK);
	assert_int_equal(k.alg, PX_TOTP_SHA256);
	assert_int_equal(k.digits, 8);
	assert_int_equal(k.period, 60);
	assert_int_equal(px__totp_parse("GEZDGNBV1", &k, why, sizeof(why)), PX_EINVAL);
	assert_non_null(strstr(why, "'1' is not a base32 character"));
	assert_int_equal(px__totp_parse("GEZDGNBV", &k, why, sizeof(why)), PX_EINVAL);	/* 40 bits */
	assert_int_equal(px__totp_parse("otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQ", &k, why, sizeof(why)),
	    PX_EINVAL);
	assert_int_equal(px__totp_parse("otpauth://totp/x?issuer=y", &k, why, sizeof(why)), PX_EINVAL);
	assert_int_equal(px__totp_parse("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&digits=9", &k, why,
	    sizeof(why)), PX_EINVAL);
	assert_int_equal(px__totp_parse("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&algorithm=MD5", &k, why,
	    sizeof(why)), PX_EINVAL);
}

/* now's step and one either side are accepted, two away and malformed
 * answers are not. */
static void
test_window(void **state)
{
	struct px_totp_key k;
	char c[9];
	uint64_t step = 0;
	const time_t now = 1111111111;	/* step 37037037 */

	(void)state;
	key_ascii(&k, "12345678901234567890", PX_TOTP_SHA1);
	k.digits = 6;
	for (int d = -2; d <= 2; d++) {
		assert_int_equal(px__totp_code(&k, 37037037 + d, c), PX_OK);
		assert_int_equal(px__totp_verify(&k, c, now, &step), d >= -1 && d <= 1 ? PX_OK : PX_EINVAL);
		if (d >= -1 && d <= 1)
			assert_int_equal(step, 37037037 + d);
	}
	assert_int_equal(px__totp_verify(&k, "", now, &step), PX_EINVAL);
	assert_int_equal(px__totp_verify(&k, "12345", now, &step), PX_EINVAL);
	assert_int_equal(px__totp_verify(&k, "1234567", now, &step), PX_EINVAL);
	assert_int_equal(px__totp_verify(&k, "12a456", now, &step), PX_EINVAL);
	assert_int_equal(px__totp_verify(&k, NULL, now, &step), PX_EINVAL);
}

static void
test_claim(void **state)
{
	struct px_totp_used u;

	(void)state;
	px_totp_used_init(&u);
	assert_int_equal(px__totp_claim(&u, "alice", 100), PX_OK);
	assert_int_equal(px__totp_claim(&u, "alice", 100), PX_EINVAL);	/* replay */
	assert_int_equal(px__totp_claim(&u, "alice", 99), PX_EINVAL);	/* older */
	assert_int_equal(px__totp_claim(&u, "bob", 100), PX_OK);		/* per user */
	assert_int_equal(px__totp_claim(&u, "alice", 101), PX_OK);
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof(name), "u%d", i);
		assert_int_equal(px__totp_claim(&u, name, 5), PX_OK);
	}
	assert_int_equal(px__totp_claim(&u, "u39", 5), PX_EINVAL);
	px_totp_used_free(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_claim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
