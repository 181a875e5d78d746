/*
 * cmdline.c: the small POSIX-shell parser behind every command decision.
 * See cmdline.h for the contract.  A recursive descent over the bytes: a
 * list is simple commands joined by operators; a simple command is words
 * (cmdword.c), assignments and redirections; here-document bodies are
 * consumed after the newline that ends their command.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cmd_int.h"
#include "policy/policy.h"

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


void
pol__cmd_fail(struct parser *P, int err, size_t at, const char *fmt, ...)
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


static void
simple_clear(struct pol_simple *sc)
{
	for (size_t i = 0; i < sc->nwords; i++)
		pol__word_clear(&sc->words[i]);
	free(sc->words);
	for (size_t i = 0; i < sc->nassign; i++)
		pol__word_clear(&sc->assignw[i]);
	free(sc->assignw);
	free(sc->assign);
	for (size_t i = 0; i < sc->nredirs; i++)
		pol__word_clear(&sc->redirs[i].word);
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


/* ---- simple commands ----------------------------------------------------- */

static const char *const reserved[] = {
	"if", "then", "else", "elif", "fi", "for", "while", "until", "do",
	"done", "case", "esac", "function", "select", "{", "}", "!", "[[",
	"]]", "coproc", "time", NULL
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
	return pol__wordst_take(w, &v[sc->nwords++]);
}

/* An assignment is kept as a word (assignw) and, for the matcher, as the
 * same text in assign[]. */
