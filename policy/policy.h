/*
 * policy.h: the Escort policy engine (escort-policy(5)).
 *
 * A policy is loaded once from a file (and the files it includes) into an
 * immutable, reference-counted object.  Nothing in it changes after
 * policy_load() returns, so any number of threads may read one policy at the
 * same time; only policy_ref()/policy_unref() touch its (atomic) count.  A
 * reload loads a new object and swaps the pointer; sessions keep their
 * reference to the old one until they let it go.
 *
 * The engine knows nothing of SSH or of event loops: plain C and OpenSSL
 * (SHA-256 for the policy hash).
 *
 * Errors: every function that can fail returns 0 (or a count) on success and
 * a negative POL_E_* code on failure; pol_strerror() names the code.
 *
 * Lifetimes: every pointer into a policy (users, targets, rule names, pattern
 * text, strings in a decision) stays valid as long as the caller holds a
 * reference to that policy.  A pol_session holds its own reference.
 *
 * Names: the public headers of libescort-policy are policy.h, cmdline.h
 * (the shell command-line parser) and pathnorm.h (path normalisation); only
 * the policy_* and pol_* functions they declare are its API.  The other
 * headers (pol_int.h, parse_int.h, cmd_int.h, wrap_int.h, keytext.h) are
 * internal: a function they declare is named pol__* and is shared by the
 * library's files only; a helper used in one file is static.  policy/policy.sym
 * lists the exported names; tests/tools/check_symbols.py fails on any other.
 */
#ifndef ESCORT_POLICY_H
#define ESCORT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "policy/cmdline.h"

/* ---- errors ------------------------------------------------------------ */
#define POL_OK            0
#define POL_E_NOMEM      -1	/* out of memory */
#define POL_E_IO         -2	/* a file could not be read */
#define POL_E_SYNTAX     -3	/* the policy has errors (see the diagnostics) */
#define POL_E_INVAL      -4	/* an argument was invalid */
#define POL_E_NOUSER     -5	/* no such user */
#define POL_E_NOTARGET   -6	/* no such target */
#define POL_E_REFUSED    -7	/* admission refused (see the refusal) */
#define POL_E_UNPARSABLE -8	/* a command line outside the parsed subset */
#define POL_E_TOOBIG     -9	/* an input exceeds a fixed limit */

/* Returns a static, human-readable description of a POL_E_* code. */
const char *pol_strerror(int err);

/* ---- diagnostics --------------------------------------------------------- */
enum pol_severity { POL_SEV_ERROR, POL_SEV_WARNING };

struct pol_diag {
	enum pol_severity sev;
	char *file;		/* owned; the file as named to policy_load or include */
	int line, col;		/* 1-based; 0 when the whole file is meant */
	char *msg;		/* owned; no trailing newline */
};

/* A growable list of diagnostics.  Zero-initialise; free with pol_diags_free. */
struct pol_diags {
	struct pol_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};

