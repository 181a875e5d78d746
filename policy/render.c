/*
 * render.c: the line that runs.  After the engine allows a command line,
 * the proxy sends the target's shell this rebuilt text, never the text the
 * technician typed (pol_render in policy.h).  Every byte the parser read as
 * literal is single-quoted; only what the parse recorded as shell syntax
 * (operators, redirections, glob and brace characters, tilde prefixes,
 * assignments, $NAME and ${NAME...} expansions, and substitutions whose
 * bodies are rebuilt in turn) is written bare.  Whatever the parser
 * misread therefore reaches the shell as a literal word, never as code.
 */
#include <stdlib.h>
#include <string.h>

#include "common/esc_error.h"
#include "policy/cmd_int.h"
#include "policy/pol_int.h"

#define RENDER_MAX_HEREDOCS 16

struct render {
	struct buf out;			/* unbounded; zero-filled is empty */
	const char *line;		/* the whole line; segment offsets index it */
	size_t len;
	unsigned permitted;
	int err;			/* first error: POL_E_INVAL or POL_E_NOMEM */
	const struct pol_redir *hd[RENDER_MAX_HEREDOCS];	/* bodies still to write */
	size_t nhd;
	bool inq;			/* a single quote is open */
};

static void render_list(struct render *R, const struct pol_cmdline *c);

static void
fail(struct render *R, int err)
{
	if (R->err == 0)
		R->err = err;
}

static void
put(struct render *R, const char *s, size_t n)
{
	if (R->err == 0 && buf_put(&R->out, s, n) != ESC_OK)
		fail(R, POL_E_NOMEM);
}

static void
puts_(struct render *R, const char *s)
{
	put(R, s, strlen(s));
}

/* Literal bytes, inside single quotes ('\'' for a quote). */
static void
lit(struct render *R, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!R->inq) {
			put(R, "'", 1);
			R->inq = true;
		}
		if (s[i] == '\'') {
			put(R, "'\\''", 4);
			continue;
		}
		put(R, s + i, 1);
	}
}

/* Shell syntax, outside quotes. */
static void
bare(struct render *R, const char *s, size_t n)
{
	if (R->inq) {
		put(R, "'", 1);
		R->inq = false;
	}
	put(R, s, n);
}

static void
close_quote(struct render *R)
{
	if (R->inq) {
		put(R, "'", 1);
		R->inq = false;
	}
}

/* The body of a substitution, parsed again from the same bytes (with the
 * same options) and rebuilt. */
static void
render_subst(struct render *R, const struct pol_wseg *g, unsigned opts)
{
	if (g->body > R->len || g->blen > R->len - g->body) {
		fail(R, POL_E_INVAL);
		return;
	}
	struct pol_cmdline *c;
	int r = pol_cmdline_parse_opts(R->line + g->body, g->blen, opts, &c);
	if (r == POL_E_NOMEM) {
		fail(R, r);
		return;
	}
	if (r != 0 || (c->constructs & POL_C_NEED_PERMISSION & ~R->permitted)) {
		pol_cmdline_free(c);
		fail(R, POL_E_INVAL);
		return;
	}
	/* the body's own segments index the body: render it on its own */
	struct render sub = { .line = R->line + g->body, .len = g->blen,
		.permitted = R->permitted };
	render_list(&sub, c);
	pol_cmdline_free(c);
	if (sub.nhd > 0)
		fail(&sub, POL_E_INVAL);
	if (sub.err) {
		fail(R, sub.err);
		buf_free(&sub.out);
		return;
	}
	const char *open = g->open == '<' ? "<(" : g->open == '>' ? ">(" : "$(";
	if (g->in_dq)
		bare(R, "\"", 1);
	bare(R, open, 2);
	size_t sublen;
	const uint8_t *subp = buf_peek(&sub.out, &sublen);
	put(R, (const char *)subp, sublen);
	put(R, ")", 1);
	if (g->in_dq)
		put(R, "\"", 1);
	buf_free(&sub.out);
}

