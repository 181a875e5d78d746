/* lineedit: the strict-mode command line (see lineedit.h).
 *
 * Input is read byte by byte by a small state machine (enum le_in in
 * lineedit_int.h): text, ESC, CSI, SS3, after Ctrl-V, plus the bracketed
 * paste mode that takes everything literally up to ESC[201~.  Keys are found
 * in tables (control bytes, Alt-keys, CSI and SS3 sequences) and run as
 * key_* functions that edit the entry; the screen is brought up to date once
 * per px__le_feed call by lineedit_draw.c. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/lineedit.h"
#include "proxy/lineedit_int.h"
#include "proxy/utf8_width.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef void le_key_fn(struct le *e);

/* ---- the entry's text ------------------------------------------------ */

/* Whether p[0..n) is well-formed UTF-8 without NUL (what an entry holds). */
static int
le_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	uint32_t cp;
	int k;

	while (i < n) {
		k = px__utf8_decode(p + i, n - i, &cp);
		if (k <= 0 || cp == 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/* Room for need bytes of text and its NUL. */
static int
text_reserve(struct le *e, size_t need)
{
	size_t cap = e->cap ? e->cap : 64;
	uint8_t *p;

	if (need < e->cap)
		return 0;
	while (cap <= need) {
		if (cap > SIZE_MAX / 2) {
			cap = need + 1;
			break;
		}
		cap *= 2;
	}
	p = realloc(e->text, cap);
	if (p == NULL) {
		e->err = LE_ENOMEM;
		return LE_ENOMEM;
	}
	e->text = p;
	e->cap = cap;
	return 0;
}

static int
is_mark(const struct le *e, size_t i)
{
	struct le_glyph g;

	px__le_glyph(e, i, &g);
	return g.kind == LE_GL_TEXT && g.width == 0;
}

/* Text from index i on changes (called before the change): a combining
 * mark there is drawn joined to the character before it, so that one is
 * drawn again too. */
static void
le_changing(struct le *e, size_t i)
{
	if (i > 0 && i < e->len && is_mark(e, i))
		i = px__le_prev_char(e, i);
	px__le_changed(e, i);
}

/* Inserts whole characters at the cursor; over max_bytes: a bell and
 * nothing inserted. */
static void
le_insert(struct le *e, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (e->search) {
		px__le_search_add(e, p, n);
		return;
	}
	if (n > e->max_bytes - e->len) {
		e->bell = 1;
		return;
	}
	if (text_reserve(e, e->len + n) != 0)
		return;
	le_changing(e, e->cur);
	memmove(e->text + e->cur + n, e->text + e->cur, e->len - e->cur);
	memcpy(e->text + e->cur, p, n);
	e->len += n;
	e->text[e->len] = '\0';
	e->cur += n;
}

/* Saves text[from..to) in the kill buffer: appended (dir > 0) or
 * prepended (dir < 0) when the previous key killed too. */
static void
kill_save(struct le *e, size_t from, size_t to, int dir)
{
	size_t n = to - from, keep = e->kill_prev ? e->kill_len : 0;

	if (keep + n > e->kill_cap) {
		uint8_t *p = realloc(e->kill, keep + n);

		if (p == NULL) {
			e->err = LE_ENOMEM;
			return;
		}
		e->kill = p;
		e->kill_cap = keep + n;
	}
	if (dir > 0) {
		memcpy(e->kill + keep, e->text + from, n);
	} else {
		memmove(e->kill + n, e->kill, keep);
		memcpy(e->kill, e->text + from, n);
	}
	e->kill_len = keep + n;
	e->kill_now = 1;
}

/* Removes text[from..to) (character boundaries); kill: 0, or the
 * direction for kill_save. */
static void
le_cut(struct le *e, size_t from, size_t to, int kill)
{
	if (from >= to)
		return;
	if (kill != 0)
		kill_save(e, from, to, kill);
	le_changing(e, from);
	memmove(e->text + from, e->text + to, e->len - to);
	e->len -= to - from;
	e->text[e->len] = '\0';
	if (e->cur >= to)
		e->cur -= to - from;
	else if (e->cur > from)
		e->cur = from;
}

void
px__le_set_text(struct le *e, const uint8_t *p, size_t n)
{
	size_t same = 0;

	if (text_reserve(e, n) != 0)
		return;
	while (same < n && same < e->len && e->text[same] == p[same])
		same++;
	while (same > 0 && same < e->len && (e->text[same] & 0xc0) == 0x80)
		same--;
	le_changing(e, same);
	memcpy(e->text + same, p + same, n - same);
	e->len = n;
	e->text[n] = '\0';
	e->cur = n;
}

/* ---- motion ------------------------------------------------------------ */

/* A character with the combining marks after it moves as one. */
static size_t
next_cluster(const struct le *e, size_t i)
{
	struct le_glyph g;

	if (i >= e->len)
		return e->len;
	px__le_glyph(e, i, &g);
	i += g.len;
	if (g.kind == LE_GL_NL)
		return i;
	while (i < e->len && is_mark(e, i)) {
		px__le_glyph(e, i, &g);
		i += g.len;
	}
	return i;
}

static size_t
prev_cluster(const struct le *e, size_t i)
{
	size_t j, k;

	if (i == 0)
		return 0;
	j = px__le_prev_char(e, i);
	while (j > 0 && is_mark(e, j)) {
		k = px__le_prev_char(e, j);
		if (e->text[k] == '\n')
			break;
		j = k;
	}
	return j;
}

static size_t
line_start(const struct le *e, size_t i)
{
	while (i > 0 && e->text[i - 1] != '\n')
		i--;
	return i;
}

static size_t
line_end(const struct le *e, size_t i)
{
	while (i < e->len && e->text[i] != '\n')
		i++;
	return i;
}

/* Words of Alt-B/F/D: letters and digits; any non-ASCII byte is a letter
 * (so a move never stops inside a character). */
static int
is_word(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
	    (b >= 'A' && b <= 'Z') || b >= 0x80;
}

static size_t
word_fwd(const struct le *e, size_t i)
{
	while (i < e->len && !is_word(e->text[i]))
		i++;
	while (i < e->len && is_word(e->text[i]))
		i++;
	return i;
}

static size_t
word_back(const struct le *e, size_t i)
{
	while (i > 0 && !is_word(e->text[i - 1]))
		i--;
	while (i > 0 && is_word(e->text[i - 1]))
		i--;
	return i;
}

/* Ctrl-W's word: up to the previous space or tab (unix-word-rubout). */
static size_t
blank_word_back(const struct le *e, size_t i)
{
	while (i > 0 && (e->text[i - 1] == ' ' || e->text[i - 1] == '\t'))
		i--;
	while (i > 0 && e->text[i - 1] != ' ' && e->text[i - 1] != '\t')
		i--;
	return i;
}

/* ---- keys ------------------------------------------------------------- */

static void key_enter(struct le *e) { e->ev = LE_ENTRY; }
static void key_cancel(struct le *e) { e->ev = LE_CANCEL; }
static void key_left(struct le *e) { e->cur = prev_cluster(e, e->cur); }
static void key_right(struct le *e) { e->cur = next_cluster(e, e->cur); }
static void key_home(struct le *e) { e->cur = line_start(e, e->cur); }
static void key_end(struct le *e) { e->cur = line_end(e, e->cur); }
static void key_word_left(struct le *e) { e->cur = word_back(e, e->cur); }
static void key_word_right(struct le *e) { e->cur = word_fwd(e, e->cur); }
static void key_bell(struct le *e) { e->bell = 1; }
static void key_esc(struct le *e) { e->in = LE_IN_ESC; }
static void key_lnext(struct le *e) { e->in = LE_IN_LNEXT; }
static void key_clear(struct le *e) { e->redraw = LE_RD_CLEAR; }

static void
key_delete(struct le *e)
{
	le_cut(e, e->cur, next_cluster(e, e->cur), 0);
}

static void
key_ctrl_d(struct le *e)
{
	if (e->len == 0)
		e->ev = LE_EOF;
	else
		key_delete(e);
}

/* Keeps the line being typed while history lines are shown. */
static int
save_draft(struct le *e)
{
	uint8_t *d = malloc(e->len + 1);

	if (d == NULL) {
		e->err = LE_ENOMEM;
		return LE_ENOMEM;
	}
	memcpy(d, e->text, e->len);
	free(e->draft);
	e->draft = d;
	e->draft_len = e->len;
	return 0;
}

static void
key_backspace(struct le *e)
{
	if (e->search)
		px__le_search_back(e);
	else
		le_cut(e, prev_cluster(e, e->cur), e->cur, 0);
}

/* Ctrl-R: search the history backwards (again: an older match). */
static void
key_search(struct le *e)
{
	if (!e->search && e->hpos == e->nhist && save_draft(e) != 0)
		return;
	px__le_search_start(e);
}

/* Ctrl-G: leaves a search, the line as it was before; else a bell. */
static void
key_abort(struct le *e)
{
	if (e->search)
		px__le_search_end(e, 0);
	else
		e->bell = 1;
}

/* Ctrl-K: to the end of the line; at its end, the line break. */
static void
key_kill_eol(struct le *e)
{
	size_t end = line_end(e, e->cur);

	if (end == e->cur && end < e->len)
		end++;
	le_cut(e, e->cur, end, 1);
}

static void
key_kill_bol(struct le *e)
{
	le_cut(e, line_start(e, e->cur), e->cur, -1);
}

static void
key_kill_blank_word(struct le *e)
{
	le_cut(e, blank_word_back(e, e->cur), e->cur, -1);
}

static void
key_kill_word(struct le *e)
{
	le_cut(e, e->cur, word_fwd(e, e->cur), 1);
}

static void
key_kill_word_back(struct le *e)
{
	le_cut(e, word_back(e, e->cur), e->cur, -1);
}

/* Ctrl-T: swaps the characters before and under the cursor (the last two
 * at the end of a line) and moves past them; never across a line break. */
static void
key_transpose(struct le *e)
{
	size_t start = line_start(e, e->cur), a, b, c;
	uint8_t tmp[64];

	c = e->cur == line_end(e, e->cur) ? e->cur : next_cluster(e, e->cur);
	b = prev_cluster(e, c);
	a = prev_cluster(e, b);
	if (c - a > sizeof(tmp) || a < start || a == b || b == c) {
		e->bell = 1;
		return;
	}
	le_changing(e, a);
	memcpy(tmp, e->text + b, c - b);
	memcpy(tmp + (c - b), e->text + a, b - a);
	memcpy(e->text + a, tmp, c - a);
	e->cur = c;
}

static void
key_yank(struct le *e)
{
	le_insert(e, e->kill, e->kill_len);
}

static void
key_up(struct le *e)
{
	if (e->hpos == 0) {
		e->bell = 1;
		return;
	}
	if (e->hpos == e->nhist && save_draft(e) != 0)
		return;
	e->hpos--;
	px__le_set_text(e, (const uint8_t *)e->hist[e->hpos], e->hist_len[e->hpos]);
}

static void
key_down(struct le *e)
{
	if (e->hpos >= e->nhist) {
		e->bell = 1;
		return;
	}
	e->hpos++;
	if (e->hpos < e->nhist)
		px__le_set_text(e, (const uint8_t *)e->hist[e->hpos], e->hist_len[e->hpos]);
	else if (e->draft != NULL)
		px__le_set_text(e, e->draft, e->draft_len);
	else
		px__le_set_text(e, (const uint8_t *)"", 0);
}

static void
key_paste_begin(struct le *e)
{
	e->paste = 1;
	e->paste_end = 0;
	e->paste_cr = 0;
}

/* Control bytes typed outside a paste; NULL: ignored. */
static le_key_fn *const le_ctrl_keys[32] = {
	[0x01] = key_home,		/* Ctrl-A */
	[0x02] = key_left,		/* Ctrl-B */
	[0x03] = key_cancel,		/* Ctrl-C */
	[0x04] = key_ctrl_d,		/* Ctrl-D */
	[0x05] = key_end,		/* Ctrl-E */
	[0x06] = key_right,		/* Ctrl-F */
	[0x07] = key_abort,		/* Ctrl-G */
	[0x08] = key_backspace,		/* Ctrl-H */
	[0x09] = key_bell,		/* Tab: no completion */
	[0x0a] = key_enter,		/* LF */
	[0x0b] = key_kill_eol,		/* Ctrl-K */
	[0x0c] = key_clear,		/* Ctrl-L */
	[0x0d] = key_enter,		/* CR */
	[0x0e] = key_down,		/* Ctrl-N */
	[0x10] = key_up,		/* Ctrl-P */
	[0x12] = key_search,		/* Ctrl-R */
	[0x14] = key_transpose,		/* Ctrl-T */
	[0x15] = key_kill_bol,		/* Ctrl-U */
	[0x16] = key_lnext,		/* Ctrl-V */
	[0x17] = key_kill_blank_word,	/* Ctrl-W */
	[0x19] = key_yank,		/* Ctrl-Y */
	[0x1b] = key_esc,
};

/* ESC followed by one byte (Alt or Meta keys). */
static const struct le_alt_key {
	uint8_t key;
	le_key_fn *fn;
} le_alt_keys[] = {
	{ 'b', key_word_left }, { 'B', key_word_left },
	{ 'f', key_word_right }, { 'F', key_word_right },
	{ 'd', key_kill_word }, { 'D', key_kill_word },
	{ 0x7f, key_kill_word_back }, { 0x08, key_kill_word_back },
};

/* ESC [ NUM ; MOD FINAL (an absent NUM or MOD is 1). */
static const struct le_csi_key {
	uint8_t final;
	int num, mod;
	le_key_fn *fn;
} le_csi_keys[] = {
	{ 'A', 1, 1, key_up }, { 'B', 1, 1, key_down },
	{ 'C', 1, 1, key_right }, { 'D', 1, 1, key_left },
	{ 'H', 1, 1, key_home }, { 'F', 1, 1, key_end },
	{ 'C', 1, 3, key_word_right }, { 'D', 1, 3, key_word_left },	/* Alt */
	{ 'C', 1, 5, key_word_right }, { 'D', 1, 5, key_word_left },	/* Ctrl */
	{ '~', 1, 1, key_home }, { '~', 7, 1, key_home },
	{ '~', 4, 1, key_end }, { '~', 8, 1, key_end },
	{ '~', 3, 1, key_delete },
	{ '~', 200, 1, key_paste_begin },
};

/* ESC O FINAL (application cursor keys; M is the keypad's Enter). */
static const struct le_alt_key le_ss3_keys[] = {
	{ 'A', key_up }, { 'B', key_down }, { 'C', key_right }, { 'D', key_left },
	{ 'H', key_home }, { 'F', key_end }, { 'M', key_enter },
};

/* Runs one key: a kill right after a kill adds to the same kill (ESC and
 * Ctrl-V only start a key). */
static void
run_key(struct le *e, le_key_fn *fn)
{
	if (fn == key_esc || fn == key_lnext) {
		fn(e);
		return;
	}
	/* a key that is not the search's own ends the search, keeping its
	 * match, and then does what it does */
	if (e->search && fn != NULL && fn != key_search && fn != key_abort &&
	    fn != key_backspace)
		px__le_search_end(e, 1);
	e->kill_prev = e->kill_now;
	e->kill_now = 0;
	if (fn != NULL)
		fn(e);
}

static le_key_fn *
find_key(const struct le_alt_key *t, size_t n, uint8_t b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].key == b)
			return t[i].fn;
	return NULL;
}

