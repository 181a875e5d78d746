/* registry_redis_int: what registry_redis.c (the proxy's own threads) and
 * registry_redis_query.c (escorts' lookups) share.  Internal to the two. */
#ifndef PX_REGISTRY_REDIS_INT_H
#define PX_REGISTRY_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>

#include "proxy/registry.h"
#include "proxy/registry_redis.h"

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
	pthread_t beat, inbox;
	int nthreads;                   /* 0..2 started */
	pthread_mutex_t mu;             /* guards stop, dirty, down_logged */
	pthread_cond_t cv;
	int stop;
	int dirty;                      /* a local session changed since the last publish */
	int down_logged;                /* an outage was logged; cleared when back */
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

#endif
