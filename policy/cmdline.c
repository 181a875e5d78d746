/*
 * cmdline.c: the small POSIX-shell parser behind every command decision.
 * See cmdline.h for the contract.  A recursive descent over the bytes: a
 * list is simple commands joined by operators; a simple command is words,
 * assignments and redirections; a word is unquoted, '…', "…" and $… parts.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cmdline.h"
#include "policy/policy.h"

struct sbuf {
	char *p;
	size_t n, cap;
};

struct heredoc {
	char *delim;
	bool quoted, strip_tabs;
	size_t simple;		/* index of the command it belongs to */
};

struct parser {
	const char *s;
	size_t len, i;
	size_t base;		/* offset of s within the whole line */
	struct pol_cmdline *c;
	struct heredoc hd[16];
	size_t nhd;
	int err;
	int depth;
	unsigned opts;
};

static const struct {
	unsigned bit;
	const char *name;
} construct_names[] = {
	{ POL_C_LIST, "list" }, { POL_C_PIPE, "pipe" },
	{ POL_C_BACKGROUND, "background" }, { POL_C_SUBST, "substitution" },
	{ POL_C_BACKTICK, "backticks" }, { POL_C_PROCSUBST, "process-substitution" },
	{ POL_C_REDIRECT, "redirect" }, { POL_C_REDIR_FD, "fd-redirect" },
	{ POL_C_HEREDOC, "heredoc" }, { POL_C_ASSIGN, "assignment" },
	{ POL_C_VARIABLE, "variable" }, { POL_C_VAR_CMD, "variable-command" },
	{ POL_C_GLOB_CMD, "glob-command" }, { POL_C_GLOB, "glob" },
	{ POL_C_BRACE, "brace" }, { POL_C_HISTORY, "history" },
	{ POL_C_COMMENT, "comment" }, { POL_C_TILDE, "tilde" },
};

const char *
pol_construct_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(construct_names) / sizeof(construct_names[0]); i++)
		if (construct_names[i].bit == bit)
			return construct_names[i].name;
	return "?";
}

unsigned
pol_construct_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(construct_names) / sizeof(construct_names[0]); i++)
		if (strcmp(construct_names[i].name, name) == 0)
			return construct_names[i].bit;
	return 0;
}

/* ---- small helpers ------------------------------------------------------ */

static int
sb_put(struct sbuf *b, const char *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (np == NULL)
			return POL_E_NOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static int
sb_putc(struct sbuf *b, char ch)
{
	return sb_put(b, &ch, 1);
}

static void
fail(struct parser *P, int err, size_t at, const char *fmt, ...)
{
	if (P->err)
		return;
	P->err = err;
	P->c->error = err;
	P->c->err_offset = P->base + at;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(P->c->err_msg, sizeof(P->c->err_msg), fmt, ap);
	va_end(ap);
}

static int
peek(struct parser *P, size_t k)
{
	return P->i + k < P->len ? (unsigned char)P->s[P->i + k] : -1;
}

static bool
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* Skips blanks and backslash-newline continuations. */
static void
skip_blanks(struct parser *P)
{
	for (;;) {
		int ch = peek(P, 0);
		if (is_blank(ch))
			P->i++;
		else if (ch == '\\' && peek(P, 1) == '\n')
			P->i += 2;
		else
			return;
	}
}

/* Characters that end an unquoted word. */
static bool
is_meta(int ch)
{
	return ch == -1 || ch == ' ' || ch == '\t' || ch == '\n' || ch == ';' ||
	    ch == '&' || ch == '|' || ch == '<' || ch == '>' || ch == '(' || ch == ')';
}

static bool
is_name_start(int ch)
{
	return ch == '_' || (ch >= 0 && ch < 128 && isalpha(ch));
}

static bool
is_name_char(int ch)
{
	return ch == '_' || (ch >= 0 && ch < 128 && isalnum(ch));
}

static void
simple_clear(struct pol_simple *sc)
{
	for (size_t i = 0; i < sc->nwords; i++) {
		free(sc->words[i].s);
		free(sc->words[i].glob);
	}
	free(sc->words);
	for (size_t i = 0; i < sc->nassign; i++)
		free(sc->assign[i]);
	free(sc->assign);
	for (size_t i = 0; i < sc->nredirs; i++)
		free(sc->redirs[i].target);
	free(sc->redirs);
	memset(sc, 0, sizeof(*sc));
}

void
pol_cmdline_free(struct pol_cmdline *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsimple; i++)
		simple_clear(&c->simple[i]);
	free(c->simple);
	free(c);
}

