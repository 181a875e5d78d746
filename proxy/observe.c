/* observe: the screen model and command extraction of observe mode
 * (observe.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "proxy/observe.h"
#include "proxy/vt_guard.h"

#define WIDE_RIGHT 0xFFFFFFFFu	/* right half of a double-width glyph */
#define LAZY_MAX (32 * 1024)	/* plain output held back, at most */
#define LINE_MAX_BYTES (OBS_CMD_MAX + 8)

/* A byte string of at most LINE_MAX_BYTES (longer input sets cut). */
struct sbuf {
	char *p;
	size_t len, cap;
	int cut;
};

struct screen {
	uint32_t *cell;		/* rows * cols; 0 = blank */
	uint8_t *cont;		/* rows: continues the row above (autowrap) */
};

enum in_state { IN_TEXT, IN_ESC, IN_CSI, IN_SS3 };

struct obs {
	VTerm *vt;
	VTermState *st;
	size_t mem;			/* bytes allocated, ours and libvterm's */
	int rows, cols, pty;
	struct screen scr[2];		/* main, alternate */
	int alt;
	VTermPos cur;
	int phantom;			/* the last glyph reached the right margin */
	VTermPos phantom_pos;
	int scrolled;			/* a scroll happened since */
	/* the line being typed */
	int started;			/* a keystroke other than Enter was seen */
	struct sbuf prompt;		/* sampled at the first keystroke */
	struct sbuf typed;		/* the line as typed, when exact */
	int exact;
	struct sbuf pend;		/* this chunk's keystrokes not echoed yet */
	int pend_bs;			/* Backspaces beyond pend */
	int pend_kill;			/* Ctrl-U in pend */
	struct sbuf raw;		/* without a pty: the line's bytes */
	enum in_state in;
	char csi[16];
	size_t csi_len;
	int last_cr;
	int paste;
	struct sbuf out;		/* extraction result */
	struct sbuf row;		/* px__obs_row_text result */
	/* Plain output (lazy_add) not given to libvterm yet: its last lines,
	 * from a CR LF on.  Fed before the screen is read (lazy_flush). */
	char *lazy;
	size_t lazy_len, lazy_cap;
	uint8_t out_last;		/* the last output byte */
	int region;			/* a scroll region (DECSTBM) may be set */
	struct vt_guard guard;		/* what of the output reaches libvterm (feed) */
};

/* ---- counting allocator -------------------------------------------------- */

struct hdr {
	size_t n;
	max_align_t pad;
};

static void *
mem_alloc(struct obs *o, size_t n)
{
	struct hdr *h = calloc(1, sizeof(*h) + n);

	if (h == NULL)
		return NULL;
	h->n = n;
	o->mem += n;
	return h + 1;
}

static void
mem_free(struct obs *o, void *p)
{
	struct hdr *h;

	if (p == NULL)
		return;
	h = (struct hdr *)p - 1;
	o->mem -= h->n;
	free(h);
}

static void *
vt_malloc(size_t n, void *ud)
{
	return mem_alloc(ud, n);
}

static void
vt_free(void *p, void *ud)
{
	mem_free(ud, p);
}

static VTermAllocatorFunctions vt_alloc = { vt_malloc, vt_free };

static void lazy_flush(struct obs *o);

/* ---- byte strings ----------------------------------------------------------- */

static void
sb_clear(struct sbuf *s)
{
	s->len = 0;
	s->cut = 0;
	if (s->p != NULL)
		s->p[0] = '\0';
}

/* Grows *p (holding len bytes, cap allocated) to hold want bytes, doubling
 * from 64 up to max.  Returns 0, or -1 when out of memory (*p unchanged). */
static int
grow(struct obs *o, char **p, size_t len, size_t *cap, size_t want, size_t max)
{
	size_t c = *cap ? *cap : 64;
	char *q;

	if (want <= *cap)
		return 0;
	while (c < want)
		c *= 2;
	if (c > max)
		c = max;
	if ((q = mem_alloc(o, c)) == NULL)
		return -1;
	if (*p != NULL) {
		memcpy(q, *p, len);
		mem_free(o, *p);
	}
	*p = q;
	*cap = c;
	return 0;
}

