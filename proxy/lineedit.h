/* lineedit: the command line of a strict-mode shell, edited in the proxy.
 *
 * In strict mode the technician's keystrokes at the prompt never reach the
 * target: this module keeps the line, echoes and redraws it on the
 * technician's terminal, and hands over a finished line on Enter.  It is
 * pure (no I/O, no clock, no sessions): bytes in, terminal bytes out, events.
 *
 * Keys (bash's emacs mode): printable text and UTF-8 (display width from
 * wcwidth rules, never splitting a character), Backspace/Ctrl-H, Delete and
 * Ctrl-D on a non-empty line, Left/Right, Ctrl-B/F, Alt-B/F (word), Home/End,
 * Ctrl-A/E, Ctrl-K, Ctrl-U, Ctrl-W, Alt-D, Ctrl-Y (yank the last kill),
 * Ctrl-L (clear screen, redraw), Ctrl-C (abandon the line: LE_CANCEL),
 * Ctrl-D on an empty line (LE_EOF), Up/Down and Ctrl-P/N (history of this
 * session's allowed lines), Ctrl-V (next byte literal: a control byte is
 * inserted and shown as ^X; a newline so inserted never ends the line),
 * Tab (completion of command names and paths is not offered: Tab inserts
 * nothing and never ends the line), Enter (CR or LF; CRLF counts once).
 * Unknown escape sequences are consumed whole and ignored.
 *
 * Paste: between ESC[200~ and ESC[201~ (bracketed paste, which the caller
 * turns on with LE_PASTE_ON while the prompt is shown) everything is literal
 * text; a newline in it starts a new line of the same entry (shown with the
 * continuation prompt "> ") and never submits.  Bytes that follow an Enter in
 * the same le_feed call are a paste too (a terminal without bracketed
 * paste): they are not consumed; the caller feeds them again after the
 * entry's lines were decided, so an entry of several lines is decided whole
 * before any of it runs.
 *
 * Limits: an entry holds at most max_bytes bytes (excess input is refused
 * with a bell and not inserted).
 *
 * Ownership: le_new's result belongs to the caller (le_free).  Strings given
 * to le_* are copied.  Pointers returned by le_entry() stay valid until the
 * next le_feed, le_begin or le_free.  Output bytes are appended to the
 * caller's struct buf; a failed append returns LE_ENOMEM and leaves the
 * editor consistent (the caller ends the session). */
#ifndef PX_LINEEDIT_H
#define PX_LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Terminal modes the caller sends around the prompt. */
#define LE_PASTE_ON  "\033[?2004h"
#define LE_PASTE_OFF "\033[?2004l"

enum le_status { LE_OK = 0, LE_ENOMEM = -1, LE_EINVAL = -2 };

enum le_event {
	LE_NONE,	/* more input needed */
	LE_ENTRY,	/* Enter: le_entry() has the lines; the caller decides */
	LE_CANCEL,	/* Ctrl-C: line abandoned ("^C" and a new line shown) */
	LE_EOF		/* Ctrl-D on an empty line */
};

struct le;

/* A new editor for entries of at most max_bytes bytes; cols is the
 * terminal width (0: 80).  NULL on allocation failure. */
struct le *le_new(size_t max_bytes, int cols);
void le_free(struct le *e);

/* Starts a new entry: prompt (copied, may hold escape sequences; its display
 * width is computed ignoring them) and the empty line are drawn to out. */
int le_begin(struct le *e, const char *prompt, struct buf *out);

/* Starts a new entry holding text (an abandoned or refused entry given back
 * to the technician to edit), cursor at its end. */
int le_begin_with(struct le *e, const char *prompt, const char *text, size_t len, struct buf *out);

/* Feeds n bytes typed by the technician.  Consumes bytes until an event
 * (stored in *ev) or the end; returns the number consumed (< n only when
 * *ev is not LE_NONE), or LE_ENOMEM.  Echo and redraws go to out. */
long le_feed(struct le *e, const uint8_t *d, size_t n, struct buf *out, enum le_event *ev);

/* After LE_ENTRY: the entry's lines, in order, as one string with '\n'
 * between lines (no final newline), its length in *len, and the number of
 * lines in *nlines.  Empty lines are kept. */
const char *le_entry(const struct le *e, size_t *len, size_t *nlines);

/* New width (window-change): the current line is redrawn to out. */
int le_resize(struct le *e, int cols, struct buf *out);

/* Redraws prompt and line on a fresh line (after output arrived while the
 * prompt was shown). */
int le_redraw(struct le *e, struct buf *out);

/* Adds an allowed line to the history (copied; duplicates of the newest
 * entry and empty lines are skipped; at most 500 entries kept). */
int le_history_add(struct le *e, const char *line, size_t len);

#endif
