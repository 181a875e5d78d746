/* Unit tests for recorder/receipt: a receipt from CLOSED's fields becomes
 * one line and back, and lines that are not receipts are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "recorder/rec_error.h"
#include "recorder/receipt.h"

/* CLOSED's seal field: index 7, wall 1700000000123456789, offset 4096,
 * key id 0x11.., signature 0x22.. */
static void
seal_field(uint8_t *p)
{
	static const uint8_t fixed[20] = { 0, 0, 0, 7,
	    0x17, 0x97, 0x02, 0x10, 0x0f, 0xe1, 0xa3, 0x15, 0, 0, 0, 0, 0, 0,
	    0x10, 0x00 };

	memcpy(p, fixed, 20);
	memset(p + 20, 0x11, SEAL_KEYID_LEN);
	memset(p + 20 + SEAL_KEYID_LEN, 0x22, SEAL_SIG_LEN);
}

static void
test_roundtrip(void **state)
{
	uint8_t head[SEAL_HASH_LEN], seal[116];
	struct seal_receipt rc, back;
	char line[RECEIPT_LINE_MAX];

	(void)state;
	memset(head, 0xab, sizeof(head));
	seal_field(seal);
	assert_int_equal(receipt_from_closed("20261205-x_1", 12, 42, head, seal,
	    sizeof(seal), &rc), REC_OK);
	assert_int_equal(rc.cp.kind, SEAL_FINAL);
	assert_int_equal(rc.cp.seg_index, 7);
	assert_int_equal(rc.cp.offset, 4096);
	receipt_format(&rc, line, sizeof(line));
	assert_true(strncmp(line, "escort-receipt v1 20261205-x_1 42 abab", 38)
	    == 0);
	assert_int_equal(receipt_parse(line, &back), REC_OK);
	assert_string_equal(back.cp.id, "20261205-x_1");
	assert_int_equal(back.cp.last_seq, 42);
	assert_int_equal(back.cp.seg_index, 7);
	assert_int_equal(back.cp.wall_ns, rc.cp.wall_ns);
	assert_int_equal(back.cp.offset, 4096);
	assert_memory_equal(back.cp.head, head, SEAL_HASH_LEN);
	assert_memory_equal(back.sig, rc.sig, SEAL_SIG_LEN);
	strcat(line, "\n");
	assert_int_equal(receipt_parse(line, &back), REC_OK);
	/* a seal field of another length is not a receipt */
	assert_int_equal(receipt_from_closed("a", 1, 1, head, seal, 115, &rc),
	    REC_EFORMAT);
}

static void
test_bad_lines(void **state)
{
	uint8_t head[SEAL_HASH_LEN], seal[116];
	struct seal_receipt rc;
	char good[RECEIPT_LINE_MAX], bad[RECEIPT_LINE_MAX + 8];
	/* each: a word to replace (index) and its replacement */
	static const struct { int word; const char *with; } t[] = {
		{ 0, "escort-head" }, { 1, "v2" }, { 2, "../etc" }, { 2, ".x" },
		{ 3, "-1" }, { 3, "12x" }, { 4, "AB" }, { 5, "4294967296" },
		{ 6, "" }, { 7, "0x10" }, { 8, "short" },
	};

	(void)state;
	memset(head, 1, sizeof(head));
	seal_field(seal);
	receipt_from_closed("s1", 2, 5, head, seal, sizeof(seal), &rc);
	receipt_format(&rc, good, sizeof(good));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char copy[RECEIPT_LINE_MAX], *w[9], *save = NULL;
		int k = 0;

		snprintf(copy, sizeof(copy), "%s", good);
		for (char *p = strtok_r(copy, " ", &save); p != NULL && k < 9;
		    p = strtok_r(NULL, " ", &save))
			w[k++] = p;
		assert_int_equal(k, 9);
		w[t[i].word] = (char *)t[i].with;
		snprintf(bad, sizeof(bad), "%s %s %s %s %s %s %s %s %s", w[0],
		    w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]);
		if (receipt_parse(bad, &rc) != REC_EFORMAT)
			fail_msg("accepted: %s", bad);
	}
	snprintf(bad, sizeof(bad), "%s extra", good);
	assert_int_equal(receipt_parse(bad, &rc), REC_EFORMAT);
	assert_int_equal(receipt_parse("", &rc), REC_EFORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
