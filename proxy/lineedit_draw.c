/* lineedit_draw: where each glyph of the entry goes on the terminal, and the
 * bytes that bring the terminal from what it shows to what the entry is.
 * See lineedit_int.h for the screen model.
 *
 * Redraws are as small as the model allows: text typed at the end of the
 * entry is echoed as is; an edit inside it redraws from the first changed
 * glyph on (cursor keys to it, ESC[J, the rest); a change of width redraws
 * from the entry's first row; Ctrl-L clears the screen first. */
#include <stdio.h>
#include <string.h>

#include "proxy/lineedit_int.h"
#include "proxy/utf8_width.h"

void
px__le_put(struct le *e, const void *p, size_t n)
{
	if (e->err != 0 || n == 0)
		return;
	if (buf_put(e->out, p, n) != 0)
		e->err = LE_ENOMEM;
}

static void
le_puts(struct le *e, const char *s)
{
	px__le_put(e, s, strlen(s));
}

size_t
px__le_prev_char(const struct le *e, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && (e->text[i] & 0xc0) == 0x80)
		i--;
	return i;
}

void
px__le_glyph(const struct le *e, size_t i, struct le_glyph *g)
{
	uint32_t cp = e->text[i];
	int n, w;

	if (cp >= 0x20 && cp < 0x7f) {		/* printable ASCII, the usual */
		g->kind = LE_GL_TEXT;
		g->len = 1;
		g->width = 1;
		g->cp = cp;
		return;
	}
	n = px__utf8_decode(e->text + i, e->len - i, &cp);
	if (n <= 0) {
		/* not reached: the entry is well formed; shown escaped */
		n = 1;
		cp = e->text[i];
	}
	g->len = (size_t)n;
	g->cp = cp;
	if (cp == '\n') {
		g->kind = LE_GL_NL;
		g->width = 0;
		return;
	}
	w = n > 0 ? px__utf8_width(cp) : -1;
	/* a combining mark with no character before it on its line would join
	 * the prompt: shown escaped */
	if (w == 0 && (i == 0 || e->text[i - 1] == '\n'))
		w = -1;
	if (w >= 0) {
		g->kind = LE_GL_TEXT;
		g->width = w;
	} else if (cp < 0x20 || cp == 0x7f) {
		g->kind = LE_GL_CTRL;
		g->width = 2;
	} else {
		char tmp[16];

		g->kind = LE_GL_ESC;
		g->width = snprintf(tmp, sizeof(tmp), "<U+%04X>", (unsigned)cp);
	}
}

/* The bytes that show glyph g at text index i: a pointer into the entry
 * or into tmp. */
static const char *
glyph_bytes(const struct le *e, size_t i, const struct le_glyph *g,
    char tmp[16], size_t *n)
{
	switch (g->kind) {
	case LE_GL_CTRL:
		tmp[0] = '^';
		tmp[1] = (char)(g->cp ^ 0x40);
		*n = 2;
		return tmp;
	case LE_GL_ESC:
		*n = (size_t)snprintf(tmp, 16, "<U+%04X>", (unsigned)g->cp);
		return tmp;
	case LE_GL_NL:
		*n = 0;
		return tmp;
	case LE_GL_TEXT:
		break;
	}
	*n = g->len;
	return (const char *)e->text + i;
}

/* Moves p past a glyph of w columns; a wide one never splits over rows. */
static void
pos_advance(const struct le *e, struct le_pos *p, int w, int wide)
{
	if (w <= 0)
		return;
	if (wide && p->col + w > e->cols) {
		p->row++;
		p->col = 0;
	}
	p->col += w;
	if (p->col < e->cols) {
		p->wrapped = 0;
		return;
	}
	p->row += (size_t)(p->col / e->cols);
	p->col %= e->cols;
	p->wrapped = p->col == 0;
}

/* A line break: the next row (the current one when the last glyph filled
 * a row), then the continuation prompt. */
