/* escort_cmd: sessions, pause, resume, kill, approve, deny for escorts (escort_cmd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/daemon.h"
#include "proxy/escort_cmd.h"
#include "proxy/join.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/watch.h"
#include "proxy/worker.h"

/* Longest listing sent: within any client's first channel window, so it is
 * written at once. */
#define ESC_LIST_MAX (48 * 1024)

static struct px_registry *
registry(struct px_conn *c)
{
	return px__conn_registry(c);
}

/* 1 when the connecting user is an escort somewhere; else answers and 0. */
static int
gate(struct px_conn *c, struct px_chan *ch, const char *cmd)
{
	char msg[512];

	if (policy_names_escort(px__conn_policy(c), px__conn_user(c)))
		return 1;
	snprintf(msg, sizeof(msg), "escort: %s: refused: %s is not an escort (no rule names %s in "
	    "\"escort\" or \"supervised-by\")\n", cmd, px__conn_user(c), px__conn_user(c));
	px_log(PX_LOG_INFO, px__conn_id(c), "%s refused \"%s\": not an escort", px__conn_user(c), cmd);
	px__chan_local(ch, msg, 0, 1);
	return 0;
}

/* Whether the escort may supervise session s now; why (when not) in msg. */
static int
may_supervise(struct px_conn *c, const struct px_reg_session *s, char *msg, size_t msglen)
{
	const char *me = px__conn_user(c);

	if (strcmp(s->user, me) == 0) {
		snprintf(msg, msglen, "session %s is your own; nobody may supervise their own session", s->id);
		return 0;
	}
	if (!policy_may_escort(px__conn_policy(c), me, s->user, s->target, time(NULL))) {
		snprintf(msg, msglen, "you may not supervise session %s: no rule lets %s supervise %s on %s",
		    s->id, me, s->user, s->target);
		return 0;
	}
	return 1;
}

/* Appends s to b as a JSON string. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
iso_time(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
print_json(FILE *f, const struct px_reg_session *s, time_t now)
{
	char start[32];

	iso_time(s->start, start, sizeof(start));
	fputs("{\"id\":", f);
	json_str(f, s->id);
	fputs(",\"user\":", f);
	json_str(f, s->user);
	fputs(",\"target\":", f);
	json_str(f, s->target);
	fprintf(f, ",\"start\":\"%s\",\"duration\":%ld,\"state\":\"%s\",\"paused_by\":", start,
	    (long)(now - s->start), px__reg_state_name(s->state));
	if (s->paused_by[0] != '\0')
		json_str(f, s->paused_by);
	else
		fputs("null", f);
	fputs(",\"escorts\":[", f);
	for (int i = 0; i < s->nescorts; i++) {
		if (i)
			fputc(',', f);
		json_str(f, s->escorts[i]);
	}
	fprintf(f, "],\"joined\":%d,\"pending\":", s->joined);
	if (s->pending[0] != '\0')
		json_str(f, s->pending);
	else
		fputs("null", f);
	if (s->proxy[0] != '\0') {	/* a shared registry (registry_redis.h) */
		fputs(",\"proxy\":", f);
		json_str(f, s->proxy);
	}
	if (s->state == PX_REG_ENDED) {
		fputs(",\"ended\":", f);
		json_str(f, s->ended);
	}
	fputs("}\n", f);
}

static void
print_row(FILE *f, const struct px_reg_session *s, time_t now)
{
	char start[32], state[PX_REG_NAME_MAX + 16];
	long d = (long)(now - s->start);

	iso_time(s->start, start, sizeof(start));
	if (s->state == PX_REG_PAUSED && s->paused_by[0] != '\0')
		snprintf(state, sizeof(state), "paused(%s)", s->paused_by);
	else
		snprintf(state, sizeof(state), "%s", px__reg_state_name(s->state));
	fprintf(f, "%-24s %-12s %-16s %-20s %3ld:%02ld:%02ld %6d  %s%s%s%s%s%s%s\n", s->id, s->user,
	    s->target, start, d / 3600, d / 60 % 60, d % 60, s->joined, state,
	    s->pending[0] ? "  pending: " : "", s->pending,
	    s->state == PX_REG_ENDED ? ": " : "", s->state == PX_REG_ENDED ? s->ended : "",
	    s->proxy[0] ? "  on proxy " : "", s->proxy);
}

