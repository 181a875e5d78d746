/* chan: channel pairs, request replay and flow control. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/chan_fwd.h"
#include "proxy/chan_pwmask.h"
#include "proxy/xfer_chan.h"
#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/pwmask.h"
#include "proxy/observe_chan.h"
#include "proxy/px_error.h"
#include "proxy/reclink.h"
#include "proxy/sshpoll.h"
#include "proxy/strict.h"
#include "proxy/exec_approve.h"
#include "proxy/join.h"
#include "proxy/watch.h"

static void
req_free(struct px_req *r)
{
	if (r == NULL)
		return;
	free(r->a);
	free(r->sent);
	free(r->b);
	free(r->why);
	free(r);
}

static struct px_req *
req_push(struct px_chan *ch, enum px_req_kind kind, const char *a, const char *b)
{
	struct px_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->kind = kind;
	if ((a != NULL && (r->a = strdup(a)) == NULL) || (b != NULL && (r->b = strdup(b)) == NULL)) {
		req_free(r);
		return NULL;
	}
	*ch->rq_tail = r;
	ch->rq_tail = &r->next;
	return r;
}

static struct px_req *
req_pop(struct px_chan *ch)
{
	struct px_req *r = ch->rq;

	if (r != NULL) {
		ch->rq = r->next;
		if (ch->rq == NULL)
			ch->rq_tail = &ch->rq;
		r->next = NULL;
	}
	return r;
}

/* ---- lifecycle questions (states: chan_state.h) ------------------------------- */

/* The peer of that side sent CLOSE. */
static int
peer_closed(const struct px_chan *ch, int tech)
{
	return px_half_closed(ch->half[tech ? HALF_T_IN : HALF_U_IN]);
}

/* The proxy sent EOF or CLOSE to that side: no more data goes there. */
static int
out_ended(const struct px_chan *ch, int tech)
{
	return px_half_ended(ch->half[tech ? HALF_T_OUT : HALF_U_OUT]);
}

/* The proxy sent CLOSE to that side. */
static int
close_sent(const struct px_chan *ch, int tech)
{
	return ch->half[tech ? HALF_T_OUT : HALF_U_OUT] == HS_CLOSED;
}

/* Sends CLOSE on the target's channel (once). */
static void
close_target(struct px_chan *ch, const char *why)
{
	if (ch->uc == NULL || close_sent(ch, 0))
		return;
	ssh_channel_close(ch->uc);
	px__chan_set_half(ch, HALF_U_OUT, HS_CLOSED, why);
}

/* Sends EOF to the technician (once). */
static void
eof_tech(struct px_chan *ch, const char *why)
{
	if (out_ended(ch, 1))
		return;
	ssh_channel_send_eof(ch->tc);
	px__chan_set_half(ch, HALF_T_OUT, HS_EOF, why);
}

/* Bytes of stream k (0 target stdout, 1 target stderr, 2 technician input)
 * that pull() holds in its stash. */
static size_t
stashed(const struct px_chan *ch, int k)
{
	return ch->stash_len[k] - ch->stash_off[k];
}

/* ---- writes ---------------------------------------------------------------- */

/* Keeps n bytes (already recorded) that the receiving session did not take,
 * for flush_held().  Out of memory ends the session: relayed bytes are never
 * dropped silently. */
static void
hold(struct px_chan *ch, int to_tech, const uint8_t *data, size_t n, int is_stderr)
{
	uint8_t *p = realloc(ch->held[to_tech], ch->held_len[to_tech] + n);

	if (p == NULL) {
		px_log(PX_LOG_ERR, px__conn_id(ch->c), "out of memory holding relayed bytes; ending session");
		px__conn_end(ch->c, "escort: proxy out of memory\r\n");
		return;
	}
	memcpy(p + ch->held_len[to_tech], data, n);
	ch->held[to_tech] = p;
	ch->held_len[to_tech] += n;
	if (to_tech)
		ch->held_stderr = is_stderr;
}

/* Writes the held bytes of one direction as far as the receiving window and
 * session take them now.  Bytes for a channel that closed, or that refuses
 * writes, are dropped with a log line. */
static void
flush_held(struct px_chan *ch, int to_tech)
{
	struct px_conn *c = ch->c;
	ssh_channel dst = to_tech ? ch->tc : ch->uc;
	size_t n = ch->held_len[to_tech];
	int rc = -1;

	if (n == 0)
		return;
	if (dst != NULL && !peer_closed(ch, to_tech)) {
		if (n > ssh_channel_window_size(dst))
			n = ssh_channel_window_size(dst);
		if (n > PX_CHUNK)
			n = PX_CHUNK;
		if (n == 0)
			return;
		rc = to_tech && ch->held_stderr ? ssh_channel_write_stderr(dst, ch->held[1], (uint32_t)n) :
		    ssh_channel_write(dst, ch->held[to_tech], (uint32_t)n);
		px__sshpoll_update(px__conn_poll(c, to_tech));
	}
	if (rc < 0) {
		px_log(PX_LOG_INFO, px__conn_id(c), "%zu byte(s) for the %s dropped: its channel is closed",
		    ch->held_len[to_tech], to_tech ? "client" : "target");
		ch->held_len[to_tech] = 0;
		return;
	}
	memmove(ch->held[to_tech], ch->held[to_tech] + rc, ch->held_len[to_tech] - (size_t)rc);
	ch->held_len[to_tech] -= (size_t)rc;
}

static int
session_busy(ssh_session s)
{
	return (ssh_get_status(s) & SSH_WRITE_PENDING) != 0;
}

size_t
px__chan_room(struct px_chan *ch, int to_tech, size_t len)
{
	struct px_conn *c = ch->c;
	ssh_channel dst = to_tech ? ch->tc : ch->uc;
	ssh_session ds = px__conn_ssh(c, to_tech);
	size_t n = len;
	uint32_t win;

	if (dst == NULL || px__conn_rec_stalled(c) || px__conn_current_state(c) != CONN_RELAY || session_busy(ds) ||
	    peer_closed(ch, to_tech) || out_ended(ch, to_tech))
		return 0;
	if (ch->held_len[to_tech] > 0 || (!to_tech && px__conn_paused(c)))
		return 0; /* an escort's pause holds what is not dropped (t_data) */
	win = ssh_channel_window_size(dst);
	if (n > win)
		n = win;
	if (n > PX_CHUNK)
		n = PX_CHUNK;
	if (n == 0 || !px__conn_rec_can_take(c, n))
		return 0;
	if (!to_tech && ch->obs != NULL && !px__conn_rec_can_take(c, n + PX_OBS_RESERVE))
		return 0;	/* room for the decisions of the commands in it */
	return n;
}