static int
sb_put(struct obs *o, struct sbuf *s, const char *d, size_t n)
{
	if (n > LINE_MAX_BYTES - s->len) {
		n = LINE_MAX_BYTES - s->len;
		s->cut = 1;
	}
	if (grow(o, &s->p, s->len + 1, &s->cap, s->len + n + 1, LINE_MAX_BYTES + 1) != 0)
		return -1;
	memcpy(s->p + s->len, d, n);
	s->len += n;
	s->p[s->len] = '\0';
	return 0;
}

/* Removes the last UTF-8 character.  Returns 1 when there was one. */
static int
sb_backspace(struct sbuf *s)
{
	if (s->len == 0)
		return 0;
	while (s->len > 0 && ((unsigned char)s->p[s->len - 1] & 0xC0) == 0x80)
		s->len--;
	if (s->len > 0)
		s->len--;
	s->p[s->len] = '\0';
	return 1;
}

static void
sb_utf8(struct obs *o, struct sbuf *s, uint32_t c)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xC0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xE0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | ((c >> 18) & 0x07));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	(void)sb_put(o, s, b, n);
}

/* ---- the screen (libvterm state callbacks) ----------------------------------- */

static struct screen *
cur_screen(struct obs *o)
{
	return &o->scr[o->alt];
}

static uint32_t *
cell_at(struct obs *o, int row, int col)
{
	return &cur_screen(o)->cell[(size_t)row * (size_t)o->cols + (size_t)col];
}

static int
row_blank(struct obs *o, int row)
{
	for (int c = 0; c < o->cols; c++)
		if (*cell_at(o, row, c) != 0)
			return 0;
	return 1;
}

static int
cb_putglyph(VTermGlyphInfo *info, VTermPos pos, void *ud)
{
	struct obs *o = ud;
	struct screen *s = cur_screen(o);
	int w = info->width > 0 ? info->width : 1;

	if (pos.row < 0 || pos.row >= o->rows || pos.col < 0 || pos.col >= o->cols)
		return 1;
	if (pos.col == 0) {
		if (o->phantom && (pos.row == o->phantom_pos.row + 1 ||
		    (o->scrolled && pos.row == o->phantom_pos.row)))
			s->cont[pos.row] = 1;
		else if (row_blank(o, pos.row))
			s->cont[pos.row] = 0;	/* a fresh line */
	}
	*cell_at(o, pos.row, pos.col) = info->chars[0] != 0 ? info->chars[0] : ' ';
	for (int i = 1; i < w && pos.col + i < o->cols; i++)
		*cell_at(o, pos.row, pos.col + i) = WIDE_RIGHT;
	o->phantom = pos.col + w >= o->cols;
	o->phantom_pos = pos;
	o->scrolled = 0;
	return 1;
}

static int
cb_movecursor(VTermPos pos, VTermPos oldpos, int visible, void *ud)
{
	struct obs *o = ud;

	(void)oldpos; (void)visible;
	if (o->phantom && (pos.row != o->phantom_pos.row || pos.col != o->phantom_pos.col))
		o->phantom = 0;
	o->cur = pos;
	return 1;
}

static int
cb_moverect(VTermRect dest, VTermRect src, void *ud)
{
	struct obs *o = ud;
	struct screen *s = cur_screen(o);
	int h = dest.end_row - dest.start_row, w = dest.end_col - dest.start_col;
	int full = dest.start_col == 0 && dest.end_col == o->cols;

	if (h <= 0 || w <= 0)
		return 1;
	if (dest.start_row <= src.start_row) {
		for (int i = 0; i < h; i++) {
			memmove(cell_at(o, dest.start_row + i, dest.start_col),
			    cell_at(o, src.start_row + i, src.start_col), (size_t)w * sizeof(uint32_t));
			if (full)
				s->cont[dest.start_row + i] = s->cont[src.start_row + i];
		}
	} else {
		for (int i = h - 1; i >= 0; i--) {
			memmove(cell_at(o, dest.start_row + i, dest.start_col),
			    cell_at(o, src.start_row + i, src.start_col), (size_t)w * sizeof(uint32_t));
			if (full)
				s->cont[dest.start_row + i] = s->cont[src.start_row + i];
		}
	}
	return 1;
}

static int
cb_erase(VTermRect rect, int selective, void *ud)
{
	struct obs *o = ud;
	struct screen *s = cur_screen(o);
	int full = rect.start_col == 0 && rect.end_col == o->cols;

	(void)selective;
	for (int r = rect.start_row; r < rect.end_row; r++) {
		if (r < 0 || r >= o->rows)
			continue;
		for (int c = rect.start_col; c < rect.end_col && c < o->cols; c++)
			*cell_at(o, r, c) = 0;
		if (full)
			s->cont[r] = 0;
	}
	return 1;
}