void
px__escort_sessions(struct px_conn *c, struct px_chan *ch, char **argv)
{
	struct px_reg_session *v = NULL;
	int json = argv[1] != NULL && strcmp(argv[1], "--json") == 0;
	time_t now = time(NULL);
	char *text = NULL, why[512];
	size_t len = 0;
	long n, shown = 0, cut = 0;
	FILE *f;

	if (argv[1] != NULL && !json) {
		px__chan_local(ch, "escort: usage: sessions [--json]\n", 0, 2);
		return;
	}
	if (!gate(c, ch, "sessions"))
		return;
	if ((n = px__reg_list(registry(c), &v)) < 0 || (f = open_memstream(&text, &len)) == NULL) {
		free(v);
		px__chan_local(ch, "escort: cannot list the sessions (out of memory)\n", 0, 1);
		return;
	}
	if (!json)
		fprintf(f, "%-24s %-12s %-16s %-20s %9s %6s  %s\n", "ID", "USER", "TARGET", "STARTED",
		    "DURATION", "JOINED", "STATE");
	for (long i = 0; i < n; i++) {
		if (!may_supervise(c, &v[i], why, sizeof(why)))
			continue;
		fflush(f);
		if (len > ESC_LIST_MAX) {
			cut++;
			continue;
		}
		if (json)
			print_json(f, &v[i], now);
		else
			print_row(f, &v[i], now);
		shown++;
	}
	if (cut > 0)
		fprintf(f, "escort: %ld more session%s not shown (the list is limited to %d KiB)\n", cut,
		    cut == 1 ? "" : "s", ESC_LIST_MAX / 1024);
	fclose(f);
	free(v);
	px_log(PX_LOG_INFO, px__conn_id(c), "escort %s listed %ld session%s", px__conn_user(c), shown,
	    shown == 1 ? "" : "s");
	if (shown == 0 && !json)
		px__chan_local(ch, "escort: no live session that you may supervise\n", 1, 0);
	else
		px__chan_local(ch, text != NULL ? text : "", 1, 0);
	free(text);
}

