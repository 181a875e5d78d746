/*
 * Fuzzer: proxy/lineedit, strict mode's command line.
 *
 * Input: a settings byte (bits 0-1: terminal width 7, 10, 23 or 80), a
 * byte for max_bytes (1 + 2 * value), then operations, each a tag byte:
 *   tag & 7 in 0-3: feed the next tag >> 3 bytes (0-31) as typed keys
 *      (3: into an output buffer of at most 8 bytes; on LE_ENOMEM the
 *      caller's recovery: a new line and px__le_redraw, or, when the entry
 *      closed with an event, a new line cleared down);
 *   4: resize to 5 + next byte % 76 columns;
 *   5: add the next tag >> 3 bytes to the history;
 *   6: output arrived: a new line, then px__le_redraw;
 *   7: after an event, open the next entry (px__le_begin_with the last entry
 *      when tag bit 3 is set, else px__le_begin); while editing, a paste marker
 *      (ESC[200~ or, with bit 3, ESC[201~).
 *
 * Checked after every operation: the entry is well-formed UTF-8 without NUL,
 * at most max_bytes long, the cursor on a character boundary within it;
 * px__le_feed consumes everything unless it reports an event; the bytes written
 * never carry a raw control or a character a terminal acts on (vt_mini
 * counts them); and what an xterm-like screen shows after all the
 * incremental echo and redraws (screen A) is what a full redraw on a blank
 * screen shows (screen B), row for row, cursor included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proxy/lineedit.h"
#include "proxy/lineedit_int.h"
#include "proxy/utf8_width.h"
#include "tests/unit/vt_mini.h"

#define FZ_ROWS 100

static struct vt vt_a, vt_b;

/* Where the entry starts on screen A: its row, and A's scroll count then. */
static int origin_row, origin_scrolled;

static void
check_entry(const struct le *e)
{
	size_t len, nlines, i;
	const char *t = px__le_entry(e, &len, &nlines);

	if (t == NULL || len != e->len || len > e->max_bytes || t[len] != '\0')
		abort();
	if (e->cur > len || (e->cur < len && (e->text[e->cur] & 0xc0) == 0x80))
		abort();
	for (i = 0; i < len;) {
		uint32_t cp;
		int k = px__utf8_decode(e->text + i, len - i, &cp);

		if (k <= 0 || cp == 0)
			abort();
		i += (size_t)k;
	}
}

static void
put_a(struct buf *out)
{
	const uint8_t *p = buf_ptr(out);
	size_t n = buf_len(out);

	vt_feed(&vt_a, p, n);
	if (vt_a.bad != 0)
		abort();
	/* Ctrl-L: the entry starts again at the top */
	if (n >= 7 && memmem(p, n, "\033[H\033[2J", 7) != NULL) {
		origin_row = 0;
		origin_scrolled = vt_a.scrolled;
	}
	buf_reset(out);
}

/* Screen A from the entry's first row equals a full redraw on screen B. */
static void
check_screen(struct le *e, struct buf *out)
{
	int top = origin_row - (vt_a.scrolled - origin_scrolled);
	char ra[4096], rb[4096];

	if (!e->active || top < 0)
		return;
	vt_init(&vt_b, FZ_ROWS, vt_a.cols);
	buf_reset(out);
	if (px__le_redraw(e, out) != LE_OK)
		abort();
	vt_feed(&vt_b, buf_ptr(out), buf_len(out));
	buf_reset(out);
	if (vt_b.bad != 0 || vt_b.scrolled != 0)
		return;		/* taller than the screen: not compared */
	for (int r = 0; r + top <= vt_a.hi; r++)
		if (strcmp(vt_row(&vt_a, r + top, ra, sizeof(ra)),
		    vt_row(&vt_b, r, rb, sizeof(rb))) != 0)
			abort();
	if (vt_a.r - top != vt_b.r || vt_a.c != vt_b.c || vt_a.pending || vt_b.pending)
		abort();
}

static void
begin(struct le *e, struct buf *out, int with_text)
{
	size_t len;
	const char *t = px__le_entry(e, &len, NULL);
	char *copy = strndup(t, len);
	int r;

	if (copy == NULL)
		return;
	if (vt_a.c != 0)
		abort();	/* every event leaves the cursor on a fresh line */
	origin_row = vt_a.r;
	origin_scrolled = vt_a.scrolled;
	r = with_text ? px__le_begin_with(e, "$ ", copy, len, out) : px__le_begin(e, "$ ", out);
	free(copy);
	if (r != LE_OK)
		abort();
	put_a(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int widths[] = { 7, 10, 23, 80 };
	struct buf out;
	struct le *e;
	enum le_event ev = LE_NONE;
	size_t i;

	if (size < 2)
		return 0;
	e = px__le_new(1 + 2 * (size_t)data[1], widths[data[0] & 3]);
	if (e == NULL)
		return 0;
	buf_init(&out, 0);
	vt_init(&vt_a, FZ_ROWS, e->cols);
	begin(e, &out, 0);
	for (i = 2; i < size;) {
		uint8_t tag = data[i++];
		size_t k = tag >> 3;

		switch (tag & 7) {
		case 0: case 1: case 2: case 3: {
			long r;

			if (k > size - i)
				k = size - i;
			if (!e->active) {
				i += k;
				break;
			}
			if ((tag & 7) == 3)
				out.max = 8;
			r = px__le_feed(e, data + i, k, &out, &ev);
			out.max = 0;
			if (r == LE_ENOMEM && (tag & 7) == 3) {
				put_a(&out);
				if (ev != LE_NONE) {
					/* the entry closed: its rows are stale */
					if (e->active)
						abort();
					vt_feed(&vt_a, "\r\n\033[J", 5);
					i += k;
					break;
				}
				vt_feed(&vt_a, "\r\n", 2);
				origin_row = vt_a.r;
				origin_scrolled = vt_a.scrolled;
				if (px__le_redraw(e, &out) != LE_OK)
					abort();
				put_a(&out);
				i += k;
				break;
			}
			if (r < 0 || (size_t)r > k || ((size_t)r < k && ev == LE_NONE))
				abort();
			put_a(&out);
			i += k;
			break;
		}
		case 4:
			if (i < size) {
				int cols = 5 + data[i++] % 76;

				vt_resize(&vt_a, cols);
				if (px__le_resize(e, cols, &out) != LE_OK)
					abort();
				put_a(&out);
			}
			break;
		case 5: {
			int r;

			if (k > size - i)
				k = size - i;
			r = px__le_history_add(e, (const char *)data + i, k);
			if (r != LE_OK && r != LE_EINVAL)
				abort();
			i += k;
			break;
		}
		case 6:
			if (e->active) {
				vt_feed(&vt_a, "\r\n", 2);
				origin_row = vt_a.r;
				origin_scrolled = vt_a.scrolled;
				if (px__le_redraw(e, &out) != LE_OK)
					abort();
				put_a(&out);
			}
			break;
		case 7:
			if (!e->active) {
				begin(e, &out, tag & 8);
			} else {
				const char *m = (tag & 8) ? "\033[201~" : "\033[200~";

				long r = px__le_feed(e, (const uint8_t *)m, 6, &out, &ev);

				if (r < 0 || (r < 6 && ev == LE_NONE))
					abort();
				put_a(&out);
			}
			break;
		}
		check_entry(e);
		check_screen(e, &out);
	}
	buf_free(&out);
	px__le_free(e);
	return 0;
}
