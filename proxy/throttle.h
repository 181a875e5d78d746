/* throttle: MaxStartups and per-source penalties, shared by all workers.
 *
 * MaxStartups START:RATE:FULL (as in sshd): with START or more connections
 * not yet authenticated, a new one is dropped with probability RATE% rising
 * linearly to 100% at FULL.  A source (IP address) that collects
 * PerSourceMaxFailures failures (failed authentications, and connections that
 * end without authenticating) within PerSourcePenalty seconds is refused for
 * PerSourcePenalty seconds.  Sources live in a fixed table of
 * PX_THROTTLE_SLOTS; a new source takes the least recently used slot that
 * is not under a penalty, so a flood of new addresses cannot wash a
 * penalty out.  Thread-safe (one mutex). */
#ifndef PX_THROTTLE_H
#define PX_THROTTLE_H

#include <pthread.h>
#include <time.h>

#define PX_THROTTLE_SLOTS 256

struct px_throttle_src {
	char addr[48];
	int failures;
	time_t window_start;
	time_t penalty_until;
	time_t last;
};

struct px_throttle {
	pthread_mutex_t mu;
	int start, rate, full;
	int max_failures, penalty;
	int unauth;                 /* connections not yet authenticated */
	unsigned long dropped;      /* refused by MaxStartups */
	unsigned long penalised;    /* refused by a source penalty */
	unsigned rnd;
	struct px_throttle_src src[PX_THROTTLE_SLOTS];
};

void px_throttle_init(struct px_throttle *t);
/* Applies new limits (reload). */
void px__throttle_set(struct px_throttle *t, int start, int rate, int full, int max_failures, int penalty);

/* Decides on a new connection from addr.  Returns PX_OK (counted as
 * unauthenticated: pair with px__throttle_done), PX_EFULL (MaxStartups) or
 * PX_EPOLICY (source penalised). */
int px__throttle_admit(struct px_throttle *t, const char *addr);

/* The connection admitted earlier authenticated (authed != 0) or ended
 * without authenticating (authed == 0: counts one failure). */
void px__throttle_done(struct px_throttle *t, const char *addr, int authed);

/* One failed authentication attempt from addr. */
void px__throttle_fail(struct px_throttle *t, const char *addr);

#endif