void
px__chan_emit(struct px_chan *ch, int to_tech, const uint8_t *data, size_t n, int is_stderr)
{
	struct px_conn *c = ch->c;
	ssh_channel dst = to_tech ? ch->tc : ch->uc;
	ssh_session ds = px__conn_ssh(c, to_tech);
	uint16_t type = to_tech ? (is_stderr ? EV_STDERR : EV_OUTPUT) : EV_INPUT;
	int rc;

	/* input at a password prompt is recorded masked (chan_pwmask.h) */
	if (px__chan_pwmask_record(ch, type, data, n) != PX_OK) {
		/* px__chan_room said the spool had room: never forward unrecorded. */
		px_log(PX_LOG_ERR, px__conn_id(c), "recorder refused data it had room for; ending session");
		px__conn_end(c, "escort: internal recording error\r\n");
		return;
	}
	if (to_tech && ch->pty)
		px__watch_feed(px__conn_watch(c), data, n);	/* escorts joined (watch.h) */
	rc = is_stderr ? ssh_channel_write_stderr(dst, data, (uint32_t)n) : ssh_channel_write(dst, data, (uint32_t)n);
	if (rc >= 0 && (size_t)rc < n) /* a key re-exchange runs on that side */
		hold(ch, to_tech, data + rc, n - (size_t)rc, is_stderr);
	if (rc < 0)
		px_log(PX_LOG_INFO, px__conn_id(c), "write to %s failed: %s", to_tech ? "client" : "target",
		    ssh_get_error(ds));
	px__sshpoll_update(px__conn_poll(c, to_tech));
}

/* Moves up to len bytes to the other side now, recording them first.
 * Returns bytes taken (0 when the receiving side, the recorder or a
 * transfer record waiting for the recorder can take nothing). */
static size_t
forward(struct px_chan *ch, int to_tech, const uint8_t *data, size_t len, int is_stderr)
{
	size_t n;

	if (ch->strict != NULL && !is_stderr)
		return px__strict_take(ch, !to_tech, data, len);
	if ((ch->sftp != NULL || ch->scp != NULL) && !is_stderr)
		return px__xfer_sftp_take(ch, !to_tech, data, len);
	if (ch->scp != NULL && px__xfer_blocked(ch)) {
		px__xfer_drain(ch);
		if (px__xfer_blocked(ch))
			return 0;
	}
	if ((n = px__chan_room(ch, to_tech, len)) == 0)
		return 0;
	if (ch->obs != NULL && px__observe_pass(ch, to_tech, data, n) == 0)
		return 0;	/* the session ends (observe_chan.h) */
	if (ch->scp != NULL && !is_stderr && px__xfer_scp_feed(ch, !to_tech, data, n) < 0)
		return 0;
	px__chan_emit(ch, to_tech, data, n, is_stderr);
	if (ch->scp != NULL)
		px__xfer_drain(ch);
	return n;
}

/* Writes a message of the proxy to the technician, recorded as STDERR/OUTPUT. */
static void
tech_say(struct px_chan *ch, const char *msg, int to_stdout)
{
	struct px_conn *c = ch->c;
	size_t n = strlen(msg);

	if (ch->tc == NULL || peer_closed(ch, 1) || n == 0 || ch->kind == KIND_FORWARD)
		return;	/* a forward carries the bytes of a TCP connection only */
	/* The proxy's own words are recorded when the recorder takes them; when
	 * it cannot (the session is ending because the recording failed), the
	 * technician is still told why. */
	if (px__conn_rec_ready(c) &&
	    px__conn_record(c, to_stdout ? EV_OUTPUT : EV_STDERR, ch->id, msg, n) != PX_OK)
		px_log(PX_LOG_DEBUG, px__conn_id(c), "a message to the technician was not recorded");
	if (ch->pty)
		px__watch_feed(px__conn_watch(c), (const uint8_t *)msg, n);
	if (to_stdout)
		ssh_channel_write(ch->tc, msg, (uint32_t)n);
	else
		ssh_channel_write_stderr(ch->tc, msg, (uint32_t)n);
	px__sshpoll_update(px__conn_poll(c, 1));
}

/* ---- technician-side callbacks: record facts only ---------------------------- */

static int
t_data(ssh_session s, ssh_channel chan, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct px_chan *ch = ud;
	size_t n = 0;

	(void)s; (void)chan; (void)is_stderr;
	if (ch->join != NULL)
		n = px__join_input(ch, data, len); /* an escort's keys: never to a target */
	else if ((ch->st == CH_RELAY || ch->st == CH_WAIT) && px__conn_paused(ch->c) &&
	    (ch->pty || ch->kind == KIND_SHELL))
		n = px__conn_drop_paused(ch->c, len); /* paused, or waiting for an escort: dropped */
	else if (!px__conn_pulling(ch->c) && ch->st == CH_RELAY && stashed(ch, 2) == 0)
		n = forward(ch, 0, data, len, 0);
	else if (ch->st == CH_LOCAL || ch->st == CH_CLOSING)
		n = len; /* nobody to give it to: drop */
	ch->t_pend = len - n + stashed(ch, 2);
	return (int)n;
}

/* A peer's EOF or CLOSE on the in half h. */
static void
peer_eof(struct px_chan *ch, enum px_half h)
{
	px__chan_set_half(ch, h, HS_EOF, "EOF received");
}

static void
peer_close(struct px_chan *ch, enum px_half h)
{
	px__chan_set_half(ch, h, ch->half[h] == HS_EOF ? HS_EOF_CLOSED : HS_CLOSED, "CLOSE received");
}

static void
t_eof(ssh_session s, ssh_channel chan, void *ud)
{
	(void)s; (void)chan;
	peer_eof(ud, HALF_T_IN);
}

static void
t_close(ssh_session s, ssh_channel chan, void *ud)
{
	(void)s; (void)chan;
	peer_close(ud, HALF_T_IN);
}