static void
csi_key(struct le *e, uint8_t final)
{
	int v[2] = { 0, 0 };
	size_t i, field = 0;

	for (i = 0; i < e->seqlen; i++) {
		uint8_t c = e->seq[i];

		if (c >= '0' && c <= '9') {
			if (v[field] < 100000)
				v[field] = v[field] * 10 + (c - '0');
		} else if (c == ';' && field == 0) {
			field = 1;
		} else {
			return;		/* private or unknown: ignored */
		}
	}
	if (v[0] == 0)
		v[0] = 1;
	if (v[1] == 0)
		v[1] = 1;
	for (i = 0; i < NELEM(le_csi_keys); i++)
		if (le_csi_keys[i].final == final && le_csi_keys[i].num == v[0] &&
		    le_csi_keys[i].mod == v[1]) {
			run_key(e, le_csi_keys[i].fn);
			return;
		}
}

/* ---- input ------------------------------------------------------------ */

/* A byte of a character: printable ASCII, or part of a UTF-8 sequence
 * (inserted when complete; a malformed one is dropped with a bell). */
static void
text_byte(struct le *e, uint8_t b)
{
	uint32_t cp;
	int r;

	if (e->u8len == 0 && b < 0x80) {
		le_insert(e, &b, 1);
		return;
	}
	if (e->u8len == 0 && px__utf8_seqlen(b) == 0) {
		e->bell = 1;
		return;
	}
	e->u8[e->u8len++] = b;
	r = px__utf8_decode(e->u8, e->u8len, &cp);
	if (r < 0 && e->u8len < sizeof(e->u8))
		return;
	if (r > 0)
		le_insert(e, e->u8, e->u8len);
	else
		e->bell = 1;
	e->u8len = 0;
}