static int
cb_scrollrect(VTermRect rect, int downward, int rightward, void *ud)
{
	struct obs *o = ud;

	(void)rect; (void)rightward;
	if (downward != 0)
		o->scrolled = 1;
	return 0;	/* libvterm then calls moverect and erase */
}

static int
cb_settermprop(VTermProp prop, VTermValue *val, void *ud)
{
	struct obs *o = ud;

	if (prop == VTERM_PROP_ALTSCREEN) {
		int alt = val->boolean ? 1 : 0;
		if (alt && !o->alt) {
			memset(o->scr[1].cell, 0, (size_t)o->rows * (size_t)o->cols * sizeof(uint32_t));
			memset(o->scr[1].cont, 0, (size_t)o->rows);
		}
		o->alt = alt;
		o->phantom = 0;
	}
	return 1;
}

/* Screens of rows x cols holding the old content that fits (the bottom rows
 * when rows shrink below the cursor: delta_row then says how far up). */
static int
screens_alloc(struct obs *o, int rows, int cols, int *delta_row)
{
	struct screen n[2];
	int shift = 0;

	if (o->scr[0].cell != NULL && o->cur.row >= rows)
		shift = o->cur.row - rows + 1;
	for (int i = 0; i < 2; i++) {
		n[i].cell = mem_alloc(o, (size_t)rows * (size_t)cols * sizeof(uint32_t));
		n[i].cont = mem_alloc(o, (size_t)rows);
		if (n[i].cell == NULL || n[i].cont == NULL) {
			for (int j = 0; j <= i; j++) {
				mem_free(o, n[j].cell);
				mem_free(o, n[j].cont);
			}
			return -1;
		}
		if (o->scr[i].cell == NULL)
			continue;
		for (int r = 0; r < rows && r + shift < o->rows; r++) {
			memcpy(n[i].cell + (size_t)r * (size_t)cols,
			    o->scr[i].cell + (size_t)(r + shift) * (size_t)o->cols,
			    (size_t)(cols < o->cols ? cols : o->cols) * sizeof(uint32_t));
			n[i].cont[r] = o->scr[i].cont[r + shift];
		}
	}
	for (int i = 0; i < 2; i++) {
		mem_free(o, o->scr[i].cell);
		mem_free(o, o->scr[i].cont);
		o->scr[i] = n[i];
	}
	o->rows = rows;
	o->cols = cols;
	if (delta_row != NULL)
		*delta_row = -shift;
	return 0;
}

static int
cb_resize(int rows, int cols, VTermPos *delta, void *ud)
{
	struct obs *o = ud;
	int dr = 0;

	if (screens_alloc(o, rows, cols, &dr) == 0 && delta != NULL)
		delta->row = dr;
	o->phantom = 0;
	return 1;
}

static const VTermStateCallbacks state_cbs = {
	.putglyph = cb_putglyph,
	.movecursor = cb_movecursor,
	.scrollrect = cb_scrollrect,
	.moverect = cb_moverect,
	.erase = cb_erase,
	.settermprop = cb_settermprop,
	.resize = cb_resize,
};

static int
clamp(int v, int dflt)
{
	if (v <= 0)
		return dflt;
	if (v < 2)
		return 2;	/* libvterm crashes on a wide character in 1 column */
	return v > OBS_DIM_MAX ? OBS_DIM_MAX : v;
}

struct obs *
px__obs_new(int rows, int cols, int pty)
{
	struct obs *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->mem = sizeof(*o);
	o->pty = pty;
	rows = clamp(rows, 24);
	cols = clamp(cols, 80);
	if (screens_alloc(o, rows, cols, NULL) != 0)
		goto fail;
	if ((o->vt = vterm_new_with_allocator(rows, cols, &vt_alloc, o)) == NULL)
		goto fail;
	vterm_set_utf8(o->vt, 1);
	o->st = vterm_obtain_state(o->vt);
	vterm_state_set_callbacks(o->st, &state_cbs, o);
	vterm_state_reset(o->st, 1);
	/* libvterm 0.3's REP loops for good while no glyph was printed (it
	 * advances by the last glyph's width, 0 until then; and its parser
	 * takes ESC, any text, '[' as a CSI, so feed()'s filter cannot catch
	 * every REP): print one and erase it, so that width is never 0. */
	vterm_input_write(o->vt, " \r\x1b[2K", 6);
	o->exact = 1;
	return o;
fail:
	px__obs_free(o);
	return NULL;
}

