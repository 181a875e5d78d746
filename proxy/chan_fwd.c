/* chan_fwd: local port forwarding through the target (chan_fwd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/chan_fwd.h"
#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/px_error.h"

int
px__chan_fwd_allowed(const struct px_conn *c)
{
	const struct pol_session *s = px__conn_session(c);

	return px__conn_current_state(c) == CONN_RELAY && s != NULL && s->forward == POL_FORWARD_LOCAL;
}

struct px_chan *
px__chan_fwd_accept(struct px_conn *c, ssh_message m)
{
	const char *host = ssh_message_channel_request_open_destination(m);
	const char *orig = ssh_message_channel_request_open_originator(m);
	int port = ssh_message_channel_request_open_destination_port(m);
	int oport = ssh_message_channel_request_open_originator_port(m);
	char *h, *o;
	ssh_channel tc;
	struct px_chan *ch;

	if (host == NULL || host[0] == '\0' || port <= 0 || port > 65535)
		return NULL;
	h = strdup(host);
	o = strdup(orig != NULL ? orig : "");
	if (h == NULL || o == NULL || (tc = ssh_message_channel_request_open_reply_accept(m)) == NULL) {
		free(h);
		free(o);
		return NULL;
	}
	if ((ch = px__chan_new(c, tc)) == NULL) {
		ssh_channel_close(tc);
		ssh_channel_free(tc);
		free(h);
		free(o);
		return NULL;
	}
	ch->kind = KIND_FORWARD;
	ch->fwd_host = h;
	ch->fwd_port = port;
	ch->fwd_orig = o;
	ch->fwd_orig_port = oport;
	px_log(PX_LOG_INFO, px__conn_id(c), "port forwarding (direct-tcpip) to %.200s:%d from %.64s:%d allowed for %s on %s: forward local",
	    h, port, o, oport, px__conn_user(c), px__conn_target(c));
	return ch;
}

int
px__chan_fwd_decide(struct px_chan *ch)
{
	struct px_conn *c = ch->c;
	const struct pol_session *s = px__conn_session(c);
	char what[300];
	struct buf b;
	int built, rc;

	snprintf(what, sizeof(what), "direct-tcpip %.200s:%d", ch->fwd_host, ch->fwd_port);
	buf_init(&b, EV_PAYLOAD_MAX);
	built = ev_fields_put_str(&b, EVF_VERDICT, "allow");
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_COMMAND, what);
	if (built == REC_OK && s != NULL && s->rule_names != NULL)
		built = ev_fields_put_str(&b, EVF_RULE, s->rule_names);
	if (built == REC_OK && s != NULL && s->nrules == 1)
		built = ev_fields_put_u64(&b, EVF_RULE_LINE, (uint64_t)pol_rule_line(s->rules[0]));
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_REASON, "forward local");
	if (built == REC_OK && px__conn_policy(c) != NULL)
		built = ev_fields_put_str(&b, EVF_POLICY_HASH, policy_hash(px__conn_policy(c)));
	rc = built == REC_OK ? px__conn_record(c, EV_DECISION, ch->id, buf_ptr(&b), buf_len(&b)) : PX_EINVAL;
	if (rc != PX_OK && rc != PX_EFULL) {
		px_log(PX_LOG_ERR, px__conn_id(c), "a forward's decision could not be recorded (%s); ending session",
		    px__strerror(rc));
		px__conn_end(c, "\r\nescort: a decision could not be recorded; session ended\r\n");
	}
	buf_free(&b);
	return rc;
}

int
px__chan_fwd_open(struct px_chan *ch)
{
	return ssh_channel_open_forward(ch->uc, ch->fwd_host, ch->fwd_port,
	    ch->fwd_orig[0] != '\0' ? ch->fwd_orig : "127.0.0.1", ch->fwd_orig_port);
}

int
px__chan_fwd_record_open(struct px_chan *ch)
{
	char dst[300], src[100];
	struct buf b;
	int built, rc;

	snprintf(dst, sizeof(dst), "%.200s:%d", ch->fwd_host, ch->fwd_port);
	snprintf(src, sizeof(src), "%.64s:%d", ch->fwd_orig, ch->fwd_orig_port);
	buf_init(&b, 1024);
	built = ev_fields_put_str(&b, EVF_CH_ACTION, "open");
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_CH_TYPE, "direct-tcpip");
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_TARGET_ADDR, dst);
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_CLIENT_ADDR, src);
	rc = px__conn_record_or_end(ch->c, EV_CHANNEL, ch->id, buf_ptr(&b), buf_len(&b), built);
	buf_free(&b);
	return rc;
}