static int parse_list(struct parser *P, int term);

/* Parses a nested line (substitution body) from s[0..n) at depth+1. */
static void
parse_nested(struct parser *P, const char *s, size_t n, size_t base)
{
	if (P->depth + 1 > POL_CMDLINE_DEPTH) {
		fail(P, POL_E_TOOBIG, base - P->base, "substitutions nested too deeply");
		return;
	}
	struct parser N = { .s = s, .len = n, .base = base, .c = P->c,
		.depth = P->depth + 1, .opts = P->opts };
	parse_list(&N, 0);
	if (N.err && !P->err)
		P->err = N.err;
	for (size_t k = 0; k < N.nhd; k++)
		free(N.hd[k].delim);
	if (N.nhd && !P->err)
		fail(P, POL_E_UNPARSABLE, base - P->base, "here-document inside a substitution");
}

/* ---- words -------------------------------------------------------------- */

struct wordst {
	struct sbuf text, glob;
	unsigned flags;
	bool any;		/* at least one part (even an empty quoted one) */
	bool assign_ok;		/* so far an unquoted NAME */
	bool is_assign;
	bool brace_open, brace_sep;
};

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
	if (quoted) {
		w->flags |= POL_W_QUOTED;
		w->assign_ok = false;
	}
	return r;
}

/* Finds the ')' closing a $( or <( whose body starts at P->i, honouring
 * quotes and nesting.  Returns its index or (size_t)-1. */
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
w_subst(struct parser *P, struct wordst *w, size_t start)
{
	P->i++;			/* '(' */
	if (peek(P, 0) == '(') {
		fail(P, POL_E_UNPARSABLE, start, "arithmetic expansion");
		return 0;
	}
	size_t body = P->i;
	size_t close = find_close_paren(P);
	if (close == (size_t)-1) {
		fail(P, POL_E_UNPARSABLE, start, "unterminated substitution");
		return 0;
	}
	parse_nested(P, P->s + body, close - body, P->base + body);
	P->i = close + 1;
	w->flags |= POL_W_SUBST;
	w->assign_ok = false;
	w->any = true;
	int r = sb_put(&w->text, P->s + start, P->i - start);
	if (r == 0)
		r = sb_put(&w->glob, P->s + start, P->i - start);
	return r;
}

/* At '`': parses the body (no escapes inside, for simplicity). */
static int
w_backtick(struct parser *P, struct wordst *w)
{
	size_t start = P->i;
	const char *q = memchr(P->s + start + 1, '`', P->len - start - 1);
	if (q == NULL) {
		fail(P, POL_E_UNPARSABLE, start, "unterminated backquote");
		return 0;
	}
	size_t end = (size_t)(q - P->s);
	if (memchr(P->s + start + 1, '\\', end - start - 1) != NULL) {
		fail(P, POL_E_UNPARSABLE, start, "backslash inside backquotes");
		return 0;
	}
	parse_nested(P, P->s + start + 1, end - start - 1, P->base + start + 1);
	P->i = end + 1;
	w->flags |= POL_W_SUBST;
	w->assign_ok = false;
	w->any = true;
	/* the caller marks the construct */
	int r = sb_put(&w->text, P->s + start, P->i - start);
	if (r == 0)
		r = sb_put(&w->glob, P->s + start, P->i - start);
	return r;
}

/* At '$' (unquoted or in double quotes).  Returns 0 or POL_E_NOMEM; parse
 * problems go through fail(). *cons gets construct bits. */
