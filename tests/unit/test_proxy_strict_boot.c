/* Unit tests for proxy/strict_boot: the exact bytes of the lines the proxy
 * sends to the strict-mode loop, their limits, the nonce's format and the
 * parts of the exec command that other checks rely on.  (The loop itself
 * runs under a real bash in tests/integration/test_strict_boot_loop.py.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "proxy/strict_boot.h"

static const char N[] = "0123456789abcdef0123456789abcdef";

static void
assert_buf(struct buf *b, const char *want, size_t n)
{
	assert_int_equal(buf_len(b), n);
	assert_memory_equal(buf_ptr(b), want, n);
}

/* Ctrl-U NONCE LF; Ctrl-U NONCE SP SEQ SP CMD LF; Ctrl-U NONCE SP SEQ LF. */
static void
test_lines_exact(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(px__sb_nonce_line(N, &b), SB_OK);
	assert_buf(&b, "\025" "0123456789abcdef0123456789abcdef\n", 34);
	buf_reset(&b);
	assert_int_equal(px__sb_run_line(N, 1, "'ls' '-l'", 9, &b), SB_OK);
	assert_buf(&b, "\025" "0123456789abcdef0123456789abcdef 1 'ls' '-l'\n", 46);
	buf_reset(&b);
	assert_int_equal(px__sb_run_line(N, UINT64_MAX, "x", 1, &b), SB_OK);
	assert_buf(&b, "\025" "0123456789abcdef0123456789abcdef 18446744073709551615 x\n", 57);
	buf_reset(&b);
	assert_int_equal(px__sb_exit_line(N, 42, &b), SB_OK);
	assert_buf(&b, "\025" "0123456789abcdef0123456789abcdef 42\n", 37);
	/* appends */
	assert_int_equal(px__sb_exit_line(N, 43, &b), SB_OK);
	assert_int_equal(buf_len(&b), 37 + 37);
	buf_free(&b);
}

/* UTF-8 and TAB go through; every other control byte, NUL and LF are
 * refused and nothing is appended. */
static void
test_run_line_bytes(void **state)
{
	struct buf b;
	char cmd[4] = "a b";

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(px__sb_run_line(N, 1, "echo '\xc3\xa9\t'", 10, &b), SB_OK);
	assert_int_equal(buf_len(&b), 1 + 32 + 3 + 10 + 1);
	buf_reset(&b);
	for (int c = 0; c < 256; c++) {
		int want = (c < 0x20 && c != '\t') || c == 0x7f ? SB_EINVAL : SB_OK;

		cmd[1] = (char)c;
		assert_int_equal(px__sb_run_line(N, 1, cmd, 3, &b), want);
		if (want != SB_OK)
			assert_int_equal(buf_len(&b), 0);
		buf_reset(&b);
	}
	assert_int_equal(px__sb_run_line(N, 1, "a\nb", 3, &b), SB_EINVAL);
	assert_int_equal(px__sb_run_line(N, 1, "a\0b", 3, &b), SB_EINVAL);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
}

/* SB_LINE_MAX bytes fit; one more is SB_ETOOLONG. */
static void
test_run_line_limit(void **state)
{
	struct buf b;
	char *cmd = malloc(SB_LINE_MAX + 1);

	(void)state;
	assert_non_null(cmd);
	memset(cmd, 'x', SB_LINE_MAX + 1);
	buf_init(&b, 0);
	assert_int_equal(px__sb_run_line(N, 7, cmd, SB_LINE_MAX, &b), SB_OK);
	assert_int_equal(buf_len(&b), 1 + 32 + 2 + 1 + SB_LINE_MAX + 1);
	/* the whole line fits the terminal's canonical line of 4095 bytes */
	assert_true(1 + 32 + 1 + 20 + 1 + SB_LINE_MAX + 1 <= 4095);
	buf_reset(&b);
	assert_int_equal(px__sb_run_line(N, 7, cmd, SB_LINE_MAX + 1, &b), SB_ETOOLONG);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
	free(cmd);
}

