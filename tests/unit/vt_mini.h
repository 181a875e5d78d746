/* vt_mini.h: a small terminal screen for tests of what the proxy draws
 * (tests/unit/test_proxy_lineedit.c, tests/fuzz/fuzz_proxy_lineedit.c).
 *
 * It does what an xterm-like terminal does with the bytes proxy/lineedit
 * writes: UTF-8 text with wcwidth widths (wide characters never split over
 * rows; combining marks join the cell before), deferred autowrap (a
 * character in the last column leaves the cursor there until the next one),
 * CR, LF (scrolling at the bottom), BS, BEL, and CSI A B C D H J K m.  A
 * byte or sequence outside that set, or a character that must not reach a
 * terminal raw (a control, C1, bidi override: px__utf8_width < 0), counts in
 * vt->bad, which tests require to stay 0.  Header only: static functions. */
#ifndef ESCORT_TEST_VT_MINI_H
#define ESCORT_TEST_VT_MINI_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxy/utf8_width.h"

#define VT_ROWS_MAX 400
#define VT_COLS_MAX 128

struct vt_cell {
	char s[16];		/* the character and its combining marks */
	int tail;		/* right half of a wide character */
};

struct vt {
	int rows, cols;
	int r, c, pending;
	int bells, scrolled, bad;
	int hi;			/* highest row written to */
	int st;			/* 0 text, 1 after ESC, 2 CSI */
	char par[32];
	size_t plen;
	uint8_t u8[4];
	size_t u8n;
	struct vt_cell cell[VT_ROWS_MAX][VT_COLS_MAX];
};

static void
vt_clear_cells(struct vt *v, int r, int from, int to)
{
	if (from < to)
		memset(&v->cell[r][from], 0, sizeof(v->cell[r][0]) * (size_t)(to - from));
}

/* A blank screen; v is zero-filled (static) or was used before. */
static void
vt_init(struct vt *v, int rows, int cols)
{
	for (int r = 0; r <= v->hi && r < VT_ROWS_MAX; r++)
		vt_clear_cells(v, r, 0, VT_COLS_MAX);
	v->rows = rows < VT_ROWS_MAX ? rows : VT_ROWS_MAX;
	v->cols = cols < VT_COLS_MAX ? cols : VT_COLS_MAX;
	v->r = v->c = v->pending = 0;
	v->bells = v->scrolled = v->bad = v->hi = 0;
	v->st = 0;
	v->plen = v->u8n = 0;
}

/* A narrower window truncates rows (no reflow), as xterm does. */
static void
vt_resize(struct vt *v, int cols)
{
	cols = cols < VT_COLS_MAX ? cols : VT_COLS_MAX;
	for (int r = 0; r < v->rows; r++)
		vt_clear_cells(v, r, cols, VT_COLS_MAX);
	v->cols = cols;
	if (v->c >= cols)
		v->c = cols - 1;
	v->pending = 0;
}

static void
vt_lf(struct vt *v)
{
	if (v->r < v->rows - 1) {
		v->r++;
		return;
	}
	memmove(&v->cell[0], &v->cell[1], sizeof(v->cell[0]) * (size_t)(v->rows - 1));
	vt_clear_cells(v, v->rows - 1, 0, VT_COLS_MAX);
	v->scrolled++;
}

static void
vt_char(struct vt *v, const uint8_t *s, size_t n, int w)
{
	struct vt_cell *cl;

	if (w == 0) {
		int c = v->pending ? v->c : v->c - 1;
		size_t k;

		if (c < 0)
			return;
		cl = &v->cell[v->r][c];
		k = strlen(cl->s);
		if (k + n < sizeof(cl->s)) {
			memcpy(cl->s + k, s, n);
			cl->s[k + n] = '\0';
		}
		return;
	}
	if (v->pending) {
		v->c = 0;
		v->pending = 0;
		vt_lf(v);
	}
	if (w == 2 && v->c == v->cols - 1) {
		v->c = 0;
		vt_lf(v);
	}
	if (v->r > v->hi)
		v->hi = v->r;
	cl = &v->cell[v->r][v->c];
	memset(cl, 0, sizeof(*cl));
	memcpy(cl->s, s, n);
	if (w == 2) {
		memset(cl + 1, 0, sizeof(*cl));
		cl[1].tail = 1;
	}
	v->c += w;
	if (v->c >= v->cols) {
		v->c = v->cols - 1;
		v->pending = 1;
	}
}

