/* chan_xfer: SFTP filter and scp watcher on a channel pair; FILE events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/xfer_chan.h"
#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/xfer_scp.h"
#include "proxy/xfer_sftp_filter.h"

/* Bytes the SFTP filter may hold toward one side before input pauses. */
#define SFTP_HOLD (256 * 1024)
/* Upload content per FILE content event. */
#define CONTENT_CHUNK (64 * 1024)

int
px__xfer_check(void *ctx, enum pol_xfer_op op, const char *path, const char *path2, char *msg,
    size_t cap)
{
	struct px_chan *ch = ctx;
	struct pol_decision d;
	int r, ok;

	if (px__conn_session(ch->c) == NULL) {
		snprintf(msg, cap, "escort: no admitted session");
		return 0;
	}
	r = policy_decide_transfer(px__conn_session(ch->c), op, path, path2, time(NULL), &d);
	ok = r == 0 && d.verdict == POL_ALLOW;
	if (!ok) {
		snprintf(msg, cap, "escort: %s", d.reason[0] ? d.reason : "refused by policy");
		px_log(PX_LOG_INFO, px__conn_id(ch->c), "transfer refused: %s %s%s%s: %s", pol_xfer_op_name(op),
		    path, path2 ? " " : "", path2 ? path2 : "", d.reason);
	}
	pol_decision_free(&d);
	return ok;
}

int
px__xfer_start_sftp(struct px_chan *ch, enum xfer_mode mode, size_t content_limit)
{
	struct sftp_filter_config cfg;

	sftp_filter_config_init(&cfg);
	cfg.mode = mode;
	cfg.content_limit = content_limit;
	cfg.check.fn = px__xfer_check;
	cfg.check.ctx = ch;
	cfg.ids.next = px__conn_file_ids(ch->c);
	if ((ch->sftp = sftp_filter_new(&cfg)) == NULL)
		return PX_ENOMEM;
	return PX_OK;
}

int
px__xfer_start_scp(struct px_chan *ch, const struct scp_cmd *cmd, size_t content_limit)
{
	struct xfer_check check = { px__xfer_check, ch };
	struct xfer_ids ids = { px__conn_file_ids(ch->c) };

	if ((ch->scp = scp_watch_new(cmd, content_limit)) == NULL)
		return PX_ENOMEM;
	scp_watch_set_check(ch->scp, &check);
	scp_watch_set_ids(ch->scp, &ids);
	return PX_OK;
}

/* ---- records -> FILE events ------------------------------------------------- */

static const char *
kind_name(const struct px_chan *ch)
{
	return ch->sftp != NULL ? "sftp" : "scp";
}

/* Records the summary (or the start record) of r.  Returns PX_OK,
 * PX_EFULL (retry later) or another error (the record cannot be
 * recorded: PX_EINVAL when it could not be built). */
static int
record_summary(struct px_chan *ch, const struct xfer_record *r)
{
	int start = r->outcome == XFER_OUT_STARTED;
	struct buf b;
	int rc = REC_OK;

	buf_init(&b, 64 * 1024);
	if (rc == REC_OK)
		rc = ev_fields_put_str(&b, EVF_KIND, kind_name(ch));
	if (rc == REC_OK)
		rc = ev_fields_put_str(&b, EVF_CH_ACTION, xfer_op_name(r->op));
	if (rc == REC_OK)
		rc = ev_fields_put_str(&b, EVF_VERDICT, xfer_outcome_name(r->outcome));
	if (rc == REC_OK)
		rc = ev_fields_put_str(&b, EVF_PATH, r->path ? r->path : "");
	if (rc == REC_OK && r->target != NULL)
		rc = ev_fields_put_str(&b, EVF_PATH, r->target);
	if (rc == REC_OK && r->dir != XFER_DIR_NONE)
		rc = ev_fields_put_str(&b, EVF_DIRECTION, xfer_dir_name(r->dir));
	if (rc == REC_OK && !start && (r->op == XFER_OP_FILE || r->op == XFER_OP_LISTDIR))
		rc = ev_fields_put_u64(&b, EVF_SIZE, r->size);
	if (rc == REC_OK && !start && r->op == XFER_OP_FILE && r->sequential &&
	    r->sha256_hex[0] != '\0')
		rc = ev_fields_put(&b, EVF_SHA256, r->sha256, sizeof(r->sha256));
	if (rc == REC_OK && r->message != NULL)
		rc = ev_fields_put_str(&b, EVF_MESSAGE, r->message);
	if (rc == REC_OK)
		rc = ev_fields_put_u64(&b, EVF_FILE_ID, ch->xq_file_id);
	rc = rc == REC_OK ? px__conn_record(ch->c, EV_FILE, ch->id, buf_ptr(&b), buf_len(&b)) :
	    PX_EINVAL;
	buf_free(&b);
	return rc;
}

