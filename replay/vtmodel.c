/* vtmodel.c: the screen model of replay, fed fast, and its snapshots
 * (vtmodel.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/vtmodel.h"

enum vtm_scan { SC_GROUND, SC_ESC, SC_ESC_INTER, SC_CSI, SC_STR, SC_STR_ESC };

/* Hold at most this much plain text before giving its tail to libvterm. */
#define VTM_HOLD_MAX (1u << 20)

/* ---- the tracked state ---------------------------------------------- */

static void
vtm_track_reset(struct vtm *m)
{
	m->top = m->bottom = 0;
	m->insert = m->newline = m->origin = m->lrmm = 0;
	m->autowrap = 1;
	memset(m->g, 'B', sizeof(m->g));
	m->gl = 0;
	m->gr = 1;
}

static int
vtm_cb_control(unsigned char c, void *user)
{
	struct vtm *m = user;

	if (c == 0x0e)
		m->gl = 1;
	else if (c == 0x0f)
		m->gl = 0;
	return 1;
}

static int
vtm_cb_escape(const char *b, size_t len, void *user)
{
	struct vtm *m = user;
	const char *p;

	if (len == 2 && (p = strchr("()*+", b[0])) != NULL) {
		m->g[p - "()*+"] = b[1];
		return 1;
	}
	if (len != 1) {
		if (len == 2 && b[0] == ' ')	/* S7C1T / S8C1T */
			m->dirty = 1;
		return 1;
	}
	switch (b[0]) {
	case 'c':			/* RIS */
		vtm_track_reset(m);
		m->dirty = 0;
		break;
	case '7': case 'H':		/* DECSC, HTS */
		m->dirty = 1;
		break;
	case 'n': m->gl = 2; break;
	case 'o': m->gl = 3; break;
	case '~': m->gr = 1; break;
	case '}': m->gr = 2; break;
	case '|': m->gr = 3; break;
	default: break;
	}
	return 1;
}

static void
vtm_set_mode(struct vtm *m, int dec, long v, int on)
{
	switch (dec ? -v : v) {
	case 4: m->insert = on; break;
	case 20: m->newline = on; break;
	case -6: m->origin = on; break;
	case -7: m->autowrap = on; break;
	case -69: m->lrmm = on; break;
	default: break;
	}
}

static int
vtm_cb_csi(const char *leader, const long args[], int argc,
    const char *intermed, char command, void *user)
{
	struct vtm *m = user;
	int i, dec = leader != NULL && leader[0] == '?';

	if (intermed != NULL && intermed[0] != '\0') {
		if (strcmp(intermed, "!") == 0 && command == 'p') {
			vtm_track_reset(m);	/* DECSTR */
		} else if (strcmp(intermed, "\"") == 0 && command == 'q')
			m->dirty = 1;		/* DECSCA */
		return 1;
	}
	if (leader != NULL && leader[0] != '\0' && !dec)
		return 1;
	switch (command) {
	case 'h': case 'l':
		for (i = 0; i < argc; i++)
			vtm_set_mode(m, dec, CSI_ARG(args[i]), command == 'h');
		break;
	case 'r':
		if (dec)
			break;
		m->top = argc > 0 && !CSI_ARG_IS_MISSING(args[0]) ?
		    (int)CSI_ARG(args[0]) : 0;
		m->bottom = argc > 1 && !CSI_ARG_IS_MISSING(args[1]) ?
		    (int)CSI_ARG(args[1]) : 0;
		break;
	case 's':			/* SCOSC (or DECSLRM: dirty too) */
	case 'g':			/* TBC */
		if (!dec)
			m->dirty = 1;
		break;
	default:
		break;
	}
	return 1;
}

static const VTermParserCallbacks vtm_track_cbs = {
	.control = vtm_cb_control,
	.escape = vtm_cb_escape,
	.csi = vtm_cb_csi,
};

/* 1 when the scroll region is the whole screen. */
static int
vtm_full_region(const struct vtm *m)
{
	return !m->lrmm && m->top <= 1 && (m->bottom == 0 || m->bottom >= m->rows);
}