/* A character cut short by a byte that cannot continue it is dropped. */
static void
text_break(struct le *e, uint8_t b)
{
	if (e->u8len > 0 && (b & 0xc0) != 0x80) {
		e->u8len = 0;
		e->bell = 1;
	}
}

static void
ground_byte(struct le *e, uint8_t b)
{
	text_break(e, b);
	if (b >= 0x20 && b != 0x7f) {
		run_key(e, NULL);
		text_byte(e, b);
	} else {
		run_key(e, b == 0x7f ? key_backspace : le_ctrl_keys[b]);
	}
}

/* After Ctrl-V: a control byte goes in as is (CR or LF as a line break of
 * the entry, never an Enter); NUL is refused. */
static void
lnext_byte(struct le *e, uint8_t b)
{
	static const uint8_t nl = '\n';

	if (b >= 0x20 && b != 0x7f) {
		ground_byte(e, b);
		return;
	}
	text_break(e, b);
	run_key(e, NULL);
	if (b == '\r' || b == '\n')
		le_insert(e, &nl, 1);
	else if (b == 0)
		e->bell = 1;
	else
		le_insert(e, &b, 1);
}

/* A pasted byte (not part of the end marker): literal text; CR, LF and
 * CRLF are one line break; NUL is dropped. */
static void
paste_text(struct le *e, uint8_t b)
{
	static const uint8_t nl = '\n';
	int cr = e->paste_cr;

	text_break(e, b);
	run_key(e, NULL);
	e->paste_cr = b == '\r';
	if (b == '\n' && cr)
		return;
	if (b == '\r' || b == '\n')
		le_insert(e, &nl, 1);
	else if (b == 0)
		e->bell = 1;
	else if (b < 0x20 || b == 0x7f)
		le_insert(e, &b, 1);
	else
		text_byte(e, b);
}