static void
pos_newline(const struct le *e, struct le_pos *p)
{
	if (!p->wrapped)
		p->row++;
	p->col = 0;
	p->wrapped = 0;
	pos_advance(e, p, (int)strlen(LE_CONT_PROMPT), 0);
}

static void
pos_glyph(const struct le *e, struct le_pos *p, const struct le_glyph *g)
{
	if (g->kind == LE_GL_NL)
		pos_newline(e, p);
	else
		pos_advance(e, p, g->width, g->kind == LE_GL_TEXT && g->width == 2);
}

static int prompt_next(const uint8_t *p, size_t n, size_t *ip);

/* Where the prompt ends: its characters placed one by one (a wide one
 * does not split over rows either). */
static struct le_pos
prompt_end(const struct le *e)
{
	struct le_pos p = { 0, 0, 0 };
	size_t i = 0;

	while (i < e->prompt_len) {
		int w = prompt_next((const uint8_t *)e->prompt, e->prompt_len, &i);

		pos_advance(e, &p, w, w == 2);
	}
	return p;
}

void
px__le_relayout(struct le *e)
{
	e->lay_idx = 0;
	e->lay_pos = prompt_end(e);
}

struct le_pos
px__le_layout(struct le *e, size_t i)
{
	struct le_glyph g;
	struct le_pos p;
	size_t j;

	if (e->lay_idx > i)
		px__le_relayout(e);
	p = e->lay_pos;
	for (j = e->lay_idx; j < i && j < e->len; j += g.len) {
		px__le_glyph(e, j, &g);
		pos_glyph(e, &p, &g);
	}
	e->lay_idx = j;
	e->lay_pos = p;
	return p;
}

void
px__le_changed(struct le *e, size_t i)
{
	if (e->lay_idx > i)
		px__le_relayout(e);
	if (e->redraw == LE_RD_NONE) {
		e->redraw = LE_RD_TAIL;
		e->dirty = i;
	} else if (e->redraw == LE_RD_TAIL && i < e->dirty) {
		e->dirty = i;
	}
}

/* Cursor keys from the terminal's cursor to p (both real positions). */
static void
move_to(struct le *e, struct le_pos to)
{
	struct le_pos from = e->scr;
	char s[32];

	if (to.row < from.row) {
		if (from.row - to.row == 1)
			le_puts(e, "\033[A");
		else {
			snprintf(s, sizeof(s), "\033[%zuA", from.row - to.row);
			le_puts(e, s);
		}
	} else if (to.row > from.row) {
		if (to.row - from.row == 1)
			le_puts(e, "\033[B");
		else {
			snprintf(s, sizeof(s), "\033[%zuB", to.row - from.row);
			le_puts(e, s);
		}
	}
	if (to.col == 0 && from.col != 0)
		le_puts(e, "\r");
	else if (to.col > from.col) {
		if (to.col - from.col == 1)
			le_puts(e, "\033[C");
		else {
			snprintf(s, sizeof(s), "\033[%dC", to.col - from.col);
			le_puts(e, s);
		}
	} else if (to.col < from.col) {
		if (from.col - to.col == 1)
			le_puts(e, "\b");
		else {
			snprintf(s, sizeof(s), "\033[%dD", from.col - to.col);
			le_puts(e, s);
		}
	}
	e->scr = to;
	e->scr.wrapped = 0;
}

/* Draws the entry from text index i, which is drawn at p, the terminal's
 * cursor; with_prompt: the prompt first (i is 0 and p the entry's first
 * column).  Leaves the cursor after the entry, never wrapped-pending. */
