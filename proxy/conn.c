/* conn: technician connection state machine (see conn.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "common/buf.h"
#include "common/clock.h"
#include "recorder/ev_end.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/chan_fwd.h"
#include "proxy/xfer_chan.h"
#include "proxy/conn_int.h"
#include "proxy/daemon.h"
#include "proxy/escort_cmd.h"
#include "proxy/keepalive.h"
#include "proxy/log.h"
#include "proxy/ppwait.h"
#include "proxy/px_error.h"
#include "proxy/reclink.h"
#include "proxy/worker.h"

static void teardown(struct px_conn *c);

static uint64_t
now_ns(void)
{
	return clock_mono_ns();
}

/* ---- recording ------------------------------------------------------------- */

int
px__conn_record(struct px_conn *c, uint16_t type, uint32_t chan, const void *p, size_t n)
{
	if (c->rec == NULL || !c->rec_ready)
		return PX_ERECORDER;
	return px__reclink_event(c->rec, type, chan, p, n);
}

int
px__conn_record_or_end(struct px_conn *c, uint16_t type, uint32_t chan, const void *p, size_t n,
    int built)
{
	int rc = built == REC_OK ? px__conn_record(c, type, chan, p, n) : PX_EINVAL;

	if (rc != PX_OK && !c->end_requested) {
		char why[160];

		px_log(PX_LOG_ERR, c->id, "an event of type %u could not be recorded (%s); ending session",
		    (unsigned)type, built == REC_OK ? px__strerror(rc) : "it could not be built");
		snprintf(why, sizeof(why), "an event of type %s could not be recorded (%s)", ev_type_name(type),
		    built == REC_OK ? px__strerror(rc) : "it could not be built");
		px__conn_set_end(c, EV_END_RECORD_FAILED, why);
		px__conn_end(c, "\r\nescort: an event could not be recorded; session ended\r\n");
	}
	return rc;
}

int
px__conn_record_fields(struct px_conn *c, uint16_t type, uint32_t chan, ...)
{
	struct buf b;
	va_list ap;
	int tag, rc, built = REC_OK;

	buf_init(&b, EV_PAYLOAD_MAX);
	va_start(ap, chan);
	while ((tag = va_arg(ap, int)) != 0) {
		const char *v = va_arg(ap, const char *);
		if (v != NULL && built == REC_OK)
			built = ev_fields_put_str(&b, (uint16_t)tag, v);
	}
	va_end(ap);
	rc = px__conn_record_or_end(c, type, chan, buf_ptr(&b), buf_len(&b), built);
	buf_free(&b);
	return rc;
}

static void
record_marker(struct px_conn *c, const char *text)
{
	(void)px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT, text, 0);
}

/* ---- recorder link callbacks ----------------------------------------------- */

static void
rec_ready(void *ud, const char *id)
{
	struct px_conn *c = ud;

	px_log(PX_LOG_INFO, c->id, "recording as session %s", id);
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->rec_ready = 1;
	px__conn_step(c);
}

static void
rec_writable(void *ud)
{
	struct px_conn *c = ud;

	if (c->rec_stalled) {
		px_log(PX_LOG_INFO, c->id, "recorder back; forwarding resumes");
		c->rec_stalled = 0;
		uv_timer_stop(&c->rec_timer);
	}
	px__conn_step(c);
}

static void
rec_timeout(uv_timer_t *t)
{
	struct px_conn *c = t->data;
	char msg[160];

	snprintf(msg, sizeof(msg), "\r\nescort: the recorder did not come back within %d s; session ended\r\n",
	    px__daemon_config(c->w->d)->recorder_timeout);
	px_log(PX_LOG_WARN, c->id, "recorder not back in time; ending session");
	/* the END saying so waits as long again for the recorder */
	px__reclink_linger(c->rec, (unsigned)px__daemon_config(c->w->d)->recorder_timeout * 1000);
	px__conn_end_as(c, EV_END_RECORDER_LOST, NULL, msg);
}

static void
rec_stalled(void *ud, const char *why)
{
	struct px_conn *c = ud;

	if (!c->rec_stalled) {
		px_log(PX_LOG_WARN, c->id, "recorder connection lost (%s); forwarding paused", why);
		c->rec_stalled = 1;
		uv_timer_start(&c->rec_timer, rec_timeout,
		    (uint64_t)px__daemon_config(c->w->d)->recorder_timeout * 1000, 0);
	}
}