void pol_diags_free(struct pol_diags *d);
/* Appends one formatted diagnostic.  Returns 0 or POL_E_NOMEM. */
int pol_diags_add(struct pol_diags *d, enum pol_severity sev, const char *file,
    int line, int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Sorts by file, line, column (stable) for printing. */
void pol_diags_sort(struct pol_diags *d);

/* ---- loading ------------------------------------------------------------- */
struct policy;

/* Flags for policy_load. */
#define POL_LOAD_CHECK_FILES 0x1	/* also check that identity files are readable */
#define POL_LOAD_LENIENT_KEYS 0x2	/* a malformed key or hostkey text is a warning
					 * and is left out, not an error (for tools
					 * that explain or test a draft policy) */

/*
 * Loads and checks the policy in `path` (and every file it includes).  On
 * success returns 0 and stores a new policy (reference count 1) in *out.  On
 * failure returns a negative POL_E_* code and *out is NULL.  Every problem
 * found is appended to `diags` (may be NULL) as FILE:LINE:COL errors; the
 * load goes on after an error so that all of them are reported.  Warnings
 * (see policy_lint) are not produced here.
 */
int policy_load(const char *path, unsigned flags, struct policy **out,
    struct pol_diags *diags);

/* Checks that every target's identity file is readable by this process;
 * appends an error per unreadable file.  Returns the number, or
 * POL_E_NOMEM.  (policy_load does this with POL_LOAD_CHECK_FILES.) */
long policy_check_files(const struct policy *p, struct pol_diags *diags);

/* Same as policy_load for text in memory; `name` is used in diagnostics and
 * `include` is resolved relative to the current directory. */
int policy_load_buffer(const char *name, const char *buf, size_t len,
    unsigned flags, struct policy **out, struct pol_diags *diags);

/* Takes one more reference; returns p. */
struct policy *policy_ref(struct policy *p);
/* Drops one reference; the last one frees the policy.  NULL is ignored. */
void policy_unref(struct policy *p);

/* SHA-256 over the source bytes of every file loaded, in load order (each
 * preceded by its length in decimal and a newline), as 64 lowercase hex
 * digits.  Valid while the policy lives. */
const char *policy_hash(const struct policy *p);
/* The path given to policy_load. */
const char *policy_path(const struct policy *p);

/* ---- users and targets --------------------------------------------------- */
struct pol_kv {
	const char *key, *value;
};

struct pol_user {
	const char *name;
	size_t nkeys;
	const char *const *keys;	/* "type base64" (comment dropped) */
	size_t nattrs;
	const struct pol_kv *attrs;
	const char *file;
	int line;
};

struct pol_target {
	const char *name;
	const char *host;		/* name or address, without brackets */
	uint16_t port;
	const char *login;		/* account on the target; NULL if unset */
	const char *identity;		/* path of the proxy-held key; NULL if unset */
	const char *hostkey;		/* pinned "type base64"; NULL if unset */
	const char *home;		/* the login's home directory (absolute,
					 * normal form): relative transfer paths
					 * are under it; NULL: under an unknown one */
	size_t nlabels;
	const struct pol_kv *labels;
	const char *file;
	int line;
};

/* Returns the user or target of that name, or NULL. */
const struct pol_user *policy_user(const struct policy *p, const char *name);
const struct pol_target *policy_target(const struct policy *p, const char *name);

/* True when `key` ("type base64 [comment]", as in authorized_keys) is one of
 * the user's keys.  The comment is ignored. */
bool pol_user_has_key(const struct pol_user *u, const char *key);
/* The value of the user's first attribute `key`, or NULL. */
const char *pol_user_attr(const struct pol_user *u, const char *key);
/* The value of the target's first label `key`, or NULL. */
const char *pol_target_label(const struct pol_target *t, const char *key);

/* Number of users / targets, and the i-th in name order. */
size_t policy_nusers(const struct policy *p);
const struct pol_user *policy_user_at(const struct policy *p, size_t i);
size_t policy_ntargets(const struct policy *p);
const struct pol_target *policy_target_at(const struct policy *p, size_t i);

/* Time value meaning "ignore every `when`" (used for `expect` lines). */
#define POL_ANYTIME ((time_t)-1)

/*
 * Targets `user` may open at `now`, in name order.  Stores a malloc'd array
 * in *out (free it with free(); the elements belong to the policy) and
 * returns the count, or a negative POL_E_* code.
 */
long policy_targets_for(const struct policy *p, const char *user, time_t now,
    const struct pol_target ***out);

/* ---- admission: session settings ----------------------------------------- */
enum pol_shell { POL_SHELL_NONE, POL_SHELL_STRICT, POL_SHELL_OBSERVE };
enum pol_sftp { POL_SFTP_NONE = 0, POL_SFTP_DOWNLOAD = 1, POL_SFTP_UPLOAD = 2,
	POL_SFTP_BOTH = 3 };
enum pol_forward { POL_FORWARD_NONE, POL_FORWARD_LOCAL };

const char *pol_shell_name(enum pol_shell s);
const char *pol_sftp_name(enum pol_sftp s);
const char *pol_forward_name(enum pol_forward f);

struct pol_rule;

/*
 * The settings of an admitted session: the combination of every admitting
 * rule, narrowed to the most restrictive.  Created by policy_admit; holds a
 * reference to its policy.  Read-only for the caller.
 */
struct pol_session {
	struct policy *policy;		/* referenced */
	const struct pol_user *user;
	const struct pol_target *target;
	bool escort_required;		/* an escort must be present */
	enum pol_shell shell;
	bool exec;			/* exec requests allowed (each checked) */
	enum pol_sftp sftp;
	enum pol_forward forward;
	long max_session;		/* seconds; 0 = no limit */
	bool record_passwords;		/* `passwords record` in every admitting
					 * rule: input at password prompts is
					 * recorded as typed (default: masked) */
	bool observe_end_on_deny;	/* `observe-deny end` in any admitting
					 * rule: in observe mode a command the
					 * policy denies ends the session
					 * (default: a warning) */
	size_t nrules;			/* the admitting rules */
	const struct pol_rule **rules;
	char *rule_names;		/* "a, b, c"; for logs */
	size_t ncandidates;		/* rules whose who and where match; */
	const struct pol_rule **candidates;	/* their `when` is checked per command */
};

/* Reasons of a refusal.  `user_msg` may be shown to the person connecting (it
 * reveals nothing of the policy); `log_msg` names the rules for the log. */
struct pol_refusal {
	char user_msg[160];
	char log_msg[480];
};

/*
 * Decides whether `user` may open a session to `target` at `now`: some rule's
 * who, where and when match, and no forbid matches.  On success returns 0 and
 * stores a new session in *out (free with pol_session_free).  Otherwise returns
 * POL_E_NOUSER, POL_E_NOTARGET or POL_E_REFUSED (or POL_E_NOMEM), *out is
 * NULL and `why` (may be NULL) is filled in.
 */
int policy_admit(struct policy *p, const char *user, const char *target,
    time_t now, struct pol_session **out, struct pol_refusal *why);
void pol_session_free(struct pol_session *s);

/* The name of the forbid block that matches (user, target) in `p` now (its
 * `when`, if any, checked against the current time), or NULL.  After a
 * reload, call this with the new policy for each live session: a non-NULL
 * result means the session must end. */
const char *policy_forbidden(const struct policy *p, const char *user,
    const char *target);

/* True when `escort_user` may escort a session of `s`: every admitting rule
 * that names escorts (`escort` or `supervised-by`) names this user in one of
 * the two, and at least one does.  False when the escort is unknown or is
 * the session's own user. */
bool pol_session_may_escort(const struct pol_session *s, const char *escort_user);
/* True when some admitting rule of `s` names escorts (`escort` or
 * `supervised-by`): escorts may supervise the session and approve its
 * commands. */
bool pol_session_supervised(const struct pol_session *s);
/* Who may end the wait of a moderated session (escort_required): for each
 * admitting rule with an `escort` line, the specs of its `escort` and
 * `supervised-by` lines as written ("user:bob or group:escorts"), rules
 * joined by "; and ".  Written into out (always terminated, cut to fit);
 * "" when the session is not moderated.  Returns out. */
char *pol_session_escort_text(const struct pol_session *s, char *out, size_t outsz);
/* Same from names, for callers holding no session. */
bool policy_may_escort(const struct policy *p, const char *escort_user,
    const char *user, const char *target, time_t now);
/* True when some rule (not a forbid) names `escort_user` in its `escort` or
 * `supervised-by` line: the user is an escort somewhere.  False for an
 * unknown user. */
bool policy_names_escort(const struct policy *p, const char *escort_user);

/* ---- command decisions ----------------------------------------------------- */
/* Ordered by precedence: a higher value wins when several apply. */
enum pol_verdict { POL_ALLOW = 0, POL_APPROVE = 1, POL_DENY = 2 };
const char *pol_verdict_name(enum pol_verdict v);	/* "allow" ... */

/* One checked command: a simple command of the line, or the inner command
 * of a wrapper (sudo, env, sh -c ...). */
struct pol_check {
	enum pol_verdict verdict;
	size_t simple;			/* index into the cmdline's simple commands */
	int depth;			/* 0 = as typed; 1 = inside a wrapper ... */
	char *words;			/* the words checked, joined by spaces (owned) */
	const char *rule;		/* deciding rule or forbid; NULL = default */
	const char *file;
	int line;			/* of the deciding pattern, or the rule */
	const char *pattern;		/* the deciding pattern, or NULL */
	char reason[200];
};

struct pol_decision {
	enum pol_verdict verdict;
	/* The deciding check: the first with the final verdict, or the wrapped
	 * command beneath it that gave that verdict.  Strings point into the
	 * policy (valid while it is referenced): */
	const char *rule;		/* NULL when decided by default or by parsing */
	const char *file;
	int line;
	const char *pattern;
	char reason[240];		/* for the technician; names the rule id */
	const char *policy_hash;	/* the policy that decided */
	struct pol_cmdline *cmd;	/* the parsed line (owned), or NULL */
	/* What runs: when the verdict is allow or approve, the line rebuilt
	 * from the parse (pol_render), every word single-quoted and only the
	 * permitted operators re-emitted; the proxy sends this, never the
	 * text it was given.  NULL when denied or when the line could not be
	 * rebuilt (the verdict is then deny).  Owned. */
	char *rendered;
	size_t nchecks;
	struct pol_check *checks;	/* every command checked (owned) */
	size_t nconsidered;
	const struct pol_rule **considered;	/* rules whose who/where/when match */
};

/*
 * Decides a command line (exec request, or a line typed in strict mode) for
 * a session at `now`: parses it, checks every simple command (and the inner
 * command of every wrapper) against the patterns of the rules that match,
 * and combines: deny > approve > allow; no matching pattern is deny.  A
 * matching forbid denies everything.  Commands that evaluate strings as
 * code (wrap_eval.c) and programs that take over the screen and run
 * commands (editors, pagers, interpreters: screenprog.c) are allowed or
 * approved only by a pattern whose first word names them literally.  Always fills `out` (free with
 * pol_decision_free) and returns 0, or POL_E_NOMEM / POL_E_INVAL.
 */
int policy_decide(const struct pol_session *s, const char *line, size_t len,
    time_t now, struct pol_decision *out);
/* Same from names, without admission (for explain, test and diff).  Returns
 * POL_E_NOUSER / POL_E_NOTARGET when a name is unknown (out is then a deny). */
int policy_decide_for(const struct policy *p, const char *user,
    const char *target, const char *line, size_t len, time_t now,
    struct pol_decision *out);
void pol_decision_free(struct pol_decision *d);

/*
 * pol_render: rebuilds a parsed line as shell text in which nothing but
 * what the parse recorded can run: every literal character single-quoted,
 * glob characters the parse saw as globs left bare, expansions and
 * operators re-emitted from the parse (substitution bodies rebuilt in
 * turn).  `permitted` (POL_C_*) is what the policy allowed; a construct in
 * the line that needs permission (POL_C_NEED_PERMISSION in the engine: not
 * lists, pipes, fd redirections, globs in arguments, tilde or comments) and
 * is outside `permitted` makes the render fail.  Returns 0 and a malloc'd
 * NUL-terminated string in *out, POL_E_INVAL when the line holds something
 * the renderer cannot rebuild faithfully (the caller must deny), or
 * POL_E_NOMEM.
 */
int pol_render(const struct pol_cmdline *c, const char *line, size_t len,
    unsigned permitted, char **out);

/* ---- file transfers (transfer.c) -------------------------------------------
 *
 * SFTP and scp operations are decided like commands: each path is normalised
 * lexically and checked as the pseudo-command "sftp OP PATH [PATH2]" (OP is
 * pol_xfer_op_name()) against the patterns of the rules that apply; the
 * session's `sftp` direction decides per operation; shell start-up files and
 * ssh's own files are never changed unless an allow pattern names the path
 * literally.  escort-policy(5), TRANSFER PATHS, is the reference. */
enum pol_xfer_op {
	POL_XFER_READ,		/* "get": download a file (OPEN for reading) */
	POL_XFER_WRITE,		/* "put": upload, create, truncate, append */
	POL_XFER_LIST,		/* "ls": read a directory */
	POL_XFER_STAT,		/* "stat": attributes of a path */
	POL_XFER_REMOVE,	/* "rm" */
	POL_XFER_RENAME,	/* "rename" PATH NEWPATH */
	POL_XFER_MKDIR,		/* "mkdir" */
	POL_XFER_RMDIR,		/* "rmdir" */
	POL_XFER_SETSTAT,	/* "chmod": mode, owner, times, size */
	POL_XFER_SYMLINK,	/* "symlink" PATH PATH (both ends) */
	POL_XFER_LINK,		/* "link" PATH PATH: a hard link (both ends) */
	POL_XFER_READLINK,	/* "readlink" */
	POL_XFER_REALPATH,	/* "realpath" */
	POL_XFER_NOPS
};

/* The pseudo-command word of op ("get", "put", "ls", ...), or NULL. */
const char *pol_xfer_op_name(enum pol_xfer_op op);
/* The op named `name` (as printed by pol_xfer_op_name); -1 if none. */
int pol_xfer_op_parse(const char *name);
/* Whether op takes a second path (rename, symlink, link). */
bool pol_xfer_op_two_paths(enum pol_xfer_op op);

/*
 * Decides one transfer operation of session `s` at `now` on `path` (and
 * `path2` for rename, symlink and link; NULL otherwise).  Paths are as the
 * client sent them: relative ones are relative to the login's home.  Fills
 * `out` like policy_decide (free with pol_decision_free; out->cmd and
 * out->rendered stay NULL; each check's words are the pseudo-command) and
 * returns 0, or POL_E_INVAL (bad op, missing path, NUL-free path longer
 * than 4096 bytes) / POL_E_NOMEM with out a deny.  Never POL_APPROVE: an
 * approve pattern denies, since no escort can approve a transfer yet.
 */
int policy_decide_transfer(const struct pol_session *s, enum pol_xfer_op op,
    const char *path, const char *path2, time_t now, struct pol_decision *out);
/* Same from names, for explain: admits (user, target) at `now` first; a
 * refused admission is a deny naming why.  Returns 0, POL_E_NOUSER,
 * POL_E_NOTARGET, POL_E_INVAL or POL_E_NOMEM; out is always filled. */
int policy_decide_transfer_for(const struct policy *p, const char *user,
    const char *target, enum pol_xfer_op op, const char *path, const char *path2,
    time_t now, struct pol_decision *out);

/* ---- rules (read-only views, for explain and logs) -------------------------- */
const char *pol_rule_name(const struct pol_rule *r);
int pol_rule_line(const struct pol_rule *r);
const char *pol_rule_file(const struct pol_rule *r);
bool pol_rule_is_forbid(const struct pol_rule *r);

/* ---- expectations ------------------------------------------------------------ */
struct pol_expect {
	enum pol_verdict want;
	const char *user, *target, *command;
	const char *file;
	int line, col;
};
size_t policy_nexpects(const struct policy *p);
const struct pol_expect *policy_expect_at(const struct policy *p, size_t i);

/*
 * Checks for the lint warnings of `escort-policy check`: shadowed or
 * unreachable patterns, allow patterns that hand out a shell, interpreter,
 * editor or pager (naming the rule and program for those of screenprog.c),
 * deny and approve patterns of `shell observe` rules (they stop nothing
 * typed there), rules with no expect, overlapping allow and deny, rules a
 * forbid overrides.  Appends warnings to `diags`.  Returns the number added,
 * or a negative POL_E_* code.
 */
long policy_lint(const struct policy *p, struct pol_diags *diags);

/* ---- one validator: what escort-policy check, escort-proxy -t and a
 * reload all apply (validate.c) ---------------------------------------------- */

/*
 * Errors for what this version of Escort cannot enforce, so that a policy
 * that relies on it is refused everywhere, not at session time.  Nothing
 * is refused today (`escort` is enforced: moderated sessions wait for an
 * escort), so it returns 0, or POL_E_NOMEM.  Each `approve` pattern gets a
 * warning: escorts approve only in supervised sessions (strict shells and
 * exec requests); elsewhere the proxy refuses what it matches.
 */
long policy_check_enforceable(const struct policy *p, struct pol_diags *diags);

/*
 * Runs every `expect` line (when windows ignored).  A failed one is an
 * error at its line.  When `report` is not NULL, one line per expect is
 * written to it ("PASS|FAIL FILE:LINE: ...").  Stores the number of expect
 * lines in *total (may be NULL).  Returns the number that failed, or
 * POL_E_NOMEM.
 */
long policy_check_expects(const struct policy *p, struct pol_diags *diags, FILE *report,
    size_t *total);

#define POL_VALIDATE_LINT 0x1	/* also the warnings of policy_lint */
/*
 * The checks that follow a successful policy_load, in one place:
 * policy_check_enforceable, policy_check_expects and (with
 * POL_VALIDATE_LINT) policy_lint.  A policy is valid when policy_load
 * succeeded and this returns 0.  Returns the number of errors appended (not
 * counting warnings), or POL_E_NOMEM.
 */
long policy_validate(const struct policy *p, unsigned flags, struct pol_diags *diags);

/* ---- environment requests (envreq.c) ------------------------------------------ */
#define POL_ENV_VALUE_MAX 256	/* bytes of a value other than a locale */

/*
 * Whether the environment request NAME=VALUE of a session's channel may go
 * to the target: every admitting rule with an `env` line lists NAME (a
 * name, or a '*' glob such as LC_*) and at least one has such a line; NAME
 * is not one that makes the target run other code (LD_*, BASH_ENV, PATH,
 * ... never pass); LANG and LC_* values are locale names
 * (pol_env_locale_ok); other values printable ASCII, at most
 * POL_ENV_VALUE_MAX bytes.  Returns 0 when it may pass, else POL_E_REFUSED
 * with the reason in why (may be NULL).  Thread-safe.
 */
int pol_session_env(const struct pol_session *s, const char *name, const char *value,
    char *why, size_t whylen);
/* The session's env setting as text ("LANG LC_*", "none", "A (rule x) and
 * B (rule y)").  Returns 0, or POL_E_TOOBIG when cut short. */
int pol_session_env_text(const struct pol_session *s, char *out, size_t cap);
/* NULL when `pat` may appear on an `env` line, else the reason (a static
 * string or `why`). */
const char *pol_env_name_check(const char *pat, char *why, size_t whylen);
/* True for names that are never passed (LD_*, BASH_ENV, PATH ...). */
bool pol_env_name_dangerous(const char *name);
/* [A-Za-z]{2,3}(_[A-Z]{2})?(.CODESET)?(@MODIFIER)?, or C, POSIX, C.UTF-8. */
bool pol_env_locale_ok(const char *value);

/* ---- what a user may run on a target, like sudo -l (rules_for.c) ---------------- */

/*
 * Writes to `out` what `user` may do on `target` at `now` (POL_ANYTIME:
 * windows ignored): whether a session opens (or why not), the combined
 * session settings (shell, exec, sftp, forward, env, max-session, escort),
 * then for each admitting rule its patterns, one a line: verdict, pattern,
 * rule, FILE:LINE.  Nothing of rules that do not apply is shown.  Returns
 * 0 when a session would be admitted, POL_E_NOUSER / POL_E_NOTARGET /
 * POL_E_REFUSED (the text says why), or POL_E_NOMEM / POL_E_IO.
 */
#define POL_RULES_DETAIL 0x1	/* for admins: why a session is refused, with rule
				 * names (otherwise what the person connecting may see) */
int policy_rules_for(const struct policy *p, const char *user, const char *target, time_t now,
    unsigned flags, FILE *out);

#endif
