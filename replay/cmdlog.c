/* cmdlog.c: the decision rows of a session and the exit status of each
 * (cmdlog.h).  Shell commands and channel requests have separate exit
 * statuses: see the header. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"

/* A malloc'd copy of string field tag of e, "" when absent. */
static char *
cmdlog_str(const struct ev *e, uint16_t tag)
{
	const uint8_t *v;
	size_t len;
	char *s;

	if (ev_fields_find(e->data, e->len, tag, &v, &len) != REC_OK)
		len = 0;
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, v, len);
	s[len] = '\0';
	return s;
}

/* The last CH_ACTION seen on channel ch ("" when none). */
static const char *
cmdlog_chan_action(const struct replay_cmdlog *l, uint32_t ch)
{
	size_t i;

	for (i = 0; i < l->nch; i++)
		if (l->ch[i].chan == ch)
			return l->ch[i].action;
	return "";
}

/* Notes the CH_ACTION of a CHANNEL event (exec, shell, subsystem, pty,
 * ...: the request actions replace each other). */
static int
cmdlog_add_channel(struct replay_cmdlog *l, const struct ev *e)
{
	struct replay_cmd_chan *nv;
	char action[16];
	size_t i, cap;

	if (ev_fields_get_str(e->data, e->len, EVF_CH_ACTION, action,
	    sizeof(action)) != REC_OK || (strcmp(action, "exec") != 0 &&
	    strcmp(action, "shell") != 0 && strcmp(action, "subsystem") != 0))
		return 0;
	for (i = 0; i < l->nch; i++)
		if (l->ch[i].chan == e->channel)
			break;
	if (i == l->nch) {
		if (l->nch == l->capch) {
			cap = l->capch ? 2 * l->capch : 8;
			if ((nv = realloc(l->ch, cap * sizeof(*nv))) == NULL)
				return REC_ENOMEM;
			l->ch = nv;
			l->capch = cap;
		}
		l->ch[l->nch++].chan = e->channel;
	}
	snprintf(l->ch[i].action, sizeof(l->ch[i].action), "%s", action);
	/* the decision may come first: the channel's request row */
	for (i = l->n; i-- > 0;)
		if (l->v[i].chan == e->channel && l->v[i].cmd_seq == 0) {
			l->v[i].in_exec = strcmp(action, "exec") == 0 &&
			    strcmp(l->v[i].mode, "exec") == 0;
			break;
		}
	return 0;
}

/* INPUT on the channel of an exec request: kept, up to
 * REPLAY_CMD_STDIN_MAX bytes. */
static int
cmdlog_add_input(struct replay_cmdlog *l, const struct ev *e)
{
	struct replay_cmd_row *x = NULL;
	size_t i, take;

	for (i = l->n; i-- > 0;)
		if (l->v[i].chan == e->channel && l->v[i].cmd_seq == 0) {
			x = &l->v[i];
			break;
		}
	if (x == NULL || !x->in_exec)
		return 0;
	x->in_total += e->len;
	take = x->in_len < REPLAY_CMD_STDIN_MAX ? REPLAY_CMD_STDIN_MAX -
	    x->in_len : 0;
	if (take > e->len)
		take = e->len;
	if (take == 0)
		return 0;
	if (x->in == NULL && (x->in = malloc(REPLAY_CMD_STDIN_MAX)) == NULL)
		return REC_ENOMEM;
	memcpy(x->in + x->in_len, e->data, take);
	x->in_len += take;
	return 0;
}

int
replay_cmd_stdin_is_text(const struct replay_cmd_row *x)
{
	size_t i, k;

	if (x->in_total != x->in_len)
		return 0;
	for (i = 0; i < x->in_len; i += k) {
		k = replay_utf8_len(x->in + i, x->in_len - i);
		if (k == 0 || (k == 1 && x->in[i] < 0x20 && x->in[i] != '\t' &&
		    x->in[i] != '\n' && x->in[i] != '\r') || (k == 1 &&
		    x->in[i] == 0x7f) || (k == 2 && x->in[i] == 0xc2 &&
		    x->in[i + 1] < 0xa0))
			return 0;
	}
	return 1;
}

static int
cmdlog_add_decision(struct replay_cmdlog *l, const struct ev *e)
{
	struct replay_cmd_row *x, *nv;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 16;
		if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL)
			return REC_ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	x = &l->v[l->n];
	memset(x, 0, sizeof(*x));
	x->ev_seq = e->seq;
	x->t_ns = e->t_ns;
	x->chan = e->channel;
	ev_fields_get_str(e->data, e->len, EVF_VERDICT, x->verdict, sizeof(x->verdict));
	ev_fields_get_str(e->data, e->len, EVF_RULE, x->rule, sizeof(x->rule));
	ev_fields_get_str(e->data, e->len, EVF_APPROVER, x->approver,
	    sizeof(x->approver));
	ev_fields_get_str(e->data, e->len, EVF_REASON, x->reason, sizeof(x->reason));
	ev_fields_get_u64(e->data, e->len, EVF_RULE_LINE, &x->rule_line);
	ev_fields_get_u64(e->data, e->len, EVF_CMD_SEQ, &x->cmd_seq);
	replay_cmd_mode(e, x->mode, sizeof(x->mode));
	x->in_exec = l->want_stdin && x->cmd_seq == 0 &&
	    strcmp(x->mode, "exec") == 0 &&
	    strcmp(cmdlog_chan_action(l, e->channel), "exec") == 0;
	x->command = cmdlog_str(e, EVF_COMMAND);
	x->rendered = cmdlog_str(e, EVF_RENDERED);
	if (x->command == NULL || x->rendered == NULL) {
		free(x->command);
		free(x->rendered);
		return REC_ENOMEM;
	}
	l->n++;
	return 0;
}

