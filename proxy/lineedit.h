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
 * inserted and shown as ^X; a CR or LF so typed is a line break of the
 * entry, as in a paste, and never ends it), Tab (completion of command names
 * and paths is not offered: Tab rings the bell, inserts nothing and never
 * ends the line), Enter (CR or LF; CRLF counts once, also when the LF comes
 * in the next px__le_feed; the keypad's ESC O M).  Also Alt-Backspace and
 * Ctrl-Left/Right (words), Ctrl-T (transpose characters), Ctrl-R (reverse
 * incremental search of the history, shown in the prompt as bash does;
 * Ctrl-G leaves it with the line as it was, any other key with the match).
 * A recalled history line is edited as a copy: moving to another history
 * line drops the edits (the history changes only by px__le_history_add), Down
 * past the newest brings back the line being typed.  Keys that kill text
 * one after another add to one kill for Ctrl-Y.  Not offered: completion,
 * undo, Alt-. and the other readline commands.  Unknown keys and escape
 * sequences are consumed whole and ignored.
 *
 * Text: the entry is always well-formed UTF-8 without NUL.  Bytes that are
 * not UTF-8 are refused with a bell, NUL is never inserted.  Control bytes
 * in the entry (typed after Ctrl-V or pasted) are shown as ^X, and
 * characters a terminal could act on or that hide text (C1 controls, bidi
 * overrides, zero-width space, ...) as <U+XXXX>, so what the screen shows is
 * what the entry holds.  Widths: proxy/utf8_width.h (no locale).
 *
 * Screen: px__le_begin and px__le_redraw draw at the cursor, which the caller has
 * put at the start of a line.  Lines longer than the width wrap; the editor
 * keeps track of rows itself (deferred autowrap of xterm-like terminals).
 * On LE_ENTRY and LE_EOF the cursor moves past the entry and a new line
 * starts ("\r\n"); on LE_CANCEL "^C\r\n" is shown after the entry.
 *
 * Paste: between ESC[200~ and ESC[201~ (bracketed paste, which the caller
 * turns on with LE_PASTE_ON while the prompt is shown) everything is literal
 * text; a newline in it (CR, LF or CRLF) starts a new line of the same entry
 * (shown with the continuation prompt "> ") and never submits, so a pasted
 * block is decided whole before any of it runs.  Bytes that follow an Enter
 * in the same px__le_feed call (typeahead, or a paste from a terminal without
 * bracketed paste) are not consumed: px__le_feed returns fewer than n, and the
 * caller keeps them and feeds them again after the entry was decided (each
 * line is then an entry of its own).  Nothing typed ahead is lost or passed
 * on unedited.
 *
 * Limits: an entry holds at most max_bytes bytes, line breaks included
 * (excess input is refused whole characters at a time, with one bell per
 * px__le_feed).
 *
 * Ownership: px__le_new's result belongs to the caller (px__le_free).  Strings given
 * to le_* are copied.  Pointers returned by px__le_entry() stay valid until the
 * next px__le_feed, px__le_begin or px__le_free.  Output bytes are appended to the
 * caller's struct buf; a failed append returns LE_ENOMEM and leaves the
 * editor consistent (the caller ends the session, or puts the cursor on a
 * fresh line and calls px__le_redraw; when px__le_feed's *ev reports an event, the
 * entry is closed and what the terminal shows of it is stale: the caller
 * clears from a fresh line down before the next px__le_begin). */
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
	LE_ENTRY,	/* Enter: px__le_entry() has the lines; the caller decides */
	LE_CANCEL,	/* Ctrl-C: line abandoned ("^C" and a new line shown) */
	LE_EOF		/* Ctrl-D on an empty line */
};

struct le;

/* A new editor for entries of at most max_bytes bytes; cols is the
 * terminal width (0 or less: 80; kept within 2..10000).  NULL on allocation
 * failure.  No entry is open until px__le_begin. */
struct le *px__le_new(size_t max_bytes, int cols);
void px__le_free(struct le *e);

/* Starts a new entry: prompt (copied, may hold escape sequences and
 * readline's \001...\002 markers; its display width is computed ignoring
 * them) and the empty line are drawn to out.  LE_OK, LE_EINVAL, LE_ENOMEM. */
int px__le_begin(struct le *e, const char *prompt, struct buf *out);

/* Starts a new entry holding text (an abandoned or refused entry given back
 * to the technician to edit), cursor at its end.  LE_EINVAL when text is
 * longer than max_bytes, not UTF-8 or holds a NUL. */
int px__le_begin_with(struct le *e, const char *prompt, const char *text, size_t len, struct buf *out);

/* Feeds n bytes typed by the technician.  Consumes bytes until an event
 * (stored in *ev, also when the result is LE_ENOMEM) or the end; returns
 * the number consumed (< n only when *ev is not LE_NONE), or LE_ENOMEM, or
 * LE_EINVAL when no entry is open
 * (before px__le_begin, or after an event).  Echo and redraws go to out, once
 * per call: text typed at the end of the line is echoed as is. */
long px__le_feed(struct le *e, const uint8_t *d, size_t n, struct buf *out, enum le_event *ev);

/* After LE_ENTRY: the entry's lines, in order, as one NUL-terminated
 * string with '\n' between lines (no final newline), its length in *len,
 * and the number of lines in *nlines (either may be NULL).  Empty lines are
 * kept.  After LE_CANCEL: the abandoned text. */
const char *px__le_entry(const struct le *e, size_t *len, size_t *nlines);

/* New width (window-change): the current entry is redrawn to out from its
 * first row (the terminal is taken not to reflow it). */
int px__le_resize(struct le *e, int cols, struct buf *out);

/* Redraws prompt and line on a fresh line (after output arrived while the
 * prompt was shown): the caller first puts the cursor at the start of a
 * line (writes "\r\n" unless that output ended with a newline); the rows
 * from there down are cleared.  Nothing is drawn when no entry is open. */
int px__le_redraw(struct le *e, struct buf *out);

/* Adds an allowed line to the history (copied; duplicates of the newest
 * entry and empty lines are skipped; at most 500 entries kept, the oldest
 * dropped).  LE_EINVAL like px__le_begin_with; LE_ENOMEM. */
int px__le_history_add(struct le *e, const char *line, size_t len);

#endif
