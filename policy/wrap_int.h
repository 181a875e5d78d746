/*
 * wrap_int.h: the wrapper models of libescort-policy, shared by wrap.c (the
 * engine side: which commands a wrapper runs), wrap_opt.c (a getopt(3)
 * reading of a wrapper's options), wrap_table.c (one model per wrapper,
 * taken from its manual page) and wrap_eval.c (commands that evaluate
 * strings as code).  Nothing here allocates; every pointer points into the
 * caller's words or into static tables.  Not part of the API: its functions
 * are named pol__*.
 */
#ifndef ESCORT_POLICY_WRAP_INT_H
#define ESCORT_POLICY_WRAP_INT_H

#include "policy/pol_int.h"

/* What an option means beyond "skip it (and its argument)". */
enum wrap_act {
	WACT_NONE,
	WACT_DENY,	/* never allowed through a wrapper: `why` says why */
	WACT_TEXT,	/* its argument is shell text (su -c, script -c) */
	WACT_SHELL,	/* the operands are run by a shell (sudo -s, sudo -i) */
	WACT_NOCMD,	/* no command runs (sudo -l, taskset -p, command -v) */
	WACT_EXECV,	/* the operands are argv, not shell text (watch -x) */
	WACT_REPLACE,	/* xargs -I STR / -i[STR]: STR stands for input */
	WACT_USER,	/* runuser -u USER: the operands are the command */
	WACT_NAMED,	/* starts a shell (bash -s, -i): only a pattern spelling out
			 * the whole command allows it */
};

/* How the command a wrapper runs is found among its operands. */
enum wrap_how {
	WHOW_ARGV,	/* operands after `skip` are the command and its arguments */
	WHOW_SHELL,	/* a shell: -c makes the first operand shell text */
	WHOW_WATCH,	/* operands joined with spaces, run by sh -c (or argv with -x);
			 * eval too */
	WHOW_FIND,	/* -exec / -execdir / -ok / -okdir ... ; or {} + */
	WHOW_XARGS,	/* argv, with words from the input appended or replacing STR */
	WHOW_SU,	/* [USER]; the shell text comes from -c */
	WHOW_SG,	/* [-] GROUP [-c] TEXT */
	WHOW_SCRIPT,	/* [FILE]; the shell text comes from -c */
	WHOW_FLOCK,	/* FILE COMMAND... or FILE -c TEXT or FD */
	WHOW_TEXT1,	/* the first operand is shell text (trap TEXT SIG...) */
	WHOW_SUFFIXES,	/* options not modelled: every tail may be the command */
	WHOW_DENY,	/* always denied (sudoedit) */
};

/* A long option, as struct option of getopt_long(3). */
enum { WARG_NO, WARG_REQ, WARG_OPT };
struct wrap_long {
	const char *name;
	int has_arg;		/* WARG_* */
	int val;		/* the short option it stands for, or a value > 255 */
};

struct wrap_actdef {
	int val;		/* short option letter or long-only value */
	enum wrap_act act;
	const char *why;	/* WACT_DENY / WACT_NAMED */
};

struct wrap_model {
	const char *name;	/* the command's base name */
	/* getopt(3) option string: "x" flag, "x:" argument (attached or next
	 * word), "x::" optional argument (attached only).  A leading '+' stops
	 * at the first operand; without it options may follow operands (GNU
	 * permutation).  NULL: the model parses its words itself. */
	const char *optstring;
	const struct wrap_long *longs;	/* { NULL } terminated, or NULL */
	const struct wrap_actdef *acts;	/* { 0 } terminated, or NULL */
	enum wrap_how how;
	unsigned skip;		/* WHOW_ARGV: operands before the command */
	unsigned flags;		/* WRAPF_* */
	const char *bare;	/* no command given: NULL = nothing runs;
				 * else it starts a shell (why) */
};
#define WRAPF_NUMERIC  0x1	/* -N, --N, -+N are options (nice -5) */
#define WRAPF_DASH     0x2	/* a lone "-" is an option (env -, su -) */
#define WRAPF_ASSIGN   0x4	/* NAME=VALUE operands before the command (env) */
#define WRAPF_BANG     0x8	/* a "!" before the command negates it (time !) */
#define WRAPF_EXACT    0x10	/* long options must be spelled out (no prefixes) */
#define WRAPF_PLUS     0x20	/* +x clusters are options too (sh +o posix) */
#define WRAPF_DASHEND  0x40	/* a lone "-" ends the options, like "--" (sh -) */

/* The model for base name `name` (len bytes), or NULL. */
const struct wrap_model *pol__wrap_model_find(const char *name, size_t len);
/* The models in table order, for the unit test that checks the table. */
size_t pol__wrap_model_count(void);
const struct wrap_model *pol__wrap_model_at(size_t i);

/* The options read by pol__wrap_opt_parse. */
struct wrap_optarg {
	size_t word;		/* index of the word holding the argument */
	size_t off;		/* its first byte in that word */
	bool set;
};
struct wrap_opts {
	size_t first;		/* index of the first operand (n when none) */
	size_t nops;		/* operands */
	bool late;		/* an option followed an operand (permutation) */
	unsigned acts;		/* 1 << WACT_* seen */
	struct wrap_optarg arg[WACT_NAMED + 1];	/* argument of the last option per act */
	const char *why;	/* WACT_DENY / WACT_NAMED reason, or the parse error */
	char bad[48];		/* the option the model does not know */
};

/* Reads the options of w[0..n) by model m.  Returns 0, or -1 when an option
 * is not in the model, lacks its argument, or is not known until the shell
 * expands it (o->bad names it, o->why says which). */
int pol__wrap_opt_parse(const struct wrap_model *m, const struct cword *w, size_t n,
    struct wrap_opts *o);

/* Whether wrap_eval.c's table of evaluating commands is sorted (its
 * lookup is a bsearch); for the unit test. */
bool pol__wrap_eval_table_sorted(void);

/* Whether s[0..len) is, or assigns (NAME=, NAME+=, NAME[...]), a variable
 * the shell or the next program runs or uses to find what runs
 * (PROMPT_COMMAND, PS1, PATH, IFS, BASH_ENV, LD_PRELOAD, PAGER ...). */
bool pol__wrap_special_var(const char *s, size_t len);

/* The base name of word w (after the last '/'). */
const char *pol__wrap_base(const struct cword *w, size_t *len);
bool pol__wrap_word_is(const struct cword *w, const char *s);

#endif