/* ---- feeding ---------------------------------------------------------- */

static VTerm *
vtm_new_vt(int rows, int cols)
{
	VTerm *vt = vterm_new(rows, cols);

	if (vt == NULL)
		return NULL;
	vterm_set_utf8(vt, 1);
	vterm_screen_reset(vterm_obtain_screen(vt), 1);
	return vt;
}

int
vtm_open(struct vtm *m, int rows, int cols)
{
	memset(m, 0, sizeof(*m));
	m->rows = rows < 1 ? 1 : rows > VTM_MAX_DIM ? VTM_MAX_DIM : rows;
	m->cols = cols < 2 ? 2 : cols > VTM_MAX_DIM ? VTM_MAX_DIM : cols; /* libvterm: wide glyph in 1 column */
	buf_init(&m->hold, 0);
	vtm_track_reset(m);
	if ((m->vt = vtm_new_vt(m->rows, m->cols)) == NULL ||
	    (m->parser = vterm_new(1, 1)) == NULL) {
		vtm_free(m);
		return -1;
	}
	vterm_set_utf8(m->parser, 1);
	vterm_parser_set_callbacks(m->parser, &vtm_track_cbs, m);
	return 0;
}

void
vtm_free(struct vtm *m)
{
	if (m->vt != NULL)
		vterm_free(m->vt);
	if (m->parser != NULL)
		vterm_free(m->parser);
	m->vt = m->parser = NULL;
	buf_free(&m->hold);
}

/* Writes bytes to libvterm and to the tracking parser. */
static void
vtm_give(struct vtm *m, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	vterm_input_write(m->vt, (const char *)p, n);
	vterm_input_write(m->parser, (const char *)p, n);
}

/* 1 when plain text p[0..n) (begun on a character boundary) leaves no
 * UTF-8 character cut: libvterm's decoder keeps a cut one across
 * controls, and the next text would show it as U+FFFD.  Only the last
 * four text bytes can hold the start of a cut character. */
static int
vtm_utf8_whole(const uint8_t *p, size_t n)
{
	size_t i = n, k = 0, start;
	int left = 0;

	while (i > 0 && k < 4)
		if (p[--i] >= 0x20 && p[i] != 0x7f)
			k++;
	for (start = i; start < n; start++) {
		if (p[start] >= 0xc0 && p[start] < 0xf8)
			left = p[start] < 0xe0 ? 1 : p[start] < 0xf0 ? 2 : 3;
		else if (p[start] >= 0x80 && p[start] < 0xc0 && left > 0)
			left--;
		else if (p[start] >= 0x20 && p[start] != 0x7f)
			left = 0;
	}
	return left == 0;
}

void
vtm_flush(struct vtm *m)
{
	const uint8_t *p = buf_ptr(&m->hold);
	size_t n = buf_len(&m->hold), i = n, lf = 0;
	size_t want = 2 * (size_t)m->rows + 2;

	if (n == 0)
		return;
	if (!m->exact && m->hold_clean && vtm_full_region(m) && !m->insert) {
		while (i > 0 && lf < want)
			lf += p[--i] == '\n';
		while (lf >= want && i > 0 && p[i] != '\r')
			i--;
		if (lf >= want && p[i] == '\r' && vtm_utf8_whole(p, i)) {
			p += i;
			n -= i;
		}
	}
	vtm_give(m, p, n);
	buf_reset(&m->hold);
}

void
vtm_resize(struct vtm *m, int rows, int cols)
{
	rows = rows < 1 ? 1 : rows > VTM_MAX_DIM ? VTM_MAX_DIM : rows;
	cols = cols < 2 ? 2 : cols > VTM_MAX_DIM ? VTM_MAX_DIM : cols; /* libvterm: wide glyph in 1 column */
	vtm_flush(m);
	if (rows == m->rows && cols == m->cols)
		return;
	if (!vtm_full_region(m))
		m->dirty = 1;	/* libvterm bounds the region: not followed */
	m->rows = rows;
	m->cols = cols;
	vterm_set_size(m->vt, rows, cols);
}