static int
t_pty(ssh_session s, ssh_channel chan, const char *term, int w, int h, int pw, int ph, void *ud)
{
	struct px_chan *ch = ud;
	struct px_req *r;

	(void)s; (void)chan;
	if (ch->pty || ch->kind != KIND_NONE || (r = req_push(ch, REQ_PTY, term, NULL)) == NULL)
		return -1;
	r->cols = w, r->rows = h, r->pxw = pw, r->pxh = ph;
	ch->pty = 1;
	return 0;
}

static int
t_winch(ssh_session s, ssh_channel chan, int w, int h, int pw, int ph, void *ud)
{
	struct px_chan *ch = ud;
	struct px_req *r;

	(void)s; (void)chan;
	if (ch->join != NULL) {
		px__join_resize(ch, h, w);
		return 0;
	}
	if (!ch->pty || (r = req_push(ch, REQ_WINCH, NULL, NULL)) == NULL)
		return -1;
	r->cols = w, r->rows = h, r->pxw = pw, r->pxh = ph;
	px__strict_resize(ch, w);	/* strict mode's line editor redraws */
	return 0;
}

static int
t_env(ssh_session s, ssh_channel chan, const char *name, const char *value, void *ud)
{
	struct px_chan *ch = ud;
	struct px_conn *c = ch->c;
	struct px_req *r;
	char why[200];
	int rc;

	(void)s; (void)chan;
	/* Only what the session's rules allow (pol_session_env: names on their
	 * `env` lines, locale values for LANG and LC_*); the target's AcceptEnv
	 * has the last word.  The answer is given now; env_settle decides again
	 * with the admitted session before the main request, and that decision
	 * is the one that counts.  A refusal is logged and recorded. */
	if (ch->kind != KIND_NONE)
		return -1;
	rc = px__conn_env_decide(c, name, value, why, sizeof(why));
	if ((r = req_push(ch, REQ_ENV, name, value)) == NULL)
		return -1;
	if (rc == 0)
		return 0;
	px_log(PX_LOG_INFO, px__conn_id(c), "env %.64s refused for %s on %s: %s", name,
	    px__conn_user(c) ? px__conn_user(c) : "?", px__conn_target(c) ? px__conn_target(c) : "(no target)", why);
	px__req_set_state(ch, r, RQ_REFUSED, "env refused by the policy");
	if (r->b != NULL && strlen(r->b) > 1024)
		r->b[1024] = '\0';	/* the recording keeps the first KiB */
	r->why = strdup(why);
	return -1;
}

static int
main_request(struct px_chan *ch, enum px_chan_kind kind, enum px_req_kind rk, const char *arg)
{
	if (ch->kind != KIND_NONE || req_push(ch, rk, arg, NULL) == NULL)
		return -1;
	ch->kind = kind;
	return 0;
}

static int
t_shell(ssh_session s, ssh_channel chan, void *ud)
{
	(void)s; (void)chan;
	return main_request(ud, KIND_SHELL, REQ_SHELL, NULL);
}

static int
t_exec(ssh_session s, ssh_channel chan, const char *cmd, void *ud)
{
	(void)s; (void)chan;
	return main_request(ud, KIND_EXEC, REQ_EXEC, cmd);
}

static int
t_subsystem(ssh_session s, ssh_channel chan, const char *name, void *ud)
{
	(void)s; (void)chan;
	return main_request(ud, KIND_SUBSYSTEM, REQ_SUBSYSTEM, name);
}

static void
t_signal(ssh_session s, ssh_channel chan, const char *sig, void *ud)
{
	struct px_chan *ch = ud;

	(void)s; (void)chan;
	(void)req_push(ch, REQ_SIGNAL, sig, NULL);
}

/* ssh -A: libssh hands auth-agent-req@openssh.com only to this callback
 * (never to the message callback of conn.c, which refuses the other
 * forwardings), so the refusal is logged and recorded here.  Nothing is
 * sent to the target: the request is dropped (the client asks for no
 * reply). */
static void
t_agent(ssh_session s, ssh_channel chan, void *ud)
{
	struct px_chan *ch = ud;

	(void)s; (void)chan;
	px_log(PX_LOG_INFO, px__conn_id(ch->c), "refused agent forwarding");
	(void)px__conn_record_fields(ch->c, EV_MARKER, ch->id, EVF_TEXT, "refused agent forwarding", 0);
}

/* ---- upstream-side callbacks -------------------------------------------------- */

static int
u_data(ssh_session s, ssh_channel chan, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct px_chan *ch = ud;
	size_t n = 0;

	(void)s; (void)chan;
	is_stderr = is_stderr ? 1 : 0;
	if (!px__conn_pulling(ch->c) && (ch->st == CH_OPEN || ch->st == CH_RELAY) && stashed(ch, is_stderr) == 0)
		n = forward(ch, 1, data, len, is_stderr);
	ch->u_pend[is_stderr] = len - n + stashed(ch, is_stderr);
	return (int)n;
}

static void
u_eof(ssh_session s, ssh_channel chan, void *ud)
{
	(void)s; (void)chan;
	peer_eof(ud, HALF_U_IN);
}

static void
u_close(ssh_session s, ssh_channel chan, void *ud)
{
	(void)s; (void)chan;
	peer_close(ud, HALF_U_IN);
}

static void
u_exit_status(ssh_session s, ssh_channel chan, int status, void *ud)
{
	struct px_chan *ch = ud;

	(void)s; (void)chan;
	ch->exit_kind = 1;
	ch->exit_status = status;
}

static void
u_exit_signal(ssh_session s, ssh_channel chan, const char *sig, int core, const char *msg,
    const char *lang, void *ud)
{
	struct px_chan *ch = ud;

	(void)s; (void)chan; (void)msg; (void)lang;
	ch->exit_kind = 2;
	snprintf(ch->exit_signal, sizeof(ch->exit_signal), "%s", sig ? sig : "KILL");
	ch->exit_core = core;
}