void
px__obs_free(struct obs *o)
{
	if (o == NULL)
		return;
	if (o->vt != NULL)
		vterm_free(o->vt);
	for (int i = 0; i < 2; i++) {
		mem_free(o, o->scr[i].cell);
		mem_free(o, o->scr[i].cont);
	}
	mem_free(o, o->prompt.p);
	mem_free(o, o->typed.p);
	mem_free(o, o->pend.p);
	mem_free(o, o->raw.p);
	mem_free(o, o->out.p);
	mem_free(o, o->row.p);
	mem_free(o, o->lazy);
	free(o);
}

int
px__obs_resize(struct obs *o, int rows, int cols)
{
	lazy_flush(o);
	rows = clamp(rows, o->rows);
	cols = clamp(cols, o->cols);
	if (rows == o->rows && cols == o->cols)
		return 0;
	vterm_set_size(o->vt, rows, cols);
	return o->rows == rows && o->cols == cols ? 0 : -1;
}

/* The index after the last byte of d that is not plain output, 0 when all
 * are.  Plain: text (UTF-8 included), TAB, BS, CR, LF right after CR (prev
 * is the byte before d[0]), and whole CSI sequences ending in m (colours)
 * or K (erase in line).  Once the terminal's height in such lines
 * followed, plain bytes left nothing on the screen nor in the terminal's
 * state. */
static size_t
plain_from(const uint8_t *d, size_t n, uint8_t prev)
{
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = d[i];

		if ((b >= 0x20 && b != 0x7F) || b == '\t' || b == '\r' || b == '\b')
			continue;
		if (b == '\n' && (i > 0 ? d[i - 1] : prev) == '\r')
			continue;
		if (b == 0x1B && i + 1 < n && d[i + 1] == '[') {
			/* colours (SGR) and erase to the end of the line: they
			 * change no text the model keeps beyond their row */
			size_t j = i + 2;
			while (j < n && ((d[j] >= '0' && d[j] <= '9') || d[j] == ';' || d[j] == ':'))
				j++;
			if (j < n && (d[j] == 'm' || d[j] == 'K')) {
				i = j;
				continue;
			}
		}
		from = i + 1;
	}
	return from;
}

/* In d, the CR of the CR LF that has `nl` more LFs after it (all plain).
 * With nl twice the terminal's height, what comes before it is scrolled off
 * the screen by what follows: the first half brings the cursor to the last
 * row from wherever it was, the second scrolls every row that held older
 * text off the top.  Returns its index, or n when there is none.  *nlf:
 * LFs counted from the end. */
static size_t
scrolled_off(const uint8_t *d, size_t n, int nl, int *nlf)
{
	size_t i = n;

	*nlf = 0;
	while (i > 1) {
		const uint8_t *p = memrchr(d, '\n', i);
		if (p == NULL)
			break;
		i = (size_t)(p - d);
		if (*nlf == nl && i > 0 && d[i - 1] == '\r')
			return i - 1;
		(*nlf)++;
	}
	return n;
}

/*
 * libvterm 0.3's REP (CSI Ps b) prints the last glyph again, advancing by
 * its width, until the column is reached: when that width is 0 (before any
 * glyph, or after a zero-width character with nothing to combine with) the
 * loop never ends, and libvterm's parser finds sequences that a byte filter
 * following ECMA-48 does not (ESC, a character, '[' is a CSI to it): found
 * by fuzz_proxy_observe and fuzz_proxy_watch, a few bytes of target output
 * held a worker for good.  So the model sees the output through vt_guard
 * (vt_guard.h), as the escorts' screen model does: no REP, and no character
 * of zero width.  The model then lacks combining marks and repeated
 * characters; a command read from the screen is compared without its
 * combining marks (a denied pattern still matches; observe mode is not a
 * boundary, escort-proxy(8)).
 */
static void
feed(struct obs *o, const uint8_t *d, size_t n)
{
	uint8_t out[4096 + 68];

	while (n > 0) {
		size_t take = n < 4096 ? n : 4096;
		size_t k = px__vt_guard_filter(&o->guard, d, take, out);

		if (k > 0)
			vterm_input_write(o->vt, (const char *)out, k);
		d += take;
		n -= take;
	}
}

