/* search_text.c: typed input lines and output text of a session, matched
 * across event boundaries (search_text.h). */
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "replay/search_text.h"

#define STX_PEND_MAX 16

/* Escape-sequence states shared by input and output. */
enum stx_esc {
	STX_TEXT,	/* plain text */
	STX_ESC,	/* after ESC */
	STX_CSI,	/* ESC [ ... until a final byte */
	STX_STR,	/* OSC, DCS, APC, PM: until BEL or ESC \ */
	STX_STR_ESC,	/* ESC inside such a string */
	STX_ONE		/* one more byte (ESC O x, ESC ( x, ...) */
};

/* A match waiting for its line's end, for its context. */
struct stx_pend {
	struct search_text_pat *p;
	uint64_t t_ns;
	size_t ms, me;		/* its place in the line */
};

/* One line of one direction of a channel. */
struct stx_line {
	uint8_t buf[SEARCH_TEXT_LINE_MAX];
	size_t len;
	size_t low;		/* bytes before it are matched already */
	enum stx_esc esc;
	struct stx_pend pend[STX_PEND_MAX];
	size_t npend;
};

struct stx_chan {
	uint32_t id;
	int binary;		/* a subsystem: input left out */
	struct stx_line in, out;
};

struct search_text {
	struct search_text_pat *pats;
	size_t npats;
	search_text_hit_fn hit;
	void *arg;
	struct stx_chan **ch;
	size_t nch, capch;
	search_text_line_fn line;	/* NULL: none */
	void *line_arg;
};

int
search_text_is_word(uint8_t c)
{
	return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') ||
	    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

void
search_text_set_line(struct search_text *s, search_text_line_fn fn, void *arg)
{
	s->line = fn;
	s->line_arg = arg;
}

/* Gives l's text to the line function. */
static void
stx_emit(struct search_text *s, enum search_text_kind k,
    const struct stx_line *l)
{
	if (s->line != NULL && l->len > 0)
		s->line(s->line_arg, k, l->buf, l->len);
}

/* Before a backspace in output: gives the run of word bytes that ends l,
 * or that ends before its last byte when that is not a word byte (deleted,
 * it joins that run to what comes next), with what follows it: at most
 * SEARCH_TEXT_PAT_MAX bytes of run (longer, it is long anyway). */
static void
stx_emit_tail(struct search_text *s, const struct stx_line *l)
{
	size_t end = l->len, a;

	if (s->line == NULL || end == 0)
		return;
	if (!search_text_is_word(l->buf[end - 1]))
		end--;
	a = end;
	while (a > 0 && end - a < SEARCH_TEXT_PAT_MAX &&
	    search_text_is_word(l->buf[a - 1]))
		a--;
	if (a < end)
		s->line(s->line_arg, SEARCH_TEXT_OUTPUT, l->buf + a, l->len - a);
}

struct search_text *
search_text_new(struct search_text_pat *pats, size_t n, search_text_hit_fn hit,
    void *arg)
{
	struct search_text *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->pats = pats;
	s->npats = n;
	s->hit = hit;
	s->arg = arg;
	return s;
}

void
search_text_free(struct search_text *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nch; i++)
		free(s->ch[i]);
	free(s->ch);
	free(s);
}