struct px_chan *
px__chan_new(struct px_conn *c, ssh_channel tc)
{
	struct px_chan *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	ch->c = c;
	ch->tc = tc;
	ch->id = px__conn_new_chan_id(c);
	ch->rq_tail = &ch->rq;
	ch->st = CH_WAIT;		/* born: technician's halves open, target's none */
	ch->half[HALF_T_IN] = HS_OPEN;
	ch->half[HALF_T_OUT] = HS_OPEN;
	ssh_callbacks_init(&ch->tcb);
	ch->tcb.userdata = ch;
	ch->tcb.channel_data_function = t_data;
	ch->tcb.channel_eof_function = t_eof;
	ch->tcb.channel_close_function = t_close;
	ch->tcb.channel_pty_request_function = t_pty;
	ch->tcb.channel_pty_window_change_function = t_winch;
	ch->tcb.channel_env_request_function = t_env;
	ch->tcb.channel_shell_request_function = t_shell;
	ch->tcb.channel_exec_request_function = t_exec;
	ch->tcb.channel_subsystem_request_function = t_subsystem;
	ch->tcb.channel_signal_function = t_signal;
	ch->tcb.channel_auth_agent_req_function = t_agent;
	ssh_set_channel_callbacks(tc, &ch->tcb);
	return ch;
}

/* ---- recording helpers ------------------------------------------------------ */

/* Hands a channel request to the recorder before it is sent to the target.
 * Returns PX_OK; PX_EFULL when the recorder link is down (nothing taken:
 * the request waits); any other error has ended the session. */
static int
record_req(struct px_chan *ch, const struct px_req *r)
{
	struct buf b;
	static const char *names[] = { "pty", "env", "shell", "exec", "subsystem", "resize", "signal" };
	int type = r->kind == REQ_WINCH ? EV_RESIZE : EV_CHANNEL;
	int built = REC_OK, rc;

	buf_init(&b, EV_PAYLOAD_MAX);
	if (r->kind != REQ_WINCH)
		built = ev_fields_put_str(&b, EVF_CH_ACTION, names[r->kind]);
	switch (r->kind) {
	case REQ_PTY:
		if (built == REC_OK)
			built = ev_fields_put_str(&b, EVF_TERM, r->a ? r->a : "");
		/* fallthrough */
	case REQ_WINCH:
		if (built == REC_OK)
			built = ev_fields_put_u64(&b, EVF_COLS, (uint64_t)r->cols);
		if (built == REC_OK)
			built = ev_fields_put_u64(&b, EVF_ROWS, (uint64_t)r->rows);
		if (built == REC_OK)
			built = ev_fields_put_u64(&b, EVF_PX_W, (uint64_t)r->pxw);
		if (built == REC_OK)
			built = ev_fields_put_u64(&b, EVF_PX_H, (uint64_t)r->pxh);
		break;
	case REQ_ENV:
		if (built == REC_OK)
			built = ev_fields_put_str(&b, EVF_ENV_NAME, r->a);
		if (built == REC_OK)
			built = ev_fields_put_str(&b, EVF_ENV_VALUE, r->b ? r->b : "");
		if (r->st == RQ_REFUSED) {
			if (built == REC_OK)
				built = ev_fields_put_str(&b, EVF_VERDICT, "deny");
			if (built == REC_OK)
				built = ev_fields_put_str(&b, EVF_REASON, r->why ? r->why : "not allowed");
		}
		break;
	case REQ_EXEC:
		if (built == REC_OK)
			built = ev_fields_put_str(&b, EVF_COMMAND, r->a);
		break;
	case REQ_SUBSYSTEM:
		if (built == REC_OK)
			built = ev_fields_put_str(&b, EVF_SUBSYSTEM, r->a);
		break;
	case REQ_SIGNAL:
		if (built == REC_OK)
			built = ev_fields_put_str(&b, EVF_SIGNAL, r->a);
		break;
	case REQ_SHELL:
		break;
	}
	rc = built == REC_OK ? px__conn_record(ch->c, (uint16_t)type, ch->id, buf_ptr(&b), buf_len(&b))
	    : PX_EINVAL;
	if (rc != PX_OK && rc != PX_EFULL) {
		px_log(PX_LOG_ERR, px__conn_id(ch->c), "a %s request could not be recorded (%s); ending session",
		    r->kind == REQ_WINCH ? "resize" : names[r->kind], px__strerror(rc));
		px__conn_end(ch->c, "\r\nescort: a request could not be recorded; session ended\r\n");
	}
	buf_free(&b);
	return rc;
}

static int
record_simple(struct px_chan *ch, uint16_t type, const char *action)
{
	struct buf b;
	int built, rc;

	buf_init(&b, 1024);
	built = ev_fields_put_str(&b, EVF_CH_ACTION, action);
	rc = px__conn_record_or_end(ch->c, type, ch->id, buf_ptr(&b), buf_len(&b), built);
	buf_free(&b);
	return rc;
}

/* ---- decisions (chan_decide.c) ------------------------------------------- */

/* Finds the main request in the queue (NULL while none arrived). */
static struct px_req *
main_req(struct px_chan *ch)
{
	for (struct px_req *r = ch->rq; r != NULL; r = r->next)
		if (r->kind == REQ_SHELL || r->kind == REQ_EXEC || r->kind == REQ_SUBSYSTEM)
			return r;
	return NULL;
}

/* ---- stepping ---------------------------------------------------------------- */

/* Decides an env request with the admitted session (the decision that
 * counts): DECIDED or REFUSED, a refusal logged with its reason. */
static void
env_decide_admitted(struct px_chan *ch, struct px_req *r)
{
	struct px_conn *c = ch->c;
	char why[200];

	if (pol_session_env(px__conn_session(c), r->a, r->b ? r->b : "", why, sizeof(why)) == 0) {
		px__req_set_state(ch, r, RQ_DECIDED, "env allowed by the session");
		return;
	}
	px_log(PX_LOG_INFO, px__conn_id(c), "env %.64s refused for %s on %s: %s", r->a, px__conn_user(c), px__conn_target(c), why);
	free(r->why);
	r->why = strdup(why);
	px__req_set_state(ch, r, RQ_REFUSED, "env refused by the session");
}

/* Decides every queued env request again with the admitted session, then
 * records the refused ones and drops them from the queue: before the main
 * request is decided, so they are in the recording even when the channel is
 * then answered locally. */
