/* Unit tests for proxy/wring, proxy/vt_render and proxy/watch: what an
 * escort who joins a session is given.  The ring keeps bytes in order
 * across its wrap, and one that overflows is emptied and marked, drops
 * everything until the watcher took its redraw, and goes on after it; a
 * rendered screen, fed to a fresh terminal, shows the same cells, colours
 * and cursor; a watcher that joins late first gets the screen as it is,
 * one that never reads costs the feeder one ring at most and is redrawn
 * afterwards; a watch outlives its session while an escort holds it; a
 * copy reset from another watch's rendering redraws its watchers with it.
 * Threads feeding and taking at once leave it consistent (make SAN=1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>
#include <vterm.h>

#include "proxy/vt_guard.h"
#include "proxy/vt_render.h"
#include "proxy/watch.h"
#include "proxy/wring.h"

static void
test_ring_order_and_wrap(void **state)
{
	struct wring r;
	uint8_t out[16];

	(void)state;
	assert_int_equal(px__wring_init(&r, 8), 0);
	assert_int_equal(px__wring_put(&r, (const uint8_t *)"abcdef", 6), 1);
	assert_int_equal(px__wring_take(&r, out, 4), 4);
	assert_memory_equal(out, "abcd", 4);
	/* wraps: 2 held, 6 more fit exactly */
	assert_int_equal(px__wring_put(&r, (const uint8_t *)"ghijkl", 6), 1);
	assert_int_equal(r.len, 8);
	assert_int_equal(px__wring_take(&r, out, sizeof(out)), 8);
	assert_memory_equal(out, "efghijkl", 8);
	assert_int_equal(px__wring_take(&r, out, sizeof(out)), 0);
	assert_int_equal(r.resync, 0);
	px__wring_free(&r);
	/* a freed ring (a view that left) gives nothing, and touches no buffer */
	assert_int_equal(px__wring_take(&r, out, sizeof(out)), 0);
}

static void
test_ring_overflow_resync(void **state)
{
	struct wring r;
	uint8_t out[16];

	(void)state;
	assert_int_equal(px__wring_init(&r, 8), 0);
	assert_int_equal(px__wring_put(&r, (const uint8_t *)"12345", 5), 1);
	/* does not fit: everything held is dropped and the ring is marked */
	assert_int_equal(px__wring_put(&r, (const uint8_t *)"6789", 4), 0);
	assert_int_equal(r.resync, 1);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.overflows, 1);
	/* while marked, even what would fit is dropped (the model has it) */
	assert_int_equal(px__wring_put(&r, (const uint8_t *)"x", 1), 0);
	assert_int_equal(r.dropped, 10);
	assert_int_equal(r.overflows, 1);
	assert_int_equal(px__wring_take(&r, out, sizeof(out)), 0);
	/* after the redraw, bytes flow again */
	px__wring_resynced(&r);
	assert_int_equal(px__wring_put(&r, (const uint8_t *)"yz", 2), 1);
	assert_int_equal(px__wring_take(&r, out, sizeof(out)), 2);
	assert_memory_equal(out, "yz", 2);
	/* one put larger than the ring: marked at once */
	assert_int_equal(px__wring_put(&r, (const uint8_t *)"123456789", 9), 0);
	assert_int_equal(r.resync, 1);
	assert_int_equal(r.overflows, 2);
	px__wring_free(&r);
	assert_int_equal(px__wring_init(&r, 0), -1);
}

/* Renders vt, feeds the result to a fresh terminal of the same size. */
static VTerm *
replayed(VTerm *vt)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rows, cols;
	VTerm *copy;

	assert_non_null(f);
	assert_int_equal(px__vt_render(vt, 0, f), 0);
	assert_int_equal(fclose(f), 0);
	vterm_get_size(vt, &rows, &cols);
	copy = vterm_new(rows, cols);
	vterm_set_utf8(copy, 1);
	vterm_screen_reset(vterm_obtain_screen(copy), 1);
	vterm_input_write(copy, text, len);
	free(text);
	return copy;
}

static void
cell_at(VTerm *vt, int row, int col, VTermScreenCell *c)
{
	VTermPos p = { row, col };

	assert_true(vterm_screen_get_cell(vterm_obtain_screen(vt), p, c));
}