static void
rec_fail(void *ud, const char *why)
{
	struct px_conn *c = ud;
	char msg[400];

	px_log(PX_LOG_WARN, c->id, "recorder: %s", why);
	px__conn_set_end(c, EV_END_RECORDER_LOST, why); /* for the log: no END can be written */
	c->rec_closed = 1;
	c->rec_ready = 0;
	if (c->state == CONN_PREPARE) {
		snprintf(c->refusal, sizeof(c->refusal),
		    "escort: the session recorder is unavailable (%s); sessions are not allowed without recording\n", why);
		c->refusal_status = 1;
		px__conn_set_state(c, CONN_LOCAL, "recorder unavailable");
		px__conn_step(c);
	} else {
		snprintf(msg, sizeof(msg), "\r\nescort: recording failed (%s); session ended\r\n", why);
		px__conn_end(c, msg);
	}
}

static void
rec_closed(void *ud, int ok)
{
	struct px_conn *c = ud;

	if (!ok)
		px_log(PX_LOG_WARN, c->id, "final record not acknowledged");
	c->rec_closed = 1;
	px__conn_step(c);
}

static const struct px_reclink_cbs rec_cbs = {
	rec_ready, rec_writable, rec_stalled, rec_fail, rec_closed
};

/* ---- server callbacks ------------------------------------------------------ */

int
px__key_fingerprint(ssh_key key, char *out, size_t outsz)
{
	unsigned char *h = NULL;
	size_t hl = 0;
	char *fp;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &h, &hl) != 0)
		return -1;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, h, hl);
	ssh_clean_pubkey_hash(&h);
	if (fp == NULL)
		return -1;
	snprintf(out, outsz, "%s", fp);
	ssh_string_free_char(fp);
	return 0;
}

static ssh_channel
open_session(ssh_session s, void *ud)
{
	struct px_conn *c = ud;
	struct px_chan *ch, **pp;
	ssh_channel tc;

	if (!c->auth_ok || c->state >= CONN_CLOSING)
		return NULL;
	if ((tc = ssh_channel_new(s)) == NULL)
		return NULL;
	if ((ch = px__chan_new(c, tc)) == NULL) {
		ssh_channel_free(tc);
		return NULL;
	}
	for (pp = &c->chans; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = ch;
	return tc;
}

/* Everything libssh does not handle through the callbacks above, once
 * authenticated (conn_auth.c): forwarding requests, agent and X11 requests,
 * other channel types.  All refused, but a local forward (direct-tcpip) of a
 * session whose setting is `forward local` (chan_fwd.h). */
int
px__conn_other_message(ssh_session s, ssh_message m, void *ud)
{
	struct px_conn *c = ud;
	int type = ssh_message_type(m), sub = ssh_message_subtype(m);
	const char *what = NULL;
	char text[256];

	(void)s;
	if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_DIRECT_TCPIP && px__chan_fwd_allowed(c)) {
		struct px_chan *ch = px__chan_fwd_accept(c, m), **pp;

		if (ch != NULL) {	/* `forward local`: relayed (chan_fwd.h) */
			for (pp = &c->chans; *pp != NULL; pp = &(*pp)->next)
				;
			*pp = ch;
			return 0;
		}
	}
	if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_DIRECT_TCPIP)
		what = "port forwarding (direct-tcpip)";
	else if (type == SSH_REQUEST_GLOBAL && sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD)
		what = "remote port forwarding (tcpip-forward)";
	else if (type == SSH_REQUEST_CHANNEL && sub == SSH_CHANNEL_REQUEST_X11)
		what = "X11 forwarding";
	else if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_FORWARDED_TCPIP)
		what = "forwarded-tcpip channel";
	else if (type == SSH_REQUEST_CHANNEL && sub == SSH_CHANNEL_REQUEST_UNKNOWN)
		what = "channel request";
	if (what != NULL) {
		px_log(PX_LOG_INFO, c->id, "refused %s", what);
		snprintf(text, sizeof(text), "refused %s", what);
		if (c->rec_ready)
			record_marker(c, text);
	}
	return 1; /* default reply: failure */
}

/* ---- admission ---------------------------------------------------------------- */