static void
lazy_flush(struct obs *o)
{
	size_t n = o->lazy_len;

	o->lazy_len = 0;
	feed(o, (const uint8_t *)o->lazy, n);
}

/* Holds plain output back, keeping only what the screen can still show. */
static void
lazy_add(struct obs *o, const uint8_t *d, size_t n)
{
	size_t cut;
	int nlf;

	if (n == 0)
		return;
	if ((cut = scrolled_off(d, n, 2 * o->rows, &nlf)) < n) {
		o->lazy_len = 0;
		d += cut;
		n -= cut;
	} else if (o->lazy_len > 0) {
		int more;
		cut = scrolled_off((const uint8_t *)o->lazy, o->lazy_len, 2 * o->rows - nlf, &more);
		if (cut < o->lazy_len) {
			memmove(o->lazy, o->lazy + cut, o->lazy_len - cut);
			o->lazy_len -= cut;
		}
	}
	if (n > LAZY_MAX - o->lazy_len || grow(o, &o->lazy, o->lazy_len, &o->lazy_cap,
	    o->lazy_len + n, LAZY_MAX) != 0) {	/* long lines: no saving */
		lazy_flush(o);
		feed(o, d, n);
		return;
	}
	memcpy(o->lazy + o->lazy_len, d, n);
	o->lazy_len += n;
}

/* Notes DECSTBM (CSI top;bottom r) in d: with a scroll region set, the
 * lines beyond it do not scroll, and no output is held back. */
static void
note_region(struct obs *o, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++) {
		size_t j;
		if (d[i] != 0x1B || d[i + 1] != '[')
			continue;
		for (j = i + 2; j < n && ((d[j] >= '0' && d[j] <= '9') || d[j] == ';'); j++)
			;
		if (j < n && d[j] == 'r')
			o->region = j > i + 2;	/* CSI r alone: the whole screen again */
	}
}

void
px__obs_output(struct obs *o, const uint8_t *d, size_t n)
{
	size_t from, split;

	if (n == 0)
		return;
	/* what was typed has been echoed as far as the screen goes */
	sb_clear(&o->pend);
	o->pend_bs = 0;
	o->pend_kill = 0;
	from = plain_from(d, n, o->out_last);
	o->out_last = d[n - 1];
	if (from > 0)
		note_region(o, d, from);
	if (o->alt || o->region) {
		lazy_flush(o);
		feed(o, d, n);
		return;
	}
	if (from > 0) {
		/* through the first CR LF after the last byte that is not plain:
		 * an escape sequence it starts ends before that */
		for (split = from; split < n; split++)
			if (d[split] == '\n' && d[split - 1] == '\r')
				break;
		if (split < n)
			split++;
		lazy_flush(o);
		feed(o, d, split);
		d += split;
		n -= split;
		if (o->alt) {
			feed(o, d, n);
			return;
		}
	}
	lazy_add(o, d, n);
}

int
px__obs_in_altscreen(const struct obs *o)
{
	return o->alt;
}

size_t
px__obs_mem_bytes(const struct obs *o)
{
	return o->mem;
}

/* Appends the cells of row r from col c0 to c1 (exclusive) to s. */
static void
cells_text(struct obs *o, struct sbuf *s, int r, int c0, int c1)
{
	for (int c = c0; c < c1; c++) {
		uint32_t ch = *cell_at(o, r, c);
		if (ch == WIDE_RIGHT)
			continue;
		sb_utf8(o, s, ch == 0 ? ' ' : ch);
	}
}

static void
trim_right(struct sbuf *s)
{
	while (s->len > 0 && (s->p[s->len - 1] == ' ' || s->p[s->len - 1] == '\t'))
		s->len--;
	if (s->p != NULL)
		s->p[s->len] = '\0';
}

const char *
px__obs_row_text(struct obs *o, int row)
{
	lazy_flush(o);
	sb_clear(&o->row);
	if (row >= 0 && row < o->rows)
		cells_text(o, &o->row, row, 0, o->cols);
	trim_right(&o->row);
	return o->row.p != NULL ? o->row.p : "";
}

/* First row of the cursor's logical line. */
static int
line_first_row(struct obs *o)
{
	int r = o->cur.row;

	while (r > 0 && cur_screen(o)->cont[r])
		r--;
	return r;
}

