/* vt_render: a libvterm screen as terminal output (vt_render.h). */
#include <string.h>

#include "proxy/vt_render.h"

/* Appends code point u as UTF-8. */
static void
put_utf8(FILE *f, uint32_t u)
{
	if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0) || u > 0x10ffff)
		u = '?';		/* never a control character on the escort's terminal */
	if (u < 0x80) {
		fputc((int)u, f);
	} else if (u < 0x800) {
		fputc((int)(0xc0 | (u >> 6)), f);
		fputc((int)(0x80 | (u & 0x3f)), f);
	} else if (u < 0x10000) {
		fputc((int)(0xe0 | (u >> 12)), f);
		fputc((int)(0x80 | ((u >> 6) & 0x3f)), f);
		fputc((int)(0x80 | (u & 0x3f)), f);
	} else {
		fputc((int)(0xf0 | (u >> 18)), f);
		fputc((int)(0x80 | ((u >> 12) & 0x3f)), f);
		fputc((int)(0x80 | ((u >> 6) & 0x3f)), f);
		fputc((int)(0x80 | (u & 0x3f)), f);
	}
}

/* SGR parameters of colour c as foreground (base 30) or background (40). */
static void
put_color(FILE *f, const VTermColor *c, int base)
{
	if (base == 30 ? VTERM_COLOR_IS_DEFAULT_FG(c) : VTERM_COLOR_IS_DEFAULT_BG(c))
		return;
	if (VTERM_COLOR_IS_INDEXED(c)) {
		if (c->indexed.idx < 8)
			fprintf(f, ";%d", base + c->indexed.idx);
		else if (c->indexed.idx < 16)
			fprintf(f, ";%d", base + 60 + c->indexed.idx - 8);
		else
			fprintf(f, ";%d;5;%d", base + 8, c->indexed.idx);
	} else if (VTERM_COLOR_IS_RGB(c)) {
		fprintf(f, ";%d;2;%d;%d;%d", base + 8, c->rgb.red, c->rgb.green, c->rgb.blue);
	}
}

/* The SGR sequence of a cell's attributes, from a reset. */
static void
put_sgr(FILE *f, const VTermScreenCell *c)
{
	fputs("\x1b[0", f);
	if (c->attrs.bold)
		fputs(";1", f);
	if (c->attrs.italic)
		fputs(";3", f);
	if (c->attrs.underline)
		fputs(";4", f);
	if (c->attrs.blink)
		fputs(";5", f);
	if (c->attrs.reverse)
		fputs(";7", f);
	if (c->attrs.strike)
		fputs(";9", f);
	put_color(f, &c->fg, 30);
	put_color(f, &c->bg, 40);
	fputc('m', f);
}

static int
same_look(const VTermScreenCell *a, const VTermScreenCell *b)
{
	return a->attrs.bold == b->attrs.bold && a->attrs.italic == b->attrs.italic &&
	    a->attrs.underline == b->attrs.underline && a->attrs.blink == b->attrs.blink &&
	    a->attrs.reverse == b->attrs.reverse && a->attrs.strike == b->attrs.strike &&
	    memcmp(&a->fg, &b->fg, sizeof(a->fg)) == 0 && memcmp(&a->bg, &b->bg, sizeof(a->bg)) == 0;
}

/* Whether the cell shows nothing: blank, default background, no reverse. */
static int
blank(const VTermScreenCell *c)
{
	return (c->chars[0] == 0 || c->chars[0] == ' ') && VTERM_COLOR_IS_DEFAULT_BG(&c->bg) &&
	    !c->attrs.reverse && !c->attrs.underline && !c->attrs.strike;
}

int
px_vt_render(VTerm *vt, int max_rows, FILE *f)
{
	VTermScreen *scr = vterm_obtain_screen(vt);
	VTermState *st = vterm_obtain_state(vt);
	VTermScreenCell cell, cur;
	VTermPos pos, cursor;
	int rows, cols, top, out_row;

	vterm_get_size(vt, &rows, &cols);
	top = max_rows > 0 && rows > max_rows ? rows - max_rows : 0;
	fputs("\x1b[0m\x1b[H\x1b[2J", f);
	for (pos.row = top, out_row = 1; pos.row < rows; pos.row++, out_row++) {
		int last = -1;

		for (pos.col = 0; pos.col < cols; pos.col++)
			if (vterm_screen_get_cell(scr, pos, &cell) && !blank(&cell))
				last = pos.col;
		if (last < 0)
			continue;
		fprintf(f, "\x1b[%d;1H", out_row);
		for (pos.col = 0; pos.col <= last; pos.col++) {
			if (!vterm_screen_get_cell(scr, pos, &cell))
				continue;
			if (cell.width == 0)
				continue;	/* the right half of a wide character */
			if (pos.col == 0 || !same_look(&cell, &cur)) {
				put_sgr(f, &cell);
				cur = cell;
			}
			if (cell.chars[0] == 0)
				fputc(' ', f);
			for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && cell.chars[i] != 0; i++)
				put_utf8(f, cell.chars[i]);
			if (cell.width == 2)
				pos.col++;
		}
	}
	vterm_state_get_cursorpos(st, &cursor);
	if (cursor.row < top)
		cursor.row = top;
	fprintf(f, "\x1b[0m\x1b[%d;%dH", cursor.row - top + 1, cursor.col + 1);
	return ferror(f) ? -1 : 0;
}