static const char le_paste_end[] = "\033[201~";

static void
paste_byte(struct le *e, uint8_t b)
{
	size_t i, k;

	if (e->paste_end > 0 || b == 0x1b) {
		if (b == (uint8_t)le_paste_end[e->paste_end]) {
			if (++e->paste_end == sizeof(le_paste_end) - 1) {
				e->paste = 0;
				e->paste_end = 0;
				e->paste_cr = 0;
				text_break(e, 0);
			}
			return;
		}
		/* not the end marker after all: what matched was text */
		k = e->paste_end;
		e->paste_end = 0;
		for (i = 0; i < k; i++)
			paste_text(e, (uint8_t)le_paste_end[i]);
		if (b == 0x1b) {
			e->paste_end = 1;
			return;
		}
	}
	paste_text(e, b);
}

static void
feed_byte(struct le *e, uint8_t b)
{
	le_key_fn *fn;

	if (e->paste) {
		paste_byte(e, b);
		return;
	}
	switch (e->in) {
	case LE_IN_TEXT:
		ground_byte(e, b);
		break;
	case LE_IN_ESC:
		e->in = LE_IN_TEXT;
		if (b == '[') {
			e->in = LE_IN_CSI;
			e->seqlen = 0;
			e->seq_long = 0;
		} else if (b == 'O') {
			e->in = LE_IN_SS3;
		} else if (b == 0x1b) {
			e->in = LE_IN_ESC;
		} else if ((fn = find_key(le_alt_keys, NELEM(le_alt_keys), b)) != NULL) {
			run_key(e, fn);
		} else if (b < 0x20) {
			ground_byte(e, b);	/* ESC then a control key: the key */
		}
		break;
	case LE_IN_CSI:
		if (b >= 0x40 && b <= 0x7e) {
			e->in = LE_IN_TEXT;
			if (!e->seq_long)
				csi_key(e, b);
		} else if (b >= 0x20 && b < 0x40) {
			if (e->seqlen < sizeof(e->seq))
				e->seq[e->seqlen++] = b;
			else
				e->seq_long = 1;
		} else {
			e->in = LE_IN_TEXT;	/* broken off: b is a key */
			ground_byte(e, b);
		}
		break;
	case LE_IN_SS3:
		e->in = LE_IN_TEXT;
		if (b >= 0x40 && b <= 0x7e)
			run_key(e, find_key(le_ss3_keys, NELEM(le_ss3_keys), b));
		else if (b < 0x20 || b == 0x7f)
			ground_byte(e, b);
		break;
	case LE_IN_LNEXT:
		e->in = LE_IN_TEXT;
		lnext_byte(e, b);
		break;
	}
}