static void
test_render_round_trip(void **state)
{
	VTerm *vt = vterm_new(6, 20), *copy;
	VTermScreenCell a, b;
	VTermPos cur;
	const char *out = "plain line\r\n\x1b[1;31mbold red\x1b[0m and \x1b[7mrev\x1b[0m\r\n"
	    "caf\xc3\xa9 \xe4\xb8\xad!\r\n\x1b[5;4Hhere";

	(void)state;
	vterm_set_utf8(vt, 1);
	vterm_screen_reset(vterm_obtain_screen(vt), 1);
	vterm_input_write(vt, out, strlen(out));
	copy = replayed(vt);
	for (int r = 0; r < 6; r++)
		for (int c = 0; c < 20; c++) {
			cell_at(vt, r, c, &a);
			cell_at(copy, r, c, &b);
			/* a cell never written (0) shows as a blank, written as one */
			assert_int_equal(a.chars[0] ? a.chars[0] : ' ', b.chars[0] ? b.chars[0] : ' ');
			assert_int_equal(a.width, b.width);
			assert_int_equal(a.attrs.bold, b.attrs.bold);
			assert_int_equal(a.attrs.reverse, b.attrs.reverse);
			assert_int_equal(VTERM_COLOR_IS_DEFAULT_FG(&a.fg), VTERM_COLOR_IS_DEFAULT_FG(&b.fg));
		}
	cell_at(copy, 1, 0, &b);
	assert_int_equal(b.chars[0], 'b');
	assert_true(b.attrs.bold);
	assert_true(VTERM_COLOR_IS_INDEXED(&b.fg) && b.fg.indexed.idx == 1);
	cell_at(copy, 2, 5, &b);
	assert_int_equal(b.chars[0], 0x4e2d);
	assert_int_equal(b.width, 2);
	vterm_state_get_cursorpos(vterm_obtain_state(copy), &cur);
	assert_int_equal(cur.row, 4);
	assert_int_equal(cur.col, 7);
	vterm_free(copy);
	vterm_free(vt);
}

/* A watcher with a wake counter. */
static void
count_wake(void *ud)
{
	(*(int *)ud)++;
}

/* Everything due to x as one string: a redraw first when one is due. */
static char *
drain(struct px_watch *w, struct px_watcher *x, int *redrawn, int *ended)
{
	static uint8_t buf[4096];
	char *all = NULL, *redraw;
	size_t len = 0, k, rlen;
	int rows, cols;
	FILE *f = open_memstream(&all, &len);

	*redrawn = 0;
	for (;;) {
		k = px__watch_take(w, x, buf, sizeof(buf), 0, &redraw, &rlen, ended, &rows, &cols);
		if (redraw != NULL) {
			fwrite(redraw, 1, rlen, f);
			free(redraw);
			(*redrawn)++;
			continue;
		}
		if (k == 0)
			break;
		fwrite(buf, 1, k, f);
	}
	fclose(f);
	return all;
}

