/* registry: live sessions across the workers (see registry.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "proxy/px_error.h"
#include "proxy/registry.h"

struct px_reg_entry {
	struct px_reg_entry *next;
	struct px_reg_session s;
	struct px_reg_owner owner;
};

static const char *const state_names[] = {
	[PX_REG_RUNNING] = "running",
	[PX_REG_PAUSED] = "paused",
	[PX_REG_ENDING] = "ending",
	[PX_REG_WAITING] = "waiting",
	[PX_REG_ENDED] = "ended",
};

static const char *const verb_names[] = {
	[PX_REG_PAUSE] = "pause",
	[PX_REG_RESUME] = "resume",
	[PX_REG_KILL] = "kill",
	[PX_REG_APPROVE] = "approve",
	[PX_REG_DENY] = "deny",
	[PX_REG_JOIN] = "join",
	[PX_REG_LEAVE] = "leave",
};

const char *
px__reg_state_name(enum px_reg_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "unknown";
}

const char *
px__reg_verb_name(enum px_reg_verb v)
{
	return (unsigned)v < sizeof(verb_names) / sizeof(verb_names[0]) ? verb_names[v] : "unknown";
}

void
px_reg_init(struct px_registry *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
}

void
px_reg_free(struct px_registry *r)
{
	while (r->head != NULL) {
		struct px_reg_entry *e = r->head;
		r->head = e->next;
		free(e);
	}
	r->n = 0;
	pthread_mutex_destroy(&r->mu);
}

void
px__reg_attach(struct px_registry *r, const char *self, const struct px_reg_remote *ops, void *ud)
{
	snprintf(r->self, sizeof(r->self), "%s", self);
	r->remote = ops;
	r->remote_ud = ud;
}

/* Tells a shared registry that a local session changed (after mu). */
static void
changed(struct px_registry *r)
{
	if (r->remote != NULL)
		r->remote->changed(r->remote_ud);
}

/* The entry with this id, or NULL.  Under mu. */
static struct px_reg_entry **
find(struct px_registry *r, const char *id)
{
	struct px_reg_entry **pp;

	for (pp = &r->head; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->s.id, id) == 0)
			return pp;
	return NULL;
}