static int
record_content(struct px_chan *ch, const struct xfer_record *r)
{
	while (ch->xq_off < r->content_len) {
		size_t n = r->content_len - ch->xq_off;
		struct buf b;
		int rc;

		if (n > CONTENT_CHUNK)
			n = CONTENT_CHUNK;
		buf_init(&b, CONTENT_CHUNK + 256);
		rc = ev_fields_put_u64(&b, EVF_FILE_ID, ch->xq_file_id);
		if (rc == REC_OK)
			rc = ev_fields_put_u64(&b, EVF_OFFSET, ch->xq_off);
		if (rc == REC_OK)
			rc = ev_fields_put(&b, EVF_CONTENT, r->content + ch->xq_off, n);
		rc = rc == REC_OK ? px__conn_record(ch->c, EV_FILE, ch->id, buf_ptr(&b),
		    buf_len(&b)) : PX_EINVAL;
		buf_free(&b);
		if (rc != PX_OK)
			return rc;
		ch->xq_off += n;
	}
	return PX_OK;
}

static void
log_record(struct px_chan *ch, const struct xfer_record *r)
{
	char extra[160] = "";

	if (r->op == XFER_OP_FILE)
		snprintf(extra, sizeof(extra), ", %llu bytes%s%s", (unsigned long long)r->size,
		    r->sha256_hex[0] ? ", sha256 " : "", r->sha256_hex);
	px_log(PX_LOG_INFO, px__conn_id(ch->c), "%s %s%s%s %s: %s%s%s%s", kind_name(ch), xfer_op_name(r->op),
	    r->dir != XFER_DIR_NONE ? " " : "", r->dir != XFER_DIR_NONE ? xfer_dir_name(r->dir) : "",
	    r->path ? r->path : "", xfer_outcome_name(r->outcome), extra,
	    r->message ? ", " : "", r->message ? r->message : "");
}

/* An SFTP refusal also goes to the technician's stderr: the stock sftp
 * client prints only the status code's text ("Permission denied"), not
 * the message naming the rule.  (scp clients print the "\1" line
 * themselves.)  Skipped when the technician's window has no room now. */
static void
tell_refusal(struct px_chan *ch, const struct xfer_record *r)
{
	char line[XFER_CHECK_MSG_MAX + 600];
	size_t n;

	if (ch->sftp == NULL || r->outcome != XFER_OUT_DENIED || r->message == NULL)
		return;
	snprintf(line, sizeof(line), "%s (sftp %s%s%s %.200s%s%.200s)\n", r->message,
	    xfer_op_name(r->op), r->dir != XFER_DIR_NONE ? " " : "",
	    r->dir != XFER_DIR_NONE ? xfer_dir_name(r->dir) : "", r->path ? r->path : "",
	    r->target ? " " : "", r->target ? r->target : "");
	for (n = 0; line[n]; n++)
		if ((unsigned char)line[n] < 0x20 && line[n] != '\n')
			line[n] = '?';
	if (px__chan_room(ch, 1, n) == n)
		px__chan_emit(ch, 1, (const uint8_t *)line, n, 1);
	else
		px_log(PX_LOG_INFO, px__conn_id(ch->c), "refusal not shown on stderr (no room): %s", r->message);
}

