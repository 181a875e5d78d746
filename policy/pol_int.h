/*
 * pol_int.h: the policy object's insides, shared by the files of
 * libescort-policy only (parse, resolve, engine, match, wrap, lint).
 * Not part of the API: its functions are named pol__* (see policy.h).
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
void *pol__arena_alloc(struct arena *a, size_t n);	/* zeroed; NULL on ENOMEM */
char *pol__arena_strndup(struct arena *a, const char *s, size_t n);
char *pol__arena_strdup(struct arena *a, const char *s);
/* Grows *v (of *n elements, capacity *cap) by one zeroed element of size
 * `sz`; returns it or NULL.  Old storage is left in the arena. */
void *pol__arena_push(struct arena *a, void *v, size_t *n, size_t *cap, size_t sz);
void pol__arena_free(struct arena *a);

#define ARENA_PUSH(a, vec, n, cap) \
	((__typeof__(vec))pol__arena_push((a), &(vec), &(n), &(cap), sizeof(*(vec))))

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

struct pol_tz;				/* tzfile.c: an IANA zone, in the arena */

struct when {
	unsigned days;			/* bit 0 = Sunday ... bit 6 = Saturday */
	int from, to;			/* minutes after midnight; to may be < from */
	int tz;				/* minutes east of UTC (when zone is NULL) */
	const struct pol_tz *zone;	/* IANA zone (America/New_York) or NULL */
	int line, col;
};

/* tzfile.c: reads the TZif file of zone `name` (e.g. "Europe/Paris") from
 * the system tz database (TZDIR or /usr/share/zoneinfo) into the arena.
 * Returns the zone, or NULL with a static reason in *why.  Thread-safe
 * lookups afterwards: nothing global is touched (no TZ, no tzset). */
const struct pol_tz *pol__tz_load(struct arena *a, const char *name, const char **why);
/* The same from the bytes of a TZif file (len bytes at buf, not kept). */
const struct pol_tz *pol__tz_parse(struct arena *a, const char *name, const unsigned char *buf,
    size_t len, const char **why);
/* The zone's name as written in the policy. */
const char *pol__tz_name(const struct pol_tz *z);
/* Seconds east of UTC in zone z at time t. */
long pol__tz_offset(const struct pol_tz *z, time_t t);

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
	struct spec *supervise;		/* `supervised-by`: may supervise, */
	size_t nsupervise, csupervise;	/* presence not required */
	struct when *when;
	size_t nwhen, cwhen;
	int shell, exec, sftp, forward;	/* -1 = not set by this rule */
	int passwords;			/* 0 mask, 1 record; -1 = not set */
	int observe_deny;		/* 0 warn, 1 end; -1 = not set */
	long max_session;		/* -1 = not set */
	unsigned constructs;		/* POL_C_* permitted */
	bool construct_all;		/* `construct all` was written */
	int construct_all_line, construct_all_col;
	bool env_set;			/* an `env` line was given (env none: nenv 0) */
	const char **env;		/* names and globs of environment variables */
	size_t nenv, cenv;
	int env_line;			/* of the `env` line */
	struct pattern *pats;
	size_t npats, cpats;
	const char *reason;
	int who_line, where_line;
	int shell_line, shell_col;	/* of the `shell` line (0 = none) */
	int escort_line, escort_col;	/* of the first `escort` line */
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
const struct pol_group *pol__find_group(const struct policy *p, const char *name);
bool pol__user_in_group(const struct pol_user *u, const struct pol_group *g);

/* admit.c: whether rule r's who and where match; the first forbid that
 * matches (user, target) at `now`, or NULL. */
bool pol__rule_applies(const struct pol_rule *r, const struct pol_user *u,
    const struct pol_target *t);
const struct pol_rule *pol__find_forbid(const struct policy *p, const struct pol_user *u,
    const struct pol_target *t, time_t now);

/* matching (match.c) */
bool pol__specs_match_user(const struct spec *v, size_t n, const struct pol_user *u);
bool pol__specs_match_target(const struct spec *v, size_t n, const struct pol_target *t);
bool pol__when_match(const struct when *v, size_t n, time_t now);
bool pol__word_glob(const char *pat, size_t plen, const char *s, size_t slen);

/* A command's words as seen by the pattern matcher. */
struct cword {
	const char *s;
	size_t len;
	unsigned flags;			/* POL_W_* */
	const char *glob;
	/* path form (pathnorm.c), compared instead of s; NULL: s as is */
	const char *ps;
	size_t plen;
	unsigned pf;			/* PF_* */
};
#define PF_GLOB  0x1			/* ps is a glob of every path it may name */
#define PF_ANY   0x2			/* could name anything */
#define PF_CDREL 0x4			/* relative, after cd / pushd / popd */
#define PF_TEXT_ALLOW 0x8		/* allow patterns compare the text, deny and
					 * approve patterns the path form too (a
					 * transfer path relative to the home: the
					 * text "~/x", the form any directory + "/x") */

