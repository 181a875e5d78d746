/* throttle: a small fixed table of sources, replaced least-recently-used. */
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/throttle.h"

void
px_throttle_init(struct px_throttle *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	t->rnd = (unsigned)time(NULL) | 1;
}

void
px__throttle_set(struct px_throttle *t, int start, int rate, int full, int max_failures, int penalty)
{
	pthread_mutex_lock(&t->mu);
	t->start = start;
	t->rate = rate;
	t->full = full;
	t->max_failures = max_failures;
	t->penalty = penalty;
	pthread_mutex_unlock(&t->mu);
}

/* True when slot a is a better victim than b: not penalised before
 * penalised, then least recently used. */
static int
evict_before(const struct px_throttle_src *a, const struct px_throttle_src *b, time_t now)
{
	int pa = a->penalty_until > now, pb = b->penalty_until > now;

	if (pa != pb)
		return pb;
	return a->last < b->last;
}

/* Returns the slot of addr, creating it when create (evicting a slot that
 * is not penalised if there is one, the least recently used first). */
static struct px_throttle_src *
slot(struct px_throttle *t, const char *addr, int create, time_t now)
{
	struct px_throttle_src *old = &t->src[0];

	for (int i = 0; i < PX_THROTTLE_SLOTS; i++) {
		if (strcmp(t->src[i].addr, addr) == 0)
			return &t->src[i];
		if (evict_before(&t->src[i], old, now))
			old = &t->src[i];
	}
	if (!create)
		return NULL;
	memset(old, 0, sizeof(*old));
	strncpy(old->addr, addr, sizeof(old->addr) - 1);
	old->window_start = now;
	old->last = now;
	return old;
}

int
px__throttle_admit(struct px_throttle *t, const char *addr)
{
	time_t now = time(NULL);
	struct px_throttle_src *s;
	int rc = PX_OK;

	pthread_mutex_lock(&t->mu);
	s = slot(t, addr, 0, now);
	if (s != NULL && s->penalty_until > now) {
		t->penalised++;
		rc = PX_EPOLICY;
	} else if (t->unauth >= t->full) {
		t->dropped++;
		rc = PX_EFULL;
	} else if (t->unauth >= t->start) {
		/* Linear from rate% at start to 100% at full. */
		int p = t->rate;
		if (t->full > t->start)
			p += (100 - t->rate) * (t->unauth - t->start) / (t->full - t->start);
		t->rnd = t->rnd * 1103515245u + 12345u;
		if ((int)((t->rnd >> 16) % 100) < p) {
			t->dropped++;
			rc = PX_EFULL;
		}
	}
	if (rc == PX_OK)
		t->unauth++;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static void
fail_locked(struct px_throttle *t, const char *addr)
{
	time_t now = time(NULL);
	struct px_throttle_src *s = slot(t, addr, 1, now);

	if (now - s->window_start > t->penalty) {
		s->window_start = now;
		s->failures = 0;
	}
	s->last = now;
	if (++s->failures >= t->max_failures) {
		s->penalty_until = now + t->penalty;
		s->failures = 0;
		s->window_start = now;
	}
}

void
px__throttle_done(struct px_throttle *t, const char *addr, int authed)
{
	pthread_mutex_lock(&t->mu);
	t->unauth--;
	if (!authed)
		fail_locked(t, addr);
	pthread_mutex_unlock(&t->mu);
}

void
px__throttle_fail(struct px_throttle *t, const char *addr)
{
	pthread_mutex_lock(&t->mu);
	fail_locked(t, addr);
	pthread_mutex_unlock(&t->mu);
}