static void
list_targets(struct px_conn *c)
{
	const struct pol_target **v = NULL;
	long n = policy_targets_for(c->pol, c->user, time(NULL), &v);
	size_t off = 0;
	char *out = c->refusal;
	size_t cap = sizeof(c->refusal);

	if (n < 0) {
		snprintf(out, cap, "escort: cannot list targets\n");
		c->refusal_status = 1;
		return;
	}
	if (n == 0)
		off += (size_t)snprintf(out + off, cap - off, "escort: no targets are open to %s now\n", c->user);
	for (long i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s\n", v[i]->name);
	free(v);
	c->refusal_status = 0;
	px_log(PX_LOG_INFO, c->id, "%s listed %ld targets", c->user, n);
}

/* ---- commands without a target (ssh USER@proxy COMMAND) ------------------------ */

#define PX_RULES_TEXT_MAX (64 * 1024)

/* `targets` (or no command): the targets open to the user, prepared at
 * admission in c->refusal. */
static void
local_targets(struct px_conn *c, struct px_chan *ch, char **argv)
{
	(void)argv;
	px__chan_local(ch, c->refusal, c->refusal_status == 0, c->refusal_status);
}

/* `rules TARGET`: what the user may run there (policy_rules_for), on
 * stdout; exit 0 when admitted, 1 when not. */
static void
local_rules(struct px_conn *c, struct px_chan *ch, char **argv)
{
	const char *target = argv[1];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = POL_E_NOMEM;

	if (f != NULL) {
		rc = policy_rules_for(c->pol, c->user, target, time(NULL), 0, f);
		fclose(f);
	}
	if (f == NULL || text == NULL || rc == POL_E_NOMEM || rc == POL_E_IO) {
		px__chan_local(ch, "escort: cannot list the rules\n", 0, 1);
		free(text);
		return;
	}
	px__log_scrub(text, 1);	/* it quotes the user and target as the client sent them */
	px_log(PX_LOG_INFO, c->id, "%s listed the rules for %s (%s)", c->user, target,
	    rc == 0 ? "admitted" : pol_strerror(rc));
	if (len > PX_RULES_TEXT_MAX) {
		/* within any client's first channel window: written at once */
		char *cut = text + PX_RULES_TEXT_MAX - 128;
		while (cut > text && cut[-1] != '\n')
			cut--;
		snprintf(cut, 128, "escort: the list is longer than %d KiB and was cut here; "
		    "an administrator can print it all with escort-policy rules\n",
		    PX_RULES_TEXT_MAX / 1024);
	}
	px__chan_local(ch, text, 1, rc == 0 ? 0 : 1);
	free(text);
}

/* Commands without a target: name, arguments (least, most), handler.  The
 * last argument of a command taking two is the rest of the line (kill's
 * and deny's REASON).  The escorts' commands are in escort_cmd.c. */
static const struct {
	const char *name;
	int min, max;
	void (*fn)(struct px_conn *c, struct px_chan *ch, char **argv);
	const char *usage;
} local_commands[] = {
	{ "targets", 0, 0, local_targets, "targets" },
	{ "rules", 1, 1, local_rules, "rules TARGET" },
	{ "sessions", 0, 1, px__escort_sessions, "sessions [--json]" },
	{ "pause", 1, 1, px__escort_pause, "pause ID" },
	{ "resume", 1, 1, px__escort_resume, "resume ID" },
	{ "kill", 1, 2, px__escort_kill, "kill ID [REASON]" },
	{ "join", 1, 1, px__escort_join, "join ID" },
	{ "approve", 1, 1, px__escort_approve, "approve ID" },
	{ "deny", 1, 2, px__escort_deny, "deny ID [REASON]" },
};

void
px__conn_answer_local(struct px_conn *c, struct px_chan *ch, const struct px_req *m)
{
	char cmd[512], *argv[4] = { NULL }, *p;
	int n = 0;

	if (c->target != NULL || m->kind != REQ_EXEC || m->a == NULL) {
		/* a refusal, or a shell without a target: the targets */
		px__chan_local(ch, c->refusal, c->refusal_status == 0, c->refusal_status);
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s", m->a);
	/* two words, then the rest of the line without its outer blanks */
	for (p = cmd; n < 3 && *p != '\0'; n++) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		argv[n] = p;
		if (n < 2)
			p += strcspn(p, " \t");
		else
			for (char *e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
				e[-1] = '\0';
		if (n < 2 && *p != '\0')
			*p++ = '\0';
		else if (n == 2)
			p += strlen(p);
	}
	if (n == 0) {
		local_targets(c, ch, argv);
		return;
	}
	for (size_t i = 0; i < sizeof(local_commands) / sizeof(local_commands[0]); i++) {
		if (strcmp(argv[0], local_commands[i].name) != 0)
			continue;
		if (n - 1 >= local_commands[i].min && n - 1 <= local_commands[i].max) {
			local_commands[i].fn(c, ch, argv);
		} else {
			/* a known command with too few or too many words */
			char msg[256];

			snprintf(msg, sizeof(msg), "escort: %s: %s; usage: %s\n", local_commands[i].name,
			    n - 1 < local_commands[i].min ? "missing argument" : "too many arguments",
			    local_commands[i].usage);
			px__chan_local(ch, msg, 0, 2);
		}
		return;
	}
	{
		char msg[sizeof(c->refusal) + 384], cmd[61];
		snprintf(cmd, sizeof(cmd), "%s", m->a);
		px__log_scrub(cmd, 0);	/* the client's words go back to its terminal */
		snprintf(msg, sizeof(msg), "escort: unknown command \"%s\"; without a target the "
		    "proxy answers: targets, rules TARGET; and for escorts: sessions [--json], join ID, "
		    "pause ID, resume ID, kill ID [REASON], approve ID, deny ID [REASON]\n%s", cmd, c->refusal);
		px__chan_local(ch, msg, 0, 2);
	}
}

/* The META payload of the session: who, where, from where, under which
 * policy.  Returns PX_OK, or PX_ENOMEM when a field could not be added (the
 * session is then refused: it would be recorded without it). */
static int
build_meta(struct px_conn *c, struct buf *b)
{
	const struct pol_session *ps = c->ps;
	char host[256], addr[300];
	int r;

	r = ev_fields_put_str(b, EVF_USER, c->user);
	for (size_t i = 0; r == REC_OK && i < ps->user->nattrs; i++) {
		char kv[1024];
		snprintf(kv, sizeof(kv), "%s=%s", ps->user->attrs[i].key, ps->user->attrs[i].value);
		r = ev_fields_put_str(b, EVF_ATTR, kv);
	}
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_TARGET, ps->target->name);
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_LOGIN, ps->target->login ? ps->target->login : "");
	snprintf(addr, sizeof(addr), "%s:%d", c->peer, c->peer_port);
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_CLIENT_ADDR, addr);
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_CLIENT_KEY, c->keyfp);
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_POLICY_HASH, policy_hash(c->pol));
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "escort-proxy");
	host[sizeof(host) - 1] = '\0';
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_PROXY_ID, host);
	snprintf(addr, sizeof(addr), "%s:%u", ps->target->host, (unsigned)ps->target->port);
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_TARGET_ADDR, addr);
	if (r == REC_OK)
		r = ev_fields_put_u64(b, EVF_WALL_NS, clock_wall_ns());
	return r == REC_OK && buf_len(b) > 0 ? PX_OK : PX_ENOMEM;
}