/* pathnorm.c: fills the path form of w[0..n); `after_cd`: a cd, pushd or
 * popd ran before on the line, so relative words (but w[0] and options)
 * name a path below an unknown directory; a transfer path, relative to a
 * login directory the policy does not know, is checked the same way (as
 * w[1] after a verb, with after_cd true).  *mem gets storage the forms
 * point into, for the caller to free after matching (NULL when none was
 * needed).  Returns 0 or POL_E_NOMEM. */
int pol__pathnorm_cwords(struct cword *w, size_t n, bool after_cd, char **mem);
/* Whether a simple command changes the working directory. */
bool pol__pathnorm_is_chdir(const struct pol_simple *sc);
/* Whether the wrapper words w[0..n) run the command that starts at
 * w[start] in another directory (env -C, sudo -D, find -execdir, ...). */
bool pol__pathnorm_wrapper_chdirs(const struct cword *w, size_t n, size_t start);
/* True when command w[0..n) reads its relative paths from a directory an
 * option names (tar -C, git -C, make -C): they are matched as after cd. */
bool pol__pathnorm_command_chdirs(const struct cword *w, size_t n);
/* Where a path starts inside word w: after the '=' of NAME=PATH or
 * --option=PATH (a path starting with / . or ~), or the path of a file://
 * URL; 0 when it holds none. */
size_t pol__pathnorm_embedded(const struct cword *w);
/* A malloc'd copy of w[0..n) in *out whose path forms are those after a cd
 * (storage in *mem); the caller frees both.  Returns 0 or POL_E_NOMEM. */
int pol__pathnorm_chdir_copy(const struct cword *w, size_t n, struct cword **out, char **mem);
/* The words w[0..n) of simple command sc followed by the targets of its
 * file redirections, in a malloc'd array *out (glob text in *mem; the
 * caller frees both, after any pol__pathnorm_cwords on them): "cat < F" reads F
 * as "cat F" does.  Returns the number of targets (0: *out is NULL), or
 * POL_E_NOMEM. */
int pol__pathnorm_redirect_words(const struct pol_simple *sc, const struct cword *w, size_t n,
    struct cword **out, char **mem);
/* Appends to the NUL-terminated buf (of cap bytes) how the first word of
 * w[0..n) that has a path form was read, for explain: " ('X' read as 'Y')"
 * ("**" is any directory) or " ('X' could be anything"). */
void pol__pathnorm_note(const struct cword *w, size_t n, char *buf, size_t cap);
/* Normalises a pattern word in place (only if it holds '/'); returns its
 * new length.  `broad`: a deny or approve pattern, which may only widen. */
size_t pol__pathnorm_pattern(char *s, size_t len, bool broad);
/* Whether pattern `pt` matches words w[0..n).  `open_tail`: more unknown
 * words follow (xargs).  Deny and approve patterns match conservatively
 * (any way the words could expand), allow patterns exactly. */
bool pol__pattern_match(const struct pattern *pt, const struct cword *w, size_t n,
    bool open_tail);

/* decide.c: the pattern checks of a command decision on ready-made word
 * vectors (wv[i] of nv[i] words, each checked as one simple command), for
 * the rules in cands whose `when` matches `now`.  deny_only: only deny and
 * approve patterns count and no match allows.  Fills out (verdict, checks,
 * considered, the deciding rule and reason) like policy_decide; returns 0
 * or POL_E_NOMEM. */
int pol__decide_words(const struct policy *p, const struct pol_rule *const *cands,
    size_t ncands, const struct cword *const *wv, const size_t *nv, size_t nvec,
    bool deny_only, time_t now, struct pol_decision *out);

/* wrappers (wrap.c, wrap_opt.c, wrap_table.c, wrap_eval.c) */
/* WRAP_INNER: words [start, end) are a command (env, sudo, xargs, find
 * -exec ...); WRAP_SHELL: `shell` is shell text to parse and check (sh -c,
 * su -c, watch); WRAP_DENY: the wrapper use is denied (`why`: an unknown
 * option, sudo -e, env -S ...); WRAP_SUFFIXES: a wrapper whose options are
 * not modelled: every tail of its words from `start` may be the command it
 * runs, so each is checked against the deny and approve patterns. */
enum wrap_kind { WRAP_NONE, WRAP_INNER, WRAP_SHELL, WRAP_DENY, WRAP_SUFFIXES };
struct wrap_inner {
	enum wrap_kind kind;
	size_t start, end;		/* WRAP_INNER: inner words [start, end) */
	bool open_tail;			/* xargs: more words are appended */
	bool placeholders;		/* find -exec, xargs -I: `ph` stands for input */
	const char *ph;			/* the placeholder ("{}" or xargs -I STR) */
	size_t phlen;
	char *shell;			/* WRAP_SHELL: malloc'd line to parse */
	const char *why;		/* WRAP_DENY: reason (static or in msg) */
	const char *wrapper;		/* static wrapper name */
	char msg[128];			/* storage for a composed reason */
};
/* Finds the commands the wrapper words w[0..n) run.  `open_tail`: unknown
 * words are appended (xargs): a wrapper whose command or options they could
 * supply (xargs env, xargs sh, xargs timeout 5, xargs find .) is denied, and
 * an inner command keeps the open tail.  Fills up to `max` entries of out
 * and returns their count (0 = not a wrapper, or nothing runs); -1 on
 * ENOMEM.  Free with pol__wrap_inner_clear. */
