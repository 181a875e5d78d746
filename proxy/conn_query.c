/* conn_query: the questions the channel code asks a connection (conn.h). */
#include <stdio.h>
#include <time.h>

#include "policy/policy.h"
#include "proxy/conn_int.h"
#include "proxy/daemon.h"
#include "proxy/reclink.h"
#include "proxy/worker.h"

const char *
px__conn_id(const struct px_conn *c)
{
	return c->id;
}

const char *
px__conn_user(const struct px_conn *c)
{
	return c->user;
}

const char *
px__conn_target(const struct px_conn *c)
{
	return c->target;
}

const struct pol_session *
px__conn_session(const struct px_conn *c)
{
	return c->ps;
}

const struct policy *
px__conn_policy(const struct px_conn *c)
{
	return c->pol;
}

const struct px_config *
px__conn_cfg(const struct px_conn *c)
{
	return px__daemon_config(c->w->d);
}

enum px_conn_state
px__conn_current_state(const struct px_conn *c)
{
	return c->state;
}

ssh_session
px__conn_ssh(const struct px_conn *c, int tech)
{
	return tech ? c->tech : c->up.s;
}

struct px_sshpoll *
px__conn_poll(struct px_conn *c, int tech)
{
	return tech ? &c->tech_poll : &c->up.poll;
}

int
px__conn_up_ready(const struct px_conn *c)
{
	return c->up.st == UP_READY;
}

int
px__conn_records(const struct px_conn *c)
{
	return c->rec != NULL;
}

int
px__conn_rec_ready(const struct px_conn *c)
{
	return c->rec != NULL && c->rec_ready;
}

int
px__conn_rec_stalled(const struct px_conn *c)
{
	return c->rec_stalled;
}

int
px__conn_rec_can_take(const struct px_conn *c, size_t n)
{
	return px__reclink_can_take(c->rec, n);
}

int
px__conn_pulling(const struct px_conn *c)
{
	return c->pulling;
}

void
px__conn_set_pulling(struct px_conn *c, int on)
{
	c->pulling = on;
}

uint32_t
px__conn_new_chan_id(struct px_conn *c)
{
	return ++c->next_chan_id;
}

uint64_t *
px__conn_file_ids(struct px_conn *c)
{
	return &c->next_file_id;
}

uv_loop_t *
px__conn_loop(struct px_conn *c)
{
	return &c->w->loop;
}

int
px__conn_ending(const struct px_conn *c)
{
	return c->end_requested;
}

int
px__conn_env_decide(const struct px_conn *c, const char *name, const char *value, char *why, size_t whylen)
{
	struct pol_session *tmp = NULL;
	int rc;

	if (c->ps != NULL)
		return pol_session_env(c->ps, name, value, why, whylen);
	if (!c->auth_ok || c->user == NULL || c->target == NULL || c->pol == NULL ||
	    policy_admit(c->pol, c->user, c->target, time(NULL), &tmp, NULL) != 0) {
		snprintf(why, whylen, "no session on a target");
		return POL_E_REFUSED;
	}
	rc = pol_session_env(tmp, name, value, why, whylen);
	pol_session_free(tmp);
	return rc;
}