static void
max_session(uv_timer_t *t)
{
	struct px_conn *c = t->data;

	px_log(PX_LOG_INFO, c->id, "max-session reached");
	px__conn_set_end(c, EV_END_POLICY, "the policy's maximum session time was reached");
	px__conn_end(c, "\r\nescort: maximum session time reached; session ended\r\n");
}

static void
admit(struct px_conn *c)
{
	struct pol_refusal why;
	struct buf meta;
	int rc;

	px__throttle_done(&c->w->d->thr, c->peer, 1);
	c->throttled_done = 1;
	uv_timer_stop(&c->timer);
	if (c->target == NULL) {
		list_targets(c);
		px__conn_set_state(c, CONN_LOCAL, "no target: listing");
		return;
	}
	memset(&why, 0, sizeof(why));
	rc = policy_admit(c->pol, c->user, c->target, time(NULL), &c->ps, &why);
	if (rc != 0) {
		snprintf(c->refusal, sizeof(c->refusal), "escort: access to %s refused: %s\n", c->target,
		    why.user_msg[0] ? why.user_msg : pol_strerror(rc));
		px__log_scrub(c->refusal, 1);	/* the target (and user) as the client sent them */
		c->refusal_status = rc == POL_E_NOMEM ? 1 : PX_EXIT_DENIED;
		px__conn_set_state(c, CONN_LOCAL, "admission refused");
		px_log(PX_LOG_INFO, c->id, "%s from %s to %s refused: %s", c->user, c->peer, c->target,
		    why.log_msg[0] ? why.log_msg : pol_strerror(rc));
		return;
	}
	px_log(PX_LOG_INFO, c->id, "%s (key %s) from %s admitted to %s by %s", c->user, c->keyfp, c->peer,
	    c->target, c->ps->rule_names ? c->ps->rule_names : "?");
	buf_init(&meta, 1 << 20);
	if (build_meta(c, &meta) != PX_OK ||
	    px__reclink_open(&c->w->loop, px__daemon_config(c->w->d), buf_ptr(&meta), buf_len(&meta), &rec_cbs, c,
	    &c->rec) != PX_OK) {
		buf_free(&meta);
		snprintf(c->refusal, sizeof(c->refusal),
		    "escort: the session recorder is unavailable; sessions are not allowed without recording\n");
		c->refusal_status = 1;
		px__conn_set_state(c, CONN_LOCAL, "recorder link not opened");
		return;
	}
	buf_free(&meta);
	px__conn_set_state(c, CONN_PREPARE, "admitted");
	/* a moderated session starts its upstream when an escort joins */
	if (!c->ps->escort_required && px__up_start(c, c->ps->target) != PX_OK && c->up.st != UP_FAILED) {
		c->up.st = UP_FAILED;
		snprintf(c->up.err, sizeof(c->up.err), "escort: cannot start the connection to %s\n", c->target);
	}
	if (c->ps->max_session > 0)
		uv_timer_start(&c->timer, max_session, (uint64_t)c->ps->max_session * 1000, 0);
}

