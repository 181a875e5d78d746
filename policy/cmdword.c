/*
 * cmdword.c: reads one shell word: unquoted text, '...', "...", backslash
 * escapes and line continuations, $NAME and ${NAME}, $(...), `...`, <(...)
 * and >(...) (whose bodies are parsed as nested lines), and notes globs and
 * brace, tilde and history expansion.  See cmdline.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/esc_error.h"
#include "policy/cmd_int.h"
#include "policy/policy.h"

/* Appends one byte to b.  Returns 0 or POL_E_NOMEM. */
static int
sb_putc(struct buf *b, char ch)
{
	return buf_put_u8(b, (uint8_t)ch) == ESC_OK ? 0 : POL_E_NOMEM;
}

/* Appends n bytes to b.  Returns 0 or POL_E_NOMEM. */
static int
sb_put(struct buf *b, const char *p, size_t n)
{
	return buf_put(b, p, n) == ESC_OK ? 0 : POL_E_NOMEM;
}

void
pol__wordst_free(struct wordst *w)
{
	buf_free(&w->text);
	buf_free(&w->glob);
	free(w->seg);
	w->seg = NULL;
	w->nseg = w->segcap = 0;
}

void
pol__word_clear(struct pol_word *pw)
{
	free(pw->s);
	free(pw->glob);
	free(pw->seg);
	pw->s = pw->glob = NULL;
	pw->seg = NULL;
	pw->nseg = 0;
}

int
pol__wordst_take(struct wordst *w, struct pol_word *out)
{
	int r = 0;

	if ((out->s = buf_take_str(&w->text, &out->len)) == NULL)
		r = POL_E_NOMEM;
	out->flags = w->flags;
	out->glob = NULL;
	out->seg = w->seg;
	out->nseg = w->nseg;
	w->seg = NULL;
	w->nseg = w->segcap = 0;
	if ((w->flags & POL_W_GLOB) && w->glob.data != NULL &&
	    (out->glob = buf_take_str(&w->glob, NULL)) == NULL)
		r = POL_E_NOMEM;
	buf_free(&w->glob);
	return r;
}

/* Adds a segment covering the last `len` bytes of the word's text.  A
 * literal run extends the previous literal segment; a tilde prefix the
 * previous tilde segment. */
static int
w_seg(struct wordst *w, enum pol_seg_kind kind, size_t len, bool in_dq, char open,
    size_t body, size_t blen)
{
	size_t off = buf_len(&w->text) - len;
	if (w->nseg > 0 && (kind == POL_SEG_LIT || kind == POL_SEG_TILDE)) {
		struct pol_wseg *l = &w->seg[w->nseg - 1];
		if (l->kind == kind && l->off + l->len == off) {
			l->len += len;
			return 0;
		}
	}
	if (w->nseg == w->segcap) {
		size_t cap = w->segcap ? w->segcap * 2 : 4;
		struct pol_wseg *v = realloc(w->seg, cap * sizeof(*v));
		if (v == NULL)
			return POL_E_NOMEM;
		w->seg = v;
		w->segcap = cap;
	}
	w->seg[w->nseg++] = (struct pol_wseg){ .kind = (unsigned char)kind, .in_dq = in_dq,
		.open = open, .off = off, .len = len, .body = body, .blen = blen };
	return 0;
}


/* Parses a nested line (substitution body) from s[0..n) at depth+1. */
static void
cmd_parse_nested(struct parser *P, const char *s, size_t n, size_t base)
{
	if (P->depth + 1 > POL_CMDLINE_DEPTH) {
		pol__cmd_fail(P, POL_E_TOOBIG, base - P->base, "substitutions nested too deeply");
		return;
	}
	struct parser N = { .s = s, .len = n, .base = base, .c = P->c,
		.depth = P->depth + 1, .opts = P->opts };
	pol__cmd_parse_list(&N, 0);
	if (N.err && !P->err)
		P->err = N.err;
	for (size_t k = 0; k < N.nhd; k++)
		free(N.hd[k].delim);
	if (N.nhd && !P->err)
		pol__cmd_fail(P, POL_E_UNPARSABLE, base - P->base, "here-document inside a substitution");
}