/* Moves the filter's or watcher's finished records into the queue. */
static void
collect(struct px_chan *ch)
{
	struct xfer_record *r;

	for (;;) {
		r = ch->sftp != NULL ? sftp_filter_take_record(ch->sftp) :
		    ch->scp != NULL ? scp_watch_take_record(ch->scp) : NULL;
		if (r == NULL)
			return;
		xfer_queue_push(&ch->xq, r);
	}
}

/* A record the recorder would not take (not for want of room): nothing
 * goes on unrecorded, so the session ends with a message.  The record is
 * dropped first: ending the session may step the connection. */
static void
record_lost(struct px_chan *ch, int rc)
{
	struct px_conn *c = ch->c;
	struct xfer_record *r = xfer_queue_take(&ch->xq);

	px_log(PX_LOG_ERR, px__conn_id(c), "%s record of %s could not be recorded: %s; ending session",
	    kind_name(ch), r != NULL && r->path ? r->path : "?", px__strerror(rc));
	xfer_record_free(r);
	ch->xq_summary_sent = 0;
	ch->xq_off = 0;
	ch->xq_file_id = 0;
	if (px__conn_ending(c)) {
		/* already ending: the rest cannot be recorded either */
		if (ch->xq.count > 0)
			px_log(PX_LOG_WARN, px__conn_id(c), "%zu more %s record(s) dropped at the session's end",
			    ch->xq.count, kind_name(ch));
		xfer_queue_clear(&ch->xq);
		return;
	}
	px__conn_end(c, "\r\nescort: a transfer record could not be recorded; session ended\r\n");
}

/* Records queued records in order; stops at the first the spool refuses.
 * A start record is a transfer's own record when it has one: its end
 * record and content reuse its file id. */
static void
flush_records(struct px_chan *ch)
{
	struct xfer_record *r;
	int rc;

	collect(ch);
	while ((r = ch->xq.head) != NULL) {
		if (!ch->xq_summary_sent) {
			if (ch->xq_off == 0 && ch->xq_file_id == 0)
				ch->xq_file_id = r->file_id != 0 ? r->file_id :
				    ++*px__conn_file_ids(ch->c);
			rc = record_summary(ch, r);
			if (rc == PX_EFULL)
				return;
			if (rc != PX_OK) {
				record_lost(ch, rc);
				return;
			}
			ch->xq_summary_sent = 1;
			log_record(ch, r);
			tell_refusal(ch, r);
		}
		rc = record_content(ch, r);
		if (rc == PX_EFULL)
			return;
		if (rc != PX_OK) {
			record_lost(ch, rc);
			return;
		}
		xfer_record_free(xfer_queue_take(&ch->xq));
		ch->xq_summary_sent = 0;
		ch->xq_off = 0;
		ch->xq_file_id = 0;
	}
}

int
px__xfer_blocked(const struct px_chan *ch)
{
	return ch->xq.head != NULL;
}

/* ---- SFTP bytes ------------------------------------------------------------------ */

/* The bytes the SFTP filter or the scp watcher releases toward one side. */
static const uint8_t *
out_peek(const struct px_chan *ch, int to_tech, size_t *len)
{
	*len = 0;
	if (ch->sftp != NULL)
		return to_tech ? sftp_filter_downstream(ch->sftp, len) :
		    sftp_filter_upstream(ch->sftp, len);
	if (ch->scp != NULL)
		return scp_watch_output(ch->scp, !to_tech, len);
	return NULL;
}

static void
out_consume(struct px_chan *ch, int to_tech, size_t n)
{
	if (ch->sftp != NULL && to_tech)
		sftp_filter_downstream_consume(ch->sftp, n);
	else if (ch->sftp != NULL)
		sftp_filter_upstream_consume(ch->sftp, n);
	else if (ch->scp != NULL)
		scp_watch_output_consume(ch->scp, !to_tech, n);
}

size_t
px__xfer_held(const struct px_chan *ch, int to_tech)
{
	size_t n = 0;

	(void)out_peek(ch, to_tech, &n);
	return n;
}