/* The state of channel id, created on first use (NULL: out of memory). */
static struct stx_chan *
stx_chan_get(struct search_text *s, uint32_t id)
{
	struct stx_chan **nv, *c;
	size_t i, cap;

	for (i = 0; i < s->nch; i++)
		if (s->ch[i]->id == id)
			return s->ch[i];
	if (s->nch == s->capch) {
		cap = s->capch ? 2 * s->capch : 4;
		if ((nv = realloc(s->ch, cap * sizeof(*nv))) == NULL)
			return NULL;
		s->ch = nv;
		s->capch = cap;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->id = id;
	s->ch[s->nch++] = c;
	return c;
}

/* Runs c through the escape-sequence state *st.  Returns 1 when c is text
 * (or a control byte outside any sequence), 0 when it belongs to a
 * sequence. */
static int
stx_esc_step(enum stx_esc *st, uint8_t c)
{
	switch (*st) {
	case STX_TEXT:
		if (c != 0x1b)
			return 1;
		*st = STX_ESC;
		return 0;
	case STX_ESC:
		if (c == '[')
			*st = STX_CSI;
		else if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X')
			*st = STX_STR;
		else if (c == 'O' || c == '(' || c == ')' || c == '*' || c == '+' ||
		    c == '#' || c == '%' || c == ' ')
			*st = STX_ONE;
		else
			*st = STX_TEXT;	/* ESC x: Alt+x, or a two-byte sequence */
		return 0;
	case STX_CSI:
		if (c >= 0x40 && c <= 0x7e)
			*st = STX_TEXT;
		return 0;
	case STX_STR:
		if (c == 0x07)
			*st = STX_TEXT;
		else if (c == 0x1b)
			*st = STX_STR_ESC;
		return 0;
	case STX_STR_ESC:
		*st = c == '\\' ? STX_TEXT : STX_STR;
		return 0;
	default:
		*st = STX_TEXT;
		return 0;
	}
}

/* The context of [ms, me) in l into a report. */
static void
stx_report(struct search_text *s, struct search_text_pat *p, uint32_t ch,
    uint64_t t_ns, const struct stx_line *l, size_t ms, size_t me)
{
	size_t a, b;

	if (me > l->len)	/* backspaced over since */
		me = l->len;
	if (ms > me)
		ms = me;
	a = ms > SEARCH_TEXT_CONTEXT ? ms - SEARCH_TEXT_CONTEXT : 0;
	b = me + SEARCH_TEXT_CONTEXT < l->len ? me + SEARCH_TEXT_CONTEXT : l->len;
	/* do not start or end inside a UTF-8 character */
	while (a > 0 && a < ms && (l->buf[a] & 0xc0) == 0x80)
		a--;
	while (b < l->len && b > me && (l->buf[b] & 0xc0) == 0x80)
		b++;
	s->hit(s->arg, p, ch, t_ns, l->buf + a, b - a);
}

/* Reports the matches waiting for the end of l. */
static void
stx_flush(struct search_text *s, uint32_t ch, struct stx_line *l)
{
	size_t i;

	for (i = 0; i < l->npend; i++)
		stx_report(s, l->pend[i].p, ch, l->pend[i].t_ns, l, l->pend[i].ms,
		    l->pend[i].me);
	l->npend = 0;
}

static int
stx_pending(const struct stx_line *l, const struct search_text_pat *p)
{
	size_t i;

	for (i = 0; i < l->npend; i++)
		if (l->pend[i].p == p)
			return 1;
	return 0;
}

/* Matches the patterns of kind k against what changed in l since the last
 * call (from l->low on, with the bytes before it that a match may span);
 * a match waits for the line's end. */
static void
stx_match(struct search_text *s, enum search_text_kind k, uint32_t ch,
    struct stx_line *l, uint64_t t_ns)
{
	struct search_text_pat *p;
	const uint8_t *m;
	size_t i, from;

	for (i = 0; i < s->npats; i++) {
		p = &s->pats[i];
		if (p->kind != k || p->done || p->len == 0 || stx_pending(l, p))
			continue;
		from = l->low >= p->len - 1 ? l->low - (p->len - 1) : 0;
		if (from >= l->len ||
		    (m = memmem(l->buf + from, l->len - from, p->text, p->len)) == NULL)
			continue;
		if (l->npend == STX_PEND_MAX) {
			stx_report(s, p, ch, t_ns, l, (size_t)(m - l->buf),
			    (size_t)(m - l->buf) + p->len);
			continue;
		}
		l->pend[l->npend].p = p;
		l->pend[l->npend].t_ns = t_ns;
		l->pend[l->npend].ms = (size_t)(m - l->buf);
		l->pend[l->npend++].me = (size_t)(m - l->buf) + p->len;
	}
	l->low = l->len;
}

/* Ends line l: matches what is left, reports, starts a new line. */
static void
stx_line_end(struct search_text *s, enum search_text_kind k, uint32_t ch,
    struct stx_line *l, uint64_t t_ns)
{
	stx_match(s, k, ch, l, t_ns);
	stx_flush(s, ch, l);
	stx_emit(s, k, l);
	l->len = l->low = 0;
}

/* Makes room for one byte in a full line: matches and reports what it
 * holds, then keeps the bytes a match may span. */
static void
stx_line_cut(struct search_text *s, enum search_text_kind k, uint32_t ch,
    struct stx_line *l, uint64_t t_ns)
{
	size_t keep = SEARCH_TEXT_PAT_MAX - 1;

	stx_match(s, k, ch, l, t_ns);
	stx_flush(s, ch, l);
	stx_emit(s, k, l);
	memmove(l->buf, l->buf + l->len - keep, keep);
	l->len = l->low = keep;
}

/* Deletes the last character (UTF-8) of l. */
static void
stx_line_backspace(struct stx_line *l)
{
	if (l->len == 0)
		return;
	do
		l->len--;
	while (l->len > 0 && (l->buf[l->len] & 0xc0) == 0x80);
	if (l->low > l->len)
		l->low = l->len;
}

/* ^W: the blanks at the end, then the word before them. */
static void
stx_line_word(struct stx_line *l)
{
	while (l->len > 0 && (l->buf[l->len - 1] == ' ' || l->buf[l->len - 1] == '\t'))
		l->len--;
	while (l->len > 0 && l->buf[l->len - 1] != ' ' && l->buf[l->len - 1] != '\t')
		l->len--;
	if (l->low > l->len)
		l->low = l->len;
}

static void
stx_line_append(struct search_text *s, enum search_text_kind k, uint32_t ch,
    struct stx_line *l, uint8_t c, uint64_t t_ns)
{
	if (l->len == sizeof(l->buf))
		stx_line_cut(s, k, ch, l, t_ns);
	l->buf[l->len++] = c;
}

/* The INPUT bytes of one event: lines as typed, matched when they end. */
static void
stx_input(struct search_text *s, struct stx_chan *c, const uint8_t *p,
    size_t n, uint64_t t_ns)
{
	struct stx_line *l = &c->in;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!stx_esc_step(&l->esc, p[i]))
			continue;
		switch (p[i]) {
		case '\r': case '\n': case 0x03:	/* Enter, ^C */
			stx_line_end(s, SEARCH_TEXT_INPUT, c->id, l, t_ns);
			break;
		case 0x08: case 0x7f:			/* ^H, DEL */
			stx_line_backspace(l);
			break;
		case 0x15:				/* ^U */
			l->len = l->low = 0;
			break;
		case 0x17:				/* ^W */
			stx_line_word(l);
			break;
		default:
			if (p[i] >= 0x20 || p[i] == '\t')
				stx_line_append(s, SEARCH_TEXT_INPUT, c->id, l, p[i],
				    t_ns);
			break;
		}
	}
	/* a line is matched at its end only: editing may still change it */
}

