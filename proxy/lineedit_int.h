/* lineedit_int.h: the line editor's state, shared by lineedit.c (input,
 * keys, edits) and lineedit_draw.c (layout and terminal output).  Internal
 * to libescort-proxy; tests and the fuzzer read it to check invariants.
 *
 * The entry is one buffer of well-formed UTF-8 without NUL: text[0..len),
 * its lines separated by '\n', NUL-terminated at text[len].  cur is a byte
 * offset on a character boundary, 0 <= cur <= len <= max_bytes.
 *
 * Screen model: rows are counted from the entry's first row (the prompt's),
 * columns from 0 to cols-1.  A position after a glyph that ended in the last
 * column is "wrapped": (row + 1, 0), where the next glyph goes, while the
 * terminal's cursor still waits in the last column (deferred wrap).  The
 * drawing code never leaves the terminal in that state: it writes "\r\n"
 * after such a glyph when nothing follows, so that every position it moves
 * to with cursor keys exists on the screen. */
#ifndef PX_LINEEDIT_INT_H
#define PX_LINEEDIT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proxy/lineedit.h"

#define LE_HISTORY_MAX	500
#define LE_SEQ_MAX	16	/* bytes of an escape sequence kept */
#define LE_CONT_PROMPT	"> "
#define LE_COLS_MIN	2
#define LE_COLS_MAX	10000
#define LE_QUERY_MAX	128	/* bytes of a Ctrl-R search */

/* Input states: what the next byte means. */
enum le_in {
	LE_IN_TEXT,	/* ground: text or a key */
	LE_IN_ESC,	/* after ESC */
	LE_IN_CSI,	/* after ESC [ */
	LE_IN_SS3,	/* after ESC O */
	LE_IN_LNEXT	/* after Ctrl-V: the next byte is literal */
};

/* A place on the screen (see the model above). */
struct le_pos {
	size_t row;
	int col;
	int wrapped;
};

/* What a glyph of the entry looks like. */
enum le_glyph_kind {
	LE_GL_TEXT,	/* a printable character, written as is */
	LE_GL_NL,	/* a line break: new row and the continuation prompt */
	LE_GL_CTRL,	/* a C0 control or DEL, shown as ^X */
	LE_GL_ESC	/* a character shown as <U+XXXX> */
};

struct le_glyph {
	enum le_glyph_kind kind;
	size_t len;		/* bytes in the entry */
	int width;		/* columns (0 for a combining mark) */
	uint32_t cp;
};

/* Redraw needed at the end of a feed, largest first. */
enum px__le_redraw {
	LE_RD_NONE,	/* at most a cursor move */
	LE_RD_TAIL,	/* from text index dirty on */
	LE_RD_FRESH,	/* prompt and text at the cursor, on a fresh line */
	LE_RD_ALL,	/* prompt and text from the entry's first row */
	LE_RD_CLEAR	/* clear the screen, then everything */
};

struct le {
	size_t max_bytes;
	int cols;
	char *prompt;
	size_t prompt_len;
	int prompt_w;

	uint8_t *text;
	size_t len, cap, cur;
	int active;		/* an entry is being edited */
	enum le_event ev;	/* set by Enter, Ctrl-C, Ctrl-D */

	/* input */
	enum le_in in;
	uint8_t seq[LE_SEQ_MAX];	/* escape sequence or UTF-8 being read */
	size_t seqlen;
	int seq_long;		/* the escape sequence overflowed seq: ignored */
	uint8_t u8[4];		/* UTF-8 character being read */
	size_t u8len;
	int paste;		/* inside ESC[200~ ... ESC[201~ */
	size_t paste_end;	/* bytes of ESC[201~ matched */
	int paste_cr;		/* a pasted CR: a following LF is the same break */
	int skip_lf;		/* an Enter by CR ended the last feed */

	/* kill buffer (Ctrl-Y) */
	uint8_t *kill;
	size_t kill_len, kill_cap;
	int kill_prev, kill_now;	/* consecutive kills append */

	/* history, oldest first */
	char *hist[LE_HISTORY_MAX];
	size_t hist_len[LE_HISTORY_MAX];
	size_t nhist, hpos;	/* hpos == nhist: the line being typed */
	uint8_t *draft;		/* that line while older ones are shown */
	size_t draft_len;

	/* Ctrl-R search (lineedit_search.c) */
	int search;		/* searching: the prompt shows the query */
	char query[LE_QUERY_MAX];
	size_t qlen;
	size_t spos;		/* history line of the match (nhist: none) */
	char *sprompt;		/* the entry's own prompt while searching */
	uint8_t *stext;		/* the line when the search began */
	size_t stext_len, scur, shpos;

	/* display */
	struct le_pos scr;	/* the terminal's cursor (never wrapped-pending) */
	enum px__le_redraw redraw;
	size_t dirty;		/* LE_RD_TAIL: first index to draw again */
	size_t shown;		/* text bytes on the screen after the last draw */
	int bell;
	size_t lay_idx;		/* layout cache: text index lay_idx ... */
	struct le_pos lay_pos;	/* ... is drawn at lay_pos */

	struct buf *out;
	int err;		/* LE_ENOMEM seen */
};

/* Decodes the glyph at text index i < e->len. */
void px__le_glyph(const struct le *e, size_t i, struct le_glyph *g);

/* Where text index i (a glyph boundary, <= len) is drawn. */
struct le_pos px__le_layout(struct le *e, size_t i);

/* Marks text from index i on as changed (layout cache, tail redraw). */
void px__le_changed(struct le *e, size_t i);

/* Forgets the layout cache after a change of width or prompt. */
void px__le_relayout(struct le *e);

/* Start of the character before text index i > 0. */
size_t px__le_prev_char(const struct le *e, size_t i);

/* Brings the screen up to date with the entry and the cursor: writes the
 * redraw pending, a bell if one is due, and the cursor move.  LE_OK or
 * LE_ENOMEM (an append to e->out failed). */
int px__le_flush(struct le *e);

/* Appends bytes to e->out; on failure records LE_ENOMEM in e->err. */
void px__le_put(struct le *e, const void *p, size_t n);

/* Replaces the whole text (whole characters), cursor at its end
 * (lineedit.c). */
void px__le_set_text(struct le *e, const uint8_t *p, size_t n);

/* Ctrl-R, reverse incremental search of the history (lineedit_search.c).
 * While e->search is set the prompt reads (reverse-i-search)`QUERY': and
 * the line shows the newest history line holding QUERY.  start begins a
 * search (or, searching, goes on to an older match); add appends typed
 * characters to the query; back drops its last character; end leaves the
 * search, keeping the match as the line to edit (keep) or bringing back
 * the line as it was (Ctrl-G). */
void px__le_search_start(struct le *e);
void px__le_search_add(struct le *e, const uint8_t *p, size_t n);
void px__le_search_back(struct le *e);
void px__le_search_end(struct le *e, int keep);

/* Display width of a prompt: escape sequences (CSI, OSC), bytes between
 * \001 and \002 (readline's invisible markers) and controls count 0. */
int px__le_prompt_width(const char *p, size_t n);

#endif