void
replay_cmd_mode(const struct ev *e, char *out, size_t outsz)
{
	uint64_t cmd_seq = 0;

	if (ev_fields_get_str(e->data, e->len, EVF_SHELL_MODE, out, outsz) ==
	    REC_OK && out[0] != '\0')
		return;
	ev_fields_get_u64(e->data, e->len, EVF_CMD_SEQ, &cmd_seq);
	snprintf(out, outsz, "%s", cmd_seq != 0 ? "shell" : "exec");
}

int
replay_cmd_is_shell(const struct replay_cmd_row *x)
{
	return x->cmd_seq != 0 || strcmp(x->mode, "exec") != 0;
}

/* The row an EXIT event belongs to, or NULL: the shell command with its
 * CMD_SEQ on its channel, else the channel's last request row. */
static struct replay_cmd_row *
cmdlog_exit_row(struct replay_cmdlog *l, const struct ev *e)
{
	uint64_t cmd_seq = 0;
	size_t i;

	ev_fields_get_u64(e->data, e->len, EVF_CMD_SEQ, &cmd_seq);
	for (i = l->n; i-- > 0;) {
		struct replay_cmd_row *x = &l->v[i];

		if (x->chan != e->channel)
			continue;
		if (cmd_seq != 0 && x->cmd_seq == cmd_seq)
			return x->has_exit ? NULL : x;
		if (cmd_seq == 0 && !replay_cmd_is_shell(x))
			return x->has_exit ? NULL : x;
	}
	return NULL;
}

int
replay_cmdlog_add_event(struct replay_cmdlog *l, const struct ev *e)
{
	struct replay_cmd_row *x;

	if (e->type == EV_DECISION)
		return cmdlog_add_decision(l, e);
	if (l->want_stdin && e->type == EV_CHANNEL)
		return cmdlog_add_channel(l, e);
	if (l->want_stdin && e->type == EV_INPUT)
		return cmdlog_add_input(l, e);
	if (e->type != EV_EXIT || (x = cmdlog_exit_row(l, e)) == NULL)
		return 0;
	x->has_exit = 1;
	x->has_status = ev_fields_get_u64(e->data, e->len, EVF_EXIT_STATUS,
	    &x->exit_status) == REC_OK;
	ev_fields_get_str(e->data, e->len, EVF_EXIT_SIGNAL, x->exit_signal,
	    sizeof(x->exit_signal));
	return 0;
}

void
replay_cmd_exit_str(const struct replay_cmd_row *x, char *out, size_t outsz)
{
	if (x->has_status)
		snprintf(out, outsz, "%" PRIu64, x->exit_status);
	else if (x->exit_signal[0])
		snprintf(out, outsz, "SIG%s", x->exit_signal);
	else
		snprintf(out, outsz, "-");
}

int
replay_cmd_find(struct tr *r, uint64_t n, uint64_t *ev_seq, uint64_t *t_ns)
{
	uint64_t k = 0;
	struct ev e;
	int x;

	while ((x = tr_next(r, &e)) == 1) {
		if (e.type != EV_DECISION || ++k != n)
			continue;
		*ev_seq = e.seq;
		*t_ns = e.t_ns;
		return 1;
	}
	return x;
}

int
replay_cmd_locate(struct tr *r, const char *cmd, const char *id, uint64_t n,
    uint64_t *ev_seq, uint64_t *t_ns)
{
	int x = replay_cmd_find(r, n, ev_seq, t_ns);

	if (x < 0) {
		replay_err("%s: %s: %s at offset %llu", cmd, replay_esc(id),
		    rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
		return replay_rec_status(x);
	}
	if (x == 0) {
		replay_err("%s: %s: no command number %" PRIu64 " (the numbers "
		    "of \"commands %s\")", cmd, id, n, id);
		return 1;
	}
	if ((x = tr_seek_seq(r, 1)) != REC_OK) {
		replay_err("%s: %s: %s", cmd, replay_esc(id), rec_strerror(x));
		return replay_rec_status(x);
	}
	return 0;
}

int
replay_cmd_parse_n(const char *s, uint64_t *n)
{
	char *end;

	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	*n = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

void
replay_cmdlog_free(struct replay_cmdlog *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].command);
		free(l->v[i].rendered);
		free(l->v[i].in);
	}
	free(l->v);
	free(l->ch);
	memset(l, 0, sizeof(*l));
}