/* 1 for a byte plain text may hold. */
static int
vtm_plain(uint8_t c)
{
	return c >= 0x20 ? c != 0x7f : c == '\r' || c == '\n' || c == '\t' ||
	    c == '\b' || c == 0x07;
}

/* Advances the scanner over c. */
static void
vtm_scan(struct vtm *m, uint8_t c)
{
	/* a byte above 0x7f inside an escape sequence: libvterm may take it
	 * as text and hold a cut character; taken as cut until text comes */
	if (c >= 0x80 && (m->scan == SC_ESC || m->scan == SC_ESC_INTER ||
	    m->scan == SC_CSI))
		m->utf8_left = 3;
	switch (m->scan) {
	case SC_GROUND:
		/* libvterm's UTF-8 decoder keeps a cut character across
		 * controls and sequences: only text moves it on */
		if (c == 0x1b)
			m->scan = SC_ESC;
		else if (c >= 0xc0 && c < 0xf8)
			m->utf8_left = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		else if (c >= 0x80 && c < 0xc0 && m->utf8_left > 0)
			m->utf8_left--;
		else if (c >= 0x20 && c != 0x7f)
			m->utf8_left = 0;
		break;
	case SC_ESC:
		m->scan = c == '[' ? SC_CSI : (c == ']' || c == 'P' || c == '_' ||
		    c == '^' || c == 'X') ? SC_STR : (c >= 0x20 && c < 0x30) ?
		    SC_ESC_INTER : c == 0x1b ? SC_ESC : SC_GROUND;
		break;
	case SC_ESC_INTER:
		if (c >= 0x30 || c == 0x18 || c == 0x1a)
			m->scan = SC_GROUND;
		break;
	case SC_CSI:
		if ((c >= 0x40 && c <= 0x7e) || c == 0x18 || c == 0x1a)
			m->scan = SC_GROUND;
		else if (c == 0x1b)
			m->scan = SC_ESC;
		break;
	case SC_STR:
		if (c == 0x07 || c == 0x18 || c == 0x1a)
			m->scan = SC_GROUND;
		else if (c == 0x1b)
			m->scan = SC_STR_ESC;
		break;
	default:
		m->scan = c == '\\' ? SC_GROUND : c == 0x1b ? SC_STR_ESC : SC_STR;
		break;
	}
}

int
vtm_write(struct vtm *m, const uint8_t *p, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		/* plain text: held back */
		if (i < n && m->scan == SC_GROUND && buf_len(&m->hold) == 0)
			m->hold_clean = m->utf8_left == 0;
		for (j = i; j < n && m->scan == SC_GROUND; j++) {
			if (p[j] >= 0x20 && p[j] < 0x7f) {
				m->utf8_left = 0;	/* the common case, inline */
				continue;
			}
			if (!vtm_plain(p[j]))
				break;
			vtm_scan(m, p[j]);
		}
		if (j > i && buf_put(&m->hold, p + i, j - i) != 0)
			return -1;
		if (buf_len(&m->hold) > VTM_HOLD_MAX)
			vtm_flush(m);
		i = j;
		/* the rest: as it came */
		for (; j < n && !(m->scan == SC_GROUND && vtm_plain(p[j])); j++)
			vtm_scan(m, p[j]);
		if (j > i) {
			vtm_flush(m);
			vtm_give(m, p + i, j - i);
		}
		i = j;
	}
	return 0;
}

/* ---- snapshots ----------------------------------------------------------- */

