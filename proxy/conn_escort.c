/* conn_escort: a technician session's side of escorts.
 *
 * The session is in the proxy's registry (registry.h) while it relays or,
 * moderated, waits for an escort: it is added when the connection enters
 * RELAY or WAIT_ESCORT and removed when it starts closing or answers
 * locally (px__conn_escort_track, called by the state setter), so an escort
 * can only act on a session that can still take the action.  Joins and
 * leaves also drive a moderated session's wait and absence pause
 * (conn_moderate.c).
 * A session that some rule lets escorts supervise also has a watch for as
 * long (watch.h): the screen model and watchers of escorts who joined,
 * fed by chan.c with what the technician's terminal gets.
 *
 * Actions arrive on the session's own loop (worker.c drains its queue) and
 * are applied here, record first: the ESCORT event (ESC_ACTION, ESCORT and,
 * for kill and deny, REASON) is handed to the recorder before the action takes
 * effect; when it cannot be, the session ends as for any event that cannot
 * be recorded, and the action is not applied.  Each action is logged. */
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "recorder/ev_end.h"
#include "recorder/event.h"
#include "proxy/chan.h"
#include "proxy/conn_int.h"
#include "proxy/daemon.h"
#include "proxy/exec_approve.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/strict.h"
#include "proxy/watch.h"
#include "proxy/worker.h"

int
px__conn_paused(const struct px_conn *c)
{
	return c->paused != 0;
}

struct px_registry *
px__conn_registry(struct px_conn *c)
{
	return &c->w->d->reg;
}

size_t
px__conn_drop_paused(struct px_conn *c, size_t len)
{
	c->paused_dropped += len;
	return len;
}

void
px__conn_escort_track(struct px_conn *c, enum px_conn_state to)
{
	if ((to == CONN_RELAY || to == CONN_WAIT_ESCORT) && !c->registered && c->ps != NULL) {
		struct px_registry *reg = &c->w->d->reg;
		struct px_reg_session s;
		struct px_reg_owner o = { px__worker_post, c->w };

		memset(&s, 0, sizeof(s));
		snprintf(s.id, sizeof(s.id), "%s", c->id);
		snprintf(s.user, sizeof(s.user), "%s", c->user);
		snprintf(s.target, sizeof(s.target), "%s", c->ps->target->name);
		s.start = c->started;
		s.state = to == CONN_WAIT_ESCORT ? PX_REG_WAITING : PX_REG_RUNNING;
		s.moderated = c->ps->escort_required;
		if (px__reg_add(reg, &s, &o) == PX_OK)
			c->registered = 1;
		else
			px_log(PX_LOG_WARN, c->id, "session not listed for escorts (out of memory or id in use)");
		/* sized by the pty request and window changes (chan.c) */
		if (c->registered && pol_session_supervised(c->ps) &&
		    (c->watch = px__watch_open(&c->w->d->watches, c->id, 24, 80)) == NULL)
			px_log(PX_LOG_WARN, c->id, "escorts cannot join this session (out of memory)");
	} else if ((to == CONN_CLOSING || to == CONN_DEAD || to == CONN_LOCAL) && c->registered) {
		px__watch_close(&c->w->d->watches, c->watch);
		c->watch = NULL;
		px__reg_remove(&c->w->d->reg, c->id);
		c->registered = 0;
	}
	px__conn_moderate_track(c, to);
}

struct px_watch *
px__conn_watch(struct px_conn *c)
{
	return c->watch;
}

struct px_watches *
px__conn_watches(struct px_conn *c)
{
	return &c->w->d->watches;
}

/* Whether the technician's typing on ch is dropped while paused (a shell,
 * or a pty), rather than held (chan.c, t_data and px__chan_room). */
static int
interactive(const struct px_chan *ch)
{
	return ch->pty || ch->kind == KIND_SHELL;
}

/* Tells the technician on every channel that relays, or waits for an
 * escort and was told so (stderr): line_tty on interactive channels,
 * line_other (NULL: the same) on the others. */
static void
notify(struct px_conn *c, const char *line_tty, const char *line_other)
{
	for (struct px_chan *ch = c->chans; ch != NULL; ch = ch->next)
		if (ch->st == CH_RELAY || (ch->st == CH_WAIT && ch->wait_told))
			px__chan_notice(ch, interactive(ch) || line_other == NULL ? line_tty : line_other);
}

void
px__conn_notify(struct px_conn *c, const char *line_tty, const char *line_other)
{
	notify(c, line_tty, line_other);
}

static void
act_pause(struct px_conn *c, const struct px_reg_action *a)
{
	char tty[300], other[300];

	c->paused |= PX_PAUSE_ESCORT;
	snprintf(tty, sizeof(tty), "escort: session paused by %s; your input is ignored", a->escort);
	snprintf(other, sizeof(other), "escort: session paused by %s; your input is held until it resumes",
	    a->escort);
	notify(c, tty, other);
}

/* Records how many bytes of typing the pause dropped (what was typed is
 * not kept; that something was, is).  Returns px__conn_record_fields'. */