/* Appends one character, quoted or not, to the word and its glob form. */
static int
w_char(struct wordst *w, char ch, bool quoted)
{
	int r = sb_putc(&w->text, ch);
	if (r == 0) {
		if (quoted && strchr("*?[]\\", ch) != NULL)
			r = sb_putc(&w->glob, '\\');
		if (r == 0)
			r = sb_putc(&w->glob, ch);
	}
	w->any = true;
	w->tilde_prefix = false;	/* a literal ends the ~user prefix */
	if (quoted) {
		w->flags |= POL_W_QUOTED;
		w->assign_ok = false;
	}
	return r == 0 ? w_seg(w, POL_SEG_LIT, 1, false, 0, 0, 0) : r;
}

/* Appends an unquoted character that means something to the shell (a
 * glob, brace, tilde or assignment character) as a segment of its own. */
static int
w_special(struct wordst *w, char ch, enum pol_seg_kind kind)
{
	int r = sb_putc(&w->text, ch);
	if (r == 0)
		r = sb_putc(&w->glob, ch);
	w->any = true;
	return r == 0 ? w_seg(w, kind, 1, false, 0, 0, 0) : r;
}

/* The word gets the expansion P->s[start .. P->i) verbatim, in its text and
 * glob forms, flagged (POL_W_SUBST or POL_W_VAR); no assignment can follow.
 * Returns 0 or POL_E_NOMEM. */
static int
w_expansion(struct parser *P, struct wordst *w, size_t start, unsigned flag, bool in_dq,
    char open, size_t body, size_t blen)
{
	w->flags |= flag;
	w->assign_ok = false;
	w->tilde_prefix = false;
	w->any = true;
	int r = sb_put(&w->text, P->s + start, P->i - start);
	if (r == 0)
		r = sb_put(&w->glob, P->s + start, P->i - start);
	if (r == 0)
		r = w_seg(w, flag == POL_W_VAR ? POL_SEG_VAR : POL_SEG_SUBST, P->i - start, in_dq,
		    open, P->base + body, blen);
	return r;
}

/* Finds the ')' closing a $( or <( whose body starts at P->i, honouring
 * quotes and nesting.  Returns its index, (size_t)-1 when there is none, or
 * (size_t)-2 at a '#' that starts a word (a comment, which bash would read
 * past any ')'). */
static size_t
find_close_paren(struct parser *P)
{
	int level = 1;
	size_t j = P->i;
	while (j < P->len) {
		char ch = P->s[j];
		if (ch == '\\') {
			j += 2;
			continue;
		}
		if (ch == '\'') {
			const char *q = memchr(P->s + j + 1, '\'', P->len - j - 1);
			if (q == NULL)
				return (size_t)-1;
			j = (size_t)(q - P->s) + 1;
			continue;
		}
		if (ch == '"') {
			j++;
			while (j < P->len && P->s[j] != '"') {
				if (P->s[j] == '\\')
					j++;
				j++;
			}
			if (j >= P->len)
				return (size_t)-1;
			j++;
			continue;
		}
		if (ch == '#' && (j == P->i || strchr(" \t\n;&|()<>", P->s[j - 1]) != NULL))
			return (size_t)-2;	/* a comment: bash reads to the line's end */
		if (ch == '(')
			level++;
		else if (ch == ')' && --level == 0)
			return j;
		j++;
	}
	return (size_t)-1;
}

/* At "$(" "<(" or ">(" (P->i on the '('): parses the body and appends the
 * raw text to the word. */
