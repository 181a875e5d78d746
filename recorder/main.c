/*
 * escort-recorder: receives session transcripts from escort-proxy over unix
 * sockets and mutual TLS, stores them append-only under the Store, chains
 * and signs them, and acknowledges what is durable.  See escort-recorder(8).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/recd.h"
#include "recorder/recd_config.h"
#include "recorder/recd_conn.h"
#include "recorder/recd_listen.h"
#include "recorder/recd_log.h"
#include "recorder/recd_session.h"
#include "recorder/recd_witness.h"
#include "recorder/recd_worker.h"
#include "recorder/recd_audit.h"
#include "recorder/prune.h"
#include "recorder/seal.h"
#include "recorder/ship.h"
#include "common/sdnotify.h"
#include "common/tlsl.h"
#include "recorder/transcript.h"

#define DEFAULT_CONFIG "/etc/escort/recorder.conf"

static struct recd daemon_state;
static uv_signal_t sig_term, sig_int, sig_hup;
static uv_timer_t heads_timer;
static struct ship_opts ship_opts;	/* ship.h: read before the switch
					   to User, used once the Store is
					   open */
static struct prune_opts prune_opts;	/* prune.h: likewise */
static struct prune *pruner;		/* ObjectStorePruneAfter's thread */

/* Usage text. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: escort-recorder [-dtv] [-f FILE]\n"
"       escort-recorder [-f FILE] --rebuild-journal REASON\n"
"       escort-recorder [-f FILE] --prune\n"
"  -f FILE    configuration file (default " DEFAULT_CONFIG ")\n"
"  --rebuild-journal REASON\n"
"             rebuild the Store's journal from its session files (the\n"
"             recorder stopped): the old journal is kept, the new one\n"
"             starts with a signed entry holding REASON, verify reports it\n"
"  --prune    prune now (the recorder stopped) the sealed sessions that\n"
"             ObjectStorePruneAfter allows (every one the bucket holds when\n"
"             it is not set), each after a signed prune entry\n"
"  -d         log to stderr instead of syslog (the recorder never\n"
"             detaches: run it from a service manager)\n"
"  -t         check the configuration, the signing key and TLS files, exit\n"
"  -v         with -t: print the effective configuration;\n"
"             else log debug messages too\n"
"  --help     this text;  --version  the version\n"
"Signals: TERM/INT close every session with a signed final record and\n"
"exit 0; HUP reloads the configuration (a failing reload keeps the old).\n");
}

/* 1 when a tls:// listener is configured. */
static int
has_tls(const struct recd_config *c)
{
	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].kind == RECD_LISTEN_TLS)
			return 1;
	return 0;
}

/* Looks up User; uid/gid -1 when not set. */
static int
lookup_user(const struct recd_config *c, int *uid, int *gid, char *err,
    size_t errlen)
{
	struct passwd *pw;

	*uid = *gid = -1;
	if (c->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		snprintf(err, errlen, "%s:%d: User %s: no such user", c->file,
		    c->user_line, c->user);
		return -1;
	}
	if (getuid() != 0 && getuid() != pw->pw_uid) {
		snprintf(err, errlen, "%s:%d: User %s: must be started as root "
		    "or as that user", c->file, c->user_line, c->user);
		return -1;
	}
	*uid = (int)pw->pw_uid;
	*gid = (int)pw->pw_gid;
	return 0;
}