/* The logical line from its first row to the cursor (upto 1) or to its
 * last continuation row (upto 0), into s. */
static void
line_text(struct obs *o, struct sbuf *s, int upto)
{
	int r0 = line_first_row(o), r1 = o->cur.row, endcol;

	sb_clear(s);
	if (!upto)
		while (r1 + 1 < o->rows && cur_screen(o)->cont[r1 + 1])
			r1++;
	for (int r = r0; r <= r1; r++) {
		endcol = o->cols;
		if (upto && r == o->cur.row) {
			endcol = o->cur.col;
			if (o->phantom && o->phantom_pos.row == r && o->phantom_pos.col == o->cur.col)
				endcol = o->cols;	/* at the margin, past the last glyph */
		}
		cells_text(o, s, r, 0, endcol);
	}
	if (s->p == NULL)
		(void)sb_put(o, s, "", 0);
}

/* The prompt asks for a secret: a telling word and a ':' at its end. */
static int
password_prompt(const char *p, size_t n)
{
	static const char *words[] = { "password", "passphrase", "passcode", "pin", "secret",
	    "verification code", "one-time", "otp", "token" };
	char low[512];
	size_t i, m = 0;

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || p[n - 1] != ':')
		return 0;
	for (i = n > sizeof(low) - 1 ? n - (sizeof(low) - 1) : 0; i < n; i++)
		low[m++] = (char)tolower((unsigned char)p[i]);
	low[m] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]) != NULL)
			return 1;
	return 0;
}

static void
line_reset(struct obs *o)
{
	o->started = 0;
	o->exact = 1;
	sb_clear(&o->prompt);
	sb_clear(&o->typed);
	sb_clear(&o->raw);
}

/* The first keystroke of a line: the prompt is what the line shows now. */
static void
line_start(struct obs *o)
{
	if (o->started)
		return;
	o->started = 1;
	lazy_flush(o);
	if (o->pty && !o->alt)
		line_text(o, &o->prompt, 1);
}

static void
line_printable(struct obs *o, const char *d, size_t n)
{
	(void)sb_put(o, &o->typed, d, n);
	(void)sb_put(o, &o->pend, d, n);
}

static void
line_backspace(struct obs *o)
{
	(void)sb_backspace(&o->typed);
	if (!sb_backspace(&o->pend) && !o->pend_kill)
		o->pend_bs++;
}

static void
line_kill(struct obs *o)
{
	sb_clear(&o->typed);
	sb_clear(&o->pend);
	o->pend_bs = 0;
	o->pend_kill = 1;
}

static int
ends_with(const char *s, size_t n, const char *t, size_t m)
{
	return m <= n && memcmp(s + n - m, t, m) == 0;
}

/* At Enter: the command of the line into o->out.  Returns 1 when there is
 * one. */
static int
line_extract(struct obs *o)
{
	struct sbuf *out = &o->out;
	const char *body;
	size_t start = 0, end, plen;

	sb_clear(out);
	lazy_flush(o);
	if (!o->started || o->alt)
		return 0;
	if (!o->pty) {
		(void)sb_put(o, out, o->raw.p ? o->raw.p : "", o->raw.len);
		out->cut = o->raw.cut;
		goto trim;
	}
	if (password_prompt(o->prompt.p ? o->prompt.p : "", o->prompt.len))
		return 0;
	line_text(o, out, 0);
	trim_right(out);
	plen = o->prompt.len;
	while (plen > 0 && o->prompt.p[plen - 1] == ' ')
		plen--;		/* the line's own trailing blanks were trimmed */
	if (plen > 0 && out->len >= plen && memcmp(out->p, o->prompt.p, plen) == 0) {
		memmove(out->p, out->p + plen, out->len - plen + 1);
		out->len -= plen;
	}
	while (out->len > 0 && out->p[0] == ' ') {
		memmove(out->p, out->p + 1, out->len);
		out->len--;
	}
	if (o->pend_kill)
		sb_clear(out);
	for (int i = 0; i < o->pend_bs; i++)
		(void)sb_backspace(out);
	if (o->pend.len > 0)
		(void)sb_put(o, out, o->pend.p, o->pend.len);
	/* typed exactly, and the screen shows more before it (a garbled
	 * prompt) or only its beginning (the echo lags) */
	if (o->exact && o->typed.len > 0 && out->len > 0 && (out->len != o->typed.len ||
	    memcmp(out->p, o->typed.p, out->len) != 0) &&
	    (ends_with(out->p, out->len, o->typed.p, o->typed.len) ||
	    (out->len < o->typed.len && memcmp(out->p, o->typed.p, out->len) == 0))) {
		sb_clear(out);
		(void)sb_put(o, out, o->typed.p, o->typed.len);
	}
	out->cut |= o->typed.cut && o->exact;
trim:
	end = out->len;
	body = out->p;
	while (start < end && (body[start] == ' ' || body[start] == '\t'))
		start++;
	while (end > start && (body[end - 1] == ' ' || body[end - 1] == '\t' ||
	    body[end - 1] == '\r' || body[end - 1] == '\n'))
		end--;
	if (end == start)
		return 0;
	memmove(out->p, out->p + start, end - start);
	out->len = end - start;
	out->p[out->len] = '\0';
	if (out->len > OBS_CMD_MAX) {
		out->len = OBS_CMD_MAX;
		while (out->len > 0 && ((unsigned char)out->p[out->len] & 0xC0) == 0x80)
			out->len--;
		out->p[out->len] = '\0';
		out->cut = 1;
	}
	return 1;
}