static void
env_settle(struct px_chan *ch)
{
	struct px_req **pp = &ch->rq, *r;

	while ((r = *pp) != NULL) {
		if (r->kind == REQ_ENV && r->st == RQ_RECEIVED)
			env_decide_admitted(ch, r);
		if (r->st != RQ_REFUSED) {
			pp = &r->next;
			continue;
		}
		if (record_req(ch, r) != PX_OK)
			return;		/* retried when the recorder takes it, or the session ends */
		px__req_set_state(ch, r, RQ_DISCARDED, "recorded as refused; never sent");
		*pp = r->next;
		if (ch->rq_tail == &r->next)
			ch->rq_tail = pp;
		req_free(r);
	}
}

void
px__chan_notice(struct px_chan *ch, const char *line)
{
	char msg[512];

	snprintf(msg, sizeof(msg), ch->pty ? "\r\n%s\r\n" : "%s\n", line);
	tech_say(ch, msg, 0);
}

void
px__chan_local(struct px_chan *ch, const char *msg, int to_stdout, int status)
{
	free(ch->local_msg);
	ch->local_msg = msg ? strdup(msg) : NULL;
	ch->local_stdout = to_stdout;
	ch->local_status = status;
	px__chan_set_state(ch, CH_LOCAL, "answered by the proxy");
}

void
px__chan_abort(struct px_chan *ch, const char *msg)
{
	if (ch->st == CH_CLOSING || ch->st == CH_DONE)
		return;
	px__chan_local(ch, msg, 0, 255);
	close_target(ch, "channel aborted");
}

/* Takes the request r (the head of the queue, or the one in flight) off the
 * queue. */
static void
req_unqueue(struct px_chan *ch, struct px_req *r)
{
	if (ch->inflight == r)
		ch->inflight = NULL;
	else
		(void)req_pop(ch);
	if (ch->rq == NULL)
		ch->rq_tail = &ch->rq;
}

/* Sends request r upstream (it is SENT).  Returns the libssh status. */
static int
req_send(struct px_chan *ch, const struct px_req *r)
{
	switch (r->kind) {
	case REQ_PTY:
		px__watch_resize(px__conn_watch(ch->c), r->rows, r->cols);
		return ssh_channel_request_pty_size(ch->uc, r->a, r->cols, r->rows);
	case REQ_ENV:
		return ssh_channel_request_env(ch->uc, r->a, r->b ? r->b : "");
	case REQ_SHELL:
		/* strict mode: the bootstrap loop (strict.h), never the login shell */
		return r->sent != NULL ? ssh_channel_request_exec(ch->uc, r->sent) : ssh_channel_request_shell(ch->uc);
	case REQ_EXEC:
		/* only what the policy rebuilt is ever sent (px__chan_decide) */
		return r->sent != NULL ? ssh_channel_request_exec(ch->uc, r->sent) : SSH_ERROR;
	case REQ_SUBSYSTEM:
		return ssh_channel_request_subsystem(ch->uc, r->a);
	case REQ_WINCH:
		px__observe_resize(ch, r->cols, r->rows);
		px__watch_resize(px__conn_watch(ch->c), r->rows, r->cols);
		return ssh_channel_change_pty_size(ch->uc, r->cols, r->rows);
	case REQ_SIGNAL:
		return ssh_channel_request_send_signal(ch->uc, r->a);
	}
	return SSH_ERROR;
}

static int
req_is_main(const struct px_req *r)
{
	return r->kind == REQ_SHELL || r->kind == REQ_EXEC || r->kind == REQ_SUBSYSTEM;
}

/* Moves the next queued request along its pipeline: decided (pty, resize
 * and signal need no decision; env is decided with the admitted session),
 * recorded, sent, replied.  Returns 1 when the queue may go on, 0 to wait
 * (recorder full, SSH_AGAIN, or the channel ended). */
static int
replay_one(struct px_chan *ch)
{
	struct px_req *r = ch->inflight ? ch->inflight : ch->rq;
	struct px_conn *c = ch->c;
	int rc;

	if (r == NULL)
		return 0;
	/* No reply expected; must not overtake the main request. */
	if ((r->kind == REQ_SIGNAL || r->kind == REQ_WINCH) && ch->st != CH_RELAY)
		return 0;
	if (r->st == RQ_RECEIVED) {
		if (r->kind == REQ_ENV)
			env_decide_admitted(ch, r);
		else if (!req_is_main(r))
			px__req_set_state(ch, r, RQ_DECIDED, "needs no decision");
	}
	if (r->st == RQ_DECIDED || r->st == RQ_REFUSED) {
		/* nothing reaches the target before it is in the recording */
		if (px__conn_rec_stalled(c) || record_req(ch, r) != PX_OK)
			return 0;
		px__req_set_state(ch, r, r->st == RQ_REFUSED ? RQ_DISCARDED : RQ_RECORDED,
		    r->st == RQ_REFUSED ? "recorded as refused; never sent" : "in the recording");
	}
	if (r->st == RQ_DISCARDED) {
		req_unqueue(ch, r);
		req_free(r);
		return 1;
	}
	/* The setter refuses SENT for anything not RECORDED (or already SENT:
	 * a reply pending). */
	if (r->st != RQ_SENT && px__req_set_state(ch, r, RQ_SENT, "sent to the target") != PX_OK) {
		px__chan_abort(ch, "escort: internal error: a request was not recorded; it was not sent\n");
		return 0;
	}
	rc = req_send(ch, r);
	px__sshpoll_update(px__conn_poll(c, 0));
	if (rc == SSH_AGAIN) {
		ch->inflight = r;
		if (ch->rq == r)
			(void)req_pop(ch);
		return 0;
	}
	req_unqueue(ch, r);
	px__req_set_state(ch, r, RQ_REPLIED, rc == SSH_OK ? "accepted" : "refused by the target");
	if (req_is_main(r)) {
		if (rc != SSH_OK) {
			px_log(PX_LOG_WARN, px__conn_id(c), "target refused the %s request: %s",
			    r->kind == REQ_SHELL ? "shell" : r->kind == REQ_EXEC ? "exec" : "subsystem",
			    ssh_get_error(px__conn_ssh(c, 0)));
			req_free(r);
			px__chan_abort(ch, "escort: the target refused the request\n");
			return 0;
		}
		px__chan_set_state(ch, CH_RELAY, "the target accepted the main request");
	} else if (rc != SSH_OK) {
		px_log(PX_LOG_DEBUG, px__conn_id(c), "target refused a channel request (kind %d)", (int)r->kind);
	}
	req_free(r);
	return 1;
}