/* Creates the Store and its sessions directory, owned by User. */
static int
prepare_store(const struct recd_config *c, int uid, int gid, char *err,
    size_t errlen)
{
	char dir[1024];
	const char *dirs[2] = { c->store, dir };

	snprintf(dir, sizeof(dir), "%s/%s", c->store, TR_SESSIONS_DIR);
	for (int i = 0; i < 2; i++) {
		struct stat sb;

		if (mkdir(dirs[i], 0750) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "Store %s: %s", dirs[i],
			    strerror(errno));
			return -1;
		}
		if (stat(dirs[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			snprintf(err, errlen, "Store %s: not a directory",
			    dirs[i]);
			return -1;
		}
		if (uid >= 0 && getuid() == 0 && sb.st_uid != (uid_t)uid &&
		    chown(dirs[i], (uid_t)uid, (gid_t)gid) != 0) {
			snprintf(err, errlen, "Store %s: chown: %s", dirs[i],
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Switches to User for good (no way back to root). */
static int
drop_privileges(int uid, int gid, char *err, size_t errlen)
{
	if (uid < 0 || getuid() == (uid_t)uid)
		return 0;
	if (setgroups(0, NULL) != 0 || setgid((gid_t)gid) != 0 ||
	    setuid((uid_t)uid) != 0) {
		snprintf(err, errlen, "cannot switch to uid %d: %s", uid,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "could regain root after switching to "
		    "uid %d", uid);
		return -1;
	}
	return 0;
}

/* The TLS server context when a tls listener is configured. */
static int
load_tls(const struct recd_config *c, struct tlsl_ctx **out, char *err,
    size_t errlen)
{
	*out = NULL;
	if (!has_tls(c))
		return 0;
	if (tlsl_ctx_server(c->tls_cert, c->tls_key, c->tls_client_ca, out,
	    err, errlen) != REC_OK)
		return -1;
	return 0;
}

/* SIGHUP: builds everything of the new configuration first and swaps only
 * when all of it worked. */
static void
reload(struct recd *d)
{
	struct recd_config nc;
	struct tlsl_ctx *tls = NULL;
	char err[16384];
	int i, opened[RECD_LISTEN_MAX] = { 0 };

	if (recd_config_load(d->cfg.file, &nc, err, sizeof(err)) < 0) {
		for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
			recd_log(LOG_ERR, "reload failed, keeping the running "
			    "configuration: %s", l);
		return;
	}
	if (strcmp(nc.store, d->cfg.store) != 0 ||
	    strcmp(nc.signing_key, d->cfg.signing_key) != 0 ||
	    strcmp(nc.user, d->cfg.user) != 0) {
		recd_log(LOG_ERR, "reload failed, keeping the running "
		    "configuration: Store, SigningKey and User change only "
		    "with a restart");
		return;
	}
	if (ship_config_changed(&d->cfg, &nc))
		recd_log(LOG_WARNING, "reload: the ObjectStore settings change "
		    "only with a restart; the running ones are kept");
	ship_config_keep(&d->cfg, &nc);
	if (nc.objstore_prune_after != d->cfg.objstore_prune_after)
		recd_log(LOG_WARNING, "reload: ObjectStorePruneAfter changes "
		    "only with a restart; the running one is kept");
	nc.objstore_prune_after = d->cfg.objstore_prune_after;
	if (load_tls(&nc, &tls, err, sizeof(err)) < 0) {
		recd_log(LOG_ERR, "reload failed, keeping the running "
		    "configuration: %s", err);
		return;
	}
	for (i = 0; i < nc.nlisten; i++) {
		if (recd_listen_find(d, nc.listen[i].spec) != NULL)
			continue;
		if (recd_listen_open(d, &nc.listen[i], -1, -1, err,
		    sizeof(err)) < 0) {
			recd_log(LOG_ERR, "reload failed, keeping the running "
			    "configuration: %s:%d: %s", nc.file,
			    nc.listen[i].line, err);
			for (int j = 0; j < i; j++)
				if (opened[j])
					recd_listen_close(d, recd_listen_find(d,
					    nc.listen[j].spec));
			tlsl_ctx_free(tls);
			return;
		}
		opened[i] = 1;
	}
	recd_listen_mark(d, 1);
	for (i = 0; i < nc.nlisten; i++)
		recd_listen_keep(recd_listen_find(d, nc.listen[i].spec));
	recd_listen_sweep(d);
	tlsl_ctx_free(d->tls);		/* live connections hold their own */
	d->tls = tls;
	if (recd_config_workers(&nc) != recd_pool_size(d))
		recd_log(LOG_WARNING, "reload: Workers changes only with a "
		    "restart; %u worker(s) go on", recd_pool_size(d));
	d->cfg = nc;
	recd_log(LOG_INFO, "reloaded %s (Fsync %s, MaxSessions %u)",
	    nc.file, recd_fsync_name(nc.fsync), nc.max_sessions);
}

/* uv_walk callback: closes every handle still open. */
static void
close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Closes every session with its final record, the listeners and the
 * handles, so that the loop ends. */
static void
shutdown_daemon(struct recd *d, const char *why)
{
	recd_log(LOG_INFO, "%s: closing %u session(s) and exiting", why,
	    recd_pool_sessions(d));
	recd_listen_close_all(d);
	recd_pool_stop(d);		/* each worker closes its sessions */
	recd_sess_close_all(d);
	recd_conn_close_all(d);
	uv_timer_stop(&d->tick);
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_timer_stop(&heads_timer);
	uv_close((uv_handle_t *)&heads_timer, NULL);
	if (journal_head_issue(d->journal, 0, NULL) != REC_OK)
		recd_log(LOG_ERR, "cannot write the last tree head to %s/%s",
		    d->cfg.store, TREEHEAD_FILE);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
}

/* TERM/INT: close sessions and stop; HUP: reload.  Signals are handled
 * from the start: one that comes while the daemon is still being set up
 * is acted on once it is. */
static void
on_signal(uv_signal_t *s, int signum)
{
	struct recd *d = s->data;

	if (signum == SIGHUP) {
		if (d->journal == NULL)
			return;
		recd_log(LOG_INFO, "SIGHUP: reloading %s", d->cfg.file);
		(void)sdnotify_send("RELOADING=1");
		reload(d);
		recd_audit_reopen(d);	/* also when the reload failed */
		recd_pool_reload(d);	/* the workers' copies, and sinks */
		(void)sdnotify_send("READY=1");
		return;
	}
	if (d->stopping)
		return;
	d->stopping = signum;
	(void)sdnotify_send("STOPPING=1");
	if (d->journal != NULL)
		shutdown_daemon(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* TreeHeadInterval: a signed tree head when the journal grew. */
static void
on_heads_timer(uv_timer_t *t)
{
	struct recd *d = t->data;
	int r;

	if ((r = journal_head_issue(d->journal, 0, NULL)) != REC_OK)
		recd_log(LOG_ERR, "tree head: %s/%s: %s", d->cfg.store,
		    TREEHEAD_FILE, rec_strerror(r));
}

/* A signed tree head, on whichever thread signed it: to the object store
 * (ship_head takes any thread) and to the Witness command (run on the main
 * loop: recd_pool_witness hands it there). */
static void
on_head(void *arg, const char *line)
{
	struct recd *d = arg;

	ship_head(d->ship, line);
	recd_pool_witness(d, line);
}

/* Opens the Store's journal; a missing or damaged one stops the recorder
 * (only a new, empty Store gets a new journal).  Returns 0 or -1 with
 * err set. */
static int
open_journal(struct recd *d, char *err, size_t errlen)
{
	uint64_t bad = 0;
	int r;

	r = journal_open2(d->cfg.store, d->signer,
	    d->cfg.fsync == RECD_FSYNC_NEVER, &d->journal, &bad);
	switch (r) {
	case REC_OK:
		return 0;
	case REC_ENOENT:
		snprintf(err, errlen, "Store %s: the journal %s/%s is missing "
		    "or empty, and the Store is not empty: refusing to start "
		    "(a journal is created only in an empty Store; if it was "
		    "lost, rebuild it with escort-recorder -f %s "
		    "--rebuild-journal REASON, which verify reports)",
		    d->cfg.store, d->cfg.store, JOURNAL_FILE, d->cfg.file);
		break;
	case REC_ECRC:
	case REC_ECHAIN:
	case REC_EFORMAT:
	case REC_EVERSION:
	case REC_ETOOBIG:
	case REC_ESIG:
		snprintf(err, errlen, "Store %s: the journal %s/%s is damaged "
		    "at offset %llu (%s): refusing to start (escort-replay "
		    "verify --all shows the damage; escort-recorder -f %s "
		    "--rebuild-journal REASON rebuilds it, reported by verify)",
		    d->cfg.store, d->cfg.store, JOURNAL_FILE,
		    (unsigned long long)bad, rec_strerror(r), d->cfg.file);
		break;
	case REC_ESTATE:
		snprintf(err, errlen, "Store %s: the journal is in use by "
		    "another escort-recorder", d->cfg.store);
		break;
	default:
		snprintf(err, errlen, "Store %s: journal %s: %s", d->cfg.store,
		    JOURNAL_FILE, rec_strerror(r));
		break;
	}
	return -1;
}

/* --rebuild-journal: one line per session file. */
static void
rebuild_report(void *arg, const char *id, int taken, const char *why)
{
	(void)arg;
	printf("%s: %s (%s)\n", id, taken ? "listed" : "LEFT OUT", why);
}

/* --rebuild-journal REASON. */
static int
rebuild_journal(struct recd *d, const char *reason)
{
	struct seal_signer *s = NULL;
	int r;

	if ((r = seal_signer_load(d->cfg.signing_key, &s)) != REC_OK) {
		fprintf(stderr, "escort-recorder: SigningKey %s: %s\n",
		    d->cfg.signing_key, rec_strerror(r));
		return 1;
	}
	r = journal_rebuild(d->cfg.store, s, reason, rebuild_report, NULL);
	seal_signer_free(s);
	if (r != REC_OK) {
		fprintf(stderr, "escort-recorder: Store %s: rebuilding the "
		    "journal failed: %s\n", d->cfg.store, r == REC_ESTATE ?
		    "a running escort-recorder holds the journal; stop it "
		    "first" : rec_strerror(r));
		return 1;
	}
	printf("Store %s: journal rebuilt (%s); escort-replay verify reports "
	    "the rebuild\n", d->cfg.store, reason);
	return 0;
}

/* --prune: one line per session pruned. */
static void
prune_report(void *arg, const char *id, const char *url)
{
	(void)arg;
	printf("%s: pruned, held in %s\n", id, url);
}

/* --prune: one pruning round now, the recorder stopped. */
static int
prune_now(struct recd *d)
{
	struct ship_opts so;
	struct prune_opts po;
	struct seal_signer *s = NULL;
	struct journal *j = NULL;
	char err[1024];
	unsigned n = 0;
	int r;

	if (d->cfg.objstore[0] == '\0') {
		fprintf(stderr, "escort-recorder: --prune: %s has no "
		    "ObjectStore: nothing is held anywhere else\n", d->cfg.file);
		return 1;
	}
	if ((r = seal_signer_load(d->cfg.signing_key, &s)) != REC_OK) {
		fprintf(stderr, "escort-recorder: SigningKey %s: %s\n",
		    d->cfg.signing_key, rec_strerror(r));
		return 1;
	}
	if ((r = ship_config_opts(&d->cfg, &so, err, sizeof(err))) != REC_OK) {
		fprintf(stderr, "escort-recorder: %s\n", err);
		seal_signer_free(s);
		return 1;
	}
	d->signer = s;
	if (open_journal(d, err, sizeof(err)) != 0) {
		fprintf(stderr, "escort-recorder: %s\n", err);
		explicit_bzero(&so, sizeof(so));
		seal_signer_free(s);
		d->signer = NULL;
		return 1;
	}
	j = d->journal;
	memset(&po, 0, sizeof(po));
	po.store = d->cfg.store;
	po.url = d->cfg.objstore;
	po.s3 = so.s3;
	po.after_s = d->cfg.objstore_prune_after;
	po.journal = j;
	po.signer = s;
	r = prune_once(&po, prune_report, NULL, &n, err, sizeof(err));
	explicit_bzero(&so, sizeof(so));
	explicit_bzero(&po, sizeof(po));
	journal_close(j);
	d->journal = NULL;
	seal_signer_free(s);
	d->signer = NULL;
	if (r != REC_OK) {
		fprintf(stderr, "escort-recorder: --prune: %s\n", err);
		return 1;
	}
	printf("Store %s: %u session(s) pruned\n", d->cfg.store, n);
	return 0;
}

/* Sets the daemon up and runs the loop until a TERM or INT. */
static int
run(struct recd *d)
{
	char err[2048];
	int uid, gid, r, bad;
	unsigned workers;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);	/* a file size limit fails the write */
	d->loop = uv_default_loop();
	uv_timer_init(d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_init(d->loop, &heads_timer);
	heads_timer.data = d;
	uv_signal_init(d->loop, &sig_term);
	uv_signal_init(d->loop, &sig_int);
	uv_signal_init(d->loop, &sig_hup);
	sig_term.data = sig_int.data = sig_hup.data = d;
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_hup, on_signal, SIGHUP);
	if (lookup_user(&d->cfg, &uid, &gid, err, sizeof(err)) < 0)
		goto fail;
	if ((r = seal_signer_load(d->cfg.signing_key, &d->signer)) != REC_OK) {
		snprintf(err, sizeof(err), "SigningKey %s: %s",
		    d->cfg.signing_key, rec_strerror(r));
		goto fail;
	}
	if (load_tls(&d->cfg, &d->tls, err, sizeof(err)) < 0)
		goto fail;
	if (prepare_store(&d->cfg, uid, gid, err, sizeof(err)) < 0)
		goto fail;
	{
		/* the public key beside the recordings, so that readers can
		 * check signatures without being told the key (a convenience:
		 * whoever can write the store can replace it; escort-replay(1)) */
		char pk[1024];

		snprintf(pk, sizeof(pk), "%s/public-key.pem", d->cfg.store);
		if ((r = seal_signer_write_public(d->signer, pk)) != REC_OK) {
			snprintf(err, sizeof(err), "Store %s: cannot write %s: %s",
			    d->cfg.store, pk, rec_strerror(r));
			goto fail;
		}
		if (uid >= 0 && getuid() == 0 && chown(pk, (uid_t)uid, (gid_t)gid) != 0)
			recd_log(LOG_WARNING, "%s: chown: %s", pk, strerror(errno));
	}
	for (int i = 0; i < d->cfg.nlisten; i++) {
		char e2[512];

		if (recd_listen_open(d, &d->cfg.listen[i], uid, gid, e2,
		    sizeof(e2)) < 0) {
			snprintf(err, sizeof(err), "%s:%d: Listen %s",
			    d->cfg.file, d->cfg.listen[i].line, e2);
			goto fail;
		}
	}
	if (d->cfg.pid_file[0] != '\0') {
		FILE *pf = fopen(d->cfg.pid_file, "w");

		if (pf == NULL) {
			snprintf(err, sizeof(err), "PidFile %s: %s",
			    d->cfg.pid_file, strerror(errno));
			goto fail;
		}
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	if (ship_config_opts(&d->cfg, &ship_opts, err, sizeof(err)) != REC_OK)
		goto fail;	/* ObjectStoreCredentials: read as root */
	prune_opts.s3 = ship_opts.s3;
	if (drop_privileges(uid, gid, err, sizeof(err)) < 0)
		goto fail;
	if (open_journal(d, err, sizeof(err)) < 0)
		goto fail;
	if (recd_audit_open(d, err, sizeof(err)) < 0)
		goto fail;
	if ((workers = recd_config_workers(&d->cfg)) > 1 &&
	    recd_pool_init(d, workers, err, sizeof(err)) < 0)
		goto fail;
	d->last_interval_sync = uv_now(d->loop);
	if ((bad = recd_sess_recover_all(d)) > 0)
		recd_log(LOG_ERR, "%d session file(s) left as they are; run "
		    "escort-replay verify", bad);
	r = ship_start(&ship_opts, &d->ship, err, sizeof(err));
	explicit_bzero(&ship_opts, sizeof(ship_opts));
	if (r != REC_OK)
		goto fail;
	prune_opts.store = d->cfg.store;
	prune_opts.url = d->cfg.objstore[0] != '\0' ? d->cfg.objstore : NULL;
	prune_opts.after_s = d->cfg.objstore_prune_after;
	prune_opts.journal = d->journal;
	prune_opts.signer = d->signer;
	r = prune_start(&prune_opts, &pruner, err, sizeof(err));
	explicit_bzero(&prune_opts, sizeof(prune_opts));
	if (r != REC_OK)
		goto fail;
	journal_set_heads(d->journal, (uint64_t)d->cfg.head_interval *
	    1000000000u, on_head, d);
	if (d->cfg.head_interval > 0)
		uv_timer_start(&heads_timer, on_heads_timer,
		    d->cfg.head_interval * 1000u, d->cfg.head_interval * 1000u);
	if (d->pool != NULL && recd_pool_run(d, err, sizeof(err)) < 0)
		goto fail;
	if (d->stopping)
		shutdown_daemon(d, "signal during start-up");
	recd_log(LOG_INFO, "escort-recorder %s started: Store %s, Fsync %s, "
	    "Workers %u", ESCORT_VERSION, d->cfg.store,
	    recd_fsync_name(d->cfg.fsync), recd_pool_size(d));
	recd_log_started();
	if (sdnotify_send("READY=1") != 0)
		recd_log(LOG_WARNING, "NOTIFY_SOCKET: %s", strerror(errno));
	uv_run(d->loop, UV_RUN_DEFAULT);
	recd_pool_free(d);
	prune_stop(pruner);
	ship_stop(d->ship);
	if (d->cfg.pid_file[0] != '\0' && unlink(d->cfg.pid_file) != 0)
		recd_log(LOG_WARNING, "PidFile %s: %s", d->cfg.pid_file,
		    strerror(errno));
	journal_close(d->journal);
	recd_audit_close(d);
	seal_signer_free(d->signer);
	tlsl_ctx_free(d->tls);
	uv_loop_close(d->loop);
	recd_log(LOG_INFO, "exiting");
	return 0;
fail:
	explicit_bzero(&ship_opts, sizeof(ship_opts));
	explicit_bzero(&prune_opts, sizeof(prune_opts));
	recd_log(LOG_ERR, "%s", err);
	d->stopping = 1;
	recd_listen_close_all(d);
	recd_pool_stop(d);
	uv_walk(d->loop, close_handle, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
	recd_pool_free(d);
	prune_stop(pruner);
	ship_stop(d->ship);
	journal_close(d->journal);
	seal_signer_free(d->signer);
	tlsl_ctx_free(d->tls);
	uv_loop_close(d->loop);
	return 1;
}

/* -t -v: the effective configuration, one keyword a line, lower case (as
 * escort-proxy -t -v prints its own). */
static void
dump_config(const struct recd_config *c, FILE *f)
{
	const struct { const char *kw; const char *v; } files[] = {
		{ "tlscertificate", c->tls_cert }, { "tlskey", c->tls_key },
		{ "tlsclientca", c->tls_client_ca }, { "user", c->user },
		{ "pidfile", c->pid_file }, { "witness", c->witness },
		{ "objectstore", c->objstore },
		{ "objectstoreendpoint", c->objstore_endpoint },
		{ "objectstoreregion", c->objstore_region },
		{ "objectstorecredentials", c->objstore_credentials },
	};

	for (int i = 0; i < c->nlisten; i++)
		fprintf(f, "listen %s\n", c->listen[i].spec);
	fprintf(f, "store %s\nsigningkey %s\n", c->store, c->signing_key);
	if (c->fsync == RECD_FSYNC_INTERVAL)
		fprintf(f, "fsync interval %u\n", c->fsync_ms);
	else
		fprintf(f, "fsync %s\n", recd_fsync_name(c->fsync));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i].v[0] != '\0')
			fprintf(f, "%s %s\n", files[i].kw, files[i].v);
	fprintf(f, "maxsessions %u\nresumetimeout %u\ntreeheadinterval %u\n",
	    c->max_sessions, c->resume_timeout, c->head_interval);
	fprintf(f, "workers %u\n", recd_config_workers(c));
	if (c->compression == 0)
		fprintf(f, "compression default\n");
	else
		fprintf(f, "compression %u\n", c->compression);
	if (c->objstore[0] != '\0')
		fprintf(f, "objectstoreretention %u\nobjectstorepartinterval "
		    "%u\nobjectstorepartsize %u\n", c->objstore_retention,
		    c->objstore_part_interval, c->objstore_part_size);
	if (c->objstore_prune_after > 0)
		fprintf(f, "objectstorepruneafter %us\n", c->objstore_prune_after);
	for (int i = 0; i < c->nclient_uid; i++)
		fprintf(f, "unixclients uid %u\n", c->client_uid[i]);
	for (int i = 0; i < c->nclient_gid; i++)
		fprintf(f, "unixclients gid %u\n", c->client_gid[i]);
}

/* -t: the configuration, the key and the TLS files.  Every problem is
 * logged (not only the first); those of the file itself were logged by
 * main, which says so in cfg_bad.  Returns the exit status. */
static int
test_config(struct recd *d, int cfg_bad)
{
	struct seal_signer *s = NULL;
	struct tlsl_ctx *t = NULL;
	char err[1024];
	int uid, gid, r, bad = cfg_bad;

	if (lookup_user(&d->cfg, &uid, &gid, err, sizeof(err)) < 0) {
		recd_log(LOG_ERR, "%s", err);
		bad = 1;
	}
	if (d->cfg.signing_key[0] != '\0' &&
	    (r = seal_signer_load(d->cfg.signing_key, &s)) != REC_OK) {
		recd_log(LOG_ERR, "SigningKey %s: %s", d->cfg.signing_key,
		    rec_strerror(r));
		bad = 1;
	}
	seal_signer_free(s);
	if (!cfg_bad && load_tls(&d->cfg, &t, err, sizeof(err)) < 0) {
		recd_log(LOG_ERR, "%s", err);
		bad = 1;
	}
	tlsl_ctx_free(t);
	if (d->cfg.witness[0] != '\0') {
		char cmd[sizeof(d->cfg.witness)];

		snprintf(cmd, sizeof(cmd), "%s", d->cfg.witness);
		cmd[strcspn(cmd, " \t")] = '\0';
		if (access(cmd, X_OK) != 0) {
			recd_log(LOG_ERR, "Witness %s: %s", cmd, strerror(errno));
			bad = 1;
		}
	}
	if (ship_config_check(&d->cfg, err, sizeof(err)) != REC_OK) {
		recd_log(LOG_ERR, "%s", err);
		bad = 1;
	}
	{
		struct stat sb;

		if (d->cfg.store[0] != '\0' && stat(d->cfg.store, &sb) == 0 &&
		    !S_ISDIR(sb.st_mode)) {
			recd_log(LOG_ERR, "Store %s: not a directory",
			    d->cfg.store);
			bad = 1;
		}
	}
	if (d->cfg.audit_log[0] != '\0') {
		char dir[sizeof(d->cfg.audit_log)];
		struct stat sb;

		snprintf(dir, sizeof(dir), "%s", d->cfg.audit_log);
		*strrchr(dir, '/') = '\0';	/* AuditLog is absolute */
		if (stat(dir[0] != '\0' ? dir : "/", &sb) != 0 ||
		    !S_ISDIR(sb.st_mode)) {
			recd_log(LOG_ERR, "AuditLog %s: no directory %s",
			    d->cfg.audit_log, dir);
			bad = 1;
		}
	}
	if (bad)
		return 1;
	printf("%s: configuration OK\n", d->cfg.file);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "rebuild-journal", required_argument, NULL, 'R' },
		{ "prune", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct recd *d = &daemon_state;
	const char *file = DEFAULT_CONFIG, *rebuild = NULL;
	int ch, foreground = 0, test = 0, verbose = 0, prune = 0;
	char err[16384], abs[PATH_MAX];

	while ((ch = getopt_long(argc, argv, "df:tv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("escort-recorder %s\n", ESCORT_VERSION);
			return 0;
		case 'R':
			if (optarg[0] == '\0') {
				fprintf(stderr, "escort-recorder: "
				    "--rebuild-journal needs a reason\n");
				return 2;
			}
			rebuild = optarg;
			break;
		case 'P':
			prune = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (realpath(file, abs) != NULL)	/* reloads run after chdir("/") */
		file = abs;
	/* -t and --rebuild-journal write to stderr; a daemon's start-up
	 * errors go to stderr and syslog */
	recd_log_init(foreground || test || rebuild != NULL || prune, verbose);
	if (recd_config_load(file, &d->cfg, err, sizeof(err)) < 0) {
		for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
			recd_log(LOG_ERR, "%s", l);
		return test ? test_config(d, 1) : 1;
	}
	if (test) {
		if (verbose)
			dump_config(&d->cfg, stdout);
		return test_config(d, 0);
	}
	if (rebuild != NULL)
		return rebuild_journal(d, rebuild);
	if (prune)
		return prune_now(d);
	return run(d);
}