int
px__reg_add(struct px_registry *r, const struct px_reg_session *s, const struct px_reg_owner *o)
{
	struct px_reg_entry *e, **pp;
	int rc = PX_OK;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return PX_ENOMEM;
	e->s = *s;
	e->s.id[sizeof(e->s.id) - 1] = '\0';
	snprintf(e->s.proxy, sizeof(e->s.proxy), "%s", r->self);
	e->owner = *o;
	pthread_mutex_lock(&r->mu);
	if (find(r, e->s.id) != NULL) {
		rc = PX_EINVAL;
	} else {
		/* appended: the list stays oldest first */
		for (pp = &r->head; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = e;
		r->n++;
		e = NULL;
	}
	pthread_mutex_unlock(&r->mu);
	free(e);
	if (rc == PX_OK)
		changed(r);
	return rc;
}

void
px__reg_remove(struct px_registry *r, const char *id)
{
	struct px_reg_entry **pp, *e = NULL;

	pthread_mutex_lock(&r->mu);
	if ((pp = find(r, id)) != NULL) {
		e = *pp;
		*pp = e->next;
		r->n--;
	}
	pthread_mutex_unlock(&r->mu);
	if (e != NULL)
		changed(r);
	free(e);
}

long
px__reg_list_local(struct px_registry *r, struct px_reg_session **out)
{
	struct px_reg_session *v = NULL;
	long n = 0;

	*out = NULL;
	pthread_mutex_lock(&r->mu);
	if (r->n > 0 && (v = calloc(r->n, sizeof(*v))) == NULL) {
		pthread_mutex_unlock(&r->mu);
		return PX_ENOMEM;
	}
	for (struct px_reg_entry *e = r->head; e != NULL; e = e->next)
		v[n++] = e->s;
	pthread_mutex_unlock(&r->mu);
	*out = v;
	return n;
}

long
px__reg_list(struct px_registry *r, struct px_reg_session **out)
{
	long n = px__reg_list_local(r, out);

	if (n >= 0 && r->remote != NULL && r->remote->list(r->remote_ud, out, &n) != PX_OK) {
		free(*out);
		*out = NULL;
		return PX_ENOMEM;
	}
	return n;
}

int
px__reg_get(struct px_registry *r, const char *id, struct px_reg_session *out)
{
	struct px_reg_entry **pp;
	int rc = PX_EPOLICY;

	pthread_mutex_lock(&r->mu);
	if ((pp = find(r, id)) != NULL) {
		*out = (*pp)->s;
		rc = PX_OK;
	}
	pthread_mutex_unlock(&r->mu);
	if (rc == PX_EPOLICY && r->remote != NULL)
		rc = r->remote->get(r->remote_ud, id, out);
	return rc;
}

/* Notes escort as one that acted on s (once; the first ones are kept). */
static void
note_escort(struct px_reg_session *s, const char *escort)
{
	for (int i = 0; i < s->nescorts; i++)
		if (strcmp(s->escorts[i], escort) == 0)
			return;
	if (s->nescorts < PX_REG_ESCORTS_MAX)
		snprintf(s->escorts[s->nescorts++], sizeof(s->escorts[0]), "%s", escort);
}

#define ANY_BUT_ENDING (-1)
#define ANY (-2)

/* What each verb needs and does.  One row per verb: the state it needs,
 * the state it makes (-1: the same), whether it decides the pending
 * command (which it needs and clears), and what it adds to joined. */
static const struct {
	int need;
	int to;
	int decides;
	int joins;
} transitions[] = {
	[PX_REG_PAUSE] = { PX_REG_RUNNING, PX_REG_PAUSED, 0, 0 },
	[PX_REG_RESUME] = { PX_REG_PAUSED, PX_REG_RUNNING, 0, 0 },
	[PX_REG_KILL] = { ANY_BUT_ENDING, PX_REG_ENDING, 0, 0 },
	[PX_REG_APPROVE] = { ANY_BUT_ENDING, -1, 1, 0 },
	[PX_REG_DENY] = { ANY_BUT_ENDING, -1, 1, 0 },
	[PX_REG_JOIN] = { ANY_BUT_ENDING, -1, 0, 1 },
	[PX_REG_LEAVE] = { ANY, -1, 0, -1 },
};

/* Whether a session in s may take a verb whose row needs `need`. */
static int
allowed(int need, const struct px_reg_session *s)
{
	if (need == ANY)
		return 1;
	if (need == ANY_BUT_ENDING)
		return s->state != PX_REG_ENDING;
	return (int)s->state == need;
}

/* A moderated session waits while no escort is joined, unless an escort
 * paused it (their pause shows); it runs once one is.  Under mu. */
static void
settle(struct px_reg_session *s)
{
	if (!s->moderated)
		return;
	if (s->joined == 0 && s->state == PX_REG_RUNNING)
		s->state = PX_REG_WAITING;
	else if (s->joined > 0 && s->state == PX_REG_WAITING)
		s->state = PX_REG_RUNNING;
}

int
px__reg_post_local(struct px_registry *r, const struct px_reg_action *a, struct px_reg_session *now)
{
	struct px_reg_entry **pp, *e;
	int rc = PX_OK;

	if ((unsigned)a->verb >= sizeof(transitions) / sizeof(transitions[0]))
		return PX_EINVAL;
	pthread_mutex_lock(&r->mu);
	if ((pp = find(r, a->id)) == NULL) {
		pthread_mutex_unlock(&r->mu);
		return PX_EPOLICY;
	}
	e = *pp;
	if (!allowed(transitions[a->verb].need, &e->s) ||
	    (transitions[a->verb].decides && e->s.pending[0] == '\0')) {
		rc = PX_EINVAL;
	} else if (transitions[a->verb].decides) {
		e->s.pending[0] = '\0';
		snprintf(e->s.decided, sizeof(e->s.decided), "%s by %s",
		    a->verb == PX_REG_APPROVE ? "approved" : "denied", a->escort);
		note_escort(&e->s, a->escort);
		e->owner.post(e->owner.ud, a);
	} else if (transitions[a->verb].joins != 0) {
		e->s.joined += transitions[a->verb].joins;
		if (e->s.joined < 0)
			e->s.joined = 0;
		note_escort(&e->s, a->escort);
		e->owner.post(e->owner.ud, a);
	} else {
		e->s.state = (enum px_reg_state)transitions[a->verb].to;
		if (a->verb == PX_REG_PAUSE)
			snprintf(e->s.paused_by, sizeof(e->s.paused_by), "%s", a->escort);
		else
			e->s.paused_by[0] = '\0';
		note_escort(&e->s, a->escort);
		e->owner.post(e->owner.ud, a);
	}
	settle(&e->s);
	if (now != NULL)
		*now = e->s;
	pthread_mutex_unlock(&r->mu);
	changed(r);
	return rc;
}

int
px__reg_post(struct px_registry *r, const struct px_reg_action *a, struct px_reg_session *now)
{
	int rc = px__reg_post_local(r, a, now);

	if (rc == PX_EPOLICY && r->remote != NULL)
		rc = r->remote->post(r->remote_ud, a, now);
	return rc;
}

int
px__reg_set_moderated(struct px_registry *r, const char *id, int moderated)
{
	struct px_reg_entry **pp;
	int rc = PX_EPOLICY;

	pthread_mutex_lock(&r->mu);
	if ((pp = find(r, id)) != NULL) {
		struct px_reg_session *s = &(*pp)->s;
		s->moderated = moderated != 0;
		if (!s->moderated && s->state == PX_REG_WAITING)
			s->state = PX_REG_RUNNING;
		settle(s);
		rc = PX_OK;
	}
	pthread_mutex_unlock(&r->mu);
	if (rc == PX_OK)
		changed(r);
	return rc;
}

int
px__reg_set_pending(struct px_registry *r, const char *id, const char *cmd)
{
	struct px_reg_entry **pp;
	int rc = PX_EPOLICY;

	pthread_mutex_lock(&r->mu);
	if ((pp = find(r, id)) != NULL && (*pp)->s.pending[0] != '\0') {
		rc = PX_EINVAL;
	} else if (pp != NULL) {
		snprintf((*pp)->s.pending, sizeof((*pp)->s.pending), "%s", cmd);
		(*pp)->s.decided[0] = '\0';
		rc = PX_OK;
	}
	pthread_mutex_unlock(&r->mu);
	if (rc == PX_OK)
		changed(r);
	return rc;
}

int
px__reg_take_pending(struct px_registry *r, const char *id)
{
	struct px_reg_entry **pp;
	int was = 0;

	pthread_mutex_lock(&r->mu);
	if ((pp = find(r, id)) != NULL && (*pp)->s.pending[0] != '\0') {
		(*pp)->s.pending[0] = '\0';
		(*pp)->s.decided[0] = '\0';
		was = 1;
	}
	pthread_mutex_unlock(&r->mu);
	if (was)
		changed(r);
	return was;
}

int
px__reg_follow(struct px_registry *r, const struct px_reg_session *s, const char *watcher,
    struct px_watch **w, void **h)
{
	*w = NULL;
	*h = NULL;
	if (r->remote == NULL || r->remote->follow == NULL || !px__reg_watcher_ok(watcher, strlen(watcher)))
		return PX_EINVAL;
	return r->remote->follow(r->remote_ud, s, watcher, w, h);
}

int
px__reg_follow_get(struct px_registry *r, void *h, struct px_reg_session *out)
{
	return r->remote != NULL ? r->remote->follow_get(h, out) : PX_EPOLICY;
}

void
px__reg_follow_close(struct px_registry *r, void *h)
{
	if (r->remote != NULL && h != NULL)
		r->remote->follow_close(h);
}

int
px__reg_watcher_id(char out[PX_REG_WATCHER_MAX])
{
	unsigned char rnd[(PX_REG_WATCHER_MAX - 1) / 2];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return PX_EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(out + 2 * i, PX_REG_WATCHER_MAX - 2 * i, "%02x", rnd[i]);
	return PX_OK;
}

int
px__reg_watcher_ok(const char *s, size_t len)
{
	if (len == 0 || len >= PX_REG_WATCHER_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