static void
test_watch_join_late_and_stall(void **state)
{
	struct px_watches t;
	struct px_watch *w, *found;
	struct px_watcher x;
	int wakes = 0, redrawn, ended;
	char *got, line[64];

	(void)state;
	px__watches_init(&t);
	w = px__watch_open(&t, "s1", 5, 40);
	assert_non_null(w);
	assert_null(px__watch_open(&t, "s1", 5, 40));	/* id in use */
	px__watch_feed(w, (const uint8_t *)"before join\r\n", 13);
	/* an escort finds it and joins: the screen as it is comes first */
	found = px__watch_find(&t, "s1");
	assert_ptr_equal(found, w);
	assert_null(px__watch_find(&t, "nope"));
	memset(&x, 0, sizeof(x));
	x.wake = count_wake;
	x.ud = &wakes;
	assert_int_equal(px__watch_attach(found, &x), 0);
	got = drain(found, &x, &redrawn, &ended);
	assert_int_equal(redrawn, 1);
	assert_non_null(strstr(got, "before join"));
	free(got);
	/* live: bytes as fed, and a wake per feed */
	px__watch_feed(w, (const uint8_t *)"live\r\n", 6);
	assert_int_equal(wakes, 1);
	got = drain(found, &x, &redrawn, &ended);
	assert_int_equal(redrawn, 0);
	assert_string_equal(got, "live\r\n");
	free(got);
	/* a watcher that does not read: the ring overflows, the feeder goes on,
	 * and the watcher is redrawn with the last screen */
	for (int i = 0; i < 40000; i++) {
		snprintf(line, sizeof(line), "line %d\r\n", i);
		px__watch_feed(w, (const uint8_t *)line, strlen(line));
	}
	assert_true(x.ring.len <= x.ring.cap);
	assert_int_equal(x.ring.resync, 1);
	got = drain(found, &x, &redrawn, &ended);
	assert_int_equal(redrawn, 1);
	assert_non_null(strstr(got, "line 39999"));
	assert_null(strstr(got, "line 100\r"));
	assert_int_equal(ended, 0);
	free(got);
	/* the session ends: the escort's reference keeps the watch readable */
	px__watch_close(&t, w);
	assert_null(px__watch_find(&t, "s1"));
	got = drain(found, &x, &redrawn, &ended);
	assert_int_equal(ended, 1);
	free(got);
	px__watch_detach(found, &x);
	px__watch_unref(found);
	/* attaching to an ended watch is refused */
	w = px__watch_open(&t, "s2", 0, 0);
	found = px__watch_find(&t, "s2");
	px__watch_close(&t, w);
	assert_int_equal(px__watch_attach(found, &x), -1);
	px__watch_unref(found);
	px__watches_free(&t);
}

/* A copy of a watch (another proxy's, px__watch_reset): the copy, given
 * the first's rendering, redraws its watcher with the same screen, at the
 * first's size, and nothing of before the reset; output then goes on. */
static void
test_watch_reset_copy(void **state)
{
	struct px_watches t;
	struct px_watch *w, *copy, *found;
	struct px_watcher x, y;
	int wakes = 0, redrawn, ended, rows, cols;
	char *got, *screen;
	size_t slen;
	uint8_t buf[64];

	(void)state;
	px__watches_init(&t);
	w = px__watch_open(&t, "owner", 10, 50);
	copy = px__watch_open(&t, "copy", 24, 80);
	assert_non_null(w);
	assert_non_null(copy);
	px__watch_feed(w, (const uint8_t *)"\x1b[1mmarker-before\x1b[0m\r\n$ ",
	    strlen("\x1b[1mmarker-before\x1b[0m\r\n$ "));
	memset(&x, 0, sizeof(x));
	x.wake = count_wake;
	x.ud = &wakes;
	assert_int_equal(px__watch_attach(w, &x), 0);
	(void)px__watch_take(w, &x, buf, sizeof(buf), 0, &screen, &slen, &ended, &rows, &cols);
	assert_non_null(screen);
	assert_true(rows == 10 && cols == 50);
	/* the copy's watcher saw something else first */
	found = px__watch_find(&t, "copy");
	memset(&y, 0, sizeof(y));
	y.wake = count_wake;
	y.ud = &wakes;
	assert_int_equal(px__watch_attach(found, &y), 0);
	px__watch_feed(copy, (const uint8_t *)"stale\r\n", 7);
	free(drain(found, &y, &redrawn, &ended));
	wakes = 0;
	px__watch_reset(copy, rows, cols, (const uint8_t *)screen, slen);
	free(screen);
	assert_int_equal(wakes, 1);
	got = drain(found, &y, &redrawn, &ended);
	assert_int_equal(redrawn, 1);
	assert_non_null(strstr(got, "marker-before"));
	assert_null(strstr(got, "stale"));
	free(got);
	(void)px__watch_take(found, &y, buf, sizeof(buf), 0, &screen, &slen, &ended, &rows, &cols);
	assert_true(rows == 10 && cols == 50);
	/* live output after the reset reaches the watcher as fed */
	px__watch_feed(copy, (const uint8_t *)"after\r\n", 7);
	got = drain(found, &y, &redrawn, &ended);
	assert_int_equal(redrawn, 0);
	assert_string_equal(got, "after\r\n");
	free(got);
	px__watch_detach(found, &y);
	px__watch_unref(found);
	px__watch_detach(w, &x);
	px__watch_close(&t, copy);
	px__watch_close(&t, w);
	px__watches_free(&t);
}

