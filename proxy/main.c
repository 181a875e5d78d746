/* escort-proxy: the SSH man-in-the-middle daemon.  See escort-proxy(8). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libssh/libssh.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "common/sdnotify.h"
#include "policy/policy.h"
#include "proxy/config.h"
#include "proxy/daemon.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry_redis.h"
#include "proxy/worker.h"

#define PX_DEFAULT_CONFIG "/etc/escort/proxy.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: escort-proxy [-dtv] [-f FILE]\n"
	    "  -f FILE      configuration file (escort-proxy.conf(5); default\n"
	    "               " PX_DEFAULT_CONFIG ")\n"
	    "  -d           log to standard error instead of syslog (the proxy\n"
	    "               never detaches: run it from a service manager)\n"
	    "  -t           check the configuration, host key and policy, then exit\n"
	    "  -v           with -t: print the effective configuration;\n"
	    "               else log debug messages too (LogLevel debug)\n"
	    "  --help       this text\n"
	    "  --version    print the version\n");
}

/* Logs each line of a multi-line error text. */
static void
log_lines(char *text)
{
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
		px_log(PX_LOG_ERR, NULL, "%s", line);
}

/*
 * Loads the configuration and the policy and checks both, the same way for
 * -t, start-up and SIGHUP: every problem is logged (not only the first),
 * and the policy gets the checks of `escort-policy check` (policy_validate:
 * what this version cannot enforce, the expect lines, the warnings).
 * Returns 0 with *cfgp and *polp set, or -1 when anything is wrong.
 */
static int
load_all(const char *file, struct px_config **cfgp, struct policy **polp)
{
	struct px_config *cfg = calloc(1, sizeof(*cfg));
	struct pol_diags diags = { 0 };
	struct policy *pol = NULL;
	ssh_key k = NULL;
	char err[8192];
	int rc, bad = 0;

	if (cfg == NULL)
		return -1;
	rc = px_config_load(file, cfg, err, sizeof(err));
	if (rc == PX_ENOMEM) {
		px_log(PX_LOG_ERR, NULL, "%s: out of memory", file);
		free(cfg);
		return -1;
	}
	if (rc != PX_OK) {
		log_lines(err);
		bad = 1;
	}
	if (cfg->hostkey != NULL &&
	    ssh_pki_import_privkey_file(cfg->hostkey, NULL, NULL, NULL, &k) != SSH_OK) {
		px_log(PX_LOG_ERR, NULL, "%s:%d: HostKey %s cannot be read as an OpenSSH private key",
		    file, cfg->hostkey_line, cfg->hostkey);
		bad = 1;
	}
	ssh_key_free(k);
	if (cfg->policy != NULL) {
		/* in the order of escort-policy check, so that both report the
		 * same problems: load, identity files, then policy_validate */
		rc = policy_load(cfg->policy, 0, &pol, &diags);
		if (rc == 0 && (policy_check_files(pol, &diags) < 0 ||
		    policy_validate(pol, POL_VALIDATE_LINT, &diags) < 0))
			rc = POL_E_NOMEM;
		pol_diags_sort(&diags);
		for (size_t i = 0; i < diags.n; i++) {
			const struct pol_diag *d = &diags.v[i];
			if (d->line <= 0)	/* the whole file (it cannot be read): no position */
				px_log(d->sev == POL_SEV_ERROR ? PX_LOG_ERR : PX_LOG_WARN, NULL, "%s: %s%s",
				    d->file, d->sev == POL_SEV_ERROR ? "" : "warning: ", d->msg);
			else
				px_log(d->sev == POL_SEV_ERROR ? PX_LOG_ERR : PX_LOG_WARN, NULL,
				    "%s:%d:%d: %s: %s", d->file, d->line, d->col,
				    d->sev == POL_SEV_ERROR ? "error" : "warning", d->msg);
		}
		if (rc != 0 || diags.nerrors > 0) {
			if (diags.nerrors > 0)
				px_log(PX_LOG_ERR, NULL, "policy %s: %zu error%s", cfg->policy,
				    diags.nerrors, diags.nerrors == 1 ? "" : "s");
			else
				px_log(PX_LOG_ERR, NULL, "policy %s: %s", cfg->policy, pol_strerror(rc));
			bad = 1;
		}
		pol_diags_free(&diags);
	}
	if (!bad && cfg->statedir != NULL && mkdir(cfg->statedir, 0700) != 0 && errno != EEXIST) {
		px_log(PX_LOG_ERR, NULL, "StateDir %s: %s", cfg->statedir, strerror(errno));
		bad = 1;
	}
	if (bad) {
		policy_unref(pol);
		px_config_free(cfg);
		free(cfg);
		return -1;
	}
	*cfgp = cfg;
	*polp = pol;
	return 0;
}