/* Takes everything libssh holds for one stream into the channel's stash in
 * one read.  libssh 0.10's ssh_channel_read tops the peer's window up to
 * 1.28 MB whenever its own window is below half of that, however much it
 * still holds; reads of a part at a time therefore let a sender that is
 * faster than the proxy fill libssh's buffer without bound, until libssh
 * fails to grow it (256 MiB), frees it and drops what it held.  One read of
 * all, and no other until the stash is relayed, keeps libssh within one
 * window.  Returns the bytes now stashed. */
static size_t
stash_fill(struct px_chan *ch, ssh_channel src, int k, size_t *pend, int is_stderr)
{
	size_t want = *pend > stashed(ch, k) ? *pend - stashed(ch, k) : 0;
	int n;

	if (stashed(ch, k) > 0 || want == 0)
		return stashed(ch, k);
	if (want < PX_CHUNK)
		want = PX_CHUNK;	/* more may have come than *pend says */
	if (want > UINT32_MAX)
		want = UINT32_MAX;
	if (want > ch->stash_cap[k]) {
		uint8_t *p = realloc(ch->stash[k], want);

		if (p == NULL) {
			px_log(PX_LOG_ERR, px__conn_id(ch->c), "out of memory relaying bytes; ending session");
			px__conn_end(ch->c, "escort: proxy out of memory\r\n");
			return 0;
		}
		ch->stash[k] = p;
		ch->stash_cap[k] = want;
	}
	ch->stash_off[k] = ch->stash_len[k] = 0;
	px__conn_set_pulling(ch->c, 1);
	n = ssh_channel_read_nonblocking(src, ch->stash[k], (uint32_t)want, is_stderr);
	px__conn_set_pulling(ch->c, 0);
	if (n <= 0) {
		if (n == 0 || n == SSH_EOF)
			*pend = 0;
		return 0;
	}
	ch->stash_len[k] = (size_t)n;
	if (*pend < (size_t)n)
		*pend = (size_t)n;	/* the bytes moved; *pend counts both places */
	return (size_t)n;
}

/* Relays stalled bytes: out of libssh's buffer of src (all at once, see
 * stash_fill) and on to dst (or into the SFTP filter) as room allows. */
static void
pull(struct px_chan *ch, int to_tech, int is_stderr)
{
	struct px_conn *c = ch->c;
	ssh_channel src = to_tech ? ch->uc : ch->tc;
	size_t *pend = to_tech ? &ch->u_pend[is_stderr] : &ch->t_pend;
	ssh_channel dst = to_tech ? ch->tc : ch->uc;
	int filtered = (ch->sftp != NULL || ch->scp != NULL || ch->strict != NULL) && !is_stderr;
	int k = to_tech ? is_stderr : 2;

	for (int i = 0; i < 16 && *pend > 0 && src != NULL && dst != NULL && ch->st == CH_RELAY; i++) {
		size_t want, room, n;

		if (px__conn_rec_stalled(c))
			return;
		if (filtered && ch->strict != NULL) {
			room = px__strict_room(ch, !to_tech);
		} else if (filtered) {
			px__xfer_drain(ch);
			room = px__xfer_sftp_room(ch, !to_tech);
		} else {
			if (ch->scp != NULL && px__xfer_blocked(ch)) {
				px__xfer_drain(ch);
				if (px__xfer_blocked(ch))
					return;
			}
			room = px__chan_room(ch, to_tech, PX_CHUNK);
		}
		if (room == 0)
			return;
		if ((want = stash_fill(ch, src, k, pend, is_stderr)) == 0)
			return;
		if (want > room)
			want = room;
		if (want > PX_CHUNK)
			want = PX_CHUNK;
		n = forward(ch, to_tech, ch->stash[k] + ch->stash_off[k], want, is_stderr);
		ch->stash_off[k] += n;
		*pend = *pend > n ? *pend - n : 0;
		if (n < want) {
			if (ch->st != CH_RELAY)
				return; /* the transfer watcher ended the channel */
			/* Cannot happen: sizes were checked.  Never lose bytes silently. */
			px_log(PX_LOG_ERR, px__conn_id(c), "relay short write; ending session");
			px__conn_end(c, "escort: internal relay error");
			return;
		}
	}
}

/* Sends the target's exit-status or exit-signal to the technician, recorded
 * first: once, before EOF. */
static void
send_exit(struct px_chan *ch)
{
	struct buf b;

	if (ch->half[HALF_T_OUT] != HS_OPEN || ch->exit_kind == 0)
		return;
	px__chan_set_half(ch, HALF_T_OUT, HS_EXIT, ch->exit_kind == 1 ? "exit-status" : "exit-signal");
	buf_init(&b, 4096);
	if (ch->exit_kind == 1) {
		int built = ev_fields_put_u64(&b, EVF_EXIT_STATUS, (uint64_t)(uint32_t)ch->exit_status);
		(void)px__conn_record_or_end(ch->c, EV_EXIT, ch->id, buf_ptr(&b), buf_len(&b), built);
		ssh_channel_request_send_exit_status(ch->tc, ch->exit_status);
	} else {
		int built = ev_fields_put_str(&b, EVF_EXIT_SIGNAL, ch->exit_signal);
		if (built == REC_OK)
			built = ev_fields_put_u64(&b, EVF_CORE, (uint64_t)ch->exit_core);
		(void)px__conn_record_or_end(ch->c, EV_EXIT, ch->id, buf_ptr(&b), buf_len(&b), built);
		ssh_channel_request_send_exit_signal(ch->tc, ch->exit_signal, ch->exit_core, "", "");
	}
	buf_free(&b);
}

static void
close_tech(struct px_chan *ch)
{
	px__xfer_finish(ch);
	if (!close_sent(ch, 1)) {
		if (ssh_channel_close(ch->tc) == SSH_AGAIN)
			return;
		px__chan_set_half(ch, HALF_T_OUT, HS_CLOSED, "CLOSE sent");
		if (px__conn_records(ch->c))	/* none for no-target commands */
			record_simple(ch, EV_CHANNEL, "close");
	}
	if (ch->st != CH_CLOSING)
		px__chan_set_state(ch, CH_CLOSING, "CLOSE sent to the technician");
}

