/*
 * parse_int.h: shared by the policy file parser's parts: lex.c (tokens),
 * parse.c (statements, blocks, includes) and parse_rule.c (rule and forbid
 * statements, specs, times, patterns).  Not part of the API: its functions are named pol__*.
 */
#ifndef ESCORT_POLICY_PARSE_INT_H
#define ESCORT_POLICY_PARSE_INT_H

#include "policy/pol_int.h"

enum tok_kind { T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_NL, T_EOF };

struct tok {
	enum tok_kind kind;
	const char *s;		/* arena copy (WORD, STRING) */
	size_t len;
	int line, col;
};

enum block { B_TOP, B_USER, B_TARGET, B_RULE, B_FORBID, B_SKIP };

struct pstate {
	struct policy *p;
	struct pol_diags *d;
	const char *file;	/* arena copy */
	const char *buf;
	size_t len, i;
	int line;
	size_t line_start;
	int depth;
	void *sha;
	enum block block;
	int block_line, block_col;
	struct user_int *user;
	struct target_int *target;
	struct pol_rule *rule;
	int nerr;
};

#define MAXARGS 64

/* Reports an error at line:col of the current file and counts it. */
void pol__perr(struct pstate *S, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reports a problem with a key text: an error, or a warning when the
 * policy is loaded with POL_LOAD_LENIENT_KEYS. */
void pol__pkeyerr(struct pstate *S, int line, int col, const char *what, const char *why);
/* Reads the next token.  Returns 0 or POL_E_NOMEM. */
int pol__lex(struct pstate *S, struct tok *t);
/* Checks a statement's argument count; reports a usage error if wrong. */
bool pol__want_args(struct pstate *S, struct tok *v, int n, int lo, int hi, const char *usage);
/* One statement inside a rule or forbid block. */
void pol__stmt_rule(struct pstate *S, struct tok *v, int n);

#endif