static void
vt_csi(struct vt *v, uint8_t f)
{
	int a = 0, b = 0, field = 0;

	for (size_t i = 0; i < v->plen; i++) {
		if (v->par[i] == ';')
			field++;
		else if (field == 0)
			a = a * 10 + (v->par[i] - '0');
		else
			b = b * 10 + (v->par[i] - '0');
	}
	v->pending = f == 'm' ? v->pending : 0;
	switch (f) {
	case 'A': v->r -= a ? a : 1; if (v->r < 0) v->r = 0; break;
	case 'B': v->r += a ? a : 1; if (v->r >= v->rows) v->r = v->rows - 1; break;
	case 'C': v->c += a ? a : 1; if (v->c >= v->cols) v->c = v->cols - 1; break;
	case 'D': v->c -= a ? a : 1; if (v->c < 0) v->c = 0; break;
	case 'H': v->r = (a ? a : 1) - 1; v->c = (b ? b : 1) - 1; break;
	case 'J':
		if (a == 2) {
			for (int r = 0; r < v->rows; r++)
				vt_clear_cells(v, r, 0, VT_COLS_MAX);
		} else if (a == 0) {
			vt_clear_cells(v, v->r, v->c, VT_COLS_MAX);
			for (int r = v->r + 1; r < v->rows; r++)
				vt_clear_cells(v, r, 0, VT_COLS_MAX);
		} else {
			v->bad++;
		}
		break;
	case 'K': vt_clear_cells(v, v->r, v->c, VT_COLS_MAX); break;
	case 'm': break;
	default: v->bad++; break;
	}
}

static void
vt_feed(struct vt *v, const void *data, size_t n)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];

		if (v->st == 1) {
			v->st = 0;
			if (b == '[') {
				v->st = 2;
				v->plen = 0;
			} else {
				v->bad++;
			}
			continue;
		}
		if (v->st == 2) {
			if ((b >= '0' && b <= '9') || b == ';') {
				if (v->plen < sizeof(v->par))
					v->par[v->plen++] = (char)b;
				else
					v->bad++;
			} else {
				v->st = 0;
				vt_csi(v, b);
			}
			continue;
		}
		if (v->u8n > 0 || b >= 0x80) {
			uint32_t cp;
			int k;

			v->u8[v->u8n++] = b;
			k = px__utf8_decode(v->u8, v->u8n, &cp);
			if (k < 0 && v->u8n < 4)
				continue;
			if (k <= 0 || px__utf8_width(cp) < 0)
				v->bad++;
			else
				vt_char(v, v->u8, v->u8n, px__utf8_width(cp));
			v->u8n = 0;
			continue;
		}
		switch (b) {
		case 0x1b: v->st = 1; break;
		case '\r': v->c = 0; v->pending = 0; break;
		case '\n': vt_lf(v); v->pending = 0; break;
		case '\b': if (v->c > 0) v->c--; v->pending = 0; break;
		case '\a': v->bells++; break;
		default:
			if (b < 0x20 || b == 0x7f)
				v->bad++;
			else
				vt_char(v, &b, 1, 1);
		}
	}
}

/* Row r as text: empty cells are spaces, trailing spaces dropped. */
static const char *
vt_row(const struct vt *v, int r, char *out, size_t cap)
{
	size_t n = 0, keep = 0;

	for (int c = 0; c < v->cols && r < v->rows; c++) {
		const char *s = v->cell[r][c].s;
		size_t k;

		if (v->cell[r][c].tail)
			continue;
		if (s[0] == '\0')
			s = " ";
		k = strlen(s);
		if (n + k + 1 > cap)
			break;
		memcpy(out + n, s, k);
		n += k;
		if (strcmp(s, " ") != 0)
			keep = n;
	}
	out[keep] = '\0';
	return out;
}

#endif