/*
 * PidFile: writes this process's id and a newline to path, replacing a
 * stale file (never following a symbolic link).  Returns 0, or -1 after
 * logging an error that names the file.
 */
static int
pidfile_write(const char *path)
{
	char line[32];
	int fd, n, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		px_log(PX_LOG_ERR, NULL, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	ok = write(fd, line, (size_t)n) == n;
	if (!ok)
		px_log(PX_LOG_ERR, NULL, "PidFile %s: %s", path, strerror(errno));
	if (close(fd) != 0 && ok) {
		px_log(PX_LOG_ERR, NULL, "PidFile %s: %s", path, strerror(errno));
		ok = 0;
	}
	if (!ok)
		(void)unlink(path);
	return ok ? 0 : -1;
}

/* PidFile at exit: removed; a failure is logged, not fatal. */
static void
pidfile_remove(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT)
		px_log(PX_LOG_WARN, NULL, "PidFile %s: %s", path, strerror(errno));
}

static struct px_daemon daemon_state;
static const char *config_file = PX_DEFAULT_CONFIG;

/* Whether two optional strings are equal (both NULL counts). */
static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A reload keeps the listeners, the workers and the host key of the start:
 * says so when the file changed them, else "reloaded" would suggest they
 * were applied. */
static void
restart_notice(const struct px_config *now, const struct px_config *was)
{
	char what[64] = "";
	int listen = now->nlisten != was->nlisten;

	for (int i = 0; !listen && i < now->nlisten; i++)
		listen = now->listen[i].port != was->listen[i].port ||
		    strcmp(now->listen[i].host, was->listen[i].host) != 0;
	if (listen)
		strcat(what, ", Listen");
	if (now->workers != was->workers)
		strcat(what, ", Workers");
	if (!same_str(now->hostkey, was->hostkey))
		strcat(what, ", HostKey");
	if (what[0] != '\0')
		px_log(PX_LOG_WARN, NULL, "%s changed in %s: they need a restart; the ones of the start "
		    "stay in force", what + 2, now->path ? now->path : config_file);
}

