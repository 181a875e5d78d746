/* Unit tests for proxy/registry: the live sessions escorts list and act on.
 * Sessions are added, listed as copies, removed; actions are checked against
 * the session's state and handed to its owner; threads adding, removing,
 * listing and posting at once leave the table consistent (also under
 * `make SAN=1`). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "proxy/px_error.h"
#include "proxy/registry.h"

/* An owner that counts what it got (the worker's queue in the proxy). */
struct owner {
	int n;
	struct px_reg_action last;
};

static void
owner_post(void *ud, const struct px_reg_action *a)
{
	struct owner *o = ud;

	o->n++;
	o->last = *a;
}

static void
session(struct px_reg_session *s, const char *id, const char *user)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->target, sizeof(s->target), "web01");
	s->start = 1000;
}

static void
action(struct px_reg_action *a, enum px_reg_verb v, const char *id, const char *escort)
{
	memset(a, 0, sizeof(*a));
	a->verb = v;
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->escort, sizeof(a->escort), "%s", escort);
}

/* Add, list (oldest first, copies), duplicate id refused, remove. */
static void
test_add_list_remove(void **state)
{
	struct px_registry r;
	struct px_reg_session s, *v = NULL;
	struct owner o = { 0 };
	struct px_reg_owner ow = { owner_post, &o };

	(void)state;
	px_reg_init(&r);
	assert_int_equal(px__reg_list(&r, &v), 0);
	assert_null(v);
	session(&s, "s1", "alice");
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);
	session(&s, "s2", "carol");
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_EINVAL);
	assert_int_equal(px__reg_list(&r, &v), 2);
	assert_string_equal(v[0].id, "s1");
	assert_string_equal(v[0].user, "alice");
	assert_string_equal(v[1].id, "s2");
	assert_int_equal(v[0].state, PX_REG_RUNNING);
	free(v);
	px__reg_remove(&r, "s1");
	px__reg_remove(&r, "s1"); /* twice: nothing */
	assert_int_equal(px__reg_get(&r, "s1", &s), PX_EPOLICY);
	assert_int_equal(px__reg_get(&r, "s2", &s), PX_OK);
	assert_string_equal(s.user, "carol");
	px_reg_free(&r);
}

/* pause, pause again (refused), resume, resume again (refused), kill, then
 * nothing more; the owner gets exactly the accepted ones. */
static void
test_post_states(void **state)
{
	struct px_registry r;
	struct px_reg_session s, now;
	struct px_reg_action a;
	struct owner o = { 0 };
	struct px_reg_owner ow = { owner_post, &o };

	(void)state;
	px_reg_init(&r);
	session(&s, "s1", "alice");
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);

	action(&a, PX_REG_PAUSE, "s1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_PAUSED);
	assert_string_equal(now.paused_by, "bob");
	assert_int_equal(o.n, 1);
	assert_int_equal(o.last.verb, PX_REG_PAUSE);
	assert_string_equal(o.last.escort, "bob");

	action(&a, PX_REG_PAUSE, "s1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_EINVAL);
	assert_string_equal(now.paused_by, "bob");
	assert_int_equal(o.n, 1);

	action(&a, PX_REG_RESUME, "s1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_RUNNING);
	assert_string_equal(now.paused_by, "");
	assert_int_equal(now.nescorts, 2);
	assert_string_equal(now.escorts[0], "bob");
	assert_string_equal(now.escorts[1], "dave");
	assert_int_equal(px__reg_post(&r, &a, NULL), PX_EINVAL);

	action(&a, PX_REG_KILL, "s1", "bob");
	snprintf(a.reason, sizeof(a.reason), "done here");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_ENDING);
	assert_int_equal(now.nescorts, 2);
	assert_string_equal(o.last.reason, "done here");
	assert_int_equal(px__reg_post(&r, &a, NULL), PX_EINVAL);
	action(&a, PX_REG_PAUSE, "s1", "bob");
	assert_int_equal(px__reg_post(&r, &a, NULL), PX_EINVAL);
	assert_int_equal(o.n, 3);

	action(&a, PX_REG_PAUSE, "nope", "bob");
	assert_int_equal(px__reg_post(&r, &a, NULL), PX_EPOLICY);
	assert_string_equal(px__reg_state_name(PX_REG_PAUSED), "paused");
	assert_string_equal(px__reg_verb_name(PX_REG_KILL), "kill");
	px_reg_free(&r);
}

/* Approvals: approve and deny need a pending command and clear it, so the
 * first decision wins; the owner's take (timeout, Ctrl-C) only wins when no
 * escort decided first; a second pending command is refused. */
static void
test_pending(void **state)
{
	struct px_registry r;
	struct px_reg_session s, now;
	struct px_reg_action a;
	struct owner o = { 0 };
	struct px_reg_owner ow = { owner_post, &o };

	(void)state;
	px_reg_init(&r);
	session(&s, "s1", "alice");
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);
	action(&a, PX_REG_APPROVE, "s1", "bob");
	assert_int_equal(px__reg_post(&r, &a, NULL), PX_EINVAL);	/* nothing pending */
	assert_int_equal(o.n, 0);
	assert_int_equal(px__reg_set_pending(&r, "s1", "reboot now"), PX_OK);
	assert_int_equal(px__reg_set_pending(&r, "s1", "reboot again"), PX_EINVAL);
	assert_int_equal(px__reg_set_pending(&r, "nope", "x"), PX_EPOLICY);
	assert_int_equal(px__reg_get(&r, "s1", &now), PX_OK);
	assert_string_equal(now.pending, "reboot now");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_RUNNING);	/* state kept */
	assert_string_equal(now.pending, "");
	assert_int_equal(o.n, 1);
	assert_int_equal(o.last.verb, PX_REG_APPROVE);
	assert_string_equal(now.decided, "approved by bob");
	action(&a, PX_REG_DENY, "s1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_EINVAL);	/* the first decision won */
	assert_string_equal(now.decided, "approved by bob");	/* and dave learns whose */
	assert_int_equal(o.n, 1);
	assert_int_equal(px__reg_take_pending(&r, "s1"), 0);	/* an escort took it */
	/* the owner withdraws it first: an escort then finds nothing */
	assert_int_equal(px__reg_set_pending(&r, "s1", "reboot now"), PX_OK);
	assert_int_equal(px__reg_get(&r, "s1", &now), PX_OK);
	assert_string_equal(now.decided, "");	/* a new command: no decision yet */
	assert_int_equal(px__reg_take_pending(&r, "s1"), 1);
	assert_int_equal(px__reg_post(&r, &a, &now), PX_EINVAL);
	assert_string_equal(now.decided, "");
	assert_int_equal(px__reg_take_pending(&r, "nope"), 0);
	assert_string_equal(px__reg_verb_name(PX_REG_DENY), "deny");
	px_reg_free(&r);
}