/* An escape sequence of the technician's ended: bracketed paste markers
 * switch the paste flag; anything else edits the line in ways only the
 * screen shows. */
static void
input_sequence(struct obs *o)
{
	o->csi[o->csi_len] = '\0';
	if (o->in == IN_CSI && strcmp(o->csi, "200~") == 0)
		o->paste = 1;
	else if (o->in == IN_CSI && strcmp(o->csi, "201~") == 0)
		o->paste = 0;
	else
		o->exact = 0;
}

size_t
px__obs_input(struct obs *o, const uint8_t *d, size_t n, int fresh, struct obs_cmd *cmd)
{
	size_t i;

	memset(cmd, 0, sizeof(*cmd));
	if (fresh) {
		sb_clear(&o->pend);
		o->pend_bs = 0;
		o->pend_kill = 0;
	}
	for (i = 0; i < n; i++) {
		uint8_t b = d[i];
		int was_cr = o->last_cr;

		o->last_cr = 0;
		switch (o->in) {
		case IN_ESC:
			if (b == '[') {
				o->in = IN_CSI;
				o->csi_len = 0;
			} else if (b == 'O') {
				o->in = IN_SS3;
			} else {
				o->in = IN_TEXT;
				o->exact = 0;	/* Alt-key */
			}
			continue;
		case IN_CSI:
			if (b >= 0x40 && b <= 0x7E) {
				if (o->csi_len < sizeof(o->csi) - 1)
					o->csi[o->csi_len++] = (char)b;
				input_sequence(o);
				o->in = IN_TEXT;
			} else if (o->csi_len < sizeof(o->csi) - 1) {
				o->csi[o->csi_len++] = (char)b;
			}
			continue;
		case IN_SS3:
			o->in = IN_TEXT;
			o->exact = 0;
			continue;
		case IN_TEXT:
			break;
		}
		if (b == '\n' && was_cr)
			continue;		/* CR LF: one Enter */
		if (b == '\r' || b == '\n') {
			int got;

			o->last_cr = b == '\r';
			got = line_extract(o);
			line_reset(o);
			sb_clear(&o->pend);
			o->pend_bs = 0;
			o->pend_kill = 0;
			if (got) {
				cmd->found = 1;
				cmd->text = o->out.p;
				cmd->len = o->out.len;
				cmd->cut = o->out.cut;
				return i + 1;
			}
			continue;
		}
		line_start(o);
		if (!o->pty) {
			if (b != 0)	/* bash drops NUL bytes of its input */
				(void)sb_put(o, &o->raw, (const char *)&d[i], 1);
			continue;
		}
		if (b == 0x1B) {
			o->in = IN_ESC;
		} else if (b == 0x7F || b == 0x08) {
			line_backspace(o);
		} else if (b == 0x15) {
			line_kill(o);
		} else if (b == 0x03 || b == 0x04) {
			if (b == 0x04 && o->typed.len > 0) {
				o->exact = 0;	/* deletes a character */
				continue;
			}
			line_reset(o);		/* abandons the line (or EOF) */
		} else if (b < 0x20) {
			o->exact = 0;		/* Tab, Ctrl-A, ...: only the screen knows */
		} else {
			line_printable(o, (const char *)&d[i], 1);
		}
	}
	return n;
}