/* Leaves the entry after an event: cursor to its end, then a new line
 * ("^C" first for a cancel). */
static void
le_finish(struct le *e)
{
	struct le_pos end;

	e->cur = e->len;
	px__le_flush(e);
	end = px__le_layout(e, e->len);
	if (e->ev == LE_CANCEL)
		px__le_put(e, "^C\r\n", 4);
	else if (!end.wrapped)
		px__le_put(e, "\r\n", 2);
	e->active = 0;
	e->in = LE_IN_TEXT;
	e->u8len = 0;
	e->paste = 0;
	e->paste_end = 0;
}

/* ---- API ---------------------------------------------------------------- */

static int
clamp_cols(int cols)
{
	if (cols <= 0)
		return 80;
	if (cols < LE_COLS_MIN)
		return LE_COLS_MIN;
	return cols > LE_COLS_MAX ? LE_COLS_MAX : cols;
}

struct le *
px__le_new(size_t max_bytes, int cols)
{
	struct le *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->max_bytes = max_bytes;
	e->cols = clamp_cols(cols);
	if (text_reserve(e, 0) != 0) {
		free(e);
		return NULL;
	}
	e->text[0] = '\0';
	px__le_relayout(e);
	return e;
}

void
px__le_free(struct le *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nhist; i++)
		free(e->hist[i]);
	free(e->text);
	free(e->prompt);
	free(e->kill);
	free(e->draft);
	free(e->sprompt);
	free(e->stext);
	free(e);
}