/* ---- stepping ---------------------------------------------------------------- */

/* The technician's message as a REASON: without "escort: " and line ends. */
static void
end_why_from_msg(char *out, size_t outsz, const char *msg)
{
	size_t n = 0;

	while (*msg == '\r' || *msg == '\n')
		msg++;
	if (strncmp(msg, "escort: ", 8) == 0)
		msg += 8;
	for (; *msg != '\0' && *msg != '\r' && *msg != '\n' && n + 1 < outsz; msg++)
		out[n++] = *msg;
	out[n] = '\0';
}

void
px__conn_set_end(struct px_conn *c, int kind, const char *why)
{
	if (c->end_kind_set || kind < 0 || kind >= EV_END_KIND_COUNT)
		return;
	c->end_kind_set = 1;
	c->end_kind = kind;
	snprintf(c->end_why, sizeof(c->end_why), "%s", why != NULL ? why : ev_end_kind_text(kind));
	px_log(PX_LOG_DEBUG, c->id, "end: %s (%s)", ev_end_kind_name(kind), c->end_why);
}

void
px__conn_end_as(struct px_conn *c, int kind, const char *why, const char *msg)
{
	char text[256];

	if (why == NULL && msg != NULL) {
		end_why_from_msg(text, sizeof(text), msg);
		why = text;
	}
	px__conn_set_end(c, kind, why);
	px__conn_end(c, msg);
}

void
px__conn_end(struct px_conn *c, const char *reason)
{
	if (c->end_requested)
		return;
	if (!c->end_kind_set && reason != NULL) {
		char why[256];
		end_why_from_msg(why, sizeof(why), reason);
		px__conn_set_end(c, EV_END_PROXY_ERROR, why);
	}
	c->end_requested = 1;
	free(c->end_reason);
	c->end_reason = reason ? strdup(reason) : NULL;
	px__conn_step(c);
}

void
px__conn_shutdown(struct px_conn *c, const char *reason)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "\r\nescort: %s\r\n", reason);
	px__conn_end_as(c, EV_END_PROXY_SHUTDOWN, reason, msg);
}

void
px__conn_abandon(struct px_conn *c, int hard)
{
	if (c->state == CONN_DEAD || c->in_step)
		return;
	if (hard) {
		teardown(c);
		return;
	}
	c->abandoned = 1;
	c->end_requested = 1;
	px__conn_step(c);
}

void
px__conn_reload(struct px_conn *c)
{
	unsigned gen;
	struct policy *np = px__daemon_policy(c->w->d, &gen);
	const char *forbid;

	if (c->state < CONN_PREPARE || c->user == NULL || c->target == NULL || c->ps == NULL) {
		/* Not yet admitted: keep the policy authentication used. */
		policy_unref(np);
		return;
	}
	forbid = policy_forbidden(np, c->user, c->target);
	if (forbid != NULL) {
		char msg[300];
		px_log(PX_LOG_INFO, c->id, "policy reload: forbid %s matches; ending session", forbid);
		if (c->rec_ready)
			record_marker(c, "policy reload: a forbid block matches this session");
		snprintf(msg, sizeof(msg), "\r\nescort: policy changed (forbid %s); session ended\r\n", forbid);
		policy_unref(np);
		px__conn_end_as(c, EV_END_POLICY, NULL, msg);
		return;
	}
	{
		struct pol_session *ns = NULL;
		struct pol_refusal why;
		if (policy_admit(np, c->user, c->target, time(NULL), &ns, &why) == 0) {
			pol_session_free(c->ps);
			c->ps = ns;
			policy_unref(c->pol);
			c->pol = np;
			c->pol_generation = gen;
			px_log(PX_LOG_INFO, c->id, "policy reloaded for this session");
			px__conn_moderate_policy(c);
			return;
		}
		px_log(PX_LOG_INFO, c->id, "policy reload: session no longer admitted: %s", why.log_msg);
		policy_unref(np);
		px__conn_set_end(c, EV_END_POLICY, "policy changed; this session is no longer allowed");
		px__conn_end(c, "\r\nescort: policy changed; this session is no longer allowed\r\n");
	}
}

/* The technician's side went: a normal end when every channel it opened
 * was closed by it (nothing was cut), else the client was lost. */
