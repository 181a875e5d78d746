/*
 * Fuzzer: what escorts who join a session are given (proxy/watch.h): the
 * screen model fed with target output through vt_guard, the watcher's
 * ring, and the redraw rendered from the model (vt_render.h).
 *
 * Input: two bytes for the terminal's rows and columns, then chunks: a tag
 * byte (bit 1 set: a resize to the next two bytes; bit 2 set: the watcher
 * takes what is due, at most the next byte * 64 bytes; bits 0 and 7 set:
 * the model reset, px__watch_reset, to the sizes in the next two bytes and
 * the rest as its screen; else output fed to the watch), a length byte,
 * the bytes.  Checks that the ring never holds more than its size (and is
 * empty and marked after a reset), that a redraw is never empty and
 * carries no control character but ESC, CR and LF, and (through
 * libFuzzer's timeout) that no output holds libvterm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void
wake(void *ud)
{
	(void)ud;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t out[16384];
	struct px_watches t;
	struct px_watch *w;
	struct px_watcher x;
	size_t i = 2;

	if (n < 2)
		return 0;
	px__watches_init(&t);
	if ((w = px__watch_open(&t, "fuzz", 1 + d[0] % 60, 1 + d[1] % 200)) == NULL) {
		px__watches_free(&t);
		return 0;
	}
	memset(&x, 0, sizeof(x));
	x.wake = wake;
	if (px__watch_attach(w, &x) != 0)
		abort();
	while (i + 2 <= n) {
		uint8_t tag = d[i], len = d[i + 1];
		const uint8_t *p = d + i + 2;
		size_t m = n - i - 2 < len ? n - i - 2 : len;

		i += 2 + m;
		if (tag & 2) {
			if (m >= 2)
				px__watch_resize(w, 1 + p[0] % 60, 1 + p[1] % 200);
		} else if (tag & 4) {
			char *redraw;
			size_t rlen, max = m >= 1 ? 1 + (size_t)p[0] * 64 : 1;
			int ended, rows, cols;

			(void)px__watch_take(w, &x, out, max < sizeof(out) ? max : sizeof(out), tag >> 3,
			    &redraw, &rlen, &ended, &rows, &cols);
			if (redraw != NULL) {
				if (rlen == 0)
					abort();
				for (size_t k = 0; k < rlen; k++) {
					uint8_t c = (uint8_t)redraw[k];
					if (c < 0x20 && c != 0x1b && c != '\r' && c != '\n')
						abort();
				}
				free(redraw);
			}
		} else if ((tag & 0x81) == 0x81 && m >= 2) {
			/* a copy reset from another proxy's rendering */
			px__watch_reset(w, 1 + p[0] % 60, 1 + p[1] % 200, p + 2, m - 2);
			if (!x.ring.resync || x.ring.len != 0)
				abort();
		} else {
			px__watch_feed(w, p, m);
		}
		if (x.ring.len > x.ring.cap)
			abort();
	}
	px__watch_detach(w, &x);
	px__watch_close(&t, w);
	px__watches_free(&t);
	return 0;
}