static void
step_local(struct px_chan *ch)
{
	struct px_conn *c = ch->c;

	if (px__conn_current_state(c) != CONN_RELAY && px__conn_current_state(c) != CONN_LOCAL && px__conn_current_state(c) != CONN_CLOSING)
		return;
	if (!peer_closed(ch, 1)) {
		if (ch->local_msg != NULL) {
			tech_say(ch, ch->local_msg, ch->local_stdout);
			free(ch->local_msg);
			ch->local_msg = NULL;
		}
		if (ch->half[HALF_T_OUT] == HS_OPEN && ch->kind != KIND_FORWARD) {
			ch->exit_kind = 1;
			ch->exit_status = ch->local_status;
			if (px__conn_rec_ready(c))
				send_exit(ch);
			else {
				px__chan_set_half(ch, HALF_T_OUT, HS_EXIT, "exit-status (not recorded: no recorder)");
				ssh_channel_request_send_exit_status(ch->tc, ch->local_status);
			}
		}
		eof_tech(ch, "EOF after a local answer");
	}
	close_target(ch, "answered locally");
	close_tech(ch);
	px__sshpoll_update(px__conn_poll(c, 1));
}

static void open_upstream(struct px_chan *ch);
static void step_wait_fwd(struct px_chan *ch);

/* CH_WAIT: decides the main request once the conn relays (or answers it
 * locally), then allocates the target's channel.  Leaves the channel in
 * OPENING when it goes on to the target. */
static void
step_wait(struct px_chan *ch)
{
	struct px_conn *c = ch->c;
	struct px_req *m;

	if (peer_closed(ch, 1)) {
		close_tech(ch);
		return;
	}
	if (ch->join != NULL) {
		px__join_step(ch);	/* an escort's join view (join.h) */
		return;
	}
	if (ch->kind == KIND_FORWARD) {
		step_wait_fwd(ch);
		return;
	}
	if (px__conn_current_state(c) == CONN_RELAY && px__conn_session(c) != NULL && !px__conn_rec_stalled(c) && main_req(ch) != NULL)
		env_settle(ch);
	if (px__conn_current_state(c) == CONN_LOCAL) {
		if ((m = main_req(ch)) != NULL)
			px__conn_answer_local(c, ch, m);
		return;
	}
	if (px__conn_current_state(c) == CONN_WAIT_ESCORT && !ch->wait_told && main_req(ch) != NULL) {
		ch->wait_told = 1;	/* a moderated session: its request waits for an escort */
		px__conn_wait_notice(c, ch);
		return;
	}
	/* a decision is made only while it can be recorded */
	if (px__conn_current_state(c) != CONN_RELAY || px__conn_rec_stalled(c) || (m = main_req(ch)) == NULL)
		return;
	if (!px__chan_decide(ch, m))
		return;
	if (px__req_set_state(ch, m, RQ_DECIDED, "allowed; decision recorded") != PX_OK ||
	    px__chan_set_state(ch, CH_DECIDED, "main request allowed") != PX_OK)
		return;
	open_upstream(ch);
}

/* CH_WAIT of a forward (chan_fwd.h): its decision recorded once the conn
 * relays, then the target's channel allocated (OPENING). */
static void
step_wait_fwd(struct px_chan *ch)
{
	struct px_conn *c = ch->c;

	if (px__conn_current_state(c) == CONN_LOCAL || px__conn_current_state(c) >= CONN_CLOSING) {
		px__chan_abort(ch, NULL);
		return;
	}
	if (px__conn_current_state(c) != CONN_RELAY || px__conn_rec_stalled(c) || px__chan_fwd_decide(ch) != PX_OK)
		return;
	if (px__chan_set_state(ch, CH_DECIDED, "forward allowed; decision recorded") != PX_OK)
		return;
	open_upstream(ch);
}

/* CH_DECIDED: allocates the target's channel, callbacks set, and leaves the
 * channel in OPENING. */
static void
open_upstream(struct px_chan *ch)
{
	struct px_conn *c = ch->c;

	ch->uc = ssh_channel_new(px__conn_ssh(c, 0));
	if (ch->uc == NULL) {
		px__chan_abort(ch, "escort: cannot open a channel on the target\n");
		return;
	}
	ssh_callbacks_init(&ch->ucb);
	ch->ucb.userdata = ch;
	ch->ucb.channel_data_function = u_data;
	ch->ucb.channel_eof_function = u_eof;
	ch->ucb.channel_close_function = u_close;
	ch->ucb.channel_exit_status_function = u_exit_status;
	ch->ucb.channel_exit_signal_function = u_exit_signal;
	ssh_set_channel_callbacks(ch->uc, &ch->ucb);
	px__chan_set_half(ch, HALF_U_IN, HS_OPEN, "target channel allocated");
	px__chan_set_half(ch, HALF_U_OUT, HS_OPEN, "target channel allocated");
	px__chan_set_state(ch, CH_OPENING, "channel open sent to the target");
}