/* Writes what the filter holds for one side. */
static void
write_side(struct px_chan *ch, int to_tech)
{
	for (int i = 0; i < 16; i++) {
		size_t len = 0, n;
		const uint8_t *p = out_peek(ch, to_tech, &len);

		if (len == 0 || (n = px__chan_room(ch, to_tech, len)) == 0)
			return;
		px__chan_emit(ch, to_tech, p, n, 0);
		out_consume(ch, to_tech, n);
	}
}

/* Records first: no byte moves either way while a transfer record waits
 * (a start record precedes its transfer's first byte in the recording). */
void
px__xfer_drain(struct px_chan *ch)
{
	if (ch->sftp == NULL && ch->scp == NULL)
		return;
	flush_records(ch);
	if (px__xfer_blocked(ch))
		return;
	write_side(ch, 1);
	write_side(ch, 0);
}

size_t
px__xfer_sftp_room(const struct px_chan *ch, int from_tech)
{
	size_t held = px__xfer_held(ch, 1) + (from_tech ? px__xfer_held(ch, 0) : 0);

	if ((ch->sftp == NULL && ch->scp == NULL) || ch->sftp_failed || px__xfer_blocked(ch) ||
	    held >= SFTP_HOLD)
		return 0;
	return SFTP_HOLD - held;
}

static void
filter_failed(struct px_chan *ch, const char *what, const char *why)
{
	char msg[512];

	px_log(PX_LOG_WARN, px__conn_id(ch->c), "%s: %s; channel closed", what, why);
	snprintf(msg, sizeof(msg), "escort: %s: %s", what, why);
	(void)px__conn_record_fields(ch->c, EV_MARKER, ch->id, EVF_TEXT, msg, 0);
	px__chan_abort(ch, NULL);
}

size_t
px__xfer_sftp_take(struct px_chan *ch, int from_tech, const uint8_t *d, size_t n)
{
	size_t room;
	int rc;

	px__xfer_drain(ch);
	room = px__xfer_sftp_room(ch, from_tech);
	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	if (ch->scp != NULL) {
		rc = from_tech ? scp_watch_client(ch->scp, d, n) : scp_watch_server(ch->scp, d, n);
		if (rc != PX_OK) {
			ch->sftp_failed = 1;
			filter_failed(ch, "scp stream could not be followed", scp_watch_error(ch->scp));
			return n;
		}
		px__xfer_drain(ch);
		return n;
	}
	rc = from_tech ? sftp_filter_client(ch->sftp, d, n) : sftp_filter_server(ch->sftp, d, n);
	if (rc != PX_OK) {
		ch->sftp_failed = 1;
		filter_failed(ch, "SFTP stream refused", sftp_filter_error(ch->sftp));
		return n;
	}
	px__xfer_drain(ch);
	return n;
}

/* ---- scp ---------------------------------------------------------------------------- */

int
px__xfer_scp_feed(struct px_chan *ch, int from_tech, const uint8_t *d, size_t n)
{
	int rc;

	if (ch->scp == NULL || n == 0)
		return 0;
	rc = from_tech ? scp_watch_client(ch->scp, d, n) : scp_watch_server(ch->scp, d, n);
	if (rc != PX_OK) {
		filter_failed(ch, "scp stream could not be followed", scp_watch_error(ch->scp));
		return -1;
	}
	collect(ch);
	return 0;
}

/* ---- end ------------------------------------------------------------------------------ */

void
px__xfer_finish(struct px_chan *ch)
{
	if (ch->xfer_finished || (ch->sftp == NULL && ch->scp == NULL))
		return;
	ch->xfer_finished = 1;
	if (ch->sftp != NULL)
		sftp_filter_finish(ch->sftp);
	else
		scp_watch_finish(ch->scp);
	flush_records(ch);
	if (ch->xq.head != NULL)
		px_log(PX_LOG_WARN, px__conn_id(ch->c), "%zu %s record(s) still wait for the recorder at channel close",
		    ch->xq.count, kind_name(ch));
}

void
px__xfer_free(struct px_chan *ch)
{
	sftp_filter_free(ch->sftp);
	scp_watch_free(ch->scp);
	ch->sftp = NULL;
	ch->scp = NULL;
	xfer_queue_clear(&ch->xq);
}