/* px__escort_act and px__escort_act_watcher (escort_cmd.h). */
static int
act(struct px_conn *c, const char *id, enum px_reg_verb verb, const char *reason, const char *watcher,
    char *msg, size_t msglen)
{
	const char *cmd = px__reg_verb_name(verb);
	struct px_reg_session s;
	struct px_reg_action a;
	char why[512], pending[PX_REG_PENDING_MAX];
	int rc;

	if ((rc = px__reg_get(registry(c), id, &s)) == PX_ETIMEDOUT) {
		snprintf(msg, msglen, "escort: %s: the shared registry does not answer; try again\n", cmd);
		return 1;
	}
	if (rc != PX_OK) {
		char shown[101];
		snprintf(shown, sizeof(shown), "%s", id);
		px__log_scrub(shown, 0);	/* the client's word goes back to its terminal */
		snprintf(msg, msglen, "escort: %s: no such session: %s\n", cmd, shown);
		return 1;
	}
	if (!may_supervise(c, &s, why, sizeof(why))) {
		snprintf(msg, msglen, "escort: %s: refused: %s\n", cmd, why);
		px_log(PX_LOG_INFO, px__conn_id(c), "escort %s: %s of %s refused: %s", px__conn_user(c), cmd,
		    s.id, why);
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.verb = verb;
	snprintf(a.id, sizeof(a.id), "%s", s.id);
	snprintf(a.escort, sizeof(a.escort), "%s", px__conn_user(c));
	if (reason != NULL)
		snprintf(a.reason, sizeof(a.reason), "%s", reason);
	if (watcher != NULL)
		snprintf(a.watcher, sizeof(a.watcher), "%s", watcher);
	/* shown on the technician's terminal: no control characters */
	for (char *p = a.reason; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(pending, sizeof(pending), "%s", s.pending);
	rc = px__reg_post(registry(c), &a, &s);
	if (rc == PX_EPOLICY) {
		snprintf(msg, msglen, "escort: %s: no such session: %s (it ended)\n", cmd, a.id);
		return 1;
	}
	if (rc == PX_ETIMEDOUT) {
		snprintf(msg, msglen, "escort: %s: proxy %s, which runs session %s, did not answer; nothing "
		    "known to be done\n", cmd, s.proxy, a.id);
		return 1;
	}
	if (rc != PX_OK && s.state == PX_REG_ENDED) {
		snprintf(msg, msglen, "escort: %s: session %s ended: %s\n", cmd, a.id, s.ended);
		return 1;
	}
	if (rc != PX_OK && (verb == PX_REG_APPROVE || verb == PX_REG_DENY) && s.state != PX_REG_ENDING &&
	    s.decided[0] != '\0') {
		snprintf(msg, msglen, "escort: %s: nothing pending in session %s: its last command was "
		    "already %s\n", cmd, a.id, s.decided);
		return 1;
	}
	if (rc != PX_OK && (verb == PX_REG_APPROVE || verb == PX_REG_DENY) && s.state != PX_REG_ENDING) {
		snprintf(msg, msglen, "escort: %s: nothing pending in session %s (no command waits for "
		    "approval, or another decision came first)\n", cmd, a.id);
		return 1;
	}
	if (rc != PX_OK) {
		snprintf(msg, msglen, "escort: %s: session %s is %s%s%s; nothing done\n", cmd, a.id,
		    px__reg_state_name(s.state), s.paused_by[0] ? " by " : "", s.paused_by);
		return 1;
	}
	px_log(PX_LOG_INFO, px__conn_id(c), "escort %s: %s of session %s (%s on %s) handed to it",
	    a.escort, cmd, a.id, s.user, s.target);
	switch (verb) {
	case PX_REG_PAUSE:
		snprintf(msg, msglen, "escort: session %s paused: %s's input is dropped until you resume it\n",
		    a.id, s.user);
		break;
	case PX_REG_RESUME:
		snprintf(msg, msglen, "escort: session %s resumed\n", a.id);
		break;
	case PX_REG_APPROVE:
		snprintf(msg, msglen, "escort: approved in session %s: %.300s\n", a.id, pending);
		break;
	case PX_REG_DENY:
		snprintf(msg, msglen, "escort: denied in session %s: %.300s\n", a.id, pending);
		break;
	case PX_REG_JOIN:
		snprintf(msg, msglen, "escort: joined session %s of %s on %s\n", a.id, s.user, s.target);
		break;
	case PX_REG_LEAVE:
		snprintf(msg, msglen, "escort: left session %s\n", a.id);
		break;
	default:
		snprintf(msg, msglen, "escort: session %s is being ended\n", a.id);
		break;
	}
	return 0;
}

int
px__escort_act(struct px_conn *c, const char *id, enum px_reg_verb verb, const char *reason, char *msg,
    size_t msglen)
{
	return act(c, id, verb, reason, NULL, msg, msglen);
}

int
px__escort_act_watcher(struct px_conn *c, const char *id, enum px_reg_verb verb, const char *watcher,
    char *msg, size_t msglen)
{
	return act(c, id, verb, NULL, watcher, msg, msglen);
}

/* pause, resume, kill, approve, deny: checks, then posts the action to the
 * session (px__escort_act), and answers. */
static void
post(struct px_conn *c, struct px_chan *ch, char **argv, enum px_reg_verb verb)
{
	char msg[768];
	int status;

	if (!gate(c, ch, px__reg_verb_name(verb)))
		return;
	status = px__escort_act(c, argv[1], verb, argv[2], msg, sizeof(msg));
	px__chan_local(ch, msg, status == 0, status);
}

void
px__escort_pause(struct px_conn *c, struct px_chan *ch, char **argv)
{
	post(c, ch, argv, PX_REG_PAUSE);
}

void
px__escort_resume(struct px_conn *c, struct px_chan *ch, char **argv)
{
	post(c, ch, argv, PX_REG_RESUME);
}

void
px__escort_kill(struct px_conn *c, struct px_chan *ch, char **argv)
{
	post(c, ch, argv, PX_REG_KILL);
}

void
px__escort_approve(struct px_conn *c, struct px_chan *ch, char **argv)
{
	post(c, ch, argv, PX_REG_APPROVE);
}

void
px__escort_deny(struct px_conn *c, struct px_chan *ch, char **argv)
{
	post(c, ch, argv, PX_REG_DENY);
}

/* The escort's terminal size from the channel's pty request; 0 without one. */
static int
pty_size(const struct px_chan *ch, int *rows, int *cols)
{
	for (const struct px_req *r = ch->rq; r != NULL; r = r->next)
		if (r->kind == REQ_PTY) {
			*rows = r->rows;
			*cols = r->cols;
			return 1;
		}
	return 0;
}

/* join of session s, which runs on another proxy: the join goes to that
 * proxy (recorded there, as every action) naming a new remote watcher,
 * which that proxy streams the session to once it accepted the join, and
 * the view follows the session through the shared registry
 * (px__reg_follow) as that watcher. */
static void
join_remote(struct px_conn *c, struct px_chan *ch, const struct px_reg_session *s, int rows, int cols)
{
	char msg[768], watcher[PX_REG_WATCHER_MAX];
	struct px_watch *w;
	void *follow;

	if (px__reg_watcher_id(watcher) != PX_OK) {
		px__chan_local(ch, "escort: join: no random bytes for the remote watcher's id\n", 0, 1);
		return;
	}
	if (px__escort_act_watcher(c, s->id, PX_REG_JOIN, watcher, msg, sizeof(msg)) != 0) {
		px__chan_local(ch, msg, 0, 1);
		return;
	}
	if (px__reg_follow(registry(c), s, watcher, &w, &follow) != PX_OK) {
		(void)px__escort_act_watcher(c, s->id, PX_REG_LEAVE, watcher, msg, sizeof(msg));
		px__chan_local(ch, "escort: join: cannot follow a session on another proxy (out of memory)\n",
		    0, 1);
		return;
	}
	/* the references are the join's from here, also on failure */
	if (px__join_start(ch, s, w, follow, watcher, rows, cols) != PX_OK) {
		(void)px__escort_act_watcher(c, s->id, PX_REG_LEAVE, watcher, msg, sizeof(msg));
		px__chan_local(ch, "escort: join: out of memory\n", 0, 1);
	}
}

void
px__escort_join(struct px_conn *c, struct px_chan *ch, char **argv)
{
	struct px_reg_session s;
	struct px_watch *w;
	char msg[768], why[512];
	int rows = 24, cols = 80;

	if (!gate(c, ch, "join"))
		return;
	if (!ch->pty || !pty_size(ch, &rows, &cols)) {
		px__chan_local(ch, "escort: join: needs a terminal: connect with ssh -t (join shows the "
		    "technician's screen and takes single keys)\n", 0, 2);
		return;
	}
	if (px__reg_get(registry(c), argv[1], &s) != PX_OK) {
		snprintf(msg, sizeof(msg), "escort: join: no such session: %.100s\n", argv[1]);
		px__log_scrub(msg, 1);	/* the client's word goes back to its terminal */
		px__chan_local(ch, msg, 0, 1);
		return;
	}
	if (!may_supervise(c, &s, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "escort: join: refused: %s\n", why);
		px_log(PX_LOG_INFO, px__conn_id(c), "escort %s: join of %s refused: %s", px__conn_user(c),
		    s.id, why);
		px__chan_local(ch, msg, 0, 1);
		return;
	}
	if (s.proxy[0] != '\0' && strcmp(s.proxy, registry(c)->self) != 0) {
		join_remote(c, ch, &s, rows, cols);
		return;
	}
	if ((w = px__watch_find(px__conn_watches(c), s.id)) == NULL) {
		snprintf(msg, sizeof(msg), "escort: join: session %s cannot be watched (it is ending, or "
		    "the proxy had no memory for its screen)\n", s.id);
		px__chan_local(ch, msg, 0, 1);
		return;
	}
	if (px__escort_act(c, s.id, PX_REG_JOIN, NULL, msg, sizeof(msg)) != 0) {
		px__watch_unref(w);
		px__chan_local(ch, msg, 0, 1);
		return;
	}
	/* the watch's reference is the join's from here, also on failure */
	if (px__join_start(ch, &s, w, NULL, NULL, rows, cols) != PX_OK) {
		(void)px__escort_act(c, s.id, PX_REG_LEAVE, NULL, msg, sizeof(msg));
		px__chan_local(ch, "escort: join: out of memory\n", 0, 1);
	}
}