static int
add_assign(struct pol_simple *sc, struct wordst *w)
{
	struct pol_word *v = realloc(sc->assignw, (sc->nassign + 1) * sizeof(*v));
	if (v == NULL)
		return POL_E_NOMEM;
	sc->assignw = v;
	char **a = realloc(sc->assign, (sc->nassign + 1) * sizeof(*a));
	if (a == NULL)
		return POL_E_NOMEM;
	sc->assign = a;
	int r = pol__wordst_take(w, &v[sc->nassign]);
	a[sc->nassign] = v[sc->nassign].s;
	sc->nassign++;
	return r;
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
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "unexpected &");
		return 0;
	}
	while (is_blank(peek(P, 0)))
		P->i++;
	if (is_meta(peek(P, 0)) &&
	    !((peek(P, 0) == '<' || peek(P, 0) == '>') && peek(P, 1) == '(')) {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "redirection without a target");
		return 0;
	}
	struct wordst w = { 0 };
	unsigned cons = 0;
	size_t wstart = P->i;
	int r = pol__cmd_read_word(P, &w, &cons, false);
	if (r != 0 || P->err) {
		pol__wordst_free(&w);
		return r;
	}
	if ((peek(P, 0) == '<' || peek(P, 0) == '>') && peek(P, 1) == '(') {
		pol__wordst_free(&w);
		pol__cmd_fail(P, POL_E_UNPARSABLE, wstart, "process substitution joined to a word");
		return 0;
	}
	struct pol_redir *v = realloc(sc->redirs, (sc->nredirs + 1) * sizeof(*v));
	if (v == NULL) {
		pol__wordst_free(&w);
		return POL_E_NOMEM;
	}
	sc->redirs = v;
	struct pol_redir *rd = &v[sc->nredirs++];
	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
	rd->before = sc->nwords;
	memcpy(rd->op, op, sizeof(rd->op));
	unsigned wflags = w.flags;
	r = pol__wordst_take(&w, &rd->word);
	rd->target = rd->word.s;
	if (r != 0)
		return r;
	sc->constructs |= cons;
	bool dup = (strcmp(op, ">&") == 0 || strcmp(op, "<&") == 0) &&
	    rd->target[0] != '\0' && strspn(rd->target, "0123456789-") == strlen(rd->target);
	if ((strcmp(op, "<<") == 0 || strcmp(op, "<<-") == 0) && P->depth > 0) {
		pol__cmd_fail(P, POL_E_UNPARSABLE, start, "here-document inside a substitution");
		return 0;
	}
	if (strcmp(op, "<<") == 0 || strcmp(op, "<<-") == 0) {
		rd->is_file = false;
		sc->constructs |= POL_C_HEREDOC;
		if (wflags & (POL_W_VAR | POL_W_SUBST)) {
			pol__cmd_fail(P, POL_E_UNPARSABLE, wstart, "expansion in a here-document delimiter");
			return 0;
		}
		if (P->nhd >= sizeof(P->hd) / sizeof(P->hd[0])) {
			pol__cmd_fail(P, POL_E_TOOBIG, start, "too many here-documents");
			return 0;
		}
		char *d = strdup(rd->target);
		if (d == NULL)
			return POL_E_NOMEM;
		P->hd[P->nhd].delim = d;
		P->hd[P->nhd].quoted = (wflags & POL_W_QUOTED) != 0;
		rd->hd_quoted = P->hd[P->nhd].quoted;
		P->hd[P->nhd].strip_tabs = op[2] == '-';
		P->hd[P->nhd].simple = (size_t)-1;
		P->hd[P->nhd].redir = sc->nredirs - 1;
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

/*
 * The word just read (P->s[start .. P->i)) as bash would read it, where that
 * differs from a plain word: "{NAME}>" allocates a file descriptor into a
 * variable (its subscript is arithmetic), a word glued to "<(" or ">(" is
 * one word with the substitution, and in command position "NAME+=v" and
 * "NAME[sub]=v" are assignments (the subscript is arithmetic).  Returns
 * why the line must be refused, or NULL.
 */
static const char *
word_bash_reads_otherwise(const struct parser *P, size_t start, bool command)
{
	const char *s = P->s + start;
	size_t n = P->i - start;
	int nx = peek((struct parser *)P, 0);
	if ((nx == '<' || nx == '>') && n >= 2 && s[0] == '{' && s[n - 1] == '}')
		return "named file descriptor redirection {NAME}>";
	if ((nx == '<' || nx == '>') && peek((struct parser *)P, 1) == '(')
		return "process substitution joined to a word";
	if (command && n > 1 && is_name_start((unsigned char)s[0])) {
		size_t k = 1;
		while (k < n && is_name_char((unsigned char)s[k]))
			k++;
		if (k + 1 < n && s[k] == '+' && s[k + 1] == '=')
			return "append assignment NAME+=";
		if (k < n && s[k] == '[' && memchr(s + k, '=', n - k) != NULL)
			return "array element assignment NAME[...]=";
	}
	return NULL;
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
				pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "unexpected )");
			break;
		}
		if (ch == '(') {
			pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "subshell or function definition");
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
					pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "file descriptor number too large");
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
		r = pol__cmd_read_word(P, &w, &cons, sc.nwords == 0);
		if (r != 0 || P->err) {
			pol__wordst_free(&w);
			break;
		}
		if (!w.any) {
			pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "unexpected character");
			pol__wordst_free(&w);
			break;
		}
		empty = false;
		{
			const char *why = word_bash_reads_otherwise(P, start, sc.nwords == 0 && !w.is_assign);
			if (why != NULL) {
				pol__cmd_fail(P, POL_E_UNPARSABLE, start, "%s", why);
				pol__wordst_free(&w);
				break;
			}
		}
		if (sc.nwords == 0 && w.is_assign) {
			sc.constructs |= POL_C_ASSIGN | (cons & ~(POL_C_GLOB | POL_C_BRACE));
			r = add_assign(&sc, &w);
			continue;
		}
		if (sc.nwords == 0) {
			const char *text = buf_len(&w.text) ? buf_cstr(&w.text) : NULL;
			if (!(w.flags & POL_W_QUOTED) && text && is_reserved(text)) {
				pol__cmd_fail(P, POL_E_UNPARSABLE, start, "shell keyword '%s'", text);
				pol__wordst_free(&w);
				break;
			}
			if (w.flags & (POL_W_VAR | POL_W_SUBST))
				cons |= POL_C_VAR_CMD;
			if (w.flags & (POL_W_GLOB | POL_W_BRACE))
				cons |= POL_C_GLOB_CMD;
			if (peek(P, 0) == '(') {
				pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "function definition");
				pol__wordst_free(&w);
				break;
			}
		}
		sc.constructs |= cons;
		if (sc.nwords >= 4096) {
			pol__wordst_free(&w);
			pol__cmd_fail(P, POL_E_TOOBIG, start, "too many words");
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
		pol__cmd_fail(P, POL_E_TOOBIG, P->i, "too many commands");
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
		size_t body = P->i;
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
				if (h->simple != (size_t)-1) {
					struct pol_redir *rd = &P->c->simple[h->simple].redirs[h->redir];
					rd->hd_body = P->base + body;
					rd->hd_len = ls - body;
				}
				break;
			}
			if (!h->quoted) {
				for (size_t j = b; j < le; j++) {
					if (P->s[j] == '`' || (P->s[j] == '$' && j + 1 < le &&
					    P->s[j + 1] == '(')) {
						pol__cmd_fail(P, POL_E_UNPARSABLE, j,
						    "substitution inside a here-document");
						break;
					}
					/* bash joins continued lines of the body before it
					 * expands it, and $[ is arithmetic */
					if (P->s[j] == '\\' && j + 1 == le && nl != NULL) {
						pol__cmd_fail(P, POL_E_UNPARSABLE, j,
						    "line continuation inside a here-document");
						break;
					}
					if (P->s[j] == '$' && j + 1 < le && P->s[j + 1] == '[') {
						pol__cmd_fail(P, POL_E_UNPARSABLE, j,
						    "arithmetic expansion inside a here-document");
						break;
					}
					if (P->s[j] == '$' && j + 1 < le && P->s[j + 1] == '{') {
						const char *e = memchr(P->s + j + 2, '}', le - j - 2);
						if (e == NULL || !pol__cmd_simple_brace_param(P->s + j + 2,
						    (size_t)(e - P->s) - j - 2)) {
							pol__cmd_fail(P, POL_E_UNPARSABLE, j,
							    "complex ${...} inside a here-document");
							break;
						}
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
			pol__cmd_fail(P, POL_E_UNPARSABLE, P->len, "unterminated here-document '%s'", h->delim);
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
int
pol__cmd_parse_list(struct parser *P, int term)
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
			pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "syntax error near '%c'", ch);
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
			pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "';;' outside case");
			break;
		} else if (ch == ')') {
			pol__cmd_fail(P, POL_E_UNPARSABLE, P->i, "unexpected )");
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
			while (is_blank(peek(P, 0)) || peek(P, 0) == '\n' ||
			    (peek(P, 0) == '\\' && peek(P, 1) == '\n')) {
				bool nl = peek(P, 0) == '\n';
				P->i += peek(P, 0) == '\\' ? 2 : 1;
				if (nl && P->nhd)
					read_heredocs(P);	/* as bash: after the newline */
			}
			int nx = peek(P, 0);
			if (nx == -1 || nx == ';' || nx == '&' || nx == '|' || nx == ')' || nx == '#') {
				pol__cmd_fail(P, POL_E_UNPARSABLE, P->i,
				    nx == -1 ? "line ends after '%s'" : "syntax error after '%s'", op);
				break;
			}
		}
		(void)at;
	}
	if (!P->err && P->nhd)
		pol__cmd_fail(P, POL_E_UNPARSABLE, P->len, "unterminated here-document '%s'", P->hd[0].delim);
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
	c->opts = opts;
	struct parser P = { .s = line, .len = len, .c = c, .opts = opts };
	if (len > POL_CMDLINE_MAX) {
		pol__cmd_fail(&P, POL_E_TOOBIG, POL_CMDLINE_MAX, "line longer than %d bytes",
		    POL_CMDLINE_MAX);
		return c->error;
	}
	if (memchr(line, '\0', len) != NULL) {
		pol__cmd_fail(&P, POL_E_UNPARSABLE, (size_t)((const char *)memchr(line, '\0', len) - line),
		    "NUL byte");
		return c->error;
	}
	int r = pol__cmd_parse_list(&P, 0);
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

