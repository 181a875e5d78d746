/* daemon: the shared configuration and policy pointers. */
#include <stdlib.h>

#include "policy/policy.h"
#include "proxy/daemon.h"

const struct px_config *
px__daemon_config(struct px_daemon *d)
{
	const struct px_config *c;

	pthread_mutex_lock(&d->mu);
	c = d->cfg;
	pthread_mutex_unlock(&d->mu);
	return c;
}

struct policy *
px__daemon_policy(struct px_daemon *d, unsigned *generation)
{
	struct policy *p;

	pthread_mutex_lock(&d->mu);
	p = policy_ref(d->pol);
	if (generation != NULL)
		*generation = d->generation;
	pthread_mutex_unlock(&d->mu);
	return p;
}

void
px_daemon_swap(struct px_daemon *d, struct px_config *cfg, struct policy *pol)
{
	struct policy *oldp;
	struct px_config **v;

	pthread_mutex_lock(&d->mu);
	if (d->cfg != NULL && (v = realloc(d->old_cfgs, (d->nold + 1) * sizeof(*v))) != NULL) {
		d->old_cfgs = v;
		v[d->nold++] = d->cfg;
	}
	d->cfg = cfg;
	oldp = d->pol;
	d->pol = pol;
	d->generation++;
	pthread_mutex_unlock(&d->mu);
	px__throttle_set(&d->thr, cfg->max_startups_start, cfg->max_startups_rate,
	    cfg->max_startups_full, cfg->per_source_max_failures, cfg->per_source_penalty);
	policy_unref(oldp);
}
