/*
 * check.c: what the reading commands of escort-replay verify before they
 * show a session (see escort-replay(1), "Verification by the readers").
 *
 * The only module of escort-replay besides the verify command that calls
 * the recorder's verification library (recorder/verify.h): a reading
 * command gets the same verdict on a session as "escort-replay verify"
 * would give (framing, CRCs, hash chain, signatures, the journal's entries
 * for it), without the --deep decoding (the reader decodes what it shows).
 *
 * State: one verification context per process (the key, the switches, and
 * the verdicts found), set up by main() with replay_check_init() before a
 * reading command runs and released with replay_check_end().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "recorder/verify.h"
#include "replay/replay.h"

/* The verdict on one session (or on the journal, id "journal"). */
struct check_entry {
	char id[SEAL_ID_MAX + 1];
	enum replay_vstate state;
	unsigned problems;
	char first[320];	/* the first problem, with its place */
	int unreadable;		/* first is an I/O error (VERIFY_IOERR) */
};

static struct {
	const char *cmd;
	struct seal_verifier *v;	/* NULL: no key, chains only */
	int no_verify;
	int all_done;			/* replay_check_all() has run */
	struct check_entry *e;
	size_t n, cap;
	int sorted;
} check;

static const char *const check_state_names[] = {
	[REPLAY_V_SKIPPED] = "skipped",
	[REPLAY_V_OK] = "ok",
	[REPLAY_V_CHAIN] = "chain-only",
	[REPLAY_V_RECOVERED] = "recovered",
	[REPLAY_V_FAILED] = "FAILED",
	[REPLAY_V_UNREADABLE] = "unreadable",
};

const char *
replay_vstate_name(enum replay_vstate s)
{
	return check_state_names[s];
}

int
replay_store_check(const char *store, const char *cmd)
{
	char dir[4096];
	struct stat st;

	if (stat(store, &st) != 0) {
		replay_err("%s: store %s: %s", cmd, store, strerror(errno));
		return 2;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_err("%s: store %s: %s", cmd, store, strerror(ENOTDIR));
		return 2;
	}
	if (snprintf(dir, sizeof(dir), "%s/%s", store, TR_SESSIONS_DIR) >=
	    (int)sizeof(dir)) {
		replay_err("%s: store %s: %s", cmd, store, strerror(ENAMETOOLONG));
		return 2;
	}
	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			replay_err("%s: store %s: not an escort store (it has no "
			    "%s/ directory)", cmd, store, TR_SESSIONS_DIR);
		else
			replay_err("%s: store %s: %s", cmd, dir, strerror(errno));
		return 2;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_err("%s: store %s: %s", cmd, dir, strerror(ENOTDIR));
		return 2;
	}
	if (access(dir, R_OK | X_OK) != 0) {
		replay_err("%s: store %s: %s", cmd, dir, strerror(errno));
		return 2;
	}
	return 0;
}

/* Loads the verifier from path; src names where the path came from. */
static int
check_load_key(const char *path, const char *src)
{
	int r;

	if ((r = seal_verifier_load(path, &check.v)) != REC_OK) {
		replay_err("%s: public key %s (%s): %s", check.cmd, path, src,
		    r == REC_EKEY ? "not a PEM Ed25519 public key" :
		    r == REC_ENOENT ? strerror(ENOENT) :
		    r == REC_EPERM ? strerror(EACCES) :
		    r == REC_EIO ? strerror(errno) : rec_strerror(r));
		return 2;
	}
	return 0;
}

/* replay_key_give's key. */
static const char *check_key_given;

void
replay_key_give(const char *key)
{
	check_key_given = key;
}

int
replay_key_find(const char *store, const char *cmd, const char *key,
    char *buf, size_t bufsz, const char **path, const char **src)
{
	const char *env = getenv("ESCORT_KEY");

	if (key == NULL)
		key = check_key_given;

	*path = buf;
	*src = "";
	if (key != NULL) {
		*path = key;
		*src = "--key";
		return 0;
	}
	if (env != NULL && *env != '\0') {
		*path = env;
		*src = "ESCORT_KEY";
		return 0;
	}
	snprintf(buf, bufsz, "%s/%s", store, REPLAY_STORE_KEY);
	if (access(buf, F_OK) == 0) {
		*src = "the store's key";
		return 0;
	}
	if (errno != ENOENT) {
		replay_err("%s: public key %s: %s", cmd, buf, strerror(errno));
		return 2;
	}
	return 1;
}

