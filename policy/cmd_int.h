/*
 * cmd_int.h: the insides of the command-line parser, shared by cmdline.c
 * (lists, simple commands, redirections, here-documents) and cmdword.c
 * (words: quoting, expansions, substitutions).  Not part of the API: its functions are named pol__*.
 */
#ifndef ESCORT_POLICY_CMD_INT_H
#define ESCORT_POLICY_CMD_INT_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "policy/cmdline.h"

struct heredoc {
	char *delim;
	bool quoted, strip_tabs;
	size_t simple;		/* index of the command it belongs to */
	size_t redir;		/* index of its redirection in that command */
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


/* A word being read. */
struct wordst {
	struct buf text, glob;	/* unbounded; zero-filled is empty */
	struct pol_wseg *seg;
	size_t nseg, segcap;
	bool tilde_prefix;	/* still inside the ~user prefix */
	unsigned flags;
	bool any;		/* at least one part (even an empty quoted one) */
	bool assign_ok;		/* so far an unquoted NAME */
	bool is_assign;
	bool brace_open, brace_sep;
};


/* True when the body b[0..n) of ${...} is a form the parser accepts (see
 * cmdword.c): its meaning cannot depend on other variables' values. */
bool pol__cmd_simple_brace_param(const char *b, size_t n);
/* Frees what a word being read holds. */
void pol__wordst_free(struct wordst *w);
/* Moves a word being read into *out (its text, glob form and segments);
 * w is left empty.  Returns 0 or POL_E_NOMEM. */
int pol__wordst_take(struct wordst *w, struct pol_word *out);
/* Frees what a parsed word holds. */
void pol__word_clear(struct pol_word *pw);
/* Records the first problem (POL_E_UNPARSABLE or POL_E_TOOBIG) at byte `at`. */
void pol__cmd_fail(struct parser *P, int err, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parses a list until the end of the input (term 0) or a ')' (term ')'). */
int pol__cmd_parse_list(struct parser *P, int term);
/* Reads one word at P->i into w; construct bits go to *cons.  Returns 0 or
 * POL_E_NOMEM; syntax problems go through pol__cmd_fail. */
int pol__cmd_read_word(struct parser *P, struct wordst *w, unsigned *cons, bool first);

static inline int
peek(struct parser *P, size_t k)
{
	return P->i + k < P->len ? (unsigned char)P->s[P->i + k] : -1;
}

static inline bool
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* Characters that end an unquoted word. */
static inline bool
is_meta(int ch)
{
	return ch == -1 || ch == ' ' || ch == '\t' || ch == '\n' || ch == ';' ||
	    ch == '&' || ch == '|' || ch == '<' || ch == '>' || ch == '(' || ch == ')';
}

static inline bool
is_name_start(int ch)
{
	return ch == '_' || (ch >= 0 && ch < 128 && isalpha(ch));
}

static inline bool
is_name_char(int ch)
{
	return ch == '_' || (ch >= 0 && ch < 128 && isalnum(ch));
}

#endif
