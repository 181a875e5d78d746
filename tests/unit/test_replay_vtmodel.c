/* Unit tests: vtmodel (replay/vtmodel.h), the screen model of replay.
 * Random terminal output built from a table of pieces (bulk lines, SGR
 * colours, cursor moves, erasures, a scroll region, insert mode, DEC line
 * drawing with SO/SI, tabs, wide characters, sequences and UTF-8 cut
 * between writes, DECSC, resets) must give the same cells, attributes,
 * colours and cursor fed fast as fed byte for byte to libvterm; and a
 * snapshot taken anywhere it is not refused, restored into a fresh model
 * and fed the rest of the output, must end on the same screen as the model
 * that read everything (the property screen --at relies on).  Not
 * generated: a UTF-8 character cut by an escape sequence, which libvterm
 * 0.1.4 itself shows differently depending on where the writes split the
 * bytes (a replacement character or none). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "replay/vtmodel.h"
#include "tests/unit/san.h"

static const char *const pieces[] = {
	"\033[1;31mred\033[0m \033[38;5;120mgreen\033[48;2;1;2;3m rgb\033[0m\r\n",
	"\033[2;10r\033[10;1Hin the region\r\nscrolls\r\n\r\n\r\n",
	"\033[r",
	"\033(0lqqk\r\nx  x\r\nmqqj\033(B\r\n",
	"\033)0\016lqk\017 shifted\r\n",
	"\033[H\033[2Jcleared\tcol\ttabs\r\n",
	"\033[5;5Hmoved\033[K\033[3;1H\033[1J",
	"h\xc3\xa9llo \xe4\xb8\xad\xe6\x96\x87 wide\r\n",
	"half a line, no newline ",
	"\033[4hins\033[4l",
	"\033[4h",
	"\033[4l",
	"\033[?7l long line without wrap long line without wrap long line "
	    "without wrap long line without wrap\033[?7h\r\n",
	"\0337saved\0338",
	"\033c",
	"\033[20h",
	"\033[20l",
	"\033[7mreverse\033[27m\b\b\bx\r",
	"\033[3;4H\033[2P\033[1@\033[2X\033[L\033[M",
	"\033]0;a title\007",
	"\033[",			/* a CSI cut here, ended by the next piece */
	"\xe4\xb8\xad\xe6\x96\x87\r\n",	/* cut by the random writes */
};

static struct buf bulk;

/* Appends a random piece, or bulk lines, to b. */
static void
add_piece(struct buf *b, unsigned *seed)
{
	unsigned r = (unsigned)rand_r(seed);
	size_t k;

	if (r % 4 == 0) {
		k = (size_t)rand_r(seed) % buf_len(&bulk);
		assert_int_equal(buf_put(b, buf_ptr(&bulk), k), 0);
		return;
	}
	k = (r / 4) % (sizeof(pieces) / sizeof(pieces[0]));
	assert_int_equal(buf_put(b, pieces[k], strlen(pieces[k])), 0);
}

/* Feeds p[0..n) to m in random chunks. */
static void
feed(struct vtm *m, const uint8_t *p, size_t n, unsigned *seed)
{
	size_t i = 0, k;

	while (i < n) {
		k = 1 + (size_t)rand_r(seed) % 3000;
		if (k > n - i)
			k = n - i;
		assert_int_equal(vtm_write(m, p + i, k), 0);
		i += k;
	}
	vtm_flush(m);
}

static void
assert_same(struct vtm *a, struct vtm *b)
{
	VTermScreen *sa = vterm_obtain_screen(a->vt), *sb = vterm_obtain_screen(b->vt);
	VTermScreenCell ca, cb;
	VTermPos p, qa, qb;
	int i;

	assert_int_equal(a->rows, b->rows);
	assert_int_equal(a->cols, b->cols);
	for (p.row = 0; p.row < a->rows; p.row++)
		for (p.col = 0; p.col < a->cols; p.col++) {
			vterm_screen_get_cell(sa, p, &ca);
			vterm_screen_get_cell(sb, p, &cb);
			for (i = 0; i < VTERM_MAX_CHARS_PER_CELL; i++) {
				if (ca.chars[i] != cb.chars[i])
					fail_msg("cell %d,%d: U+%04X vs U+%04X", p.row,
					    p.col, ca.chars[i], cb.chars[i]);
				if (ca.chars[i] == 0)
					break;
			}
			if (ca.width != cb.width || ca.attrs.bold != cb.attrs.bold ||
			    ca.attrs.underline != cb.attrs.underline ||
			    ca.attrs.italic != cb.attrs.italic ||
			    ca.attrs.blink != cb.attrs.blink ||
			    ca.attrs.reverse != cb.attrs.reverse ||
			    ca.attrs.strike != cb.attrs.strike ||
			    ca.attrs.font != cb.attrs.font ||
			    !vterm_color_is_equal(&ca.fg, &cb.fg) ||
			    !vterm_color_is_equal(&ca.bg, &cb.bg))
				fail_msg("cell %d,%d differs: U+%04X vs U+%04X", p.row,
				    p.col, ca.chars[0], cb.chars[0]);
		}
	vterm_state_get_cursorpos(vterm_obtain_state(a->vt), &qa);
	vterm_state_get_cursorpos(vterm_obtain_state(b->vt), &qb);
	assert_int_equal(qa.row, qb.row);
	assert_int_equal(qa.col, qb.col);
}