static int
w_dollar(struct parser *P, struct wordst *w, bool in_dq, unsigned *cons)
{
	size_t start = P->i;
	int n = peek(P, 1);
	if (n == '(') {
		P->i++;
		*cons |= POL_C_SUBST;
		return w_subst(P, w, start);
	}
	if (!in_dq && (n == '\'' || n == '"')) {
		fail(P, POL_E_UNPARSABLE, start, "$%c quoting", n);
		return 0;
	}
	if (n == '{') {
		size_t j = P->i + 2;
		while (j < P->len && P->s[j] != '}') {
			if (P->s[j] == '$' || P->s[j] == '`' || P->s[j] == '{' ||
			    P->s[j] == '"' || P->s[j] == '\'' || P->s[j] == '\\') {
				fail(P, POL_E_UNPARSABLE, start, "complex ${...} expansion");
				return 0;
			}
			j++;
		}
		if (j >= P->len) {
			fail(P, POL_E_UNPARSABLE, start, "unterminated ${");
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
	w->flags |= POL_W_VAR;
	w->assign_ok = false;
	w->any = true;
	int r = sb_put(&w->text, P->s + start, P->i - start);
	if (r == 0)
		r = sb_put(&w->glob, P->s + start, P->i - start);
	return r;
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
static int
read_word(struct parser *P, struct wordst *w, unsigned *cons, bool first)
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
			r = w_subst(P, w, start);
			continue;
		}
		if (is_meta(ch))
			break;
		if (ch == '\\') {
			int n = peek(P, 1);
			if (n == -1) {
				fail(P, POL_E_UNPARSABLE, P->i, "backslash at end of line");
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
				fail(P, POL_E_UNPARSABLE, P->i, "unterminated single quote");
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
					fail(P, POL_E_UNPARSABLE, open, "unterminated double quote");
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
						P->i += 2;
					} else {
						r = w_char(w, '\\', true);
						P->i++;
					}
				} else if (d == '$') {
					r = w_dollar(P, w, true, cons);
				} else if (d == '`') {
					*cons |= POL_C_BACKTICK;
					r = w_backtick(P, w);
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
			r = w_backtick(P, w);
			continue;
		}
		/* plain unquoted character */
		if (ch == '*' || ch == '?')
			w->flags |= POL_W_GLOB;
		else if (ch == '[') {
			for (size_t j = P->i + 1; j < P->len && !is_meta((unsigned char)P->s[j]); j++)
				if (P->s[j] == ']') {
					w->flags |= POL_W_GLOB;
					break;
				}
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
		if (ch == '=' && w->assign_ok && w->text.n > 0 && !w->is_assign)
			w->is_assign = true;
		else if (w->assign_ok && !w->is_assign &&
		    !(w->text.n == 0 ? is_name_start(ch) : is_name_char(ch)))
			w->assign_ok = false;
		r = w_char(w, (char)ch, false);
		P->i++;
	}
	if (w->flags & POL_W_GLOB)
		*cons |= POL_C_GLOB;
	if (w->flags & POL_W_BRACE)
		*cons |= POL_C_BRACE;
	return r;
}

/* ---- simple commands ----------------------------------------------------- */

static const char *const reserved[] = {
	"if", "then", "else", "elif", "fi", "for", "while", "until", "do",
	"done", "case", "esac", "function", "select", "{", "}", "!", "[[",
	"]]", "coproc", NULL
};

static bool
is_reserved(const char *s)
{
	for (size_t i = 0; reserved[i] != NULL; i++)
		if (strcmp(s, reserved[i]) == 0)
			return true;
	return false;
}

static int
append_simple(struct pol_cmdline *c, struct pol_simple *sc, size_t *idx)
{
	if (c->nsimple >= 4096)
		return POL_E_TOOBIG;
	struct pol_simple *v = realloc(c->simple, (c->nsimple + 1) * sizeof(*v));
	if (v == NULL)
		return POL_E_NOMEM;
	c->simple = v;
	v[c->nsimple] = *sc;
	memset(sc, 0, sizeof(*sc));
	*idx = c->nsimple++;
	return 0;
}

static int
add_word(struct pol_simple *sc, struct wordst *w)
{
	struct pol_word *v = realloc(sc->words, (sc->nwords + 1) * sizeof(*v));
	if (v == NULL)
		return POL_E_NOMEM;
	sc->words = v;
	struct pol_word *pw = &v[sc->nwords++];
	pw->s = w->text.p ? w->text.p : strdup("");
	pw->len = w->text.n;
	pw->flags = w->flags;
	pw->glob = NULL;
	w->text.p = NULL;
	if (w->flags & POL_W_GLOB) {
		pw->glob = w->glob.p;
		w->glob.p = NULL;
	}
	free(w->glob.p);
	w->glob.p = NULL;
	return pw->s ? 0 : POL_E_NOMEM;
}

static int
add_assign(struct pol_simple *sc, struct wordst *w)
{
	char **v = realloc(sc->assign, (sc->nassign + 1) * sizeof(*v));
	if (v == NULL)
		return POL_E_NOMEM;
	sc->assign = v;
	v[sc->nassign++] = w->text.p;
	w->text.p = NULL;
	free(w->glob.p);
	w->glob.p = NULL;
	return 0;
}

/* Reads a redirection operator at P->i (digits already consumed into fd). */
static int
read_redir(struct parser *P, struct pol_simple *sc, int fd, size_t start)
{
	char op[4] = "";
	size_t k = 0;
	while (k < 3) {
		int ch = peek(P, 0);
		if (k == 0 && (ch == '<' || ch == '>' || ch == '&')) {
			op[k++] = (char)ch;
			P->i++;
			continue;
		}
		if (k > 0 && ((ch == '>' && (op[0] == '>' || op[0] == '&' || op[0] == '<')) ||
		    (ch == '<' && op[0] == '<' && op[k - 1] == '<') ||
		    (ch == '&' && (op[0] == '>' || op[0] == '<') && k == 1) ||
		    (ch == '|' && op[0] == '>' && k == 1) ||
		    (ch == '-' && op[0] == '<' && k == 2 && op[1] == '<'))) {
			op[k++] = (char)ch;
			P->i++;
			continue;
		}
		break;
	}
	op[k] = '\0';
	if (op[0] == '&' && op[1] != '>') {
		fail(P, POL_E_UNPARSABLE, start, "unexpected &");
		return 0;
	}
	while (is_blank(peek(P, 0)))
		P->i++;
	if (is_meta(peek(P, 0)) &&
	    !((peek(P, 0) == '<' || peek(P, 0) == '>') && peek(P, 1) == '(')) {
		fail(P, POL_E_UNPARSABLE, start, "redirection without a target");
		return 0;
	}
	struct wordst w = { 0 };
	unsigned cons = 0;
	size_t wstart = P->i;
	int r = read_word(P, &w, &cons, false);
	if (r != 0 || P->err) {
		free(w.text.p);
		free(w.glob.p);
		return r;
	}
	struct pol_redir *v = realloc(sc->redirs, (sc->nredirs + 1) * sizeof(*v));
	if (v == NULL) {
		free(w.text.p);
		free(w.glob.p);
		return POL_E_NOMEM;
	}
	sc->redirs = v;
	struct pol_redir *rd = &v[sc->nredirs++];
	rd->fd = fd;
	memcpy(rd->op, op, sizeof(rd->op));
	rd->target = w.text.p ? w.text.p : strdup("");
	free(w.glob.p);
	if (rd->target == NULL)
		return POL_E_NOMEM;
	sc->constructs |= cons;
	bool dup = (strcmp(op, ">&") == 0 || strcmp(op, "<&") == 0) &&
	    rd->target[0] != '\0' && strspn(rd->target, "0123456789-") == strlen(rd->target);
	if (strcmp(op, "<<") == 0 || strcmp(op, "<<-") == 0) {
		rd->is_file = false;
		sc->constructs |= POL_C_HEREDOC;
		if (w.flags & (POL_W_VAR | POL_W_SUBST)) {
			fail(P, POL_E_UNPARSABLE, wstart, "expansion in a here-document delimiter");
			return 0;
		}
		if (P->nhd >= sizeof(P->hd) / sizeof(P->hd[0])) {
			fail(P, POL_E_TOOBIG, start, "too many here-documents");
			return 0;
		}
		char *d = strdup(rd->target);
		if (d == NULL)
			return POL_E_NOMEM;
		P->hd[P->nhd].delim = d;
		P->hd[P->nhd].quoted = (w.flags & POL_W_QUOTED) != 0;
		P->hd[P->nhd].strip_tabs = op[2] == '-';
		P->hd[P->nhd].simple = (size_t)-1;
		P->nhd++;
	} else if (strcmp(op, "<<<") == 0) {
		rd->is_file = false;
		sc->constructs |= POL_C_HEREDOC;
	} else if (dup || strcmp(rd->target, "/dev/null") == 0) {
		rd->is_file = false;
		sc->constructs |= POL_C_REDIR_FD;
	} else {
		rd->is_file = true;
		sc->constructs |= POL_C_REDIRECT;
	}
	return 0;
}

/* Parses one simple command; appends it and stores its index in *idx
 * ((size_t)-1 when it was empty). */
static int
parse_simple(struct parser *P, int term, size_t *idx)
{
	struct pol_simple sc = { 0 };
	int r = 0;
	sc.depth = P->depth;
	sc.offset = P->base + P->i;
	bool empty = true;
	*idx = (size_t)-1;
	while (r == 0 && !P->err) {
		skip_blanks(P);
		int ch = peek(P, 0);
		if (ch == -1 || ch == '\n' || ch == ';' || ch == '|' ||
		    (ch == '&' && peek(P, 1) != '>'))
			break;
		if (ch == ')') {
			if (term != ')')
				fail(P, POL_E_UNPARSABLE, P->i, "unexpected )");
			break;
		}
		if (ch == '(') {
			fail(P, POL_E_UNPARSABLE, P->i, "subshell or function definition");
			break;
		}
		if (ch == '#' && !(P->opts & POL_PARSE_NO_COMMENTS)) {
			if (!(P->c->constructs & POL_C_COMMENT))
				P->c->comment_offset = P->base + P->i;
			P->c->constructs |= POL_C_COMMENT;
			sc.constructs |= POL_C_COMMENT;
			while (peek(P, 0) != -1 && peek(P, 0) != '\n')
				P->i++;
			break;
		}
		/* redirection: [digits](< | > | &>) */
		size_t start = P->i, j = P->i;
		while (j < P->len && isdigit((unsigned char)P->s[j]))
			j++;
		int at = j < P->len ? (unsigned char)P->s[j] : -1;
		if ((at == '<' || at == '>' || (at == '&' && j == P->i)) &&
		    !(j + 1 < P->len && P->s[j + 1] == '(' && j == P->i && at != '&')) {
			int fd = -1;
			if (j > P->i) {
				if (j - P->i > 4) {
					fail(P, POL_E_UNPARSABLE, P->i, "file descriptor number too large");
					break;
				}
				fd = atoi(P->s + P->i);
			}
			P->i = j;
			r = read_redir(P, &sc, fd, start);
			empty = false;
			continue;
		}
		struct wordst w = { 0 };
		unsigned cons = 0;
		r = read_word(P, &w, &cons, sc.nwords == 0);
		if (r != 0 || P->err) {
			free(w.text.p);
			free(w.glob.p);
			break;
		}
		if (!w.any) {
			fail(P, POL_E_UNPARSABLE, P->i, "unexpected character");
			free(w.text.p);
			free(w.glob.p);
			break;
		}
		empty = false;
		if (sc.nwords == 0 && w.is_assign) {
			sc.constructs |= POL_C_ASSIGN | (cons & ~(POL_C_GLOB | POL_C_BRACE));
			r = add_assign(&sc, &w);
			continue;
		}
		if (sc.nwords == 0) {
			if (!(w.flags & POL_W_QUOTED) && w.text.p && is_reserved(w.text.p)) {
				fail(P, POL_E_UNPARSABLE, start, "shell keyword '%s'", w.text.p);
				free(w.text.p);
				free(w.glob.p);
				break;
			}
			if (w.flags & (POL_W_VAR | POL_W_SUBST))
				cons |= POL_C_VAR_CMD;
			if (w.flags & (POL_W_GLOB | POL_W_BRACE))
				cons |= POL_C_GLOB_CMD;
			if (peek(P, 0) == '(') {
				fail(P, POL_E_UNPARSABLE, P->i, "function definition");
				free(w.text.p);
				free(w.glob.p);
				break;
			}
		}
		sc.constructs |= cons;
		if (sc.nwords >= 4096) {
			free(w.text.p);
			free(w.glob.p);
			fail(P, POL_E_TOOBIG, start, "too many words");
			break;
		}
		r = add_word(&sc, &w);
	}
	if (r != 0 || empty || P->err) {
		simple_clear(&sc);
		return r;
	}
	P->c->constructs |= sc.constructs;
	r = append_simple(P->c, &sc, idx);
	if (r == POL_E_TOOBIG) {
		simple_clear(&sc);
		fail(P, POL_E_TOOBIG, P->i, "too many commands");
		return 0;
	}
	if (r == 0) {
		for (size_t k = 0; k < P->nhd; k++)
			if (P->hd[k].simple == (size_t)-1)
				P->hd[k].simple = *idx;
	}
	return r;
}

/* After a newline: consumes the bodies of pending here-documents. */
static void
read_heredocs(struct parser *P)
{
	for (size_t k = 0; k < P->nhd && !P->err; k++) {
		struct heredoc *h = &P->hd[k];
		size_t dl = strlen(h->delim);
		bool done = false;
		while (P->i < P->len) {
			size_t ls = P->i;
			const char *nl = memchr(P->s + ls, '\n', P->len - ls);
			size_t le = nl ? (size_t)(nl - P->s) : P->len;
			P->i = nl ? le + 1 : le;
			size_t b = ls;
			if (h->strip_tabs)
				while (b < le && P->s[b] == '\t')
					b++;
			if (le - b == dl && memcmp(P->s + b, h->delim, dl) == 0) {
				done = true;
				break;
			}
			if (!h->quoted) {
				for (size_t j = b; j < le; j++) {
					if (P->s[j] == '`' || (P->s[j] == '$' && j + 1 < le &&
					    P->s[j + 1] == '(')) {
						fail(P, POL_E_UNPARSABLE, j,
						    "substitution inside a here-document");
						break;
					}
					if (P->s[j] == '$' && h->simple != (size_t)-1) {
						P->c->simple[h->simple].constructs |= POL_C_VARIABLE;
						P->c->constructs |= POL_C_VARIABLE;
					}
				}
			}
			if (P->err)
				break;
		}
		if (!done && !P->err)
			fail(P, POL_E_UNPARSABLE, P->len, "unterminated here-document '%s'", h->delim);
	}
	for (size_t k = 0; k < P->nhd; k++)
		free(P->hd[k].delim);
	P->nhd = 0;
}

static void
set_sep(struct pol_cmdline *c, size_t idx, const char *sep)
{
	if (idx != (size_t)-1)
		snprintf(c->simple[idx].sep, sizeof(c->simple[idx].sep), "%s", sep);
}

/* Parses a list until the end of the input. */
static int
parse_list(struct parser *P, int term)
{
	int r = 0;
	bool need_cmd = false;	/* after && || | */
	while (r == 0 && !P->err) {
		while (is_blank(peek(P, 0)))
			P->i++;
		int ch = peek(P, 0);
		if (ch == -1)
			break;
		if (ch == '\n') {
			P->i++;
			if (P->nhd)
				read_heredocs(P);
			continue;
		}
		size_t at = P->i, idx;
		r = parse_simple(P, term, &idx);
		if (r != 0 || P->err)
			break;
		while (is_blank(peek(P, 0)))
			P->i++;
		ch = peek(P, 0);
		if (idx == (size_t)-1) {
			if (ch == -1 || ch == '\n')
				continue;
			fail(P, POL_E_UNPARSABLE, P->i, "syntax error near '%c'", ch);
			break;
		}
		need_cmd = false;
		if (ch == -1)
			break;
		if (ch == '\n') {
			set_sep(P->c, idx, "\n");
			P->c->constructs |= POL_C_LIST;
			continue;
		}
		char op[3] = { (char)ch, 0, 0 };
		int n = peek(P, 1);
		if ((ch == '&' && n == '&') || (ch == '|' && n == '|') || (ch == '|' && n == '&'))
			op[1] = (char)n;
		else if (ch == ';' && n == ';') {
			fail(P, POL_E_UNPARSABLE, P->i, "';;' outside case");
			break;
		} else if (ch == ')') {
			fail(P, POL_E_UNPARSABLE, P->i, "unexpected )");
			break;
		}
		P->i += strlen(op);
		set_sep(P->c, idx, op);
		if (op[0] == '|' && op[1] != '|') {
			P->c->constructs |= POL_C_PIPE;
			P->c->simple[idx].constructs |= POL_C_PIPE;
			need_cmd = true;
		} else if (op[0] == '&' && op[1] == '\0') {
			P->c->constructs |= POL_C_BACKGROUND;
			P->c->simple[idx].constructs |= POL_C_BACKGROUND;
		} else {
			P->c->constructs |= POL_C_LIST;
			if (op[1] != '\0')
				need_cmd = true;
		}
		if (need_cmd) {
			/* the next command may follow a newline */
			while (is_blank(peek(P, 0)) || peek(P, 0) == '\n')
				P->i++;
			int nx = peek(P, 0);
			if (nx == -1 || nx == ';' || nx == '&' || nx == '|' || nx == ')') {
				fail(P, POL_E_UNPARSABLE, P->i,
				    nx == -1 ? "line ends after '%s'" : "syntax error after '%s'", op);
				break;
			}
		}
		(void)at;
	}
	if (!P->err && P->nhd)
		fail(P, POL_E_UNPARSABLE, P->len, "unterminated here-document '%s'", P->hd[0].delim);
	return r;
}

int
pol_cmdline_parse(const char *line, size_t len, struct pol_cmdline **out)
{
	return pol_cmdline_parse_opts(line, len, 0, out);
}

int
pol_cmdline_parse_opts(const char *line, size_t len, unsigned opts, struct pol_cmdline **out)
{
	*out = NULL;
	struct pol_cmdline *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return POL_E_NOMEM;
	*out = c;
	struct parser P = { .s = line, .len = len, .c = c, .opts = opts };
	if (len > POL_CMDLINE_MAX) {
		fail(&P, POL_E_TOOBIG, POL_CMDLINE_MAX, "line longer than %d bytes",
		    POL_CMDLINE_MAX);
		return c->error;
	}
	if (memchr(line, '\0', len) != NULL) {
		fail(&P, POL_E_UNPARSABLE, (size_t)((const char *)memchr(line, '\0', len) - line),
		    "NUL byte");
		return c->error;
	}
	int r = parse_list(&P, 0);
	/* ^old^new at the start of a line is history substitution */
	size_t b = 0;
	while (b < len && (line[b] == ' ' || line[b] == '\t'))
		b++;
	if (b < len && line[b] == '^') {
		c->constructs |= POL_C_HISTORY;
		if (c->nsimple > 0)
			c->simple[0].constructs |= POL_C_HISTORY;
	}
	for (size_t k = 0; k < P.nhd; k++)
		free(P.hd[k].delim);
	if (r == POL_E_NOMEM) {
		pol_cmdline_free(c);
		*out = NULL;
		return r;
	}
	return c->error;
}

static void
put_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
put_constructs(FILE *f, unsigned bits)
{
	bool first = true;
	for (unsigned b = 1; b & POL_C_ALL; b <<= 1)
		if (bits & b) {
			fprintf(f, "%s%s", first ? "" : " ", pol_construct_name(b));
			first = false;
		}
	if (first)
		fputs("none", f);
}

void
pol_cmdline_describe(const struct pol_cmdline *c, FILE *f)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsimple; i++) {
		const struct pol_simple *sc = &c->simple[i];
		fprintf(f, "command %zu%s:", i + 1, sc->depth ? " (substituted)" : "");
		for (size_t k = 0; k < sc->nassign; k++) {
			fputc(' ', f);
			put_quoted(f, sc->assign[k], strlen(sc->assign[k]));
		}
		for (size_t k = 0; k < sc->nwords; k++) {
			fputc(' ', f);
			put_quoted(f, sc->words[k].s, sc->words[k].len);
		}
		for (size_t k = 0; k < sc->nredirs; k++) {
			fprintf(f, " [%s ", sc->redirs[k].op);
			put_quoted(f, sc->redirs[k].target, strlen(sc->redirs[k].target));
			fputc(']', f);
		}
		if (sc->sep[0])
			fprintf(f, " then %s", sc->sep[0] == '\n' ? "newline" : sc->sep);
		fputc('\n', f);
		unsigned shown = sc->constructs & ~(POL_C_LIST);
		if (shown) {
			fputs("  constructs: ", f);
			put_constructs(f, shown);
			fputc('\n', f);
		}
	}
	if (c->error)
		fprintf(f, "unparsable at byte %zu: %s\n", c->err_offset, c->err_msg);
}