static int
w_subst(struct parser *P, struct wordst *w, size_t start, bool in_dq)
{
	P->i++;			/* '(' */
	if (peek(P, 0) == '(') {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "arithmetic expansion");
		return 0;
	}
	size_t body = P->i;
	size_t close = find_close_paren(P);
	if (close == (size_t)-2) {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "comment inside a substitution");
		return 0;
	}
	if (close == (size_t)-1) {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "unterminated substitution");
		return 0;
	}
	cmd_parse_nested(P, P->s + body, close - body, P->base + body);
	P->i = close + 1;
	return w_expansion(P, w, start, POL_W_SUBST, in_dq, P->s[start] == '$' ? '$' : P->s[start],
	    body, close - body);
}

/* At '`': parses the body (no escapes inside, for simplicity). */
static int
w_backtick(struct parser *P, struct wordst *w, bool in_dq)
{
	size_t start = P->i;
	const char *q = memchr(P->s + start + 1, '`', P->len - start - 1);
	if (q == NULL) {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "unterminated backquote");
		return 0;
	}
	size_t end = (size_t)(q - P->s);
	if (memchr(P->s + start + 1, '\\', end - start - 1) != NULL) {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "backslash inside backquotes");
		return 0;
	}
	cmd_parse_nested(P, P->s + start + 1, end - start - 1, P->base + start + 1);
	P->i = end + 1;
	/* the caller marks the construct */
	return w_expansion(P, w, start, POL_W_SUBST, in_dq, '$', start + 1, end - start - 1);
}

/*
 * True when the body of ${...} is one of the forms whose meaning does not
 * depend on the values of other variables: [#]NAME, [#]N, a special
 * parameter, or NAME followed by one of :- - := = :+ + :? ? and a plain
 * word.  Substrings, patterns, case changes, transformations (@P runs
 * prompt expansion), indirection (!) and subscripts (arithmetic) are not.
 */
bool
pol__cmd_simple_brace_param(const char *b, size_t n)
{
	size_t i = 0;
	if (n > 1 && b[0] == '#')
		i = 1;
	if (i < n && is_name_start((unsigned char)b[i])) {
		while (i < n && is_name_char((unsigned char)b[i]))
			i++;
	} else if (i < n && isdigit((unsigned char)b[i])) {
		while (i < n && isdigit((unsigned char)b[i]))
			i++;
	} else if (i < n && strchr("@*#?-$!", b[i]) != NULL && b[i] != '\0') {
		i++;
	} else {
		return false;
	}
	if (i == n)
		return true;
	if (b[0] == '#')
		return false;
	if (b[i] == ':')
		i++;
	if (i >= n || strchr("-=+?", b[i]) == NULL)
		return false;
	for (i++; i < n; i++)
		if (strchr("$`{}\"'\\[]()!", b[i]) != NULL)
			return false;
	return true;
}

/* At '$' (unquoted or in double quotes).  Returns 0 or POL_E_NOMEM; parse
 * problems go through pol__cmd_fail(). *cons gets construct bits. */
static int
w_dollar(struct parser *P, struct wordst *w, bool in_dq, unsigned *cons)
{
	size_t start = P->i;
	int n = peek(P, 1);
	if (n == '(') {
		P->i++;
		*cons |= POL_C_SUBST;
		return w_subst(P, w, start, in_dq);
	}
	if (!in_dq && (n == '\'' || n == '"')) {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "$%c quoting", n);
		return 0;
	}
	if (n == '[') {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "arithmetic expansion $[...]");
		return 0;
	}
	if (n == '\\' && peek(P, 2) == '\n') {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "line continuation after $");
		return 0;
	}
	if (n == '{') {
		size_t j = P->i + 2;
		while (j < P->len && P->s[j] != '}')
			j++;
		if (j >= P->len) {
			pol__cmd_fail(P, POL_E_UNPARSABLE, start, "unterminated ${");
			return 0;
		}
		if (!pol__cmd_simple_brace_param(P->s + P->i + 2, j - P->i - 2)) {
			pol__cmd_fail(P, POL_E_UNPARSABLE, start, "complex ${...} expansion");
			return 0;
		}
		P->i = j + 1;
	} else if (is_name_start(n)) {
		P->i++;
		while (is_name_char(peek(P, 0)))
			P->i++;
	} else if (n >= 0 && (isdigit(n) || strchr("@*#?-$!", n) != NULL)) {
		P->i += 2;
	} else {
		/* a lone '$' is literal */
		P->i++;
		return w_char(w, '$', in_dq);
	}
	*cons |= POL_C_VARIABLE;
	return w_expansion(P, w, start, POL_W_VAR, in_dq, 0, 0, 0);
}