static int
report_dropped(struct px_conn *c)
{
	char text[160];
	int rc;

	if (c->paused_dropped == 0)
		return PX_OK;
	snprintf(text, sizeof(text), "%llu bytes typed while the session was paused were dropped",
	    (unsigned long long)c->paused_dropped);
	px_log(PX_LOG_INFO, c->id, "%s", text);
	rc = px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT, text, 0);
	c->paused_dropped = 0;
	return rc;
}

int
px__conn_report_dropped(struct px_conn *c)
{
	return report_dropped(c);
}

/* An escort's resume ends their pause; in a moderated session without an
 * escort present the absence pause goes on (conn_moderate.c). */
static void
act_resume(struct px_conn *c, const struct px_reg_action *a)
{
	char line[300];

	c->paused &= ~PX_PAUSE_ESCORT;
	if (c->paused != 0) {
		snprintf(line, sizeof(line), "escort: session resumed by %s; your input stays ignored "
		    "until an escort joins", a->escort);
		notify(c, line, NULL);
		return;
	}
	if (report_dropped(c) != PX_OK)
		return;
	snprintf(line, sizeof(line), "escort: session resumed by %s; your input goes through again",
	    a->escort);
	notify(c, line, NULL);
}

static void
act_kill(struct px_conn *c, const struct px_reg_action *a)
{
	char why[400], msg[420];

	if (a->reason[0] != '\0')
		snprintf(why, sizeof(why), "session ended by escort %s: %s", a->escort, a->reason);
	else
		snprintf(why, sizeof(why), "session ended by escort %s", a->escort);
	snprintf(msg, sizeof(msg), "\r\nescort: %s\r\n", why);
	(void)report_dropped(c); /* a failure ends the session as well */
	px__conn_end_as(c, EV_END_ESCORT_KILL, why, msg);
}

/* approve, deny: the pending command is held by one channel, a strict
 * shell's (strict_approve.c) or an exec's (exec_approve.h), which records
 * its DECISION and runs or refuses it. */
static void
act_decide(struct px_conn *c, const struct px_reg_action *a)
{
	for (struct px_chan *ch = c->chans; ch != NULL; ch = ch->next) {
		if (ch->strict != NULL && px__strict_escort_decide(ch, a->verb == PX_REG_APPROVE, a->escort,
		    a->reason) == PX_OK)
			return;
		if (ch->appr != NULL && px__exec_escort_decide(ch, a->verb == PX_REG_APPROVE, a->escort,
		    a->reason) == PX_OK)
			return;
	}
	px_log(PX_LOG_WARN, c->id, "escort %s: %s found no command waiting for approval", a->escort,
	    px__reg_verb_name(a->verb));
}

/* join, leave: the technician is told who watches.  Kept apart, as the
 * points where joining and leaving change the session itself. */
static void
act_join(struct px_conn *c, const struct px_reg_action *a)
{
	char line[300];

	snprintf(line, sizeof(line), "escort: %s joined and watches your session", a->escort);
	notify(c, line, NULL);
	px__conn_moderate_joined(c, 1, a->escort);
}

static void
act_leave(struct px_conn *c, const struct px_reg_action *a)
{
	char line[300];

	snprintf(line, sizeof(line), "escort: %s left and no longer watches your session", a->escort);
	notify(c, line, NULL);
	px__conn_moderate_joined(c, -1, a->escort);
}

/* One row per verb (registry.h). */
static void (*const actions[])(struct px_conn *, const struct px_reg_action *) = {
	[PX_REG_PAUSE] = act_pause,
	[PX_REG_RESUME] = act_resume,
	[PX_REG_KILL] = act_kill,
	[PX_REG_APPROVE] = act_decide,
	[PX_REG_DENY] = act_decide,
	[PX_REG_JOIN] = act_join,
	[PX_REG_LEAVE] = act_leave,
};

void
px__conn_escort_apply(struct px_conn *c, const struct px_reg_action *a)
{
	const char *verb = px__reg_verb_name(a->verb);

	if ((unsigned)a->verb >= sizeof(actions) / sizeof(actions[0]))
		return;
	/* a moderated session takes actions while it waits for its first
	 * escort and while its upstream starts after the join */
	if ((c->state != CONN_RELAY && c->state != CONN_WAIT_ESCORT && c->state != CONN_PREPARE) ||
	    !c->registered || c->end_requested) {
		px_log(PX_LOG_INFO, c->id, "escort %s: %s dropped: the session is ending", a->escort, verb);
		return;
	}
	if (px__conn_record_fields(c, EV_ESCORT, 0, EVF_ESC_ACTION, verb, EVF_ESCORT, a->escort,
	    EVF_REASON, a->reason[0] != '\0' ? a->reason : NULL, 0) != PX_OK)
		return; /* not recorded: the session ends, the action is not applied */
	px_log(PX_LOG_INFO, c->id, "escort %s: %s of %s's session on %s%s%s", a->escort, verb, c->user,
	    c->target, a->reason[0] != '\0' ? ": " : "", a->reason);
	actions[a->verb](c, a);
	px__conn_step(c);
}