static int
vtm_putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
vtm_putf(struct buf *b, const char *fmt, ...)
{
	char s[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= sizeof(s) ? -1 : buf_put(b, s, (size_t)n);
}

/* SGR parameters of one colour: fg (base 30) or bg (base 40). */
static int
vtm_put_color(struct buf *b, const VTermColor *c, int base)
{
	if (base == 30 ? VTERM_COLOR_IS_DEFAULT_FG(c) : VTERM_COLOR_IS_DEFAULT_BG(c))
		return vtm_putf(b, ";%d", base + 9);
	if (VTERM_COLOR_IS_INDEXED(c))
		return vtm_putf(b, ";%d;5;%u", base + 8, c->indexed.idx);
	return vtm_putf(b, ";%d;2;%u;%u;%u", base + 8, c->rgb.red, c->rgb.green,
	    c->rgb.blue);
}

/* The SGR that sets exactly these attributes and colours. */
static int
vtm_put_sgr(struct buf *b, const VTermScreenCellAttrs *a, const VTermColor *fg,
    const VTermColor *bg)
{
	int r = buf_put(b, "\033[0", 3);

	if (a->bold) r |= buf_put(b, ";1", 2);
	if (a->italic) r |= buf_put(b, ";3", 2);
	if (a->underline == 1) r |= buf_put(b, ";4", 2);
	if (a->underline == 2) r |= buf_put(b, ";21", 3);
	if (a->underline == 3) r |= buf_put(b, ";4:3", 4);
	if (a->blink) r |= buf_put(b, ";5", 2);
	if (a->reverse) r |= buf_put(b, ";7", 2);
	if (a->strike) r |= buf_put(b, ";9", 2);
	if (a->font) r |= vtm_putf(b, ";%u", 10 + a->font);
	r |= vtm_put_color(b, fg, 30);
	r |= vtm_put_color(b, bg, 40);
	return r | buf_put(b, "m", 1) ? -1 : 0;
}

static int
vtm_same_cell(const VTermScreenCell *x, const VTermScreenCell *y)
{
	int i;

	/* libvterm fills chars up to its terminating 0 only */
	for (i = 0; i < VTERM_MAX_CHARS_PER_CELL; i++) {
		if (x->chars[i] != y->chars[i])
			return 0;
		if (x->chars[i] == 0)
			break;
	}
	return x->width == y->width && x->attrs.bold == y->attrs.bold &&
	    x->attrs.underline == y->attrs.underline &&
	    x->attrs.italic == y->attrs.italic && x->attrs.blink == y->attrs.blink &&
	    x->attrs.reverse == y->attrs.reverse &&
	    x->attrs.strike == y->attrs.strike && x->attrs.font == y->attrs.font &&
	    x->attrs.dwl == y->attrs.dwl && x->attrs.dhl == y->attrs.dhl &&
	    vterm_color_is_equal(&x->fg, &y->fg) &&
	    vterm_color_is_equal(&x->bg, &y->bg);
}

static int
vtm_same_attrs(const VTermScreenCell *x, const VTermScreenCellAttrs *a,
    const VTermColor *fg, const VTermColor *bg)
{
	VTermScreenCell y = *x;

	y.attrs = *a;
	y.fg = *fg;
	y.bg = *bg;
	return vtm_same_cell(x, &y);
}

/* The pen as cell attributes. */
static void
vtm_pen(VTerm *vt, VTermScreenCellAttrs *a, VTermColor *fg, VTermColor *bg)
{
	VTermState *st = vterm_obtain_state(vt);
	VTermValue v;

	memset(a, 0, sizeof(*a));
	vterm_state_get_penattr(st, VTERM_ATTR_BOLD, &v); a->bold = v.boolean;
	vterm_state_get_penattr(st, VTERM_ATTR_UNDERLINE, &v); a->underline = v.number;
	vterm_state_get_penattr(st, VTERM_ATTR_ITALIC, &v); a->italic = v.boolean;
	vterm_state_get_penattr(st, VTERM_ATTR_BLINK, &v); a->blink = v.boolean;
	vterm_state_get_penattr(st, VTERM_ATTR_REVERSE, &v); a->reverse = v.boolean;
	vterm_state_get_penattr(st, VTERM_ATTR_STRIKE, &v); a->strike = v.boolean;
	vterm_state_get_penattr(st, VTERM_ATTR_FONT, &v); a->font = v.number;
	vterm_state_get_penattr(st, VTERM_ATTR_FOREGROUND, &v); *fg = v.color;
	vterm_state_get_penattr(st, VTERM_ATTR_BACKGROUND, &v); *bg = v.color;
}

/* The cells of a row as bytes: text, SGR changes, ECH for erased cells. */
static int
vtm_put_row(VTermScreen *s, int row, int cols, const VTermScreenCell *blank,
    struct buf *b)
{
	VTermScreenCell c, cur;
	VTermPos pos = { .row = row };
	char u[8];
	int col, k, run, r = 0, started = 0, next = -1;
	size_t ulen;

	memset(&cur, 0, sizeof(cur));
	for (col = 0; col < cols && r == 0; col += c.width > 1 ? c.width : 1) {
		pos.col = col;
		vterm_screen_get_cell(s, pos, &c);
		if (vtm_same_cell(&c, blank))
			continue;	/* as a fresh model has it */
		if (!started || !vtm_same_attrs(&cur, &c.attrs, &c.fg, &c.bg)) {
			r |= vtm_put_sgr(b, &c.attrs, &c.fg, &c.bg);
			cur = c;
		}
		if (col != next)
			r |= vtm_putf(b, "\033[%d;%dH", row + 1, col + 1);
		started = 1;
		next = -1;
		if (c.chars[0] == 0) {
			r |= vtm_putf(b, "\033[X");
			continue;
		}
		next = col + (c.width > 1 ? c.width : 1);
		for (k = 0; k < VTERM_MAX_CHARS_PER_CELL && c.chars[k] != 0; k++) {
			run = (int)c.chars[k];
			ulen = run < 0x80 ? 1 : run < 0x800 ? 2 : run < 0x10000 ? 3 : 4;
			if (ulen == 1)
				u[0] = (char)run;
			else if (ulen == 2) {
				u[0] = (char)(0xc0 | run >> 6);
				u[1] = (char)(0x80 | (run & 0x3f));
			} else if (ulen == 3) {
				u[0] = (char)(0xe0 | run >> 12);
				u[1] = (char)(0x80 | ((run >> 6) & 0x3f));
				u[2] = (char)(0x80 | (run & 0x3f));
			} else {
				u[0] = (char)(0xf0 | run >> 18);
				u[1] = (char)(0x80 | ((run >> 12) & 0x3f));
				u[2] = (char)(0x80 | ((run >> 6) & 0x3f));
				u[3] = (char)(0x80 | (run & 0x3f));
			}
			r |= buf_put(b, u, ulen);
		}
	}
	return r ? -1 : 0;
}

/* 1 when models a and b show the same cells, cursor and pen. */
static int
vtm_same(VTerm *a, VTerm *b, int rows, int cols)
{
	VTermScreen *sa = vterm_obtain_screen(a), *sb = vterm_obtain_screen(b);
	VTermScreenCell ca, cb;
	VTermScreenCellAttrs pa, pb;
	VTermColor fa, fb, ba, bb;
	VTermPos p, qa, qb;

	for (p.row = 0; p.row < rows; p.row++)
		for (p.col = 0; p.col < cols; p.col++) {
			vterm_screen_get_cell(sa, p, &ca);
			vterm_screen_get_cell(sb, p, &cb);
			if (!vtm_same_cell(&ca, &cb))
				return 0;
		}
	vterm_state_get_cursorpos(vterm_obtain_state(a), &qa);
	vterm_state_get_cursorpos(vterm_obtain_state(b), &qb);
	vtm_pen(a, &pa, &fa, &ba);
	vtm_pen(b, &pb, &fb, &bb);
	memset(&ca, 0, sizeof(ca));
	cb = ca;
	ca.attrs = pa, ca.fg = fa, ca.bg = ba;
	cb.attrs = pb, cb.fg = fb, cb.bg = bb;
	return qa.row == qb.row && qa.col == qb.col && vtm_same_cell(&ca, &cb);
}

int
vtm_paint(struct vtm *m, struct buf *out)
{
	VTermScreen *s;
	VTermScreenCell blank;
	VTermScreenCellAttrs a;
	VTermColor fg, bg;
	VTermPos cur;
	struct vtm fresh;
	int row, r = 0;

	vtm_flush(m);
	vterm_state_get_cursorpos(vterm_obtain_state(m->vt), &cur);
	/* a blank cell as a fresh model has it */
	if (vtm_open(&fresh, 1, 1) != 0)
		return -1;
	vterm_screen_get_cell(vterm_obtain_screen(fresh.vt), (VTermPos){ 0, 0 },
	    &blank);
	vtm_free(&fresh);
	s = vterm_obtain_screen(m->vt);
	for (row = 0; row < m->rows && r == 0; row++)
		r = vtm_put_row(s, row, m->cols, &blank, out);
	vtm_pen(m->vt, &a, &fg, &bg);
	r |= vtm_put_sgr(out, &a, &fg, &bg);
	r |= vtm_putf(out, "\033(%c\033)%c\033*%c\033+%c", m->g[0], m->g[1],
	    m->g[2], m->g[3]);
	r |= buf_put(out, &"\017\016\033n\033o"[m->gl == 0 ? 0 : m->gl == 1 ? 1 :
	    m->gl == 2 ? 2 : 4], m->gl <= 1 ? 1 : 2);
	r |= buf_put(out, &"\033~\033}\033|"[(m->gr - 1) * 2], 2);
	r |= vtm_putf(out, "\033[4%c\033[20%c\033[?7%c", m->insert ? 'h' : 'l',
	    m->newline ? 'h' : 'l', m->autowrap ? 'h' : 'l');
	if (m->top != 0 && m->bottom != 0)
		r |= vtm_putf(out, "\033[%d;%dr", m->top, m->bottom);
	else if (m->top != 0)
		r |= vtm_putf(out, "\033[%dr", m->top);
	else if (m->bottom != 0)
		r |= vtm_putf(out, "\033[;%dr", m->bottom);
	r |= vtm_putf(out, "\033[%d;%dH", cur.row + 1, cur.col + 1);
	return r != 0 ? -1 : 0;
}

int
vtm_snapshot(struct vtm *m, struct buf *out)
{
	VTermPos cur;
	struct vtm check;
	size_t start = buf_len(out);
	int row, same;

	vtm_flush(m);
	vterm_state_get_cursorpos(vterm_obtain_state(m->vt), &cur);
	if (m->dirty || m->lrmm || m->origin || m->scan != SC_GROUND ||
	    m->utf8_left != 0 || cur.col >= m->cols - 1)
		return 0;
	for (row = 0; row < m->rows; row++) {
		const VTermLineInfo *li = vterm_state_get_lineinfo(
		    vterm_obtain_state(m->vt), row);
		if (li->doublewidth || li->doubleheight)
			return 0;
	}
	if (vtm_paint(m, out) != 0)
		return -1;
	if (vtm_restore(&check, m->rows, m->cols, buf_ptr(out) + start,
	    buf_len(out) - start) != 0)
		return -1;
	same = vtm_same(m->vt, check.vt, m->rows, m->cols);
	vtm_free(&check);
	if (!same)
		buf_unput(out, buf_len(out) - start);
	return same;
}

int
vtm_restore(struct vtm *m, int rows, int cols, const uint8_t *snap, size_t n)
{
	if (vtm_open(m, rows, cols) != 0)
		return -1;
	if (vtm_write(m, snap, n) != 0) {
		vtm_free(m);
		return -1;
	}
	vtm_flush(m);
	return 0;
}

void
vtm_print(struct vtm *m, FILE *f)
{
	VTermScreen *s;
	VTermRect rect;
	char *line;
	size_t len, cap;
	int row, last = -1;

	vtm_flush(m);
	s = vterm_obtain_screen(m->vt);
	cap = (size_t)m->cols * 8 + 1;
	if ((line = malloc(cap)) == NULL)
		return;
	for (row = 0; row < m->rows; row++) {
		rect = (VTermRect){ .start_row = row, .end_row = row + 1,
		    .start_col = 0, .end_col = m->cols };
		if (vterm_screen_get_text(s, line, cap - 1, rect) > 0)
			last = row;
	}
	for (row = 0; row <= last; row++) {
		rect = (VTermRect){ .start_row = row, .end_row = row + 1,
		    .start_col = 0, .end_col = m->cols };
		len = vterm_screen_get_text(s, line, cap - 1, rect);
		while (len > 0 && line[len - 1] == ' ')
			len--;
		fwrite(line, 1, len, f);
		fputc('\n', f);
	}
	free(line);
}