/*
 * The length of the bracket expression at s[0] ('['), or 0 when it is not
 * one the renderer passes through unquoted: an optional ! or ^, an
 * optional ] as the first member, then members from a small inert set
 * (letters, digits, _ . , : @ % + -) up to the closing ].
 */
static size_t
bracket_len(const char *s, size_t n)
{
	size_t i = 1;
	if (i < n && (s[i] == '!' || s[i] == '^'))
		i++;
	size_t first = i;
	if (i < n && s[i] == ']')
		i++;
	for (; i < n && s[i] != ']'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c < 128 && isalnum(c)) && (c == 0 || strchr("_.,:@%+-", c) == NULL))
			return 0;
	}
	if (i >= n || i == first)
		return 0;
	return i + 1;
}

static bool
history_bang(struct parser *P)
{
	int n = peek(P, 1);
	return !(n == -1 || is_blank(n) || n == '\n' || n == '=' || n == '(' || n == '"');
}

/*
 * Reads one word at P->i into w.  `cons` collects construct bits.  Returns
 * 0 or POL_E_NOMEM; syntax problems set P->err.
 */
int
pol__cmd_read_word(struct parser *P, struct wordst *w, unsigned *cons, bool first)
{
	int r = 0;
	size_t start = P->i;
	w->assign_ok = first;
	if (peek(P, 0) == '~') {
		w->flags |= POL_W_TILDE;
		*cons |= POL_C_TILDE;
	}
	while (r == 0 && !P->err) {
		int ch = peek(P, 0);
		if ((ch == '<' || ch == '>') && peek(P, 1) == '(' && P->i == start) {
			*cons |= POL_C_PROCSUBST;
			P->i++;
			r = w_subst(P, w, start, false);
			continue;
		}
		if (is_meta(ch))
			break;
		if (ch == '\\') {
			int n = peek(P, 1);
			if (n == -1) {
				pol__cmd_fail(P, POL_E_UNPARSABLE, P->i,
				    "backslash at end of line");
				break;
			}
			if (n == '\n' && w->any) {
				/* bash joins the lines before it reads tokens: inside
				 * a word that can make a keyword, an expansion or a
				 * redirection the parser would not see */
				pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "line continuation inside a word");
				break;
			}
			P->i += 2;
			if (n == '\n')
				continue;	/* line continuation */
			r = w_char(w, (char)n, true);
			continue;
		}
		if (ch == '\'') {
			const char *q = memchr(P->s + P->i + 1, '\'', P->len - P->i - 1);
			if (q == NULL) {
				pol__cmd_fail(P, POL_E_UNPARSABLE, P->i,
				    "unterminated single quote");
				break;
			}
			size_t end = (size_t)(q - P->s);
			for (size_t j = P->i + 1; r == 0 && j < end; j++)
				r = w_char(w, P->s[j], true);
			w->flags |= POL_W_QUOTED;
			w->assign_ok = false;
			w->any = true;
			P->i = end + 1;
			continue;
		}
		if (ch == '"') {
			size_t open = P->i++;
			w->flags |= POL_W_QUOTED;
			w->assign_ok = false;
			w->any = true;
			for (;;) {
				int d = peek(P, 0);
				if (d == -1) {
					pol__cmd_fail(P, POL_E_UNPARSABLE, open, "unterminated double quote");
					break;
				}
				if (d == '"') {
					P->i++;
					break;
				}
				if (d == '\\') {
					int n = peek(P, 1);
					if (n == '$' || n == '`' || n == '"' || n == '\\') {
						r = w_char(w, (char)n, true);
						P->i += 2;
					} else if (n == '\n') {
						pol__cmd_fail(P, POL_E_UNPARSABLE, P->i,
						    "line continuation inside double quotes");
						break;
					} else {
						r = w_char(w, '\\', true);
						P->i++;
					}
				} else if (d == '$') {
					r = w_dollar(P, w, true, cons);
				} else if (d == '`') {
					*cons |= POL_C_BACKTICK;
					r = w_backtick(P, w, true);
				} else {
					if (d == '!' && history_bang(P))
						*cons |= POL_C_HISTORY;
					r = w_char(w, (char)d, true);
					P->i++;
				}
				if (r != 0 || P->err)
					break;
			}
			continue;
		}
		if (ch == '$') {
			r = w_dollar(P, w, false, cons);
			continue;
		}
		if (ch == '`') {
			*cons |= POL_C_BACKTICK;
			r = w_backtick(P, w, false);
			continue;
		}
		/* plain unquoted character */
		enum pol_seg_kind kind = POL_SEG_LIT;
		if (ch == '*' || ch == '?') {
			w->flags |= POL_W_GLOB;
			kind = POL_SEG_GLOB;
		} else if (ch == '[') {
			size_t blen = bracket_len(P->s + P->i, P->len - P->i);
			if (blen > 0) {
				w->flags |= POL_W_GLOB;
				w->tilde_prefix = false;
				w->assign_ok = false;
				r = sb_put(&w->text, P->s + P->i, blen);
				if (r == 0)
					r = sb_put(&w->glob, P->s + P->i, blen);
				if (r == 0)
					r = w_seg(w, POL_SEG_GLOB, blen, false, 0, 0, 0);
				w->any = true;
				P->i += blen;
				continue;
			}
			/* not a bracket the renderer can keep: it reaches the
			 * shell quoted, as the literal the policy then sees */
		} else if (ch == '{')
			w->brace_open = true;
		else if (ch == ',' && w->brace_open)
			w->brace_sep = true;
		else if (ch == '.' && w->brace_open && peek(P, 1) == '.')
			w->brace_sep = true;
		else if (ch == '}' && w->brace_open && w->brace_sep)
			w->flags |= POL_W_BRACE;
		else if (ch == '!' && history_bang(P))
			*cons |= POL_C_HISTORY;
		if (ch == '{' || ch == '}' || ch == ',' || ch == '.')
			kind = POL_SEG_BRACE;
		if (ch == '~' && P->i > start && (P->s[P->i - 1] == '=' || P->s[P->i - 1] == ':')) {
			/* bash expands ~ after = and : in words that look like
			 * assignments */
			pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "tilde after '%c'",
			    P->s[P->i - 1]);
			break;
		}
		if (ch == '~' && P->i == start) {
			kind = POL_SEG_TILDE;
			w->tilde_prefix = true;
		} else if (w->tilde_prefix && (isalnum(ch) || strchr("._+-", ch) != NULL)) {
			kind = POL_SEG_TILDE;
		} else {
			w->tilde_prefix = false;
		}
		if (ch == '=' && w->assign_ok && buf_len(&w->text) > 0 && !w->is_assign) {
			w->is_assign = true;
			kind = POL_SEG_EQ;
		} else if (w->assign_ok && !w->is_assign &&
		    !(buf_len(&w->text) == 0 ? is_name_start(ch) : is_name_char(ch)))
			w->assign_ok = false;
		r = kind == POL_SEG_LIT ? w_char(w, (char)ch, false) : w_special(w, (char)ch, kind);
		P->i++;
	}
	if (w->flags & POL_W_GLOB)
		*cons |= POL_C_GLOB;
	if (w->flags & POL_W_BRACE)
		*cons |= POL_C_BRACE;
	return r;
}