/* Bad nonces and seq 0 are SB_EINVAL; a full buffer is SB_ENOMEM with
 * nothing appended. */
static void
test_bad_arguments(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(px__sb_nonce_line("0123456789ABCDEF0123456789abcdef", &b), SB_EINVAL);
	assert_int_equal(px__sb_nonce_line("0123456789abcdef0123456789abcde", &b), SB_EINVAL);
	assert_int_equal(px__sb_nonce_line("0123456789abcdef0123456789abcdef0", &b), SB_EINVAL);
	assert_int_equal(px__sb_nonce_line("0123456789abcdef 123456789abcdef", &b), SB_EINVAL);
	assert_int_equal(px__sb_nonce_line(NULL, &b), SB_EINVAL);
	assert_int_equal(px__sb_run_line(N, 0, "ls", 2, &b), SB_EINVAL);
	assert_int_equal(px__sb_exit_line(N, 0, &b), SB_EINVAL);
	assert_int_equal(px__sb_run_line("x", 1, "ls", 2, &b), SB_EINVAL);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
	buf_init(&b, 40);
	assert_int_equal(px__sb_run_line(N, 1, "echo hello", 10, &b), SB_ENOMEM);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(px__sb_nonce_line(N, &b), SB_OK);
	buf_free(&b);
}

/* 32 lower-case hex digits, different every time. */
static void
test_nonce_format(void **state)
{
	char a[SB_NONCE_HEX + 1], b[SB_NONCE_HEX + 1];

	(void)state;
	assert_int_equal(px__sb_nonce_new(a), SB_OK);
	assert_int_equal(px__sb_nonce_new(b), SB_OK);
	assert_int_equal(strlen(a), SB_NONCE_HEX);
	assert_int_equal(strspn(a, "0123456789abcdef"), SB_NONCE_HEX);
	assert_string_not_equal(a, b);
}

/* The command: env -i first (nothing of the login environment but the
 * kept names), bash without startup files, the loop as one single-quoted
 * word (no single quote inside), the pagers made safe, no BASH_ENV/ENV. */
static void
test_command_shape(void **state)
{
	char *c = px__sb_command();
	const char *loop;

	(void)state;
	assert_non_null(c);
	assert_true(strncmp(c, "exec /usr/bin/env -i ", 21) == 0);
	loop = strstr(c, " bash --noprofile --norc -c '");
	assert_non_null(loop);
	loop += strlen(" bash --noprofile --norc -c '");
	assert_ptr_equal(strchr(loop, '\''), c + strlen(c) - 6);
	assert_string_equal(c + strlen(c) - 6, "' bash");
	for (const char *v = c; v < loop; v++)
		assert_true(strncmp(v, "BASH_ENV", 8) != 0 && strncmp(v, " ENV", 4) != 0);
	assert_non_null(strstr(c, " LESSSECURE=1 "));
	assert_non_null(strstr(c, " SYSTEMD_PAGERSECURE=1 "));
	assert_non_null(strstr(c, " PAGER=less "));
	assert_non_null(strstr(c, " ${HOME+\"HOME=$HOME\"} "));
	assert_non_null(strstr(c, " ${LC_CTYPE+\"LC_CTYPE=$LC_CTYPE\"} "));
	assert_null(strstr(c, "LESS=-"));
	/* the markers of strict_boot.h */
	assert_non_null(strstr(loop, "\\\\033]5379;h;1\\\\a"));
	assert_non_null(strstr(loop, "\\\\033]5379;p;%s;%s;%s;%s\\\\a"));
	assert_non_null(strstr(loop, "\\\\033]5379;d;%s;%s;%s\\\\a"));
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_exact),
		cmocka_unit_test(test_run_line_bytes),
		cmocka_unit_test(test_run_line_limit),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_nonce_format),
		cmocka_unit_test(test_command_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
