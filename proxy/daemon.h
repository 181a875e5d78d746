/* daemon: state shared by the worker threads of one escort-proxy process.
 *
 * The main thread owns it: it loads the configuration and the policy, starts
 * the workers, and on SIGHUP loads both again and swaps them in (a failed
 * reload keeps the old ones).  Workers read the current ones through
 * px__daemon_config() / px__daemon_policy(). */
#ifndef PX_DAEMON_H
#define PX_DAEMON_H

#include <pthread.h>

#include "proxy/config.h"
#include "proxy/registry.h"
#include "proxy/watch.h"
#include "proxy/throttle.h"
#include "proxy/totp.h"

struct policy;
struct px_worker;

struct px_daemon {
	pthread_mutex_t mu;
	struct px_config *cfg;          /* current; guarded by mu */
	struct px_config **old_cfgs;    /* replaced ones, freed at exit (pointers stay valid) */
	int nold;
	struct policy *pol;             /* current; guarded by mu */
	unsigned generation;            /* bumped by every successful reload */
	struct px_throttle thr;
	struct px_registry reg;         /* live sessions, for escorts (its own lock) */
	struct px_watches watches;      /* supervised sessions' screens, for joins (watch.h) */
	struct px_totp_used totp_used;  /* last TOTP step per user (its own lock) */
	int nworkers;
	struct px_worker **workers;
	int foreground;
};

/* The current configuration.  The pointer stays valid until px_daemon_free. */
const struct px_config *px__daemon_config(struct px_daemon *d);

/* A new reference to the current policy (policy_unref it). */
struct policy *px__daemon_policy(struct px_daemon *d, unsigned *generation);

/* Installs cfg (ownership taken) and pol (reference taken) as current. */
void px_daemon_swap(struct px_daemon *d, struct px_config *cfg, struct policy *pol);

#endif
