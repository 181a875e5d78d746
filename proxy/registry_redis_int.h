/* registry_redis_int: what the files of the shared registry share:
 * registry_redis.c (start, stop, connections), registry_redis_beat.c and
 * registry_redis_inbox.c (the proxy's two threads),
 * registry_redis_query.c (escorts' lookups), registry_redis_watch.c,
 * registry_redis_follow.c and registry_redis_grant.c (remote joins).
 * Internal to them. */
#ifndef PX_REGISTRY_REDIS_INT_H
#define PX_REGISTRY_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/registry.h"
#include "proxy/registry_redis.h"
#include "proxy/watch.h"

#define PX_RR_NONCE_MAX PX_REG_WATCHER_MAX      /* a remote watcher's id */

/* Grants (registry_redis_grant.c): the remote watchers this proxy streams
 * its sessions to.  A grant binds a watcher's id (its nonce) to a join of
 * session id by escort that this proxy accepted (px__reg_post_local handed
 * it to the session, which records it under the escort's name before it
 * takes effect); the inbox thread adds it before it answers the join, and
 * drops it at the leave that names the same watcher.  The watch thread
 * streams only to a watcher whose nonce has a grant for the session its
 * key names (px__rr_grant_claim), drops the grant when it wrote the
 * watcher's end, releases it when the watcher's key went (its proxy
 * stopped refreshing it), and expires grants no watcher claims.  Every
 * function takes the table's own mutex (no other lock is taken under it):
 * any thread.
 *   add: PX_OK; PX_EINVAL (not a nonce, no id, or granted already);
 *     PX_ENOMEM (no memory, or PX_RR_GRANTS_MAX grants).
 *   drop: 1 when nonce had a grant (of session id; NULL: any), now gone.
 *   claim: PX_OK with the escort's name (len bytes) when nonce has a
 *     grant for session id, now claimed; else PX_EPOLICY.
 *   release: nonce's grant, if any, unclaimed again as of now.
 *   has: whether nonce has a grant.
 *   expire: drops the unclaimed grants accepted more than
 *     PX_RR_GRANT_CLAIM_MS before now, or of a session not among the nlive
 *     of live (it ended); returns how many.
 *   unclaimed: how many grants no watcher claimed. */
#define PX_RR_GRANTS_MAX 4096
#define PX_RR_GRANT_CLAIM_MS 10000

struct px_rr_grant;
struct px_rr_grants {
	pthread_mutex_t mu;
	struct px_rr_grant *head;
	size_t n;
};

void px__rr_grants_init(struct px_rr_grants *g);
void px__rr_grants_free(struct px_rr_grants *g);
int px__rr_grant_add(struct px_rr_grants *g, const char *nonce, const char *id, const char *escort,
    int64_t now);
int px__rr_grant_drop(struct px_rr_grants *g, const char *nonce, const char *id);
int px__rr_grant_claim(struct px_rr_grants *g, const char *nonce, const char *id, char *escort, size_t len);
void px__rr_grant_release(struct px_rr_grants *g, const char *nonce, int64_t now);
int px__rr_grant_has(struct px_rr_grants *g, const char *nonce);
long px__rr_grant_expire(struct px_rr_grants *g, int64_t now, const struct px_reg_session *live,
    long nlive);
long px__rr_grant_unclaimed(struct px_rr_grants *g);

/* One published session: its id and text as last written to Redis. */
struct px_rr_pub {
	char id[PX_REG_ID_MAX];
	char *text;
};

struct px_rr {
	struct px_registry *reg;
	char host[256];
	int port;
	char name[PX_RR_NAME_MAX + 1];
	char run[96];                   /* this run: "PID@HOST START", alive's value */
	char password[512];             /* RegistryPasswordFile's; "" without one */
	pthread_t beat, inbox;
	int nthreads;                   /* 0..2 started */
	pthread_mutex_t mu;             /* guards stop, dirty, down_logged */
	pthread_cond_t cv;
	int stop;
	int dirty;                      /* a local session changed since the last publish */
	int down_logged;                /* an outage was logged; cleared when back */
	struct px_watches *watches;     /* this proxy's sessions' (remote joins) */
	struct px_rr_pubw *pubw;        /* registry_redis_watch.c's thread */
	struct px_rr_grants grants;     /* the remote watchers it may stream to */
	int nfollow;                    /* registry_redis_follow.c's threads
	                                 * alive (under mu; cv broadcast when
	                                 * one ends) */
	/* the heartbeat thread's own */
	struct px_rr_pub *pub;
	size_t npub;
};

/* The lookups of registry.h's px_reg_remote (registry_redis_query.c); ud
 * is the struct px_rr. */
int px__rr_list(void *ud, struct px_reg_session **v, long *n);
int px__rr_get(void *ud, const char *id, struct px_reg_session *out);
int px__rr_post(void *ud, const struct px_reg_action *a, struct px_reg_session *now);

/* A connection with PX_RR_CALL_MS timeouts (timeout_ms for commands), or
 * NULL (the failure logged once per outage through px__rr_down). */
redisContext *px__rr_connect(struct px_rr *rr, int timeout_ms);

/* Logs that Redis does not answer (what: the step), once per outage; and
 * px__rr_up that it answers again. */
void px__rr_down(struct px_rr *rr, const char *what, const char *why);
void px__rr_up(struct px_rr *rr);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t px__rr_now_ms(void);

/* Waits until deadline (px__rr_now_ms), a stop or, when wake_dirty, a
 * change; returns with mu held. */
void px__rr_wait_until(struct px_rr *rr, int64_t deadline, int wake_dirty);

/* The threads px_rr_start starts (arg: the struct px_rr); each returns
 * once stop is set (registry_redis_beat.c, registry_redis_inbox.c). */
void *px__rr_beat_main(void *arg);
void *px__rr_inbox_main(void *arg);

/* Remote joins (registry_redis.h): the thread that writes this proxy's
 * sessions to other proxies' watchers (registry_redis_watch.c; start:
 * PX_OK, PX_ENOMEM or PX_EIO, stop: joins it and frees its state), and the
 * ops behind registry.h's px__reg_follow* (registry_redis_follow.c). */
struct px_rr_pubw;
int px__rr_pubw_start(struct px_rr *rr);
void px__rr_pubw_stop(struct px_rr *rr);
int px__rr_follow(void *ud, const struct px_reg_session *s, const char *nonce, struct px_watch **w,
    void **h);
int px__rr_follow_get(void *h, struct px_reg_session *out);
void px__rr_follow_close(void *h);

/* Frees n published entries and the array. */
void px__rr_pub_free(struct px_rr_pub *p, size_t n);

#endif
