/* conn_moderate: moderated sessions (a rule's `escort`, escort-policy(5)):
 * the session waits for an escort before it reaches the target, and its
 * technician is paused while no escort is present.
 *
 *   PREPARE -> WAIT_ESCORT   the recorder is ready and the upstream was not
 *       started: a MARKER says the session waits and for whom, the registry
 *       lists it as waiting, EscortWaitTimeout runs, the technician's typing
 *       on interactive channels is dropped (PX_PAUSE_ABSENT), and each
 *       channel, once its shell or exec request arrived, tells the
 *       technician (stderr) that it waits and for whom
 *       (px__conn_wait_notice).
 *   WAIT_ESCORT -> PREPARE   the first escort's join (applied and recorded
 *       by conn_escort.c first): the timer stops, the dropped bytes are
 *       counted in a MARKER, the upstream starts, and PREPARE goes on to
 *       RELAY as for any session.
 *   EscortWaitTimeout        the session ends, END kind policy, REASON
 *       "no escort joined within N s (EscortWaitTimeout)", told to the
 *       technician.
 *   in RELAY, no escort joined (the last one left, or the only one left
 *       before RELAY): PX_PAUSE_ABSENT drops the technician's typing as an
 *       escort's pause does, a MARKER and a notice say so, and
 *       EscortLeaveTimeout runs; a join clears it (an escort's own pause,
 *       PX_PAUSE_ESCORT, stays until their resume); the timeout ends the
 *       session, END kind policy, REASON "no escort was present for N s
 *       (EscortLeaveTimeout)".
 *
 *   a policy reload (px__conn_moderate_policy): a session that no longer
 *       needs an escort stops waiting (or its absence pause ends); a
 *       relaying one that now needs one is paused while none is joined.
 *
 * Everything runs on the session's loop.  The count of escorts present is
 * the session's own (c->joined: the joins and leaves it applied, never
 * below 0), so it agrees with the registry's, which takes them in the same
 * order. */
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "recorder/ev_end.h"
#include "recorder/event.h"
#include "proxy/chan.h"
#include "proxy/config.h"
#include "proxy/conn_int.h"
#include "proxy/daemon.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/upstream.h"
#include "proxy/worker.h"

static int
moderated(const struct px_conn *c)
{
	return c->ps != NULL && c->ps->escort_required;
}

static int
wait_secs(const struct px_conn *c)
{
	return px__daemon_config(c->w->d)->escort_wait_timeout;
}

static int
leave_secs(const struct px_conn *c)
{
	return px__daemon_config(c->w->d)->escort_leave_timeout;
}

/* Who may end the wait, as the policy names them. */
static const char *
who(const struct px_conn *c, char *out, size_t outsz)
{
	pol_session_escort_text(c->ps, out, outsz);
	if (out[0] == '\0')
		snprintf(out, outsz, "an escort");
	return out;
}

static void
wait_expired(uv_timer_t *t)
{
	struct px_conn *c = t->data;
	char why[160], msg[200];

	snprintf(why, sizeof(why), "no escort joined within %d s (EscortWaitTimeout)", c->escort_secs);
	snprintf(msg, sizeof(msg), "\r\nescort: no escort joined within %d s; session ended\r\n",
	    c->escort_secs);
	px_log(PX_LOG_INFO, c->id, "%s", why);
	(void)px__conn_report_dropped(c); /* a failure ends the session as well */
	px__conn_end_as(c, EV_END_POLICY, why, msg);
}

static void
leave_expired(uv_timer_t *t)
{
	struct px_conn *c = t->data;
	char why[160], msg[200];

	snprintf(why, sizeof(why), "no escort was present for %d s (EscortLeaveTimeout)", c->escort_secs);
	snprintf(msg, sizeof(msg), "\r\nescort: no escort was present for %d s; session ended\r\n",
	    c->escort_secs);
	px_log(PX_LOG_INFO, c->id, "%s", why);
	(void)px__conn_report_dropped(c); /* a failure ends the session as well */
	px__conn_end_as(c, EV_END_POLICY, why, msg);
}

/* Entering WAIT_ESCORT: recorded, timed. */
static void
wait_begin(struct px_conn *c)
{
	char names[512], text[700];

	snprintf(text, sizeof(text), "waiting for an escort to join: %s (EscortWaitTimeout %d s)",
	    who(c, names, sizeof(names)), wait_secs(c));
	px_log(PX_LOG_INFO, c->id, "moderated session of %s on %s: %s", c->user, c->target, text);
	if (px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT, text, 0) != PX_OK)
		return; /* the session ends */
	c->paused |= PX_PAUSE_ABSENT;	/* typing before an escort is present is dropped */
	c->escort_secs = wait_secs(c);
	uv_timer_start(&c->escort_timer, wait_expired, (uint64_t)c->escort_secs * 1000, 0);
}

/* In RELAY: pauses the technician when no escort is present, lets them go
 * on when one is again. */