static bool
is_name(const char *s, size_t n)
{
	if (n == 0 || !is_name_start((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_name_char((unsigned char)s[i]))
			return false;
	return true;
}

/* One word from its segments.  `assign`: the word is NAME=value. */
static void
render_word(struct render *R, const struct pol_word *w, bool assign, unsigned opts)
{
	size_t start = buf_len(&R->out);
	bool before_eq = assign, after_tilde = false;
	for (size_t i = 0; i < w->nseg && R->err == 0; i++) {
		const struct pol_wseg *g = &w->seg[i];
		const char *s = w->s + g->off;
		if (g->off > w->len || g->len > w->len - g->off) {
			fail(R, POL_E_INVAL);
			break;
		}
		bool tilde = after_tilde;
		after_tilde = false;
		switch (g->kind) {
		case POL_SEG_LIT:
			if (before_eq) {
				if (!is_name(s, g->len))
					fail(R, POL_E_INVAL);
				bare(R, s, g->len);
			} else if (tilde && s[0] == '/') {
				/* the tilde prefix ends at an unquoted slash */
				bare(R, "/", 1);
				lit(R, s + 1, g->len - 1);
			} else {
				lit(R, s, g->len);
			}
			break;
		case POL_SEG_GLOB:
			bare(R, s, g->len);
			break;
		case POL_SEG_BRACE:
			if (w->flags & POL_W_BRACE)
				bare(R, s, g->len);
			else
				lit(R, s, g->len);
			break;
		case POL_SEG_TILDE:
			if (i == 0 && (w->flags & POL_W_TILDE)) {
				bare(R, s, g->len);
				after_tilde = true;
			} else {
				lit(R, s, g->len);
			}
			break;
		case POL_SEG_EQ:
			if (before_eq) {
				bare(R, "=", 1);
				before_eq = false;
			} else {
				lit(R, s, g->len);
			}
			break;
		case POL_SEG_VAR:
			if (g->in_dq) {
				bare(R, "\"", 1);
				put(R, s, g->len);
				put(R, "\"", 1);
			} else {
				bare(R, s, g->len);
			}
			break;
		case POL_SEG_SUBST:
			close_quote(R);
			render_subst(R, g, opts);
			break;
		default:
			fail(R, POL_E_INVAL);
		}
	}
	if (before_eq)
		fail(R, POL_E_INVAL);
	close_quote(R);
	if (buf_len(&R->out) == start && R->err == 0)
		put(R, "''", 2);
}

/* True when the body of an unquoted here-document expands nothing but
 * $NAME, ${NAME...} (the accepted forms) and positional or special
 * parameters. */
static bool
heredoc_body_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '`')
			return false;
		if (s[i] != '$' || i + 1 >= n)
			continue;
		unsigned char c = (unsigned char)s[i + 1];
		if (c == '{') {
			const char *e = memchr(s + i + 2, '}', n - i - 2);
			if (e == NULL || !pol__cmd_simple_brace_param(s + i + 2, (size_t)(e - s) - i - 2))
				return false;
		} else if (!(is_name_start(c) || (c < 128 && isdigit(c)) ||
		    (c != 0 && strchr("@*#?-$!", c) != NULL) || c == '\n' || c == ' ' ||
		    c == '\t' || c == '"')) {
			return false;
		}
	}
	return true;
}

static void
render_redir(struct render *R, const struct pol_redir *rd, unsigned opts)
{
	char fd[16] = "";
	if (rd->fd >= 0)
		snprintf(fd, sizeof(fd), "%d", rd->fd);
	bare(R, fd, strlen(fd));
	puts_(R, rd->op);
	if (strcmp(rd->op, "<<") == 0 || strcmp(rd->op, "<<-") == 0) {
		const char *d = rd->target;
		if (rd->hd_body > R->len || rd->hd_len > R->len - rd->hd_body) {
			fail(R, POL_E_INVAL);
			return;
		}
		if (rd->hd_quoted) {
			lit(R, d, strlen(d));
			close_quote(R);
		} else if (is_name(d, strlen(d)) &&
		    heredoc_body_ok(R->line + rd->hd_body, rd->hd_len)) {
			puts_(R, d);
		} else {
			fail(R, POL_E_INVAL);
			return;
		}
		if (R->nhd == RENDER_MAX_HEREDOCS) {
			fail(R, POL_E_INVAL);
			return;
		}
		R->hd[R->nhd++] = rd;
		return;
	}
	if (rd->word.nseg > 0 && rd->word.seg[0].kind == POL_SEG_SUBST && rd->word.seg[0].open != '$')
		put(R, " ", 1);		/* "< <(cmd)": never "<<(" */
	bool dup = (strcmp(rd->op, ">&") == 0 || strcmp(rd->op, "<&") == 0) &&
	    rd->target[0] != '\0' && strspn(rd->target, "0123456789-") == strlen(rd->target) &&
	    !(rd->word.flags & (POL_W_VAR | POL_W_SUBST));
	if (dup)
		puts_(R, rd->target);
	else
		render_word(R, &rd->word, false, opts);
}