/* join counts watchers and reaches the owner; leave counts down, never
 * below 0, and is taken even when the session is ending; join is not. */
static void
test_join_leave(void **state)
{
	struct px_registry r;
	struct px_reg_session s, now;
	struct px_reg_action a;
	struct owner o = { 0 };
	struct px_reg_owner ow = { owner_post, &o };

	(void)state;
	px_reg_init(&r);
	session(&s, "s1", "alice");
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);
	action(&a, PX_REG_JOIN, "s1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.joined, 1);
	assert_int_equal(now.state, PX_REG_RUNNING);
	assert_int_equal(o.last.verb, PX_REG_JOIN);
	action(&a, PX_REG_JOIN, "s1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.joined, 2);
	assert_int_equal(now.nescorts, 2);
	action(&a, PX_REG_LEAVE, "s1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.joined, 1);
	assert_int_equal(o.n, 3);
	action(&a, PX_REG_KILL, "s1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	action(&a, PX_REG_JOIN, "s1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_EINVAL);
	assert_int_equal(now.joined, 1);
	action(&a, PX_REG_LEAVE, "s1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.joined, 0);
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.joined, 0);
	assert_string_equal(px__reg_verb_name(PX_REG_JOIN), "join");
	assert_string_equal(px__reg_verb_name(PX_REG_LEAVE), "leave");
	px_reg_free(&r);
}

/* A moderated session: WAITING until an escort joins, RUNNING while one
 * is joined, WAITING again when the last leaves; an escort's pause shows
 * over the absence and a waiting session cannot be paused or resumed. */
static void
test_moderated_waiting(void **state)
{
	struct px_registry r;
	struct px_reg_session s, now;
	struct px_reg_action a;
	struct owner o = { 0 };
	struct px_reg_owner ow = { owner_post, &o };

	(void)state;
	px_reg_init(&r);
	session(&s, "m1", "alice");
	s.state = PX_REG_WAITING;
	s.moderated = 1;
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);
	assert_int_equal(px__reg_get(&r, "m1", &now), PX_OK);
	assert_string_equal(px__reg_state_name(now.state), "waiting");
	action(&a, PX_REG_PAUSE, "m1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_EINVAL);	/* nothing runs yet */
	action(&a, PX_REG_RESUME, "m1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_EINVAL);
	assert_int_equal(o.n, 0);
	action(&a, PX_REG_JOIN, "m1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_RUNNING);
	action(&a, PX_REG_LEAVE, "m1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_WAITING);	/* the technician is paused */
	action(&a, PX_REG_JOIN, "m1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	action(&a, PX_REG_PAUSE, "m1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	action(&a, PX_REG_LEAVE, "m1", "dave");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_PAUSED);	/* dave's pause shows */
	assert_string_equal(now.paused_by, "dave");
	action(&a, PX_REG_RESUME, "m1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_WAITING);	/* still no escort */
	action(&a, PX_REG_KILL, "m1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_ENDING);
	assert_int_equal(o.n, 7);
	/* a reload decides whether it is moderated */
	session(&s, "m2", "alice");
	s.state = PX_REG_WAITING;
	s.moderated = 1;
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);
	assert_int_equal(px__reg_set_moderated(&r, "m2", 0), PX_OK);
	assert_int_equal(px__reg_get(&r, "m2", &now), PX_OK);
	assert_int_equal(now.state, PX_REG_RUNNING);
	assert_int_equal(px__reg_set_moderated(&r, "m2", 1), PX_OK);
	assert_int_equal(px__reg_get(&r, "m2", &now), PX_OK);
	assert_int_equal(now.state, PX_REG_WAITING);
	assert_int_equal(px__reg_set_moderated(&r, "nope", 1), PX_EPOLICY);
	/* a session that is not moderated runs without escorts */
	session(&s, "n1", "alice");
	assert_int_equal(px__reg_add(&r, &s, &ow), PX_OK);
	action(&a, PX_REG_JOIN, "n1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	action(&a, PX_REG_LEAVE, "n1", "bob");
	assert_int_equal(px__reg_post(&r, &a, &now), PX_OK);
	assert_int_equal(now.state, PX_REG_RUNNING);
	px_reg_free(&r);
}

/* Threads as the proxy's workers: each adds, pauses, resumes and removes
 * its own sessions while another lists; every accepted action reaches its
 * owner once and the table ends empty. */
#define NTHREADS 4
#define NROUNDS 500

struct worker_arg {
	struct px_registry *r;
	int idx;
	struct owner o;
	pthread_mutex_t mu;     /* owner_post runs on other threads in the proxy */
};

static void
locked_post(void *ud, const struct px_reg_action *a)
{
	struct worker_arg *w = ud;

	pthread_mutex_lock(&w->mu);
	owner_post(&w->o, a);
	pthread_mutex_unlock(&w->mu);
}

static void *
worker(void *p)
{
	struct worker_arg *w = p;
	struct px_reg_owner ow = { locked_post, w };
	struct px_reg_session s;
	struct px_reg_action a;
	char id[32];

	for (int i = 0; i < NROUNDS; i++) {
		snprintf(id, sizeof(id), "w%d-%d", w->idx, i);
		session(&s, id, "alice");
		if (px__reg_add(w->r, &s, &ow) != PX_OK)
			abort();
		/* a neighbour's session, which may or may not be there */
		snprintf(id, sizeof(id), "w%d-%d", (w->idx + 1) % NTHREADS, i);
		action(&a, PX_REG_PAUSE, id, "bob");
		(void)px__reg_post(w->r, &a, NULL);
		snprintf(id, sizeof(id), "w%d-%d", w->idx, i);
		px__reg_remove(w->r, id);
	}
	return NULL;
}

static void *
lister(void *p)
{
	struct px_registry *r = p;

	for (int i = 0; i < NROUNDS; i++) {
		struct px_reg_session *v = NULL;
		long n = px__reg_list(r, &v);
		if (n < 0 || n > NTHREADS)
			abort();
		for (long k = 0; k < n; k++)
			if (v[k].id[0] != 'w')
				abort();
		free(v);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct px_registry r;
	struct worker_arg w[NTHREADS];
	pthread_t th[NTHREADS + 1];
	struct px_reg_session *v = NULL;

	(void)state;
	px_reg_init(&r);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].r = &r;
		w[i].idx = i;
		pthread_mutex_init(&w[i].mu, NULL);
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&th[NTHREADS], NULL, lister, &r), 0);
	for (int i = 0; i <= NTHREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(px__reg_list(&r, &v), 0);
	for (int i = 0; i < NTHREADS; i++) {
		/* only pauses of sessions that were there, each once */
		assert_true(w[i].o.n >= 0 && w[i].o.n <= NROUNDS);
		pthread_mutex_destroy(&w[i].mu);
	}
	px_reg_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_list_remove),
		cmocka_unit_test(test_post_states),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_join_leave),
		cmocka_unit_test(test_moderated_waiting),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
