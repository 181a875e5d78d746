/* export_text.c: "export --format text" through the screen model
 * (export_text.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/export_text.h"
#include "replay/screen_at.h"

struct xtext {
	FILE *f;
	struct screen_run s;
	char *line;		/* one row as UTF-8 */
	size_t cap;
	/* an erase-display sequence being read: 0 none, 1 after ESC, 2 in
	 * CSI with param (-1 none yet) */
	int esc;
	int param;
	int pty;		/* a pseudo-terminal was requested */
};

/* Writes cells[0..cols) as one line, trailing blanks removed. */
static void
xtext_cells(struct xtext *x, int cols, const VTermScreenCell *cells)
{
	size_t len = 0;
	uint32_t c;
	int i, k;

	for (i = 0; i < cols; i++) {
		for (k = 0; k < VTERM_MAX_CHARS_PER_CELL; k++) {
			c = cells[i].chars[k];
			if (c == 0 || c == (uint32_t)-1 || c > 0x10ffff)
				break;
			if (len + 4 >= x->cap)
				break;
			if (c < 0x80) {
				x->line[len++] = (char)c;
			} else if (c < 0x800) {
				x->line[len++] = (char)(0xc0 | c >> 6);
				x->line[len++] = (char)(0x80 | (c & 0x3f));
			} else if (c < 0x10000) {
				x->line[len++] = (char)(0xe0 | c >> 12);
				x->line[len++] = (char)(0x80 | ((c >> 6) & 0x3f));
				x->line[len++] = (char)(0x80 | (c & 0x3f));
			} else {
				x->line[len++] = (char)(0xf0 | c >> 18);
				x->line[len++] = (char)(0x80 | ((c >> 12) & 0x3f));
				x->line[len++] = (char)(0x80 | ((c >> 6) & 0x3f));
				x->line[len++] = (char)(0x80 | (c & 0x3f));
			}
		}
		if (k == 0 && cells[i].chars[0] != (uint32_t)-1 && len + 1 < x->cap)
			x->line[len++] = ' ';
	}
	while (len > 0 && x->line[len - 1] == ' ')
		len--;
	fwrite(x->line, 1, len, x->f);
	fputc('\n', x->f);
}

static int
xtext_pushline(int cols, const VTermScreenCell *cells, void *user)
{
	xtext_cells(user, cols, cells);
	return 1;
}

static const VTermScreenCallbacks xtext_cbs = {
	.sb_pushline = xtext_pushline,
};

/* Writes the screen's rows up to the last that is not empty. */
static void
xtext_screen(struct xtext *x)
{
	VTermScreen *s;
	VTermScreenCell *cells;
	VTermRect rect;
	VTermPos p;
	int row, last = -1, rows = x->s.m.rows, cols = x->s.m.cols;

	vtm_flush(&x->s.m);
	s = vterm_obtain_screen(x->s.m.vt);
	if ((cells = calloc((size_t)cols, sizeof(*cells))) == NULL)
		return;
	for (row = 0; row < rows; row++) {
		rect = (VTermRect){ row, row + 1, 0, cols };
		if (vterm_screen_get_text(s, x->line, x->cap - 1, rect) > 0)
			last = row;
	}
	for (row = 0; row <= last; row++) {
		for (p.row = row, p.col = 0; p.col < cols; p.col++)
			vterm_screen_get_cell(s, p, &cells[p.col]);
		xtext_cells(x, cols, cells);
	}
	free(cells);
}

/* Opens the model at the first output, with scrollback going to f. */
static int
xtext_open(struct xtext *x)
{
	if (x->s.open)
		return 0;
	if (vtm_open(&x->s.m, (int)x->s.rows, (int)x->s.cols) != 0)
		return -1;
	x->s.open = 1;
	x->s.m.exact = 1;
	vterm_screen_set_callbacks(vterm_obtain_screen(x->s.m.vt), &xtext_cbs, x);
	/* without a pseudo-terminal the target writes bare line feeds, which
	 * the technician's terminal showed as new lines (its own ONLCR) */
	if (!x->pty)
		return vtm_write(&x->s.m, (const uint8_t *)"\033[20h", 5);
	return 0;
}

/* 1 when the erase display with param p (-1: none) clears the screen. */
static int
xtext_clears(struct xtext *x, int p)
{
	VTermPos cur;

	if (p == 2 || p == 3)
		return 1;
	if (p > 0)
		return 0;
	vtm_flush(&x->s.m);
	vterm_state_get_cursorpos(vterm_obtain_state(x->s.m.vt), &cur);
	return cur.row == 0 && cur.col == 0;
}

/* Feeds output, writing the screen out before each clear. */
static int
xtext_output(struct xtext *x, const uint8_t *p, size_t n)
{
	size_t i, from = 0, start = 0;

	if (xtext_open(x) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		switch (x->esc) {
		case 0:
			if ((x->esc = p[i] == 0x1b))
				start = i;
			break;
		case 1:
			x->esc = p[i] == '[' ? 2 : p[i] == 0x1b;
			if (p[i] == 0x1b)
				start = i;
			x->param = -1;
			break;
		default:
			if (p[i] >= '0' && p[i] <= '9' && x->param < 1000) {
				x->param = (x->param < 0 ? 0 : x->param * 10) + p[i] - '0';
				break;
			}
			if ((x->esc = p[i] == 0x1b))
				start = i;
			if (p[i] != 'J')
				break;
			/* an erase display: the model gets what came before it
			 * (a sequence begun in an earlier event is pending in it
			 * and changes nothing yet) */
			if (start < from)
				start = from;
			if (vtm_write(&x->s.m, p + from, start - from) != 0)
				return -1;
			if (xtext_clears(x, x->param))
				xtext_screen(x);
			from = start;
			break;
		}
	}
	return vtm_write(&x->s.m, p + from, n - from);
}

int
replay_export_text(FILE *f, struct tr *r)
{
	struct xtext x = { .f = f };
	char act[16];
	struct ev e;
	int rc;

	x.s.cols = 80;
	x.s.rows = 24;
	x.cap = VTM_MAX_DIM * 8 + 1;
	if ((x.line = malloc(x.cap)) == NULL)
		return REC_ENOMEM;
	while ((rc = tr_next(r, &e)) == 1) {
		if (e.type == EV_OUTPUT || e.type == EV_STDERR) {
			if (xtext_output(&x, e.data, e.len) != 0) {
				rc = REC_ENOMEM;
				break;
			}
		} else if ((e.type == EV_CHANNEL && ev_fields_get_str(e.data, e.len,
		    EVF_CH_ACTION, act, sizeof(act)) == REC_OK &&
		    strcmp(act, "pty") == 0 && (x.pty = 1) == 0) ||
		    screen_apply(&x.s, &e) != 0) {
			rc = REC_ENOMEM;
			break;
		}
	}
	if (rc == 0 && x.s.open)
		xtext_screen(&x);
	screen_run_free(&x.s);
	free(x.line);
	return rc < 0 ? rc : 0;
}