/* Filters s through a guard, n bytes per call; the result as a string. */
static char *
guarded(const char *s, size_t step)
{
	static uint8_t out[4096];
	static char all[4096];
	struct vt_guard g;
	size_t len = strlen(s), k = 0;

	px__vt_guard_init(&g);
	for (size_t off = 0; off < len; off += step) {
		size_t n = px__vt_guard_filter(&g, (const uint8_t *)s + off, len - off < step ? len - off : step, out);
		memcpy(all + k, out, n);
		k += n;
	}
	all[k] = '\0';
	return all;
}

/* REP and zero-width characters never pass, whole or split; the rest does. */
static void
test_guard(void **state)
{
	(void)state;
	for (size_t step = 1; step <= 8; step++) {
		assert_string_equal(guarded("a\x1b[5bz", step), "az");
		assert_string_equal(guarded("\x1b[31mred\x1b[0m", step), "\x1b[31mred\x1b[0m");
		assert_string_equal(guarded("\xe2\x80\x8bx", step), "x");		/* U+200B */
		assert_string_equal(guarded("e\xcc\x81!", step), "e!");		/* combining acute */
		assert_string_equal(guarded("caf\xc3\xa9 \xe4\xb8\xad", step), "caf\xc3\xa9 \xe4\xb8\xad");
		assert_string_equal(guarded("\xc2\x9b" "5bq", step), "q");	/* the C1 CSI */
		assert_string_equal(guarded("\xcc\x07\x81y", step), "\x07y");	/* C0 inside a character */
		assert_string_equal(guarded("\x1b[1\x1b[2Jk", step), "\x1b[1\x1b[2Jk");
		assert_string_equal(guarded("\x1b" "c\x1b(B", step), "\x1b" "c\x1b(B");
	}
}

/* Target output that would hold libvterm for good (a zero-width glyph,
 * then REP) goes through a watch and returns. */
static void
test_watch_no_rep_loop(void **state)
{
	static const char *const evil[] = {
		"\xe2\x80\x8b\x1b[5b", "\xcc\x81\x1b[5b", "\x1b[H\xcc\x81\x1b[9999b",
		"\x1b[H\xcc\x81\xc2\x9b" "5b", "\x1b" "c\xe2\x80\x8b\x1b[5b",
		"\x1b[H\xcc\x07\x81\x1b[5b",
		"\x1b[H\xcc\x81\x1b\xcc\x81[5b",	/* libvterm reads ESC, a character, '[' as CSI */
	};
	struct px_watches t;
	struct px_watch *w;

	(void)state;
	px__watches_init(&t);
	w = px__watch_open(&t, "s1", 24, 80);
	alarm(20);	/* a loop would never return: the alarm ends the test */
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++)
		px__watch_feed(w, (const uint8_t *)evil[i], strlen(evil[i]));
	alarm(0);
	px__watch_close(&t, w);
	px__watches_free(&t);
}

/* Feeds text to a watch (chunks of 1000 bytes, as the relay would) and to
 * a plain libvterm; returns the watch's redraw shown on a fresh terminal. */
static void
both_feed(struct px_watch *w, VTerm *direct, const char *text)
{
	size_t len = strlen(text);

	for (size_t off = 0; off < len; off += 1000)
		px__watch_feed(w, (const uint8_t *)text + off, len - off < 1000 ? len - off : 1000);
	vterm_input_write(direct, text, len);
}

static char *
lines(int from, int to)
{
	static char buf[1 << 20];
	size_t k = 0;

	for (int i = from; i < to; i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "line %d\r\n", i);
	return buf;
}

/* Bulk output is held back and its scrolled-off lines skipped: what the
 * redraw shows is still what a terminal fed everything shows, around
 * cursor movements, a scroll region and the alternate screen. */