/* The OUTPUT or STDERR bytes of one event: matched as they come. */
static void
stx_output(struct search_text *s, struct stx_chan *c, const uint8_t *p,
    size_t n, uint64_t t_ns)
{
	struct stx_line *l = &c->out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!stx_esc_step(&l->esc, p[i]))
			continue;
		if (p[i] == '\n')
			stx_line_end(s, SEARCH_TEXT_OUTPUT, c->id, l, t_ns);
		else if (p[i] == 0x08) {
			stx_emit_tail(s, l);
			stx_line_backspace(l);
		}
		else if (p[i] >= 0x20 ? p[i] != 0x7f : p[i] == '\t')
			stx_line_append(s, SEARCH_TEXT_OUTPUT, c->id, l, p[i], t_ns);
	}
	stx_match(s, SEARCH_TEXT_OUTPUT, c->id, l, t_ns);
}

static int
stx_wants(const struct search_text *s, enum search_text_kind k)
{
	size_t i;

	if (s->line != NULL)
		return 1;
	for (i = 0; i < s->npats; i++)
		if (s->pats[i].kind == k && !s->pats[i].done)
			return 1;
	return 0;
}

int
search_text_event(struct search_text *s, const struct ev *e)
{
	struct stx_chan *c;
	char action[32];

	if (e->type == EV_CHANNEL) {
		if (ev_fields_get_str(e->data, e->len, EVF_CH_ACTION, action,
		    sizeof(action)) != REC_OK || strcmp(action, "subsystem") != 0)
			return 0;
		if ((c = stx_chan_get(s, e->channel)) == NULL)
			return REC_ENOMEM;
		c->binary = 1;
		return 0;
	}
	if (e->type == EV_INPUT) {
		if (!stx_wants(s, SEARCH_TEXT_INPUT))
			return 0;
		if ((c = stx_chan_get(s, e->channel)) == NULL)
			return REC_ENOMEM;
		if (!c->binary)
			stx_input(s, c, e->data, e->len, e->t_ns);
		return 0;
	}
	if (e->type == EV_OUTPUT || e->type == EV_STDERR) {
		if (!stx_wants(s, SEARCH_TEXT_OUTPUT))
			return 0;
		if ((c = stx_chan_get(s, e->channel)) == NULL)
			return REC_ENOMEM;
		stx_output(s, c, e->data, e->len, e->t_ns);
	}
	return 0;
}

void
search_text_finish(struct search_text *s, uint64_t t_ns)
{
	size_t i;

	for (i = 0; i < s->nch; i++) {
		stx_line_end(s, SEARCH_TEXT_INPUT, s->ch[i]->id, &s->ch[i]->in, t_ns);
		stx_flush(s, s->ch[i]->id, &s->ch[i]->out);
		stx_emit(s, SEARCH_TEXT_OUTPUT, &s->ch[i]->out);
	}
}