static void
draw_from(struct le *e, size_t i, struct le_pos p, int with_prompt)
{
	struct le_glyph g;
	int pending = 0;	/* the terminal's cursor waits in the last column */
	size_t run = i;		/* text glyphs from run to i go out in one piece */
	char tmp[16];
	const char *b;
	size_t n;

	if (with_prompt) {
		px__le_put(e, e->prompt, e->prompt_len);
		p = prompt_end(e);
		pending = p.wrapped;
	}
	for (; i < e->len; i += g.len) {
		px__le_glyph(e, i, &g);
		if (g.kind == LE_GL_TEXT) {
			if (g.width > 0) {
				pos_glyph(e, &p, &g);
				pending = p.wrapped;
			}
			continue;
		}
		px__le_put(e, e->text + run, i - run);
		run = i + g.len;
		if (g.kind == LE_GL_NL) {
			le_puts(e, p.wrapped && !pending ? "\r" : "\r\n");
			le_puts(e, LE_CONT_PROMPT);
			pos_newline(e, &p);
			pending = p.wrapped;
			continue;
		}
		b = glyph_bytes(e, i, &g, tmp, &n);
		px__le_put(e, b, n);
		pos_glyph(e, &p, &g);
		pending = p.wrapped;
	}
	px__le_put(e, e->text + run, i - run);
	if (pending)
		le_puts(e, "\r\n");
	e->lay_idx = e->len;
	e->lay_pos = p;
	e->scr = p;
	e->scr.wrapped = 0;
}

int
px__le_flush(struct le *e)
{
	static const struct le_pos origin = { 0, 0, 0 };
	struct le_pos p;
	size_t i;

	switch (e->redraw) {
	case LE_RD_CLEAR:
		le_puts(e, "\033[H\033[2J");
		e->scr = origin;
		draw_from(e, 0, origin, 1);
		break;
	case LE_RD_FRESH:
		e->scr = origin;
		draw_from(e, 0, origin, 1);
		break;
	case LE_RD_ALL:
		move_to(e, origin);
		le_puts(e, "\033[J");
		draw_from(e, 0, origin, 1);
		break;
	case LE_RD_TAIL:
		i = e->dirty < e->len ? e->dirty : e->len;
		/* a combining mark is drawn again with its base */
		while (i > 0 && i < e->len) {
			struct le_glyph g;

			px__le_glyph(e, i, &g);
			if (g.kind != LE_GL_TEXT || g.width != 0)
				break;
			i = px__le_prev_char(e, i);
		}
		p = px__le_layout(e, i);
		move_to(e, p);
		if (i < e->shown)
			le_puts(e, "\033[J");
		draw_from(e, i, p, 0);
		break;
	case LE_RD_NONE:
		break;
	}
	e->redraw = LE_RD_NONE;
	e->shown = e->len;
	move_to(e, px__le_layout(e, e->cur));
	if (e->bell) {
		le_puts(e, "\a");
		e->bell = 0;
	}
	return e->err;
}

/* Steps over the next piece of a prompt at p[*i]: returns its columns
 * (0 for escape sequences, readline's \001...\002 markers and controls). */
static int
prompt_next(const uint8_t *p, size_t n, size_t *ip)
{
	size_t i = *ip;
	uint32_t cp;
	int k, w = 0;

	if (p[i] == 0x01) {		/* \001 ... \002: invisible */
		while (i < n && p[i] != 0x02)
			i++;
		i++;
	} else if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '[') {
		for (i += 2; i < n && (p[i] < 0x40 || p[i] > 0x7e); i++)
			;
		i++;
	} else if (p[i] == 0x1b && i + 1 < n && p[i + 1] == ']') {
		/* OSC, to BEL or ESC \ */
		for (i += 2; i < n && p[i] != 0x07 && p[i] != 0x1b; i++)
			;
		i += (i + 1 < n && p[i] == 0x1b) ? 2 : 1;
	} else if (p[i] == 0x1b) {
		i += 2;
	} else if (p[i] < 0x20 || p[i] == 0x7f) {
		i++;
	} else if ((k = px__utf8_decode(p + i, n - i, &cp)) > 0) {
		w = px__utf8_width(cp);
		w = w > 0 ? w : 0;
		i += (size_t)k;
	} else {
		w = 1;
		i++;
	}
	*ip = i < n ? i : n;
	return w;
}

int
px__le_prompt_width(const char *s, size_t n)
{
	size_t i = 0;
	int w = 0;

	while (i < n)
		w += prompt_next((const uint8_t *)s, n, &i);
	return w;
}
