/* vt_guard: what of a target's output may reach libvterm's screen model
 * (watch.c).
 *
 * libvterm's REP (CSI Ps b) prints the last glyph again, advancing by its
 * width, until the column is reached; when that width is 0 it never ends.
 * The width is 0 before any glyph (watch.c prints one at start) and after
 * a zero-width character that had nothing to combine with, such as a
 * combining mark after a cursor movement or U+200B: four bytes of target
 * output would hold the technician's worker for good.  So the model gets
 * neither: every character of zero or unknown width (px__utf8_width <= 0,
 * and the Hangul jamo libvterm counts as 0 wide) is dropped wherever it
 * appears, even inside a sequence, and every CSI whose final byte is 'b'
 * (7-bit ESC [ and the C1 CSI in UTF-8) is dropped whole.  Either one
 * alone prevents the loop; a parser that reads a sequence differently from
 * this one still meets the first.  The model then lacks combining marks
 * and repeated characters (ncurses may use REP); escorts see what the
 * technician's terminal got in the live stream, this only shapes redraws.
 *
 * The state carries sequences and characters split across calls.  No
 * allocation, no I/O. */
#ifndef PX_VT_GUARD_H
#define PX_VT_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct vt_guard {
	int st;                 /* ground, after ESC, in a CSI */
	uint8_t seq[64];        /* a CSI held until its final byte */
	size_t seqlen;
	uint8_t ch[4];          /* a UTF-8 character not complete yet */
	size_t chlen, chwant;
};

/* A guard in the ground state (or zero the struct). */
void vt_guard_init(struct vt_guard *g);

/* Filters n bytes of p into out (room for n + 68 bytes: held bytes may be
 * released).  Returns the bytes written to out. */
size_t vt_guard_filter(struct vt_guard *g, const uint8_t *p, size_t n, uint8_t *out);

#endif