int
px__le_begin(struct le *e, const char *prompt, struct buf *out)
{
	return px__le_begin_with(e, prompt, "", 0, out);
}

int
px__le_begin_with(struct le *e, const char *prompt, const char *text, size_t len,
    struct buf *out)
{
	char *p;

	if (e == NULL || prompt == NULL || out == NULL || (text == NULL && len > 0))
		return LE_EINVAL;
	if (len > e->max_bytes || !le_valid((const uint8_t *)text, len))
		return LE_EINVAL;
	e->err = 0;
	if ((p = strdup(prompt)) == NULL || text_reserve(e, len) != 0) {
		free(p);
		return LE_ENOMEM;
	}
	if (e->search) {
		free(e->sprompt);
		free(e->stext);
		e->sprompt = NULL;
		e->stext = NULL;
		e->search = 0;
	}
	free(e->prompt);
	e->prompt = p;
	e->prompt_len = strlen(p);
	e->prompt_w = px__le_prompt_width(p, e->prompt_len);
	if (len > 0)
		memcpy(e->text, text, len);
	e->len = e->cur = len;
	e->text[len] = '\0';
	e->active = 1;
	e->ev = LE_NONE;
	e->in = LE_IN_TEXT;
	e->u8len = 0;
	e->paste = 0;
	e->paste_end = 0;
	e->paste_cr = 0;
	e->kill_prev = e->kill_now = 0;
	e->hpos = e->nhist;
	free(e->draft);
	e->draft = NULL;
	e->draft_len = 0;
	e->bell = 0;
	e->shown = 0;
	e->redraw = LE_RD_FRESH;
	px__le_relayout(e);
	e->out = out;
	return px__le_flush(e);
}