int pol__wrap_inner(const struct cword *w, size_t n, bool open_tail, struct wrap_inner *out,
    int max);
void pol__wrap_inner_clear(struct wrap_inner *v, int n);
/* What a rule must spell out to allow or approve a command that
 * pol__wrap_literal_only reports. */
/*
 * Lines no rule can allow (wrap_eval.c): a command that evaluates its
 * arguments (pol__wrap_literal_only true) given an argument whose text holds
 * shell syntax it would run ($( ` $[ ${, as in test -v 'a[$(cmd)]'); and
 * a shell or interpreter reading its program from standard input by a
 * path (/dev/stdin, /dev/fd/N, /proc/.../fd/N, '-').  Writes the reason
 * to why and returns true.
 */
bool pol__wrap_never(const struct cword *w, size_t n, bool evaluating, char *why, size_t whylen);

struct wrap_literal {
	char why[200];			/* the reason when nothing names it */
	const char *key;		/* a word the pattern must also contain
					 * literally (find's "-delete"), or NULL */
	size_t keylen;
	bool exact;			/* every word of the pattern must be
					 * literal (a shell: "su - postgres") */
};
/* Whether w[0..n) is a wrapper use that only a rule naming it literally
 * may allow: one that starts an interactive shell (sudo -s, su, script,
 * chroot DIR, bash alone: a pattern without '*' or "..."), or writes files
 * (find -delete/-fprint: a pattern that also names the action).  Fills *lit. */
bool pol__wrap_named_only(const struct cword *w, size_t n, struct wrap_literal *lit);
/* Whether w[0..n) evaluates strings as code (eval, let, awk, python -c,
 * sed with its e or w command ...), or is a wrapper use that
 * pol__wrap_named_only reports.  Then only allow and approve patterns for which
 * pol__wrap_names_literally holds may decide it; when none matches, the command
 * is denied with lit->why ("'eval' evaluates its arguments as code; a rule
 * must name it literally"). */
bool pol__wrap_literal_only(const struct cword *w, size_t n, struct wrap_literal *lit);
/* Whether pattern pt names command word w literally: its first word has no
 * '*' and is w or (without a '/') w's base name; when lit->key is set, one
 * of its words is exactly that key; when lit->exact, none of its words has
 * a '*' or is "...". */
bool pol__wrap_names_literally(const struct pattern *pt, const struct cword *w,
    const struct wrap_literal *lit);
/*
 * Programs that take over the screen and can run other commands (editors,
 * pagers with '!', interpreters, debuggers, remote-login clients,
 * multiplexers), with how (screenprog.c).  Such a program runs only where a
 * rule names it: an allow or approve pattern whose first word is its name.
 */
struct screenprog {
	const char *name;		/* base name */
	const char *kind;		/* "an editor", "a pager", ... */
	const char *reason;		/* how it runs commands: "! runs a shell" */
	bool versioned;			/* also name + version: python3.11 */
};
/* The entry whose name is b[0..bl) (a base name), or NULL. */
const struct screenprog *pol__screenprog_find(const char *b, size_t bl);
/* The table, for lint and tests: count, i-th entry (NULL past the end). */
size_t pol__screenprog_count(void);
const struct screenprog *pol__screenprog_at(size_t i);
bool pol__screenprog_table_sorted(void);
/* Whether command w[0..n) is such a program: then fills *lit (why: "NAME
 * can run other commands; a rule must name it to allow it (NAME: how)", no
 * key, not exact) for pol__wrap_names_literally and returns true. */
bool pol__screenprog_check(const struct cword *w, size_t n, struct wrap_literal *lit);

/* For `escort-policy check`: when allow or approve pattern pt's first word
 * is a glob or "..." that matches the name of a command that evaluates
 * strings as code (eval, awk, python3 ...), writes a warning saying that
 * the pattern does not reach those forms into msg and returns 1; else 0. */
int pol__wrap_lint_pattern(const struct pattern *pt, char *msg, size_t msglen);

/* the parser (parse.c) */
int pol__parse_file(struct policy *p, const char *path, int depth, struct pol_diags *d,
    void *sha_ctx, const char *include_from, int inc_line, int inc_col);
int pol__parse_buffer(struct policy *p, const char *name, const char *buf, size_t len,
    int depth, struct pol_diags *d, void *sha_ctx);
/* resolve.c: references, sorting, required fields. */
int pol__resolve(struct policy *p, unsigned flags, struct pol_diags *d);

#endif