static void
note_client_end(struct px_conn *c)
{
	int open = 0;

	if (c->end_kind_set)
		return;
	for (struct px_chan *ch = c->chans; ch != NULL; ch = ch->next)
		open += px__chan_open_by_tech(ch);
	if (open > 0) {
		char why[128];
		snprintf(why, sizeof(why), "the technician disconnected with %d channel%s open", open,
		    open == 1 ? "" : "s");
		px__conn_set_end(c, EV_END_CLIENT_LOST, why);
	} else {
		px__conn_set_end(c, EV_END_NORMAL, NULL);
	}
}

/* Writes END with the cause (normal when none was set) and asks for the
 * final signed record. */
static void
close_recording(struct px_conn *c)
{
	struct buf b;

	if (!c->end_kind_set)
		px__conn_set_end(c, EV_END_NORMAL, NULL);
	px_log(PX_LOG_INFO, c->id, "session ends: %s (%s)", ev_end_kind_name((enum ev_end_kind)c->end_kind),
	    c->end_why);
	buf_init(&b, 4096);
	if (ev_end_payload(&b, (enum ev_end_kind)c->end_kind, c->end_why, "proxy") == REC_OK)
		px__reclink_close_with(c->rec, buf_ptr(&b), buf_len(&b));
	else
		px__reclink_close(c->rec);
	buf_free(&b);
}

static int
tech_gone(struct px_conn *c)
{
	return c->tech == NULL || !ssh_is_connected(c->tech) ||
	    (ssh_get_status(c->tech) & (SSH_CLOSED | SSH_CLOSED_ERROR));
}

void
px__conn_step(struct px_conn *c)
{
	struct px_chan **pp;
	char why[256];
	int gone;

	if (c->in_step || c->state == CONN_DEAD)
		return;
	c->in_step = 1;
	gone = c->abandoned || tech_gone(c);
	if (gone && c->rec != NULL)
		note_client_end(c);
	if (c->state == CONN_AUTH && !gone) {
		if (c->auth_failures >= px__daemon_config(c->w->d)->max_auth_tries) {
			px_log(PX_LOG_INFO, c->id, "too many authentication failures from %s", c->peer);
			c->end_requested = 1;
		} else if (c->auth_ok) {
			admit(c);
		}
	}
	if (c->state == CONN_PREPARE) {
		if (c->up.st == UP_FAILED) {
			snprintf(c->refusal, sizeof(c->refusal), "%s", c->up.err);
			c->refusal_status = 1;
			if (c->rec_ready)
				record_marker(c, c->up.err);
			end_why_from_msg(why, sizeof(why), c->up.err);
			px__conn_set_end(c, EV_END_TARGET_LOST, why);
			px__conn_set_state(c, CONN_LOCAL, "upstream failed");
		} else if (c->rec_ready && c->up.st == UP_IDLE && c->ps->escort_required) {
			px__conn_set_state(c, CONN_WAIT_ESCORT, "moderated: waiting for an escort");
		} else if (c->rec_ready && c->up.st == UP_READY) {
			px__conn_set_state(c, CONN_RELAY, "recorder and upstream ready");
			px__sshpoll_steady(&c->tech_poll);
			px__sshpoll_steady(&c->up.poll);
			px__keepalive_start(c);
		}
	}
	px__conn_auth_settle(c);	/* the banner and the held USERAUTH_SUCCESS */
	if (c->state == CONN_RELAY && (c->up.st == UP_CLOSED || c->up.st == UP_FAILED) && !c->end_requested) {
		int busy = 0;
		for (struct px_chan *ch = c->chans; ch != NULL; ch = ch->next)
			/* Bytes still to deliver, or the target's close still to relay
			 * (exit status).  A channel the target never closed (it was
			 * killed) gets nothing more: it must not hold the session. */
			busy |= px__chan_busy(ch);
		if (!busy) {
			px_log(PX_LOG_INFO, c->id, "target connection closed");
			px__conn_set_end(c, EV_END_TARGET_LOST, NULL);
			c->end_requested = 1;
			if (c->chans != NULL)
				c->end_reason = strdup("escort: connection to the target lost\r\n");
		}
	}
	if (c->end_requested && c->state < CONN_CLOSING) {
		for (struct px_chan *ch = c->chans; ch != NULL; ch = ch->next)
			px__chan_abort(ch, c->end_reason);
		px__conn_set_state(c, CONN_CLOSING, "ending");
	}
	for (pp = &c->chans; *pp != NULL;) {
		struct px_chan *ch = *pp;
		if (gone && ch->st != CH_DONE) {
			px__xfer_finish(ch); /* transfers cut short are recorded as such */
			px__chan_set_state(ch, CH_DONE, "client gone");
		} else
			px__chan_step(ch);
		if (ch->st == CH_DONE) {
			*pp = ch->next;
			px__chan_free(ch);
		} else {
			pp = &ch->next;
		}
	}
	if (gone && c->state < CONN_CLOSING) {
		px_log(PX_LOG_DEBUG, c->id, "client disconnected");
		px__conn_set_state(c, CONN_CLOSING, "client disconnected");
	}
	if (c->state == CONN_CLOSING)
		px_log(PX_LOG_DEBUG, c->id, "closing: chans %d gone %d rec_ready %d rec_closed %d",
		    c->chans != NULL, gone, c->rec_ready, c->rec_closed);
	if (c->state == CONN_CLOSING && (c->chans == NULL || gone)) {
		if (c->rec != NULL && c->rec_ready && !c->rec_closed) {
			c->rec_ready = 0;
			close_recording(c);
		} else if (c->rec == NULL || c->rec_closed) {
			teardown(c);
			return;
		}
	}
	if (c->tech_poll.init)
		px__sshpoll_update(&c->tech_poll);
	if (c->up.poll.init && c->up.s != NULL)
		px__sshpoll_update(&c->up.poll);
	c->in_step = 0;
}