static void
presence(struct px_conn *c, const char *escort)
{
	char text[300];

	if (!moderated(c) || c->state != CONN_RELAY || c->end_requested)
		return;
	if (c->joined == 0 && !(c->paused & PX_PAUSE_ABSENT)) {
		c->paused |= PX_PAUSE_ABSENT;
		snprintf(text, sizeof(text), "no escort is present: the technician's input is paused; the "
		    "session ends in %d s unless one joins (EscortLeaveTimeout)", leave_secs(c));
		px_log(PX_LOG_INFO, c->id, "%s", text);
		if (px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT, text, 0) != PX_OK)
			return;
		snprintf(text, sizeof(text), "escort: no escort is present; your input is ignored until one "
		    "joins (the session ends in %d s)", leave_secs(c));
		px__conn_notify(c, text, NULL);
		c->escort_secs = leave_secs(c);
		uv_timer_start(&c->escort_timer, leave_expired, (uint64_t)c->escort_secs * 1000, 0);
	} else if (c->joined > 0 && (c->paused & PX_PAUSE_ABSENT)) {
		c->paused &= ~PX_PAUSE_ABSENT;
		uv_timer_stop(&c->escort_timer);
		snprintf(text, sizeof(text), "escort %s is present again: the absence pause ends", escort);
		px_log(PX_LOG_INFO, c->id, "%s", text);
		if (px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT, text, 0) != PX_OK)
			return;
		if (c->paused == 0) {
			if (px__conn_report_dropped(c) != PX_OK)
				return;
			snprintf(text, sizeof(text), "escort: %s is present; your input goes through again", escort);
		} else {
			snprintf(text, sizeof(text), "escort: %s is present; the session stays paused until "
			    "an escort resumes it", escort);
		}
		px__conn_notify(c, text, NULL);
	}
}

void
px__conn_moderate_track(struct px_conn *c, enum px_conn_state to)
{
	if (!moderated(c))
		return;
	if (to == CONN_WAIT_ESCORT)
		wait_begin(c);
	else if (to == CONN_PREPARE || to >= CONN_CLOSING || to == CONN_LOCAL)
		uv_timer_stop(&c->escort_timer);
	else if (to == CONN_RELAY)
		presence(c, "");
}

/* Ends the wait: the technician is told line, the typing dropped so far is
 * counted, and the upstream starts (PREPARE goes on to RELAY, or to LOCAL
 * when it fails). */
static void
wait_end(struct px_conn *c, const char *line, const char *why)
{
	c->paused &= ~PX_PAUSE_ABSENT;
	if (px__conn_report_dropped(c) != PX_OK)
		return;
	px__conn_notify(c, line, NULL);
	if (px__conn_set_state(c, CONN_PREPARE, why) != PX_OK)
		return;
	if (px__up_start(c, c->ps->target) != PX_OK && c->up.st != UP_FAILED) {
		c->up.st = UP_FAILED;
		snprintf(c->up.err, sizeof(c->up.err), "escort: cannot start the connection to %s\n",
		    c->target);
	}
}

void
px__conn_moderate_joined(struct px_conn *c, int delta, const char *escort)
{
	c->joined += delta;
	if (c->joined < 0)
		c->joined = 0;
	if (!moderated(c))
		return;
	if (c->state == CONN_WAIT_ESCORT && c->joined > 0) {
		char line[300];

		snprintf(line, sizeof(line), "escort: %s joined; connecting to %s", escort, c->target);
		wait_end(c, line, "an escort joined");
		return;
	}
	presence(c, escort);
}

void
px__conn_moderate_policy(struct px_conn *c)
{
	char line[300];

	if (c->end_requested)
		return;
	if (c->registered)
		(void)px__reg_set_moderated(&c->w->d->reg, c->id, moderated(c));
	if (c->state == CONN_WAIT_ESCORT && !moderated(c)) {
		snprintf(line, sizeof(line), "escort: the policy no longer requires an escort; connecting "
		    "to %s", c->target);
		px_log(PX_LOG_INFO, c->id, "policy reload: no escort required any more; connecting");
		if (px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT,
		    "policy reload: no escort required any more; the wait ends", 0) != PX_OK)
			return;
		uv_timer_stop(&c->escort_timer);
		wait_end(c, line, "no escort required any more");
	} else if (c->state == CONN_RELAY && moderated(c)) {
		presence(c, "");
	} else if (c->state == CONN_RELAY && (c->paused & PX_PAUSE_ABSENT)) {
		c->paused &= ~PX_PAUSE_ABSENT;
		uv_timer_stop(&c->escort_timer);
		if (px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT,
		    "policy reload: no escort required any more; the absence pause ends", 0) != PX_OK)
			return;
		if (c->paused != 0)
			return;
		if (px__conn_report_dropped(c) != PX_OK)
			return;
		px__conn_notify(c, "escort: the policy no longer requires an escort; your input goes "
		    "through again", NULL);
	}
}

void
px__conn_wait_notice(struct px_conn *c, struct px_chan *ch)
{
	char names[512], line[800];

	if (c->state != CONN_WAIT_ESCORT)
		return;
	snprintf(line, sizeof(line), "escort: waiting for an escort to join: %s; the session connects "
	    "to %s when one does, and ends if none has within %d s", who(c, names, sizeof(names)),
	    c->target, c->escort_secs);
	px__chan_notice(ch, line);
}
