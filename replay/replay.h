/*
 * replay.h: escort-replay's commands.  Each command is a function taking
 * the store directory and its own arguments (argv[0] is the command name)
 * and returning the process exit status: 0 success, 1 a negative answer
 * (verification failed, nothing found), 2 usage or operational error.
 * Commands print their results to stdout and errors to stderr prefixed
 * with "escort-replay: ".
 */
#ifndef ESCORT_REPLAY_H
#define ESCORT_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recorder/ev_end.h"
#include "recorder/seal.h"

/* What main() prepares before a command runs. */
enum replay_cmd_flags {
	REPLAY_STORE = 1,	/* the store must exist: else exit 2 */
	REPLAY_READS = 2,	/* a reader: takes --key and --no-verify, and
				   verifies what it shows (check.c) */
	REPLAY_KEY = 4,		/* takes --key anywhere, as readers do, and
				   finds its key with replay_key_find */
	REPLAY_HELP = 8		/* prints its own, fuller --help (main gives
				   the others the usage line of its table) */
};

struct replay_cmd {
	const char *name;
	const char *usage;
	int (*run)(const char *store, int argc, char **argv);
	int flags;		/* enum replay_cmd_flags */
};

int replay_verify(const char *store, int argc, char **argv);

/* verify_receipts.c: checks the receipt lines of the anchor file path
 * against the store (signature with v; the session closed in the journal
 * and its file with that final record), reporting through report like
 * verify_store_anchored (session "anchor": the first contradicted receipt
 * by file:line, or one ok line).  Returns 0 or REC_ENOMEM. */
struct seal_verifier;
int replay_verify_receipts(const char *store, const struct seal_verifier *v,
    const char *path, void (*report)(void *, int, const char *, uint32_t,
    uint64_t, const char *), void *arg, int *heads);
int replay_list(const char *store, int argc, char **argv);
int replay_cat(const char *store, int argc, char **argv);
int replay_follow(const char *store, int argc, char **argv);
int replay_play(const char *store, int argc, char **argv);
int replay_commands(const char *store, int argc, char **argv);
int replay_files(const char *store, int argc, char **argv);
int replay_export(const char *store, int argc, char **argv);
int replay_screen(const char *store, int argc, char **argv);
int replay_extract(const char *store, int argc, char **argv);
int replay_audit(const char *store, int argc, char **argv);
int replay_search(const char *store, int argc, char **argv);
int replay_anchor(const char *store, int argc, char **argv);

struct tr;

/*
 * Opens session id of the store for reading.  When the store-wide check
 * (replay_check_all) has not run, the session is verified first
 * (replay_check_session) and refused when it does not verify.  On failure
 * prints why (prefixed by cmd) and returns the exit status: 1 no such
 * session, damaged, or does not verify; 2 invalid id, or the file cannot
 * be read (I/O error, permission).  Else 0 and *out to release with
 * tr_free.
 */
int replay_open(const char *store, const char *cmd, const char *id,
    struct tr **out);

/*
 * As replay_open, but the verification runs on a second thread while the
 * caller reads *out (for commands that must read far before they show
 * anything, such as screen --at).  Returns as replay_open, except that a
 * session that does not verify is not refused yet: the caller must call
 * replay_open_wait() exactly once before it shows anything of the session,
 * and show nothing when that returns non-zero.  Between the two calls the
 * caller uses no other replay_check_* function.
 */
int replay_open_bg(const char *store, const char *cmd, const char *id,
    struct tr **out);

/* The verdict of replay_open_bg's verification: 0, or the exit status
 * replay_open would have returned (its message already printed).  Waits
 * for the thread; 0 at once when no verification was started. */
int replay_open_wait(void);

/* The exit status for a REC_E* code met while reading a session: 2 for an
 * operational error (I/O, permission, memory), else 1 (the data is bad). */
int replay_rec_status(int rec);

/* ---- verification by the readers (check.c) ------------------------------ */

/* The public key file a store may hold for its readers. */
#define REPLAY_STORE_KEY "public-key.pem"

/* Returns 0 when store is a directory holding a readable sessions/
 * directory, else prints the path and the reason (errno) and returns 2. */
int replay_store_check(const char *store, const char *cmd);

/*
 * Finds the public key a command verifies with, the same way for every
 * command: key (--key), else the file named by $ESCORT_KEY, else
 * STORE/public-key.pem when it exists.  Returns 0 with *path (key, the
 * environment's value, or buf) and *src naming where it came from
 * ("--key", "ESCORT_KEY", "the store's key"); 1 when there is none (*path
 * is then buf, the store's key path looked for); 2 after printing why that
 * path cannot be checked (prefixed by cmd).
 */