/* CH_RELAY: moves data both ways, then passes on EOF, exit and close. */
static void
step_relay(struct px_chan *ch)
{
	struct px_conn *c = ch->c;

	/* target -> technician first: frees the target's window */
	flush_held(ch, 1);
	flush_held(ch, 0);
	px__xfer_drain(ch);
	pull(ch, 1, 1);
	pull(ch, 1, 0);
	pull(ch, 0, 0);
	px__strict_step(ch);
	if (ch->st != CH_RELAY)
		return;
	if (px_half_got_eof(ch->half[HALF_T_IN]) && ch->t_pend == 0 && ch->held_len[0] == 0 &&
	    px__xfer_held(ch, 0) == 0 && px__strict_held(ch, 0) == 0 && ch->half[HALF_U_OUT] == HS_OPEN && !peer_closed(ch, 0)) {
		ssh_channel_send_eof(ch->uc);
		px__chan_set_half(ch, HALF_U_OUT, HS_EOF, "technician's EOF passed on");
		record_simple(ch, EV_CHANNEL, "eof");
		px__sshpoll_update(px__conn_poll(c, 0));
	}
	if (px_half_got_eof(ch->half[HALF_U_IN]) && ch->u_pend[0] == 0 && ch->u_pend[1] == 0 &&
	    ch->held_len[1] == 0 && px__xfer_held(ch, 1) == 0 && !px__xfer_blocked(ch) &&
	    px__strict_held(ch, 1) == 0 && !out_ended(ch, 1) && !peer_closed(ch, 1) &&
	    (ch->exit_kind != 0 || ch->kind == KIND_FORWARD)) {
		/* exit-status before EOF, as sshd does: dbclient closes once both
		 * sides sent EOF and ignores a later exit-status, so the EOF waits
		 * for the target's exit-status (or its close, below).  A forward
		 * has none: its EOF goes on at once. */
		send_exit(ch);
		eof_tech(ch, "target's EOF passed on");
		px__sshpoll_update(px__conn_poll(c, 1));
	}
	if (peer_closed(ch, 0) && ch->u_pend[0] == 0 && ch->u_pend[1] == 0 && ch->held_len[1] == 0 &&
	    px__xfer_held(ch, 1) == 0 && !px__xfer_blocked(ch) && px__strict_held(ch, 1) == 0) {
		if (!peer_closed(ch, 1)) {
			send_exit(ch);
			eof_tech(ch, "target closed");
		}
		close_target(ch, "target closed");
		close_tech(ch);
		px__sshpoll_update(px__conn_poll(c, 1));
		px__sshpoll_update(px__conn_poll(c, 0));
	} else if (peer_closed(ch, 1)) {
		if (!close_sent(ch, 0)) {
			close_target(ch, "technician closed");
			px__sshpoll_update(px__conn_poll(c, 0));
		}
		close_tech(ch);
	}
}

void
px__chan_step(struct px_chan *ch)
{
	struct px_conn *c = ch->c;

	if (ch->st == CH_WAIT) {
		step_wait(ch);
		if (ch->st == CH_CLOSING)
			return;		/* closed while waiting: done on the next step */
	}
	if (ch->st == CH_OPENING) {
		int fwd = ch->kind == KIND_FORWARD;
		int rc = fwd ? px__chan_fwd_open(ch) : ssh_channel_open_session(ch->uc);
		px__sshpoll_update(px__conn_poll(c, 0));
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK && fwd) {
			px_log(PX_LOG_WARN, px__conn_id(c), "port forwarding to %.200s:%d refused by the target: %s",
			    ch->fwd_host, ch->fwd_port, ssh_get_error(px__conn_ssh(c, 0)));
			(void)record_simple(ch, EV_CHANNEL, "open-failed");
			px__chan_abort(ch, NULL);
		} else if (rc != SSH_OK) {
			px_log(PX_LOG_WARN, px__conn_id(c), "channel open on target failed: %s", ssh_get_error(px__conn_ssh(c, 0)));
			px__chan_abort(ch, "escort: the target refused a session channel\n");
		} else if (!fwd) {
			record_simple(ch, EV_CHANNEL, "open");
			px__chan_set_state(ch, CH_OPEN, "target channel open");
		} else if (px__chan_fwd_record_open(ch) != PX_OK) {
			px__chan_abort(ch, NULL);	/* never relay an unrecorded forward */
		} else {
			px__chan_set_state(ch, CH_OPEN, "target channel open");
			/* no request: the bytes flow now */
			px__chan_set_state(ch, CH_RELAY, "forward open on the target");
		}
	}
	if (ch->st == CH_OPEN || ch->st == CH_RELAY) {
		while (replay_one(ch))
			;
		if (ch->st == CH_OPEN)
			px__strict_step(ch);	/* a strict shell's boot deadline runs from its decision */
		if (ch->st == CH_OPEN)
			return;		/* data flows once the main request is accepted */
		if (ch->st == CH_RELAY)
			step_relay(ch);
	}
	if (ch->st == CH_LOCAL)
		step_local(ch);
	if (ch->st == CH_CLOSING) {
		if (!close_sent(ch, 1))
			close_tech(ch);
		if (px__xfer_blocked(ch))
			px__xfer_drain(ch);
		if (peer_closed(ch, 1) && close_sent(ch, 1) &&
		    (ch->uc == NULL || peer_closed(ch, 0) || !px__conn_up_ready(c)) &&
		    (!px__xfer_blocked(ch) || !px__conn_rec_ready(c) || px__conn_rec_stalled(c)))
			px__chan_set_state(ch, CH_DONE, "both sides closed");
	}
}

size_t
px__chan_buffered(const struct px_chan *ch)
{
	return ch->t_pend + ch->u_pend[0] + ch->u_pend[1] + ch->held_len[0] + ch->held_len[1] +
	    px__xfer_held(ch, 0) + px__xfer_held(ch, 1) + px__strict_held(ch, 0) + px__strict_held(ch, 1) +
	    (px__xfer_blocked(ch) ? 1 : 0);
}

int
px__chan_busy(const struct px_chan *ch)
{
	return (ch->st == CH_OPEN || ch->st == CH_RELAY) &&
	    (px__chan_buffered(ch) > 0 || peer_closed(ch, 0));
}

int
px__chan_open_by_tech(const struct px_chan *ch)
{
	return ch->st != CH_DONE && ch->st != CH_CLOSING && ch->st != CH_LOCAL &&
	    !peer_closed(ch, 1);
}

void
px__chan_free(struct px_chan *ch)
{
	struct px_req *r;

	if (ch == NULL)
		return;
	if (ch->tc != NULL) {
		ssh_remove_channel_callbacks(ch->tc, &ch->tcb);
		ssh_channel_free(ch->tc);
	}
	if (ch->uc != NULL) {
		ssh_remove_channel_callbacks(ch->uc, &ch->ucb);
		ssh_channel_free(ch->uc);
	}
	while ((r = req_pop(ch)) != NULL)
		req_free(r);
	req_free(ch->inflight);
	px__join_free(ch);
	px__observe_free(ch);
	px__xfer_free(ch);
	px__strict_free(ch);
	px__exec_approve_free(ch);
	free(ch->held[0]);
	free(ch->held[1]);
	for (int k = 0; k < 3; k++)
		free(ch->stash[k]);
	free(ch->local_msg);
	free(ch->fwd_host);
	free(ch->fwd_orig);
	px__pwm_free(ch->pwm);
	free(ch);
}
