/*
 * pol_int.h: the policy object's insides, shared by the files of
 * libescort-policy only (parse, resolve, engine, match, wrap, lint).
 */
#ifndef ESCORT_POLICY_INT_H
#define ESCORT_POLICY_INT_H

#include <stdatomic.h>

#include "policy/policy.h"

/* ---- arena: every byte of a policy lives in one, freed at once ---------- */
struct arena_chunk;
struct arena {
	struct arena_chunk *head;
};
void *arena_alloc(struct arena *a, size_t n);	/* zeroed; NULL on ENOMEM */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Grows *v (of *n elements, capacity *cap) by one zeroed element of size
 * `sz`; returns it or NULL.  Old storage is left in the arena. */
void *arena_push(struct arena *a, void *v, size_t *n, size_t *cap, size_t sz);
void arena_free(struct arena *a);

#define ARENA_PUSH(a, vec, n, cap) \
	((__typeof__(vec))arena_push((a), &(vec), &(n), &(cap), sizeof(*(vec))))

/* Constructs that are denied unless a rule names them in `construct`. */
#define POL_C_NEED_PERMISSION (POL_C_BACKGROUND | POL_C_SUBST | POL_C_BACKTICK | \
	POL_C_PROCSUBST | POL_C_REDIRECT | POL_C_HEREDOC | POL_C_ASSIGN | POL_C_VARIABLE | \
	POL_C_VAR_CMD | POL_C_GLOB_CMD | POL_C_BRACE | POL_C_HISTORY)

/* ---- who / where / escort specs ------------------------------------------- */
enum spec_kind {
	SPEC_ANY, SPEC_USER, SPEC_GROUP, SPEC_ATTR_EQ, SPEC_ATTR_NE,
	SPEC_TARGET, SPEC_LABEL_EQ, SPEC_LABEL_NE
};

struct pol_group;

struct spec {
	enum spec_kind kind;
	const char *a, *b;		/* name / key / glob, value */
	const struct pol_group *group;	/* resolved SPEC_GROUP */
	int line, col;
};

struct pol_group {
	const char *name;
	const char **members;		/* user names */
	int *member_cols;
	size_t nmembers, cap;
	const char *file;
	int line, col;
};

/* A user as stored: the public view first. */
struct user_int {
	struct pol_user pub;
	const struct pol_group **groups;
	size_t ngroups, gcap;
	size_t kcap, acap;
	int col;
};

struct target_int {
	struct pol_target pub;
	size_t lcap;
	int col;
	int identity_line, identity_col;
};

struct when {
	unsigned days;			/* bit 0 = Sunday ... bit 6 = Saturday */
	int from, to;			/* minutes after midnight; to may be < from */
	int tz;				/* minutes east of UTC */
	int line, col;
};

/* One word of a pattern. */
struct pword {
	const char *s;
	size_t len;
	bool ellipsis;			/* "..." */
	bool star;			/* contains '*' */
	bool slash;			/* contains '/' */
};

struct pattern {
	enum pol_verdict verdict;
	const char *text;		/* as written */
	const char *reason;		/* optional, NULL */
	struct pword *w;
	size_t nw;
	const struct pol_rule *rule;
	int line, col;
};

struct pol_rule {
	const char *name;
	bool forbid;
	const char *file;
	int line, col;
	struct spec *who, *where, *escort;
	size_t nwho, nwhere, nescort, cwho, cwhere, cescort;
	struct when *when;
	size_t nwhen, cwhen;
	int shell, exec, sftp, forward;	/* -1 = not set by this rule */
	long max_session;		/* -1 = not set */
	unsigned constructs;		/* POL_C_* permitted */
	struct pattern *pats;
	size_t npats, cpats;
	const char *reason;
	int who_line, where_line;
};

struct policy {
	atomic_long refs;
	unsigned load_flags;		/* POL_LOAD_* given to the load */
	char *reading[10];		/* real paths of the files being read (includes) */
	int nreading;
	struct arena arena;
	char *path;
	char hash[65];
	struct user_int **users;	/* sorted by name */
	size_t nusers, cusers;
	struct target_int **targets;	/* sorted by name */
	size_t ntargets, ctargets;
	struct pol_group **groups;	/* sorted by name */
	size_t ngroups, cgroups;
	struct pol_rule **rules;	/* rules and forbids, in file order */
	size_t nrules, crules;
	struct pol_expect *expects;
	size_t nexpects, cexpects;
};

/* Internal lookups. */
const struct pol_group *pol_find_group(const struct policy *p, const char *name);
bool pol_user_in_group(const struct pol_user *u, const struct pol_group *g);

/* admit.c: whether rule r's who and where match; the first forbid that
 * matches (user, target) at `now`, or NULL. */
bool rule_applies(const struct pol_rule *r, const struct pol_user *u,
    const struct pol_target *t);
const struct pol_rule *find_forbid(const struct policy *p, const struct pol_user *u,
    const struct pol_target *t, time_t now);

/* matching (match.c) */
bool spec_match_user(const struct spec *s, const struct pol_user *u);
bool specs_match_user(const struct spec *v, size_t n, const struct pol_user *u);
bool specs_match_target(const struct spec *v, size_t n, const struct pol_target *t);
bool when_match(const struct when *v, size_t n, time_t now);
bool word_glob(const char *pat, size_t plen, const char *s, size_t slen);

/* A command's words as seen by the pattern matcher. */
struct cword {
	const char *s;
	size_t len;
	unsigned flags;			/* POL_W_* */
	const char *glob;
};
/* Whether pattern `pt` matches words w[0..n).  `open_tail`: more unknown
 * words follow (xargs).  Deny and approve patterns match conservatively
 * (any way the words could expand), allow patterns exactly. */
bool pattern_match(const struct pattern *pt, const struct cword *w, size_t n,
    bool open_tail);

/* wrappers (wrap.c) */
/* WRAP_SUFFIXES: a wrapper whose options are not parsed; every tail of its
 * words from `start` may be the command it runs, so each is checked against
 * the deny and approve patterns. */
enum wrap_kind { WRAP_NONE, WRAP_INNER, WRAP_SHELL, WRAP_DENY, WRAP_SUFFIXES };
struct wrap_inner {
	enum wrap_kind kind;
	size_t start, end;		/* WRAP_INNER: inner words [start, end) */
	bool open_tail;			/* xargs: more words are appended */
	bool placeholders;		/* find -exec: {} stands for file names */
	char *shell;			/* WRAP_SHELL: malloc'd line to parse */
	const char *why;		/* WRAP_DENY: static reason */
	const char *wrapper;		/* static wrapper name */
};
/* Finds the commands the wrapper words w[0..n) run.  Fills up to `max`
 * entries of out and returns their count (0 = not a wrapper); -1 on ENOMEM. */
int wrap_inner(const struct cword *w, size_t n, struct wrap_inner *out, int max);
void wrap_inner_clear(struct wrap_inner *v, int n);

/* the parser (parse.c) */
int pol_parse_file(struct policy *p, const char *path, int depth, struct pol_diags *d,
    void *sha_ctx, const char *include_from, int inc_line, int inc_col);
int pol_parse_buffer(struct policy *p, const char *name, const char *buf, size_t len,
    int depth, struct pol_diags *d, void *sha_ctx);
/* resolve.c: references, sorting, required fields. */
int pol_resolve(struct policy *p, unsigned flags, struct pol_diags *d);

#endif