long
px__le_feed(struct le *e, const uint8_t *d, size_t n, struct buf *out, enum le_event *ev)
{
	size_t i = 0;

	if (ev != NULL)
		*ev = LE_NONE;
	if (e == NULL || (d == NULL && n > 0) || out == NULL || ev == NULL ||
	    n > LONG_MAX || !e->active)
		return LE_EINVAL;
	e->out = out;
	e->err = 0;
	if (e->skip_lf && n > 0) {
		e->skip_lf = 0;
		if (d[0] == '\n')
			i = 1;
	}
	for (; i < n && e->ev == LE_NONE && e->err == 0; i++) {
		feed_byte(e, d[i]);
		/* CRLF is one Enter, also when the LF comes in the next feed */
		if (e->ev == LE_ENTRY && d[i] == '\r') {
			if (i + 1 == n)
				e->skip_lf = 1;
			else if (d[i + 1] == '\n')
				i++;
		}
	}
	if (e->ev != LE_NONE)
		le_finish(e);
	else
		px__le_flush(e);
	*ev = e->ev;	/* also on LE_ENOMEM: an event closes the entry */
	if (e->err != 0)
		return LE_ENOMEM;
	return (long)i;
}

const char *
px__le_entry(const struct le *e, size_t *len, size_t *nlines)
{
	size_t i, lines = 1;

	if (e == NULL)
		return NULL;
	for (i = 0; i < e->len; i++)
		lines += e->text[i] == '\n';
	if (len != NULL)
		*len = e->len;
	if (nlines != NULL)
		*nlines = lines;
	return (const char *)e->text;
}

int
px__le_resize(struct le *e, int cols, struct buf *out)
{
	if (e == NULL || out == NULL)
		return LE_EINVAL;
	cols = clamp_cols(cols);
	if (cols == e->cols)
		return LE_OK;
	e->cols = cols;
	px__le_relayout(e);
	if (!e->active)
		return LE_OK;
	e->out = out;
	e->err = 0;
	if (e->redraw < LE_RD_ALL)
		e->redraw = LE_RD_ALL;
	return px__le_flush(e);
}

int
px__le_redraw(struct le *e, struct buf *out)
{
	if (e == NULL || out == NULL)
		return LE_EINVAL;
	if (!e->active)
		return LE_OK;
	e->out = out;
	e->err = 0;
	/* the rows below may still show parts of the entry: cleared */
	e->scr.row = 0;
	e->scr.col = 0;
	e->redraw = LE_RD_ALL;
	return px__le_flush(e);
}

int
px__le_history_add(struct le *e, const char *line, size_t len)
{
	size_t old = e != NULL ? e->nhist : 0;
	char *copy;

	if (e == NULL || (line == NULL && len > 0))
		return LE_EINVAL;
	if (len == 0)
		return LE_OK;
	if (len > e->max_bytes || !le_valid((const uint8_t *)line, len))
		return LE_EINVAL;
	if (old > 0 && e->hist_len[old - 1] == len &&
	    memcmp(e->hist[old - 1], line, len) == 0)
		return LE_OK;
	if ((copy = malloc(len + 1)) == NULL)
		return LE_ENOMEM;
	memcpy(copy, line, len);
	copy[len] = '\0';
	if (e->nhist == LE_HISTORY_MAX) {
		free(e->hist[0]);
		memmove(e->hist, e->hist + 1, (LE_HISTORY_MAX - 1) * sizeof(e->hist[0]));
		memmove(e->hist_len, e->hist_len + 1,
		    (LE_HISTORY_MAX - 1) * sizeof(e->hist_len[0]));
		e->nhist--;
		if (e->hpos > 0 && e->hpos < old)
			e->hpos--;
	}
	e->hist[e->nhist] = copy;
	e->hist_len[e->nhist] = len;
	e->nhist++;
	if (e->hpos >= old)
		e->hpos = e->nhist;
	return LE_OK;
}