static int
setup(void **state)
{
	int i;
	char line[128];

	(void)state;
	buf_init(&bulk, 0);
	for (i = 0; i < 400; i++) {
		snprintf(line, sizeof(line), "%7d  -rw-r--r--  1 root root %6d Jan  1 "
		    "/usr/share/doc/pkg-%d/changelog.gz\r\n", i, i * 37, i);
		assert_int_equal(buf_put(&bulk, line, strlen(line)), 0);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	buf_free(&bulk);
	return 0;
}

static void
test_fast_feeding_gives_the_same_screen(void **state)
{
	struct buf out;
	struct vtm fast, exact;
	unsigned seed = 1, s2;
	int it, i, n;

	(void)state;
	buf_init(&out, 0);
	for (it = 0; it < (UNDER_SAN ? 40 : 200); it++) {
		buf_reset(&out);
		n = 5 + rand_r(&seed) % 60;
		for (i = 0; i < n; i++)
			add_piece(&out, &seed);
		assert_int_equal(vtm_open(&fast, 24, 80), 0);
		assert_int_equal(vtm_open(&exact, 24, 80), 0);
		exact.exact = 1;
		s2 = seed;
		feed(&fast, buf_ptr(&out), buf_len(&out), &s2);
		s2 = seed;
		feed(&exact, buf_ptr(&out), buf_len(&out), &s2);
		assert_same(&fast, &exact);
		vtm_free(&fast);
		vtm_free(&exact);
	}
	buf_free(&out);
}

static void
test_a_restored_snapshot_continues_as_the_whole(void **state)
{
	struct buf out, snap;
	struct vtm whole, part, restored;
	unsigned seed = 7, s2;
	size_t cut;
	int it, i, n, taken = 0, r;
	const int rounds = UNDER_SAN ? 60 : 300;

	(void)state;
	buf_init(&out, 0);
	buf_init(&snap, 0);
	for (it = 0; it < rounds; it++) {
		buf_reset(&out);
		n = 5 + rand_r(&seed) % 60;
		for (i = 0; i < n; i++)
			add_piece(&out, &seed);
		cut = (size_t)rand_r(&seed) % buf_len(&out);
		assert_int_equal(vtm_open(&whole, 24, 80), 0);
		assert_int_equal(vtm_open(&part, 24, 80), 0);
		s2 = seed;
		feed(&whole, buf_ptr(&out), buf_len(&out), &s2);
		s2 = seed;
		feed(&part, buf_ptr(&out), cut, &s2);
		buf_reset(&snap);
		r = vtm_snapshot(&part, &snap);
		assert_true(r == 0 || r == 1);
		if (r == 1) {
			taken++;
			assert_int_equal(vtm_restore(&restored, 24, 80, buf_ptr(&snap),
			    buf_len(&snap)), 0);
			assert_same(&restored, &part);
			feed(&restored, buf_ptr(&out) + cut, buf_len(&out) - cut, &s2);
			assert_same(&restored, &whole);
			vtm_free(&restored);
		} else {
			assert_int_equal(buf_len(&snap), 0);
		}
		vtm_free(&whole);
		vtm_free(&part);
	}
	assert_true(taken > rounds / 3);	/* most points can be snapshot */
	buf_free(&out);
	buf_free(&snap);
}

static void
test_refused_while_a_cursor_is_saved(void **state)
{
	struct vtm m;
	struct buf snap;
	static const char saved[] = "\0337text", reset[] = "\033cafter";

	(void)state;
	buf_init(&snap, 0);
	assert_int_equal(vtm_open(&m, 24, 80), 0);
	assert_int_equal(vtm_write(&m, (const uint8_t *)saved, sizeof(saved) - 1), 0);
	assert_int_equal(vtm_snapshot(&m, &snap), 0);
	assert_int_equal(vtm_write(&m, (const uint8_t *)reset, sizeof(reset) - 1), 0);
	assert_int_equal(vtm_snapshot(&m, &snap), 1);
	vtm_free(&m);
	buf_free(&snap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_feeding_gives_the_same_screen),
		cmocka_unit_test(test_a_restored_snapshot_continues_as_the_whole),
		cmocka_unit_test(test_refused_while_a_cursor_is_saved),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