int replay_key_find(const char *store, const char *cmd, const char *key,
    char *buf, size_t bufsz, const char **path, const char **src);

/* The --key that main() took out of a REPLAY_KEY command's arguments
 * (NULL: none), which replay_key_find uses when given no key. */
void replay_key_give(const char *key);

/*
 * Prepares the verification of command cmd (a static string): the public
 * key as replay_key_find finds it; without any, prints a one-line
 * warning that signatures are not checked (chains and CRCs still are).
 * no_verify turns every check off.  Returns 0, or 2 after printing why the
 * key could not be loaded.  Release with replay_check_end.
 */
int replay_check_init(const char *store, const char *cmd, const char *key,
    int no_verify);
void replay_check_end(void);

/*
 * Verifies one session (as "verify ID" would, journal included).  Returns
 * 0 when it verifies (or checks are off, or replay_check_all has run),
 * 1 after printing "CMD: ID: does not verify: PLACE: PROBLEM" lines, or 2
 * when verification could not run (I/O error).
 */
int replay_check_session(const char *store, const char *id);

/* The same for a session that was just seen closed: the recorder writes
 * the final record before the journal's close entry, so a failure is
 * checked again once, 500 ms later, before it is reported. */
int replay_check_closed(const char *store, const char *id);

/* Verifies every session of the store once, for the commands that read
 * many; their verdicts are then given by replay_check_state.  Returns 0 or
 * 2 (verification could not run). */
int replay_check_all(const char *store);

/* The same for the sessions ids[0..n) only (and the journal), for a
 * command that reads those alone (search and audit through their index:
 * search_index.h).  Returns 0 or 2. */
int replay_check_ids(const char *store, const char *const *ids, size_t n);

/* check_missing.c: the ids of the sessions the journal names whose file is
 * absent (malloc'd; free with replay_free_ids), read without checking the
 * journal (the verification does).  Returns 0 or REC_ENOMEM. */
int replay_check_missing(const char *store, char ***ids, size_t *n);

/* check_missing.c: the sessions the journal says were pruned (a prune
 * entry: the recorder removed its file once the object store held it,
 * escort-transcript(5)) and whose file is absent, in journal order, with
 * the times of their open and close entries, the object's address and the
 * user and target the prune entry names.
 * Read without checking the journal: a reader shows them only as the
 * verification reports them (replay_check_state).  *out is malloc'd (free
 * it).  Returns 0 or REC_ENOMEM. */
struct replay_pruned {
	char id[SEAL_ID_MAX + 1];
	uint64_t open_ns, close_ns;
	char url[600];
	char user[128], target[128];	/* the prune entry's; "" when it
					   names none (journal_prune.h) */
};
int replay_pruned_list(const char *store, struct replay_pruned **out,
    size_t *n);

enum replay_vstate {
	REPLAY_V_SKIPPED,	/* not checked (--no-verify, or new) */
	REPLAY_V_OK,		/* chain and signatures verify */
	REPLAY_V_CHAIN,		/* chain verifies; no key, no signatures */
	REPLAY_V_FAILED,	/* does not verify */
	REPLAY_V_RECOVERED,	/* verifies; the recorder cut an unsigned tail
				 * after a crash (the problem text says where) */
	REPLAY_V_UNREADABLE	/* not checked: its file cannot be read (an
				 * I/O error, not a finding; text says why) */
};
/* The verdict on session id from the last check. */
enum replay_vstate replay_check_state(const char *id);
/* "skipped", "ok", "chain-only", "FAILED" or "recovered". */
const char *replay_vstate_name(enum replay_vstate s);
/* The first problem found in session id ("" when none). */
const char *replay_check_problem(const char *id);
/* "[FAILED] " when session id does not verify, else "": the prefix of the
 * rows shown from it. */
const char *replay_check_mark(const char *id);

/* 1 when e is the recorder's MARKER of a refused resume (it carries
 * ACKED_SEQ and STORED_SEQ, escort-transcript(5)): *acked is the seq the
 * proxy held an acknowledgement for, *stored the last seq the store held.
 * Else 0. */
struct ev;
int replay_resume_refused(const struct ev *e, uint64_t *acked,
    uint64_t *stored);
/* After replay_check_all: prints every problem found (journal, sessions,
 * missing sessions) to stderr; returns 1 when there was one, else 0. */