static void
test_watch_lazy_model(void **state)
{
	struct px_watches t;
	struct px_watch *w;
	struct px_watcher x;
	VTerm *direct = vterm_new(10, 40), *copy;
	VTermScreenCell a, b;
	int redrawn, ended, wakes = 0;
	char *got;

	(void)state;
	vterm_set_utf8(direct, 1);
	vterm_screen_enable_altscreen(vterm_obtain_screen(direct), 1);
	vterm_screen_reset(vterm_obtain_screen(direct), 1);
	px__watches_init(&t);
	w = px__watch_open(&t, "s1", 10, 40);
	both_feed(w, direct, lines(0, 20000));
	both_feed(w, direct, "\x1b[2;5Hmid\x1b[10;1H");
	both_feed(w, direct, lines(20000, 20003));
	both_feed(w, direct, "\x1b[3;6r\x1b[6;1H");
	both_feed(w, direct, lines(30000, 36000));
	both_feed(w, direct, "\x1b[r\x1b[10;1H\x1b[?1049h\x1b[H\x1b[2JALT\r\n");
	both_feed(w, direct, lines(40000, 46000));
	both_feed(w, direct, "\x1b[?1049l");
	both_feed(w, direct, lines(50000, 50004));
	memset(&x, 0, sizeof(x));
	x.wake = count_wake;
	x.ud = &wakes;
	assert_int_equal(px__watch_attach(w, &x), 0);
	got = drain(w, &x, &redrawn, &ended);
	assert_int_equal(redrawn, 1);
	copy = vterm_new(10, 40);
	vterm_set_utf8(copy, 1);
	vterm_screen_reset(vterm_obtain_screen(copy), 1);
	vterm_input_write(copy, got, strlen(got));
	for (int r = 0; r < 10; r++)
		for (int c = 0; c < 40; c++) {
			cell_at(direct, r, c, &a);
			cell_at(copy, r, c, &b);
			assert_int_equal(a.chars[0] ? a.chars[0] : ' ', b.chars[0] ? b.chars[0] : ' ');
		}
	assert_non_null(strstr(got, "line 50003"));
	free(got);
	vterm_free(copy);
	vterm_free(direct);
	px__watch_detach(w, &x);
	px__watch_close(&t, w);
	px__watches_free(&t);
}

/* A feeder thread and a reader thread on one watch, then the session ends
 * while the reader holds it. */
struct reader_arg {
	struct px_watch *w;
	struct px_watcher x;
	int wakes;
	size_t taken;
	int redraws;
};

static void *
reader(void *p)
{
	struct reader_arg *a = p;
	uint8_t buf[512];
	char *redraw;
	size_t rlen, k;
	int ended = 0, rows, cols;

	while (!ended) {
		k = px__watch_take(a->w, &a->x, buf, sizeof(buf), 3, &redraw, &rlen, &ended, &rows, &cols);
		if (redraw != NULL)
			a->redraws++;
		free(redraw);
		a->taken += k;
	}
	return NULL;
}

static void
test_watch_threads(void **state)
{
	struct px_watches t;
	struct reader_arg a;
	pthread_t th;
	struct px_watch *w;

	(void)state;
	px__watches_init(&t);
	w = px__watch_open(&t, "s1", 24, 80);
	memset(&a, 0, sizeof(a));
	a.w = px__watch_find(&t, "s1");
	a.x.wake = count_wake;
	a.x.ud = &a.wakes;
	assert_int_equal(px__watch_attach(a.w, &a.x), 0);
	assert_int_equal(pthread_create(&th, NULL, reader, &a), 0);
	for (int i = 0; i < 20000; i++) {
		px__watch_feed(w, (const uint8_t *)"\x1b[1mabc\x1b[0m\r\n", 13);
		if (i % 5000 == 0)
			px__watch_resize(w, 24 + i / 5000, 80);
	}
	px__watch_close(&t, w);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(a.redraws >= 1);
	px__watch_detach(a.w, &a.x);
	px__watch_unref(a.w);
	px__watches_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_order_and_wrap),
		cmocka_unit_test(test_ring_overflow_resync),
		cmocka_unit_test(test_render_round_trip),
		cmocka_unit_test(test_watch_join_late_and_stall),
		cmocka_unit_test(test_watch_reset_copy),
		cmocka_unit_test(test_watch_threads),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_watch_lazy_model),
		cmocka_unit_test(test_watch_no_rep_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
