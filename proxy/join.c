/* join: an escort's live view of a supervised session (join.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/escort_cmd.h"
#include "proxy/join.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/sshpoll.h"
#include "proxy/watch.h"

#define JOIN_CHUNK (32 * 1024)  /* bytes taken from the ring at a time */
#define JOIN_NOTE_SECS 5        /* an action's answer stays on the status line */

/* Where the bytes written to the escort stand: the status line is drawn
 * only between sequences and characters, never inside one. */
enum { ST_GROUND, ST_ESC, ST_INTER, ST_CSI, ST_STR, ST_STR_ESC };

struct px_join {
	struct px_chan *ch;             /* NULL once px__join_free ran */
	struct px_watch *w;             /* referenced */
	void *follow;                   /* px__reg_follow's, for a session on
	                                 * another proxy; NULL for a local one */
	char watcher[PX_REG_WATCHER_MAX]; /* the remote watcher's id, that
	                                 * the LEAVE names; "" for a local one */
	struct px_watcher x;
	int attached;
	uv_async_t wake;                /* the watch's wake-up, any thread */
	uv_timer_t tick;                /* the status line's clock */
	int handles;                    /* open: freed when the last is closed */
	char id[PX_REG_ID_MAX];
	char user[PX_REG_NAME_MAX];
	char target[PX_REG_NAME_MAX];
	time_t start;
	int rows, cols;                 /* the escort's terminal */
	char *out;                      /* a redraw not written yet */
	size_t out_len, out_off;
	int st, utf;                    /* stream state (ST_*), UTF-8 bytes to come */
	int status_due;
	unsigned long redraws;          /* the first is the join's */
	unsigned long expected;         /* redraws that are not falling behind:
	                                 * 1, and 2 on another proxy (the copy's
	                                 * empty screen, then the owner's) */
	char note[200];                 /* the last key's answer */
	time_t note_until;
	int left;                       /* LEAVE posted */
	int ending;                     /* the view ended: the channel answers locally */
};

/* ---- the stream's state --------------------------------------------------------- */

static void
track(struct px_join *j, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];

		switch (j->st) {
		case ST_GROUND:
			if (b == 0x1b)
				j->st = ST_ESC, j->utf = 0;
			else if (b >= 0xc0 && b < 0xf8)
				j->utf = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
			else if ((b & 0xc0) == 0x80 && j->utf > 0)
				j->utf--;
			else
				j->utf = 0;
			break;
		case ST_ESC:
			j->st = b == '[' ? ST_CSI : (b == ']' || b == 'P' || b == '_' || b == '^') ? ST_STR :
			    (b >= 0x20 && b <= 0x2f) ? ST_INTER : ST_GROUND;
			break;
		case ST_INTER:
			if (b >= 0x30 && b <= 0x7e)
				j->st = ST_GROUND;
			break;
		case ST_CSI:
			if (b == 0x1b)
				j->st = ST_ESC;
			else if (b >= 0x40 && b <= 0x7e)
				j->st = ST_GROUND;
			break;
		case ST_STR:
			if (b == 0x07)
				j->st = ST_GROUND;
			else if (b == 0x1b)
				j->st = ST_STR_ESC;
			break;
		default:	/* ST_STR_ESC */
			j->st = b == '\\' ? ST_GROUND : ST_STR;
			break;
		}
	}
}

/* The session as the status line shows it: from the registry, or, on
 * another proxy, as last read for this view (no waiting on the network). */
static int
session(struct px_join *j, struct px_reg_session *s)
{
	struct px_registry *reg = px__conn_registry(j->ch->c);

	return j->follow != NULL ? px__reg_follow_get(reg, j->follow, s) : px__reg_get(reg, j->id, s);
}

/* ---- writing to the escort -------------------------------------------------------- */

/* Bytes the escort's channel takes now: its window, nothing while libssh
 * still holds unsent bytes (a stopped escort stops here). */
static size_t
room(struct px_join *j)
{
	struct px_chan *ch = j->ch;
	ssh_session s = px__conn_ssh(ch->c, 1);

	if (ch->tc == NULL || ch->half[HALF_T_OUT] != HS_OPEN || px_half_closed(ch->half[HALF_T_IN]) ||
	    (ssh_get_status(s) & (SSH_WRITE_PENDING | SSH_CLOSED | SSH_CLOSED_ERROR)) != 0)
		return 0;
	return ssh_channel_window_size(ch->tc);
}