int
replay_check_init(const char *store, const char *cmd, const char *key,
    int no_verify)
{
	char buf[4096];
	const char *path, *src;
	int x;

	check.cmd = cmd;
	check.no_verify = no_verify;
	if (no_verify)
		return 0;
	if ((x = replay_key_find(store, cmd, key, buf, sizeof(buf), &path,
	    &src)) == 0)
		return check_load_key(path, src);
	if (x == 2)
		return 2;
	replay_err("%s: no public key (--key, ESCORT_KEY or %s): checking hash "
	    "chains and CRCs only, signatures NOT checked", cmd, path);
	return 0;
}

void
replay_check_end(void)
{
	seal_verifier_free(check.v);
	free(check.e);
	memset(&check, 0, sizeof(check));
}

static int
check_cmp(const void *a, const void *b)
{
	return strcmp(((const struct check_entry *)a)->id,
	    ((const struct check_entry *)b)->id);
}

static struct check_entry *
check_find(const char *id)
{
	struct check_entry key;
	size_t i;

	if (strlen(id) >= sizeof(key.id) || check.n == 0)
		return NULL;
	if (check.sorted) {
		memcpy(key.id, id, strlen(id) + 1);
		return bsearch(&key, check.e, check.n, sizeof(*check.e), check_cmp);
	}
	for (i = 0; i < check.n; i++)
		if (strcmp(check.e[i].id, id) == 0)
			return &check.e[i];
	return NULL;
}