/* ---- readiness ------------------------------------------------------------------ */

static void
tech_ready(struct px_sshpoll *p, int status, int events)
{
	struct px_conn *c = p->ud;
	int rc;

	(void)events;
	if (c->state == CONN_DEAD)
		return;
	if (status < 0) {
		/* Socket error (e.g. the client was killed mid-output).  Not
		 * ssh_disconnect(): it frees the session's channels, which
		 * px__conn_step still frees itself; teardown disconnects. */
		c->abandoned = 1;
		px__conn_step(c);
		return;
	}
	if (c->state == CONN_KEX && !c->pp_checked) {
		/* Before libssh reads them: a PROXY header from a peer not
		 * listed in ProxyProtocol is refused, never honoured. */
		int forged = px__ppwait_forged(c->tech_poll.fd);

		c->pp_checked = forged >= 0;
		if (forged == 1) {
			px_log(PX_LOG_INFO, c->id, "%s:%d sent a PROXY protocol header but is not listed "
			    "in ProxyProtocol; connection refused", c->peer, c->peer_port);
			teardown(c);
			return;
		}
	}
	if (c->state == CONN_KEX) {
		rc = ssh_handle_key_exchange(c->tech);
		if (rc == SSH_AGAIN) {
			px__sshpoll_update(p);
			return;
		}
		if (rc != SSH_OK) {
			px_log(PX_LOG_INFO, c->id, "key exchange with %s failed: %s", c->peer, ssh_get_error(c->tech));
			teardown(c);
			return;
		}
		if ((c->tech_ev = ssh_event_new()) == NULL || ssh_event_add_session(c->tech_ev, c->tech) != SSH_OK) {
			teardown(c);
			return;
		}
		px__conn_set_state(c, CONN_AUTH, "key exchange done");
	}
	for (int i = 0; i < PX_PUMP_BUDGET; i++) {
		uint64_t before = c->tech_poll.sock.in_bytes;

		rc = ssh_event_dopoll(c->tech_ev, 0);
		if (rc != SSH_OK || c->state == CONN_DEAD || !px__sshpoll_more(&c->tech_poll, before))
			break;
	}
	if (c->state == CONN_AUTH || c->auth_held != NULL)
		px__conn_auth_pump(c);
	px__conn_step(c);
}

static void
grace_expired(uv_timer_t *t)
{
	struct px_conn *c = t->data;

	px_log(PX_LOG_INFO, c->id, "%s did not authenticate within LoginGraceTime", c->peer);
	teardown(c);
}

/* ---- lifetime --------------------------------------------------------------------- */

static void
handle_closed(uv_handle_t *h)
{
	struct px_conn *c = h->data;

	if (--c->handles_open == 0)
		px__worker_retire(c->w, c);
}

static void
up_poll_closed(uv_handle_t *h)
{
	handle_closed(h);
}

