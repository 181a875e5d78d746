/*
 * cmdline.h: a deliberately small POSIX-shell command-line parser.
 *
 * It splits a line the way sh would into lists and pipelines of simple
 * commands, resolves quoting and escapes (r''m and \rm are both "rm"), and
 * records every construct it meets (substitutions, redirections, here-docs,
 * assignments, variables, globs, brace and history expansion, comments,
 * background jobs).  Anything outside the subset (compound commands,
 * functions, arithmetic, unterminated quotes, ...) makes the whole line
 * unparsable: the caller must deny it.  A mismatch with a real shell can only
 * ever cause a false deny, never a false allow.
 *
 * Pure C, no allocation outside the returned object, no global state.
 */
#ifndef ESCORT_POLICY_CMDLINE_H
#define ESCORT_POLICY_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Constructs, as bits of pol_simple.constructs / pol_cmdline.constructs. */
#define POL_C_LIST       0x00001	/* ; && || or newline between commands */
#define POL_C_PIPE       0x00002	/* | or |& */
#define POL_C_BACKGROUND 0x00004	/* & */
#define POL_C_SUBST      0x00008	/* $(...) command substitution */
#define POL_C_BACKTICK   0x00010	/* `...` command substitution */
#define POL_C_PROCSUBST  0x00020	/* <(...) or >(...) */
#define POL_C_REDIRECT   0x00040	/* redirection to or from a file */
#define POL_C_REDIR_FD   0x00080	/* 2>&1, >/dev/null and the like (harmless) */
#define POL_C_HEREDOC    0x00100	/* << or <<< */
#define POL_C_ASSIGN     0x00200	/* NAME=value before (or instead of) a command */
#define POL_C_VARIABLE   0x00400	/* $NAME or ${...} in an argument */
#define POL_C_VAR_CMD    0x00800	/* variable or substitution in command position */
#define POL_C_GLOB_CMD   0x01000	/* glob character in command position */
#define POL_C_GLOB       0x02000	/* glob character in an argument */
#define POL_C_BRACE      0x04000	/* brace expansion {a,b} {1..3} */
#define POL_C_HISTORY    0x08000	/* history expansion ! */
#define POL_C_COMMENT    0x10000	/* # comment */
#define POL_C_TILDE      0x20000	/* ~ or ~user at a word start */
#define POL_C_ALL        0x3ffff

/* The name of one construct bit ("substitution", "redirect", ...). */
const char *pol_construct_name(unsigned bit);
/* The bit of a construct name, or 0. */
unsigned pol_construct_bit(const char *name);

/* Word flags. */
#define POL_W_QUOTED  0x01	/* some part was quoted or escaped */
#define POL_W_GLOB    0x02	/* an unquoted * ? or [ */
#define POL_W_VAR     0x04	/* a $ expansion */
#define POL_W_SUBST   0x08	/* a command or process substitution */
#define POL_W_BRACE   0x10	/* unquoted brace expansion */
#define POL_W_TILDE   0x20	/* unquoted leading ~ */

/*
 * A word is kept twice: as the text the policy matches (after quote
 * removal, expansions left as written) and as segments that say what each
 * byte range of that text is to the shell.  The renderer (pol_render)
 * rebuilds the word from the segments alone, so a byte the parser read as
 * literal can only ever reach the shell as a literal.
 */
enum pol_seg_kind {
	POL_SEG_LIT,		/* literal bytes (quoted or not) */
	POL_SEG_GLOB,		/* an unquoted * or ?, or a whole [...] bracket */
	POL_SEG_BRACE,		/* an unquoted { , } or . (brace expansion only
				 * when the word has POL_W_BRACE) */
	POL_SEG_TILDE,		/* the unquoted ~ and user name at a word start */
	POL_SEG_EQ,		/* the '=' that makes an assignment */
	POL_SEG_VAR,		/* $NAME, ${NAME...}, $1, $@ ...: as written */
	POL_SEG_SUBST,		/* $(...), `...`, <(...) or >(...) */
};

struct pol_wseg {
	unsigned char kind;	/* enum pol_seg_kind */
	bool in_dq;		/* VAR, SUBST: inside double quotes */
	char open;		/* SUBST: '$' for $( and `, '<' or '>' */
	size_t off, len;	/* the range of the word's text it covers */
	size_t body, blen;	/* SUBST: the body's range in the whole line */
};

struct pol_word {
	char *s;		/* the word after quote removal, NUL-terminated */
	size_t len;		/* may contain NUL bytes; matching uses len */
	unsigned flags;
	char *glob;		/* when POL_W_GLOB: the word as an fnmatch pattern
				 * with quoted characters escaped; else NULL */
	size_t nseg;
	struct pol_wseg *seg;	/* covers s[0..len) in order */
};

struct pol_redir {
	int fd;			/* -1 when implied */
	char op[4];		/* "<" ">" ">>" ">|" "<>" ">&" "<&" "&>" "<<" "<<<" ... */
	char *target;		/* the word after quote removal */
	bool is_file;		/* a real file (not a fd dup or /dev/null) */
	struct pol_word word;	/* the target as a word (word.s is target) */
	size_t before;		/* it came before words[before] (nwords: after all) */
	bool hd_quoted;		/* << and <<-: the delimiter was quoted */
	size_t hd_body, hd_len;	/* << and <<-: the body's range in the line
				 * (without the delimiter line) */
};

struct pol_simple {
	size_t nwords;
	struct pol_word *words;	/* words[0] is the command name */
	size_t nassign;
	char **assign;		/* "NAME=value" prefixes */
	struct pol_word *assignw;	/* the same as words (assignw[i].s is assign[i]) */
	size_t nredirs;
	struct pol_redir *redirs;
	unsigned constructs;	/* POL_C_* seen in this command */
	int depth;		/* 0 = typed; n = inside n substitutions */
	char sep[4];		/* operator after it: ";" "&&" "||" "|" "|&" "&" "\n" or "" */
	size_t offset;		/* byte offset of its first character */
};

struct pol_cmdline {
	size_t nsimple;
	struct pol_simple *simple;
	unsigned constructs;	/* union over all simple commands */
	size_t comment_offset;	/* byte offset of the first comment, if any */
	unsigned opts;		/* the POL_PARSE_* options it was parsed with */
	int error;		/* 0, or POL_E_UNPARSABLE / POL_E_TOOBIG */
	size_t err_offset;	/* byte offset of the problem */
	char err_msg[96];	/* what was not understood */
};

/* Limits: longer or deeper input is refused (POL_E_TOOBIG). */
#define POL_CMDLINE_MAX   65536
#define POL_CMDLINE_DEPTH 8

/*
 * Parses `len` bytes of `line`.  Returns 0 and a new object in *out, or
 * POL_E_UNPARSABLE / POL_E_TOOBIG with *out still set (its `error`,
 * `err_offset` and `err_msg` say why; its commands are what was parsed
 * before the problem), or POL_E_NOMEM with *out NULL.  Free with
 * pol_cmdline_free.
 */
int pol_cmdline_parse(const char *line, size_t len, struct pol_cmdline **out);

/* Parse options. */
#define POL_PARSE_NO_COMMENTS 0x1	/* '#' is an ordinary character, as in an
					 * interactive bash without interactive_comments */
/* pol_cmdline_parse with options. */
int pol_cmdline_parse_opts(const char *line, size_t len, unsigned opts,
    struct pol_cmdline **out);
void pol_cmdline_free(struct pol_cmdline *c);

/* Writes a readable account of the parse (words, constructs) to f. */
void pol_cmdline_describe(const struct pol_cmdline *c, FILE *f);

#endif