static void
on_signal(uv_signal_t *h, int sig)
{
	struct px_daemon *d = &daemon_state;

	if (sig == SIGHUP) {
		struct px_config *cfg;
		struct policy *pol;
		px_log(PX_LOG_INFO, NULL, "SIGHUP: reloading %s", config_file);
		(void)sdnotify_send("RELOADING=1");
		if (load_all(config_file, &cfg, &pol) != 0) {
			px_log(PX_LOG_ERR, NULL, "reload failed; the previous configuration and policy stay in force");
			(void)sdnotify_send("READY=1");
			return;
		}
		if (!same_str(cfg->registry, d->cfg->registry) || !same_str(cfg->proxy_name, d->cfg->proxy_name))
			px_log(PX_LOG_WARN, NULL, "Registry and ProxyName are read at start: the ones in force "
			    "stay until the next start");
		restart_notice(cfg, d->cfg);
		px_daemon_swap(d, cfg, pol);
		px_log(PX_LOG_INFO, NULL, "reloaded; policy %s", policy_hash(pol));
		for (int i = 0; i < d->nworkers; i++)
			px_worker_reload(d->workers[i]);
		(void)sdnotify_send("READY=1");
		return;
	}
	(void)sdnotify_send("STOPPING=1");
	px_log(PX_LOG_INFO, NULL, "%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	for (int i = 0; i < d->nworkers; i++)
		px_worker_stop(d->workers[i]);
	uv_stop(h->loop);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct px_daemon *d = &daemon_state;
	struct px_config *cfg = NULL;
	struct policy *pol = NULL;
	int fg = 0, test = 0, verbose = 0, ch, rc = 0;
	char *pidfile = NULL;		/* the PidFile written (a reload does not move it) */
	struct px_rr *rr = NULL;	/* Registry: shared with other proxies */
	uv_loop_t *loop;
	static uv_signal_t sig[3];         /* live until exit (see the end of main) */
	static const int sigs[4] = { SIGTERM, SIGINT, SIGHUP, 0 };
	char err[1024];

	while ((ch = getopt_long(argc, argv, "df:tv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': fg = 1; break;
		case 'f': config_file = optarg; break;
		case 't': test = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("escort-proxy %s (libssh %s, libuv %s)\n", ESCORT_VERSION,
		    ssh_version(0), uv_version_string()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	px_log_init(fg || test, PX_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (ssh_init() != SSH_OK) {
		px_log(PX_LOG_ERR, NULL, "libssh initialisation failed");
		return 1;
	}
	if (load_all(config_file, &cfg, &pol) != 0) {
		ssh_finalize();
		return 1;
	}
	if (test) {
		if (verbose)
			px_config_dump(cfg, stdout);
		px_log(PX_LOG_INFO, NULL, "%s: configuration and policy %s are valid", config_file, cfg->policy);
		px_config_free(cfg);
		free(cfg);
		policy_unref(pol);
		ssh_finalize();
		return 0;
	}
	px_log_init(fg, verbose ? PX_LOG_DEBUG : (enum px_log_level)cfg->log_level);
	pthread_mutex_init(&d->mu, NULL);
	px_throttle_init(&d->thr);
	px_reg_init(&d->reg);
	px__watches_init(&d->watches);
	px_totp_used_init(&d->totp_used);
	d->foreground = fg;
	px_daemon_swap(d, cfg, pol);
	/* Handlers first: a signal that arrives once the listeners accept is
	 * queued for the loop instead of killing the process. */
	loop = uv_default_loop();
	for (int i = 0; sigs[i] != 0; i++) {
		uv_signal_init(loop, &sig[i]);
		uv_signal_start(&sig[i], on_signal, sigs[i]);
	}
	/* shared with other proxies before any session can be listed */
	if (cfg->registry != NULL && px_rr_start(&rr, &d->reg, &d->watches, cfg->registry,
	    cfg->registry_password_file, cfg->proxy_name, err,
	    sizeof(err)) != PX_OK) {
		px_log(PX_LOG_ERR, NULL, "%s", err);
		rc = 1;
	}
	d->workers = rc != 0 ? NULL : calloc((size_t)cfg->workers, sizeof(*d->workers));
	for (int i = 0; d->workers != NULL && i < cfg->workers; i++) {
		if ((d->workers[i] = calloc(1, sizeof(struct px_worker))) == NULL ||
		    px_worker_start(d->workers[i], d, i, err, sizeof(err)) != PX_OK) {
			px_log(PX_LOG_ERR, NULL, "%s", d->workers[i] ? err : "out of memory");
			free(d->workers[i]);
			rc = 1;
			break;
		}
		d->nworkers++;
	}
	if (d->workers == NULL)
		rc = 1;
	/* the listeners are up: whoever reads the PidFile can connect */
	if (rc == 0 && cfg->pidfile != NULL && pidfile_write(cfg->pidfile) != 0)
		rc = 1;
	if (rc == 0 && cfg->pidfile != NULL && (pidfile = strdup(cfg->pidfile)) == NULL) {
		px_log(PX_LOG_ERR, NULL, "out of memory");
		pidfile_remove(cfg->pidfile);
		rc = 1;
	}
	if (rc == 0) {
		px_log(PX_LOG_INFO, NULL, "escort-proxy %s listening on %d address(es) with %d worker(s); policy %s",
		    ESCORT_VERSION, cfg->nlisten, d->nworkers, policy_hash(pol));
		px_log_started();
		if (sdnotify_send("READY=1") != 0)
			px_log(PX_LOG_WARN, NULL, "NOTIFY_SOCKET: %s", strerror(errno));
		uv_run(loop, UV_RUN_DEFAULT);
	} else {
		for (int i = 0; i < d->nworkers; i++)
			px_worker_stop(d->workers[i]);
	}
	/* The signal handlers stay installed while the workers close their
	 * sessions: a second SIGTERM must not kill the process half-way. */
	for (int i = 0; i < d->nworkers; i++) {
		px_worker_join(d->workers[i]);
		free(d->workers[i]);
	}
	/* The signal handles stay open until the process exits: closing them
	 * would restore the default action, and a late SIGTERM would then kill
	 * the process on its way out instead of being ignored.  The default
	 * loop is not closed for the same reason. */
	if (pidfile != NULL)
		pidfile_remove(pidfile);
	free(pidfile);
	free(d->workers);
	px_rr_stop(rr);
	px_reg_free(&d->reg);
	px__watches_free(&d->watches);
	px_totp_used_free(&d->totp_used);
	policy_unref(d->pol);
	px_config_free(d->cfg);
	free(d->cfg);
	for (int i = 0; i < d->nold; i++) {
		px_config_free(d->old_cfgs[i]);
		free(d->old_cfgs[i]);
	}
	free(d->old_cfgs);
	ssh_finalize();
	if (rc == 0)
		px_log(PX_LOG_INFO, NULL, "stopped");
	return rc;
}