/* Starts closing every handle; the conn is retired when the last one closed. */
static void
teardown(struct px_conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	px__conn_set_state(c, CONN_DEAD, "teardown");
	if (!c->throttled_done) {
		px__throttle_done(&c->w->d->thr, c->peer, 0);
		c->throttled_done = 1;
	}
	if (c->rec != NULL)
		px_log(PX_LOG_INFO, c->id, "session ended%s", c->rec_closed ? "" : " (recording not closed)");
	else
		px_log(PX_LOG_DEBUG, c->id, "connection closed");
	px__worker_closing(c->w);
	if (c->tech_poll.init) {
		c->handles_open++;
		c->tech_poll.h.data = c;
		px__sshpoll_close(&c->tech_poll, handle_closed);
	}
	px__up_close(c, up_poll_closed);
	uv_timer_stop(&c->timer);
	uv_timer_stop(&c->rec_timer);
	uv_timer_stop(&c->escort_timer);
	c->handles_open += 4;
	uv_close((uv_handle_t *)&c->timer, handle_closed);
	uv_close((uv_handle_t *)&c->rec_timer, handle_closed);
	uv_close((uv_handle_t *)&c->escort_timer, handle_closed);
	px__keepalive_close(&c->ka, handle_closed);
	px__reclink_free(c->rec);
	c->rec = NULL;
}

void
px__conn_free(struct px_conn *c)
{
	struct px_chan *ch;

	while ((ch = c->chans) != NULL) {
		c->chans = ch->next;
		px__chan_free(ch);
	}
	px__up_free(&c->up);
	px__conn_auth_free(c);		/* before its session */
	if (c->tech_ev != NULL) {
		ssh_event_remove_session(c->tech_ev, c->tech);
		ssh_event_free(c->tech_ev);
	}
	if (c->tech != NULL) {
		ssh_disconnect(c->tech);
		ssh_free(c->tech);
	}
	pol_session_free(c->ps);
	policy_unref(c->pol);
	free(c->login_name);
	free(c->user);
	free(c->target);
	free(c->end_reason);
	free(c);
}

void
px__conn_accept(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t sl)
{
	struct px_daemon *d = w->d;
	const struct px_config *cfg = px__daemon_config(d);
	struct px_conn *c;
	char peer[64] = "?";
	int port = 0, rc, sfd = -1;

	(void)sl;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, peer, sizeof(peer));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, peer, sizeof(peer));
		port = ntohs(s6->sin6_port);
	}
	rc = px__throttle_admit(&d->thr, peer);
	if (rc != PX_OK) {
		px_log(PX_LOG_INFO, NULL, "connection from %s:%d dropped: %s", peer, port,
		    rc == PX_EFULL ? "MaxStartups reached" : "source penalised after repeated failures");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		px__throttle_done(&d->thr, peer, 1);
		close(fd);
		return;
	}
	c->w = w;
	px__up_init(&c->up);
	c->started = time(NULL);
	c->t0_ns = now_ns();
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->peer_port = port;
	snprintf(c->id, sizeof(c->id), "c%d.%lu", w->idx, px__worker_adopt(w, c));
	c->pol = px__daemon_policy(d, &c->pol_generation);
	c->state = CONN_KEX;
	uv_timer_init(&w->loop, &c->timer);
	uv_timer_init(&w->loop, &c->rec_timer);
	uv_timer_init(&w->loop, &c->escort_timer);
	px__keepalive_init(&c->ka, &w->loop, c);
	c->timer.data = c->rec_timer.data = c->escort_timer.data = c;
	c->tech = ssh_new();
	if (c->tech == NULL || px__sshpoll_init(&w->loop, &c->tech_poll, fd, tech_ready, c) != PX_OK) {
		px_log(PX_LOG_WARN, c->id, "cannot set up SSH for %s: out of memory", peer);
		close(fd);
		teardown(c);
		return;
	}
	/* libssh gets its own descriptor (see sshpoll.h). */
	if ((sfd = px__sshpoll_dup(fd)) < 0 || ssh_bind_accept_fd(w->bind, c->tech, sfd) != SSH_OK) {
		px_log(PX_LOG_WARN, c->id, "cannot set up SSH for %s: %s", peer,
		    sfd < 0 ? strerror(errno) : ssh_get_error(c->tech));
		teardown(c);
		return;
	}
	/* installed once authenticated; until then libssh queues the userauth
	 * messages for conn_auth.c */
	ssh_callbacks_init(&c->scb);
	c->scb.userdata = c;
	c->scb.channel_open_request_session_function = open_session;
	ssh_set_auth_methods(c->tech, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_set_counters(c->tech, &c->tech_poll.sock, &c->ka.tech.cnt);
	ssh_set_blocking(c->tech, 0);
	c->tech_poll.s = c->tech;
	uv_timer_start(&c->timer, grace_expired, (uint64_t)cfg->login_grace_time * 1000, 0);
	px_log(PX_LOG_DEBUG, c->id, "connection from %s:%d", peer, port);
	/* The first readiness sends the banner and starts the key exchange. */
	px__sshpoll_want(&c->tech_poll, UV_READABLE | UV_WRITABLE);
}