int replay_check_report(void);

/* Sorted ids of the sessions in STORE/sessions (malloc'd; free with
 * replay_free_ids).  Returns 0 (an absent directory is an empty store) or
 * -1 with errno set. */
int replay_session_ids(const char *store, char ***ids, size_t *n);
void replay_free_ids(char **ids, size_t n);

/* What a command does for every session of the store: verifies the store
 * (replay_check_all; returns its nonzero status at once), calls
 * one(store, id, arg) for each session in id order, flushes stdout, then
 * replay_check_report.  Returns the largest status one returned, at least
 * 1 when the report found a problem; 2 when the sessions cannot be listed
 * ("CMD: STORE/sessions: why" on stderr). */
int replay_each_session(const char *store, const char *cmd,
    int (*one)(const char *store, const char *id, void *arg), void *arg);

/* Opens session id of the store quietly.  Returns a REC_E* code. */
int replay_open_quiet(const char *store, const char *id, struct tr **out);

/* tr_open for a reader of many sessions: a file whose head is incomplete
 * may be one the recorder is creating, so it is read again once 200 ms
 * later (as verify does); still incomplete, it is a head cut short:
 * REC_ETRUNC (REC_EAGAIN only when the file was removed meanwhile).
 * Returns a REC_E* code. */
int replay_tr_open(const char *path, struct tr **out);

/* The user and target names of r's META event ("" when absent). */
void replay_meta(struct tr *r, char *user, size_t usz, char *target,
    size_t tsz);

/* How a session ended, as its END event says (recorder/ev_end.h). */
struct replay_end {
	int finished;		/* the FINAL record was read */
	int has_end;		/* an END event is the last event */
	struct ev_end_info info; /* its fields, control bytes made '?' */
};

/* Notes event e (any event, in file order) in *end: an END is kept, any
 * later event forgets it.  Call replay_end_done after the last event. */
struct ev;
struct tr;
void replay_end_note(struct replay_end *end, const struct ev *e);
void replay_end_done(struct replay_end *end, struct tr *r);

/* Reads how the session of r ended, from its last event only (an index
 * seek to last_seq, the highest seq of the file): for listings.  Returns
 * REC_OK or a read error (then *end says not finished, no END). */
int replay_end_read(struct tr *r, uint64_t last_seq, int finished,
    struct replay_end *end);

/* A short label: the END's kind; "closed" for an END without one (written
 * before END_KIND existed); "no-end" for a closed session without END;
 * "open" for one not closed. */
const char *replay_end_label(const struct replay_end *end);

/* A JSON string on stdout, or null for NULL or "". */
void replay_json_str_or_null(const char *s);

/* Writes all n bytes to standard output.  Returns 0 or -1 (errno set). */
int replay_write_all(const uint8_t *p, size_t n);

/* Prints "escort-replay: " and the formatted message to stderr. */
void replay_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s as it may be shown on a terminal: control bytes (and backslash) escaped
 * as \n, \r, \t, \\ or \xHH, for a session id or a message naming a file
 * from the command line or from sessions/.  Returns one of 4 buffers of the
 * calling thread, used in turn (so up to 4 in one replay_err call); a string
 * too long ends in "...". */
const char *replay_esc(const char *s);

/* Formats ns since the epoch as "YYYY-MM-DDTHH:MM:SSZ" into out (>= 21). */
void replay_time(uint64_t wall_ns, char *out, size_t outsz);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) or "@SECONDS".
 * Returns 0 and ns since the epoch in *ns, or -1. */
int replay_parse_time(const char *s, uint64_t *ns);

/* Writes s as a JSON string (with quotes) to f. */
void replay_json_str(FILE *f, const char *s);

/* Writes p[0..n) as a JSON string: valid UTF-8 kept, control characters
 * escaped, bytes that are not UTF-8 as U+FFFD (lossy: see base64). */
void replay_json_bytes(FILE *f, const uint8_t *p, size_t n);

/* The same with < > & written as \u escapes: the string can stand inside
 * an HTML <script> element as it is (export --format html). */
void replay_json_bytes_script(FILE *f, const uint8_t *p, size_t n);

/* Length of the valid UTF-8 sequence at p[0..n) (1..4; 1 for ASCII), or
 * 0 when it is not one. */
size_t replay_utf8_len(const uint8_t *p, size_t n);

/* Writes p[0..n) base64-encoded as a JSON string (lossless). */
void replay_json_base64(FILE *f, const uint8_t *p, size_t n);

#endif