/* The entry of id, added when absent (NULL when out of memory). */
static struct check_entry *
check_get(const char *id)
{
	struct check_entry *e;
	void *p;

	if ((e = check_find(id)) != NULL)
		return e;
	if (check.n == check.cap) {
		check.cap = check.cap ? check.cap * 2 : 64;
		if ((p = realloc(check.e, check.cap * sizeof(*check.e))) == NULL)
			return NULL;
		check.e = p;
	}
	e = &check.e[check.n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	check.sorted = 0;
	return e;
}

/* verify_report_cb: records the verdict of each session. */
static void
check_report(void *arg, int ok, const char *session, uint32_t index,
    uint64_t offset, const char *msg)
{
	struct check_entry *e;
	int *oom = arg;

	if ((e = check_get(session)) == NULL) {
		*oom = 1;
		return;
	}
	if (ok == VERIFY_NOTICE) {
		/* intact, and worth seeing: "recovered, N bytes cut at O" */
		if (e->problems == 0) {
			e->state = REPLAY_V_RECOVERED;
			snprintf(e->first, sizeof(e->first), "%s", msg);
		}
		return;
	}
	if (ok == VERIFY_INTACT) {
		if (e->problems == 0 && e->state != REPLAY_V_RECOVERED)
			e->state = check.v != NULL ? REPLAY_V_OK : REPLAY_V_CHAIN;
		return;
	}
	if (e->problems++ > 0)
		return;
	e->unreadable = ok == VERIFY_IOERR;
	e->state = e->unreadable ? REPLAY_V_UNREADABLE : REPLAY_V_FAILED;
	if (index != UINT32_MAX && offset != UINT64_MAX)
		snprintf(e->first, sizeof(e->first), "at segment %" PRIu32
		    ", offset %" PRIu64 ": %s", index, offset, msg);
	else if (offset != UINT64_MAX)
		snprintf(e->first, sizeof(e->first), "at offset %" PRIu64 ": %s",
		    offset, msg);
	else
		snprintf(e->first, sizeof(e->first), "%s", msg);
}

/* Runs verify_store over ids[0..nids) (nids 0: the whole store, or with
 * VERIFY_NO_SESSIONS in flags the journal and its heads alone). */
static int
check_run_flags(const char *store, const char *const *ids, size_t nids,
    int flags)
{
	int r, oom = 0;

	r = verify_store(store, check.v, ids, nids,
	    VERIFY_WAIT_LIVE | VERIFY_READER | flags, check_report, &oom);
	if (r < 0 || oom) {
		replay_err("%s: cannot verify %s: %s", check.cmd, store,
		    oom ? rec_strerror(REC_ENOMEM) : r == REC_EIO ?
		    strerror(errno) : rec_strerror(r));
		return 2;
	}
	return 0;
}

static int
check_run(const char *store, const char *const *ids, size_t nids)
{
	return check_run_flags(store, ids, nids, 0);
}

/* Prints the problems of one entry: "CMD: ID: does not verify: ...", or
 * "CMD: ID: cannot be read: FILE: REASON" for an I/O error. */
static void
check_print(const struct check_entry *e)
{
	const char *id = replay_esc(e->id), *first = replay_esc(e->first);

	if (e->unreadable)
		replay_err("%s: %s: cannot be read: %s", check.cmd, id, first);
	else if (e->problems > 1)
		replay_err("%s: %s: does not verify: %s (and %u more problem%s: "
		    "see escort-replay verify)", check.cmd, id, first,
		    e->problems - 1, e->problems == 2 ? "" : "s");
	else
		replay_err("%s: %s: does not verify: %s", check.cmd, id, first);
}

/* Verifies one session; prints its problems when print is set. */
static int
check_session(const char *store, const char *id, int print)
{
	const struct check_entry *e, *j, *h;
	int x;

	if (check.no_verify || check.cmd == NULL || check.all_done)
		return 0;
	check.n = 0;	/* a fresh verdict: the file may have grown */
	if ((x = check_run(store, &id, 1)) != 0)
		return x;
	e = check_find(id);
	j = check_find("journal");
	h = check_find("heads");	/* the journal rolled back or rewritten */
	if ((e == NULL || e->problems == 0) && (j == NULL || j->problems == 0) &&
	    (h == NULL || h->problems == 0))
		return 0;
	if (print && j != NULL && j->problems > 0)
		check_print(j);
	if (print && h != NULL && h->problems > 0)
		check_print(h);
	if (print && e != NULL && e->problems > 0)
		check_print(e);
	return 1;
}

int
replay_check_session(const char *store, const char *id)
{
	return check_session(store, id, 1);
}

int
replay_check_closed(const char *store, const char *id)
{
	static const struct timespec settle = { 0, 500000000 };
	int x;

	if ((x = check_session(store, id, 0)) != 1)
		return x;
	nanosleep(&settle, NULL);
	return replay_check_session(store, id);
}

int
replay_check_all(const char *store)
{
	int x;

	if (check.no_verify || check.cmd == NULL)
		return 0;
	if ((x = check_run(store, NULL, 0)) != 0)
		return x;
	if (check.n > 0)
		qsort(check.e, check.n, sizeof(*check.e), check_cmp);
	check.sorted = 1;
	check.all_done = 1;
	return 0;
}

int
replay_check_ids(const char *store, const char *const *ids, size_t n)
{
	int x;

	const char **all;
	char **gone = NULL;
	size_t ngone = 0, i;

	if (check.no_verify || check.cmd == NULL)
		return 0;
	check.n = 0;
	/* and the sessions deleted: named as verify --all names them */
	if (replay_check_missing(store, &gone, &ngone) != 0 ||
	    (all = calloc(n + ngone + 1, sizeof(*all))) == NULL) {
		replay_free_ids(gone, ngone);
		replay_err("%s: out of memory", check.cmd);
		return 2;
	}
	for (i = 0; i < n; i++)
		all[i] = ids[i];
	for (i = 0; i < ngone; i++)
		all[n + i] = gone[i];
	/* none selected: the journal is checked all the same */
	x = n + ngone > 0 ? check_run(store, all, n + ngone) :
	    check_run_flags(store, NULL, 0, VERIFY_NO_SESSIONS);
	free(all);
	replay_free_ids(gone, ngone);
	if (x != 0)
		return x;
	if (check.n > 0)
		qsort(check.e, check.n, sizeof(*check.e), check_cmp);
	check.sorted = 1;
	check.all_done = 1;
	return 0;
}

enum replay_vstate
replay_check_state(const char *id)
{
	const struct check_entry *e;

	if (check.no_verify || check.cmd == NULL)
		return REPLAY_V_SKIPPED;
	if ((e = check_find(id)) == NULL)
		return REPLAY_V_SKIPPED;	/* appeared after the check */
	return e->state;
}

const char *
replay_check_problem(const char *id)
{
	const struct check_entry *e;

	if (check.no_verify || (e = check_find(id)) == NULL)
		return "";
	return e->first;
}

const char *
replay_check_mark(const char *id)
{
	return replay_check_state(id) == REPLAY_V_FAILED ? "[FAILED] " : "";
}

int
replay_check_report(void)
{
	size_t i;
	int bad = 0;

	if (!check.all_done)
		return 0;
	for (i = 0; i < check.n; i++) {
		if (check.e[i].problems == 0)
			continue;
		check_print(&check.e[i]);
		bad = 1;
	}
	return bad;
}

int
replay_resume_refused(const struct ev *e, uint64_t *acked, uint64_t *stored)
{
	return e->type == EV_MARKER &&
	    ev_fields_get_u64(e->data, e->len, EVF_ACKED_SEQ, acked) == REC_OK &&
	    ev_fields_get_u64(e->data, e->len, EVF_STORED_SEQ, stored) == REC_OK;
}