/* Writes the here-document bodies waiting for the end of a line. */
static void
flush_heredocs(struct render *R)
{
	for (size_t k = 0; k < R->nhd; k++) {
		const struct pol_redir *rd = R->hd[k];
		put(R, R->line + rd->hd_body, rd->hd_len);
		puts_(R, rd->target);
		put(R, "\n", 1);
	}
	R->nhd = 0;
}

static void
render_simple(struct render *R, const struct pol_simple *sc, unsigned opts)
{
	bool first = true;
	for (size_t i = 0; i < sc->nassign; i++, first = false) {
		if (!first)
			put(R, " ", 1);
		render_word(R, &sc->assignw[i], true, opts);
	}
	/* words and redirections in their order (the order in which their
	 * substitutions run) */
	size_t r = 0;
	for (size_t i = 0; i <= sc->nwords; i++) {
		for (; r < sc->nredirs && sc->redirs[r].before <= i; r++, first = false) {
			if (!first)
				put(R, " ", 1);
			render_redir(R, &sc->redirs[r], opts);
		}
		if (i == sc->nwords)
			break;
		if (!first)
			put(R, " ", 1);
		first = false;
		render_word(R, &sc->words[i], false, opts);
	}
}

static const struct {
	const char *sep, *text;
} separators[] = {
	{ ";", "; " }, { "&&", " && " }, { "||", " || " }, { "|", " | " },
	{ "|&", " |& " }, { "&", " & " }, { "\n", "\n" }, { "", "" },
};

static void
render_list(struct render *R, const struct pol_cmdline *c)
{
	for (size_t i = 0; i < c->nsimple && R->err == 0; i++) {
		const struct pol_simple *sc = &c->simple[i];
		if (sc->depth != 0)
			continue;	/* inside a substitution: rebuilt from its body */
		render_simple(R, sc, c->opts);
		size_t k = 0;
		while (k < sizeof(separators) / sizeof(separators[0]) &&
		    strcmp(separators[k].sep, sc->sep) != 0)
			k++;
		if (k == sizeof(separators) / sizeof(separators[0])) {
			fail(R, POL_E_INVAL);
			break;
		}
		puts_(R, separators[k].text);
		if (strcmp(sc->sep, "\n") == 0)
			flush_heredocs(R);
		else if (R->nhd > 0 && sc->sep[0] != '\0') {
			/* the bodies came after a newline that followed this
			 * operator, before the next command */
			put(R, "\n", 1);
			flush_heredocs(R);
		}
	}
	if (R->nhd > 0) {
		size_t n = buf_len(&R->out);
		if (n == 0 || buf_ptr(&R->out)[n - 1] != '\n')
			put(R, "\n", 1);
		flush_heredocs(R);
	}
}

int
pol_render(const struct pol_cmdline *c, const char *line, size_t len, unsigned permitted,
    char **out)
{
	*out = NULL;
	if (c == NULL || line == NULL || c->error != 0 ||
	    (c->constructs & POL_C_NEED_PERMISSION & ~permitted))
		return POL_E_INVAL;
	struct render R = { .line = line, .len = len, .permitted = permitted };
	render_list(&R, c);
	if (R.err == 0 && (*out = buf_take_str(&R.out, NULL)) == NULL)
		R.err = POL_E_NOMEM;
	buf_free(&R.out);
	return R.err;
}