/* Writes n bytes that fit (room). */
static void
put(struct px_join *j, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (ssh_channel_write(j->ch->tc, p, (uint32_t)n) < 0)
		px_log(PX_LOG_INFO, px__conn_id(j->ch->c), "join %s: write to the escort failed", j->id);
	track(j, p, n);
}

/* The status line: who, where, how long, state, a pending command, keys. */
static void
status_text(struct px_join *j, const struct px_reg_session *s, char *t, size_t tlen)
{
	long d = (long)(time(NULL) - j->start);
	char state[PX_REG_NAME_MAX + 16];
	int off;

	if (s->state == PX_REG_PAUSED)
		snprintf(state, sizeof(state), "PAUSED by %s", s->paused_by);
	else
		snprintf(state, sizeof(state), "%s", px__reg_state_name(s->state));
	off = snprintf(t, tlen, " %s on %s | %ld:%02ld:%02ld | %s | ", j->user, j->target, d / 3600,
	    d / 60 % 60, d % 60, state);
	if (off < 0 || (size_t)off >= tlen)
		return;
	if (time(NULL) < j->note_until)
		snprintf(t + off, tlen - (size_t)off, "%s", j->note);
	else if (s->pending[0] != '\0')
		snprintf(t + off, tlen - (size_t)off, "PENDING a approve, d deny: %s", s->pending);
	else
		snprintf(t + off, tlen - (size_t)off, "p %s  k kill  q leave",
		    s->state == PX_REG_PAUSED ? "resume" : "pause");
	for (char *p = t; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

/* Draws the status line on the last row (the scroll region above it set
 * again: the technician's programs may have changed it), cursor and
 * attributes kept.  Only between sequences, with room for it. */
static void
draw_status(struct px_join *j, const struct px_reg_session *s)
{
	char text[600], line[1400];
	int n;

	if (j->rows < 3 || j->st != ST_GROUND || j->utf != 0)
		return;
	status_text(j, s, text, sizeof(text));
	if ((int)strlen(text) > j->cols)
		text[j->cols > 0 ? j->cols : 0] = '\0';
	n = snprintf(line, sizeof(line), "\x1b" "7\x1b[1;%dr\x1b[%d;1H\x1b[0;7m%-*s\x1b[0m\x1b" "8",
	    j->rows - 1, j->rows, j->cols < 500 ? j->cols : 500, text);
	if (n <= 0 || (size_t)n >= sizeof(line) || room(j) < (size_t)n)
		return;
	put(j, line, (size_t)n);
	j->status_due = 0;
}

/* Ends the view: leaves, says why, the channel answers and closes. */
static void
end_view(struct px_join *j, const char *why)
{
	char msg[400];

	if (j->ending)
		return;
	j->ending = 1;
	if (!j->left) {
		struct px_reg_action a;

		memset(&a, 0, sizeof(a));
		a.verb = PX_REG_LEAVE;
		snprintf(a.id, sizeof(a.id), "%s", j->id);
		snprintf(a.escort, sizeof(a.escort), "%s", px__conn_user(j->ch->c));
		snprintf(a.watcher, sizeof(a.watcher), "%s", j->watcher);
		(void)px__reg_post(px__conn_registry(j->ch->c), &a, NULL);
		j->left = 1;
		px_log(PX_LOG_INFO, px__conn_id(j->ch->c), "escort %s left session %s: %s",
		    px__conn_user(j->ch->c), j->id, why);
	}
	if (j->attached) {
		px__watch_detach(j->w, &j->x);
		j->attached = 0;
	}
	uv_timer_stop(&j->tick);
	snprintf(msg, sizeof(msg), "\x1b[0m\x1b[r\x1b[%d;1H\r\nescort: %s\r\n", j->rows > 0 ? j->rows : 1, why);
	px__chan_local(j->ch, msg, 1, 0);
}

void
px__join_step(struct px_chan *ch)
{
	struct px_join *j = ch->join;
	struct px_reg_session s;
	static __thread uint8_t buf[JOIN_CHUNK];

	if (j == NULL || j->ending || px__conn_current_state(ch->c) != CONN_LOCAL)
		return;
	for (int i = 0; i < 64; i++) {
		size_t r = room(j), k;
		char *redraw;
		size_t rlen;
		int ended, trows, tcols;

		if (j->out != NULL) {
			k = j->out_len - j->out_off < r ? j->out_len - j->out_off : r;
			put(j, j->out + j->out_off, k);
			j->out_off += k;
			if (j->out_off < j->out_len)
				break;
			free(j->out);
			j->out = NULL;
			continue;
		}
		if (r == 0)
			break;
		k = px__watch_take(j->w, &j->x, buf, r < sizeof(buf) ? r : sizeof(buf), j->rows - 1, &redraw,
		    &rlen, &ended, &trows, &tcols);
		if (redraw != NULL) {
			/* the scroll region first: setting it moves the cursor home */
			char pre[32];
			int n = snprintf(pre, sizeof(pre), "\x1b[0m\x1b[1;%dr", j->rows > 2 ? j->rows - 1 : j->rows);
			if ((j->out = malloc(rlen + (size_t)n)) == NULL) {
				free(redraw);
				break;
			}
			memcpy(j->out, pre, (size_t)n);
			memcpy(j->out + n, redraw, rlen);
			free(redraw);
			j->out_len = rlen + (size_t)n;
			j->out_off = 0;
			j->st = ST_GROUND, j->utf = 0;	/* a redraw starts afresh */
			if (++j->redraws > j->expected)
				px_log(j->redraws == j->expected + 1 ? PX_LOG_INFO : PX_LOG_DEBUG, px__conn_id(ch->c),
				    "escort %s fell behind session %s (or resized): redrawn from its screen "
				    "model (%lu times)", px__conn_user(ch->c), j->id, j->redraws - j->expected);
			j->status_due = 1;
			continue;
		}
		put(j, buf, k);
		if (ended && k == 0) {
			/* a follow says why its copy ended ("the session
			 * ended: proxy B stopped answering ...") */
			if (j->follow != NULL && session(j, &s) == PX_OK && s.state == PX_REG_ENDED &&
			    s.ended[0] != '\0')
				end_view(j, s.ended);
			else
				end_view(j, "the session ended");
			return;
		}
		if (k == 0)
			break;
	}
	if (j->status_due && j->out == NULL) {
		if (session(j, &s) != PX_OK) {
			end_view(j, "the session ended");
			return;
		}
		draw_status(j, &s);
	}
	px__sshpoll_update(px__conn_poll(ch->c, 1));
}

/* ---- keys ----------------------------------------------------------------------------- */

static void
act(struct px_join *j, enum px_reg_verb verb, const char *reason)
{
	char msg[768];
	size_t n;

	(void)px__escort_act(j->ch->c, j->id, verb, reason, msg, sizeof(msg));
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	snprintf(j->note, sizeof(j->note), "%.199s", strncmp(msg, "escort: ", 8) == 0 ? msg + 8 : msg);
	j->note_until = time(NULL) + JOIN_NOTE_SECS;
	j->status_due = 1;
}

size_t
px__join_input(struct px_chan *ch, const uint8_t *p, size_t n)
{
	struct px_join *j = ch->join;
	struct px_reg_session s;

	for (size_t i = 0; i < n && !j->ending; i++) {
		switch (p[i]) {
		case 'a':
			act(j, PX_REG_APPROVE, NULL);
			break;
		case 'd':
			act(j, PX_REG_DENY, NULL);
			break;
		case 'p':
			if (session(j, &s) == PX_OK)
				act(j, s.state == PX_REG_PAUSED ? PX_REG_RESUME : PX_REG_PAUSE, NULL);
			break;
		case 'k':
			act(j, PX_REG_KILL, "killed by escort");
			break;
		case 'q':
			end_view(j, "you left the session");
			break;
		default:
			break;	/* nothing the escort types goes anywhere */
		}
	}
	if (!j->ending)
		uv_async_send(&j->wake);	/* the answer on the status line */
	return n;
}

void
px__join_resize(struct px_chan *ch, int rows, int cols)
{
	struct px_join *j = ch->join;

	if (j->ending)
		return;
	j->rows = rows, j->cols = cols;
	free(j->out);
	j->out = NULL;
	if (j->attached)
		px__watch_redraw(j->w, &j->x);
	uv_async_send(&j->wake);
}

/* ---- lifetime ----------------------------------------------------------------------- */

static void
handle_closed(uv_handle_t *h)
{
	struct px_join *j = h->data;

	if (--j->handles == 0)
		free(j);
}

/* The watch's wake-up and the clock: step the escort's connection (which
 * steps this view through chan.c; it may free the channel, and so call
 * px__join_free). */
static void
on_wake(uv_async_t *h)
{
	struct px_join *j = h->data;

	if (j->ch != NULL)
		px__conn_step(j->ch->c);
}

static void
on_tick(uv_timer_t *t)
{
	struct px_join *j = t->data;

	if (j->ch == NULL)
		return;
	j->status_due = 1;
	px__conn_step(j->ch->c);
}

/* The watch's wake function: any thread, under the watch's mutex. */
static void
wake(void *ud)
{
	uv_async_send(ud);
}

int
px__join_start(struct px_chan *ch, const struct px_reg_session *s, struct px_watch *w, void *follow,
    const char *watcher, int rows, int cols)
{
	struct px_join *j = calloc(1, sizeof(*j));
	uv_loop_t *loop = px__conn_loop(ch->c);

	if (j == NULL) {
		px__watch_unref(w);
		px__reg_follow_close(px__conn_registry(ch->c), follow);
		return PX_ENOMEM;
	}
	j->w = w;
	j->follow = follow;
	snprintf(j->watcher, sizeof(j->watcher), "%s", watcher != NULL ? watcher : "");
	j->expected = follow != NULL ? 2 : 1;
	j->ch = ch;
	snprintf(j->id, sizeof(j->id), "%s", s->id);
	snprintf(j->user, sizeof(j->user), "%s", s->user);
	snprintf(j->target, sizeof(j->target), "%s", s->target);
	j->start = s->start;
	j->rows = rows, j->cols = cols;
	j->left = 0;
	if (uv_async_init(loop, &j->wake, on_wake) != 0) {
		px__watch_unref(w);
		px__reg_follow_close(px__conn_registry(ch->c), follow);
		free(j);
		return PX_ENOMEM;
	}
	j->wake.data = j;
	j->handles = 1;
	uv_timer_init(loop, &j->tick);
	j->tick.data = j;
	j->handles++;
	j->x.wake = wake;
	j->x.ud = &j->wake;
	ch->join = j;
	if (px__watch_attach(w, &j->x) != 0) {
		j->left = 1;	/* the caller leaves */
		px__join_free(ch);
		return PX_ENOMEM;
	}
	j->attached = 1;
	j->status_due = 1;
	/* The first tick lands somewhere in the second after the next one, by
	 * the view's address: views joined together (a script joining many
	 * sessions) do not all redraw in the same loop iteration every second,
	 * which would hold up every session of the worker at once. */
	uv_timer_start(&j->tick, on_tick, 1000 + (uint64_t)((uintptr_t)j / 64 % 1000), 1000);
	uv_async_send(&j->wake);
	px_log(PX_LOG_INFO, px__conn_id(ch->c), "escort %s joined session %s (%s on %s%s%s), terminal %dx%d",
	    px__conn_user(ch->c), j->id, j->user, j->target, follow != NULL ? ", proxy " : "",
	    follow != NULL ? s->proxy : "", cols, rows);
	return PX_OK;
}

void
px__join_free(struct px_chan *ch)
{
	struct px_join *j = ch->join;

	if (j == NULL)
		return;
	if (!j->ending && !j->left) {
		struct px_reg_action a;

		memset(&a, 0, sizeof(a));
		a.verb = PX_REG_LEAVE;
		snprintf(a.id, sizeof(a.id), "%s", j->id);
		snprintf(a.escort, sizeof(a.escort), "%s", px__conn_user(ch->c));
		snprintf(a.watcher, sizeof(a.watcher), "%s", j->watcher);
		(void)px__reg_post(px__conn_registry(ch->c), &a, NULL);
		px_log(PX_LOG_INFO, px__conn_id(ch->c), "escort %s left session %s: the connection closed",
		    px__conn_user(ch->c), j->id);
	}
	if (j->attached)
		px__watch_detach(j->w, &j->x);
	px__watch_unref(j->w);
	px__reg_follow_close(px__conn_registry(ch->c), j->follow);
	j->follow = NULL;
	free(j->out);
	ch->join = NULL;
	j->ch = NULL;
	uv_timer_stop(&j->tick);
	uv_close((uv_handle_t *)&j->wake, handle_closed);
	uv_close((uv_handle_t *)&j->tick, handle_closed);
}
