/* observe: the screen model of an observe-mode shell, which reads each
 * command back from what the technician's screen shows when Enter is
 * pressed.  Observe mode is an audit aid, not a boundary: what this module
 * extracts is what the screen showed, and a shell, a program or a
 * technician can make the screen show something else than what runs.
 *
 * The model is libvterm's state layer (parser, cursor, modes, scrolling)
 * under a screen of our own: one code point per cell (combining marks are
 * dropped), no attributes, no scrollback, a flag per row saying that it
 * continues the row above after an automatic wrap, and a second buffer for
 * the alternate screen.
 *
 * Bulk output costs a scan, not an emulation: output made of text, TAB, BS,
 * CR LF, colours (CSI m) and erase-in-line (CSI K) is held back (at most
 * 32 KiB), and of it only the last lines, from the CR LF that has twice the
 * terminal's height in lines after it, are given to libvterm, when the
 * screen is next read (a keystroke, an Enter, a resize): the lines before
 * leave nothing on the screen.  Not while the alternate screen or a scroll
 * region (DECSTBM) is set, where lines may stay.  An 80x24 model allocates
 * about 17 KiB, at most about 50 KiB with held-back output and line buffers
 * grown to their limits (px__obs_mem_bytes).
 *
 * Extraction (koko's rule, with the corrections written here):
 *   - the prompt is what the cursor's logical line (its row with the rows it
 *     continues) showed left of the cursor at the first keystroke of a line;
 *   - at Enter (CR or LF; CR LF counts once) the command is that logical
 *     line, from its first row to its last continuation row, trailing blanks
 *     removed, the prompt removed when the line still starts with it;
 *   - keystrokes of the same input chunk as the Enter that the target has
 *     not echoed yet (a paste, or a client sending the line at once) are
 *     applied to it: printable text appended, Backspace removes one
 *     character, Ctrl-U empties it; earlier keystrokes that were never
 *     echoed (echo off) are not, so a password typed blind is not read;
 *   - when the line was typed with printing keys, Backspace and Ctrl-U only
 *     (its text is known exactly) and the screen shows more text that ends
 *     with it (a prompt garbled by typeahead echoed before it), or only a
 *     non-empty beginning of it (the echo lags behind), the typed text is
 *     the command;
 *   - nothing is extracted: in the alternate screen (full-screen programs),
 *     when the prompt looks like a password prompt (a word such as
 *     "password" or "passphrase" and ending with ':'), for an Enter on a
 *     line without any other keystroke (an empty line, or the Enter after a
 *     bracketed paste whose own newlines were each an Enter), or when the
 *     text is blank.  Ctrl-C and Ctrl-D abandon the line.
 *   - Bracketed paste markers (ESC [ 200 ~, ESC [ 201 ~) are not text; every
 *     CR or LF inside a paste is an Enter of its own.
 * Without a pseudo-terminal (pty 0) nothing is echoed or edited by the
 * target: the command is the line's bytes as typed.
 *
 * Commands longer than OBS_CMD_MAX bytes are cut there (obs_cmd.cut).
 *
 * Ownership: px__obs_new's result belongs to the caller (px__obs_free).  The text of
 * a returned obs_cmd is owned by the model and valid until the next call on
 * it.  No I/O, no clock. */
#ifndef PX_OBSERVE_H
#define PX_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#define OBS_CMD_MAX 4096
#define OBS_DIM_MAX 1000	/* rows or columns beyond this are clamped */

struct obs;

struct obs_cmd {
	int found;		/* 1: an Enter gave a command */
	const char *text;	/* NUL-terminated, UTF-8 as shown */
	size_t len;
	int cut;		/* longer than OBS_CMD_MAX: cut */
};

/* A model of rows x cols (clamped to 1..OBS_DIM_MAX; 0 means 24 x 80).
 * pty 0: the shell has no terminal (see above).  NULL when out of memory. */
struct obs *px__obs_new(int rows, int cols, int pty);
void px__obs_free(struct obs *o);

/* The terminal was resized.  Returns 0, or -1 when out of memory (the model
 * then keeps its old size). */
int px__obs_resize(struct obs *o, int rows, int cols);

/* Bytes the target sent to the technician's terminal (or the proxy wrote to
 * it). */
void px__obs_output(struct obs *o, const uint8_t *d, size_t n);

/* Scans technician input d[0..n) up to the next Enter that gives a command.
 * fresh: d starts a new chunk of input (not the rest of the chunk of the
 * previous call).  Returns the bytes consumed: up to and including that
 * Enter (cmd->found 1, cmd filled), or n (cmd->found 0). */
size_t px__obs_input(struct obs *o, const uint8_t *d, size_t n, int fresh, struct obs_cmd *cmd);

/* Whether the alternate screen is shown. */
int px__obs_in_altscreen(const struct obs *o);

/* The text of screen row `row` (trailing blanks removed), for tests and
 * diagnostics; valid until the next call.  "" when row is out of range. */
const char *px__obs_row_text(struct obs *o, int row);

/* Bytes allocated by the model now (libvterm's and ours). */
size_t px__obs_mem_bytes(const struct obs *o);

#endif
