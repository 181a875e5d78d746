/* recd_session: a recorded session in escort-recorder: writer, flush,
 * sync and ack policy, resume, recovery at startup. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "recorder/ev_end.h"
#include "recorder/event.h"
#include "recorder/recd_audit.h"
#include "recorder/rec_error.h"
#include "recorder/recd_conn.h"
#include "recorder/recd_log.h"
#include "recorder/recd_session.h"
#include "recorder/ship.h"
#include "recorder/recd_worker.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/wire.h"

enum sess_state {
	SESS_OPEN,		/* writing */
	SESS_DEAD,		/* finished or broken; freed when idle */
};

struct recd_sess {
	struct recd	*d;
	struct recd_sess *next;
	enum sess_state	 state;
	char		 id[SEAL_ID_MAX + 1];
	struct tw	*tw;
	struct recd_conn *conn;
	uint64_t	 next_seq;	/* expected from the sender */
	uint64_t	 last_t;
	size_t		 pending;	/* raw bytes appended, not flushed */
	uint64_t	 pending_since;	/* ms */
	uint64_t	 written_seq;	/* in the file */
	uint8_t		 written_head[SEAL_HASH_LEN];
	uint64_t	 unsynced;	/* bytes written since the last sync */
	uint64_t	 durable_seq;	/* synced: what ACKs report */
	uint8_t		 durable_head[SEAL_HASH_LEN];
	uint64_t	 acked_seq;	/* last ACK sent on this connection */
	int		 sync_fd;
	int		 sync_inflight;
	int		 sync_again;	/* a sync was wanted while one ran */
	uv_fs_t		 sync_req;
	uint64_t	 sync_seq;
	uint8_t		 sync_head[SEAL_HASH_LEN];
	uint64_t	 sync_bytes;
	uint64_t	 detached_at;	/* ms; 0 while attached */
	uint64_t	 start_wall;	/* ns since the epoch (for END's time) */
	int		 recovered;	/* reopened after a recorder restart */
	int		 resumed;	/* a sender attached since it was opened */
	int		 ends;		/* the last record appended is an END */
	struct recd_audit_sess audit;	/* what its audit events carry */
};

/* Wall-clock time, ns since the epoch. */
static uint64_t
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Formats err and returns code. */
static int
errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* Writer options from the configuration. */
static struct tw_opts
writer_opts(const struct recd *d)
{
	struct tw_opts o;

	memset(&o, 0, sizeof(o));
	o.no_sync = d->cfg.fsync == RECD_FSYNC_NEVER;
	o.zstd_level = (int)d->cfg.compression;
	return o;
}

/* Adds a session for an open writer to the table. */
static struct recd_sess *
sess_new(struct recd *d, const char *id, struct tw *tw)
{
	struct recd_sess *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->d = d;
	s->tw = tw;
	s->sync_fd = -1;
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->sync_fd = open(tw_file(tw), O_RDONLY | O_CLOEXEC);
	s->detached_at = uv_now(d->loop);
	s->next = d->sessions;
	d->sessions = s;
	if (d->held_count)	/* counted already, as it was handed over */
		d->held_count = 0;
	else
		recd_pool_count(d, 1);
	return s;
}

/* Unlinks s from the table and frees it unless a sync still runs (then the
 * sync callback frees it). */
static void
sess_release(struct recd_sess *s)
{
	struct recd_sess **pp;

	if (s->state != SESS_DEAD) {
		s->state = SESS_DEAD;
		for (pp = &s->d->sessions; *pp != NULL; pp = &(*pp)->next)
			if (*pp == s) {
				*pp = s->next;
				recd_pool_count(s->d, -1);
				break;
			}
	}
	if (s->conn != NULL) {
		recd_conn_unlink(s->conn);
		s->conn = NULL;
	}
	if (s->tw != NULL) {
		tw_free(s->tw);
		s->tw = NULL;
	}
	if (s->sync_inflight)
		return;
	if (s->sync_fd >= 0)
		close(s->sync_fd);
	free(s);
}

/* A write failed: stop acking, tell the sender why, drop the writer. */
static void
sess_break(struct recd_sess *s, int r, const char *what)
{
	recd_log(LOG_ERR, "session %s: %s %s failed: %s; no more acks after "
	    "seq %llu", s->id, what, tw_file(s->tw), rec_strerror(r),
	    (unsigned long long)s->durable_seq);
	if (s->conn != NULL) {
		struct recd_conn *c = s->conn;

		recd_conn_unlink(c);
		s->conn = NULL;
		recd_conn_fail(c, "recorder cannot write the session: %s "
		    "(durable up to seq %llu)", rec_strerror(r),
		    (unsigned long long)s->durable_seq);
	}
	sess_release(s);
}

/* ACKs the durable seq when it moved past the last ACK. */
static void
send_ack(struct recd_sess *s)
{
	if (s->conn != NULL && s->durable_seq > s->acked_seq) {
		s->acked_seq = s->durable_seq;
		recd_conn_send_ack(s->conn, s->durable_seq, s->durable_head);
	}
}

static int sync_start(struct recd_sess *s);
static int sess_flush(struct recd_sess *s, int want_sync);

/* fdatasync finished on the thread pool: ACK what it covered. */
static void
sync_done(uv_fs_t *req)
{
	struct recd_sess *s = req->data;
	ssize_t r = req->result;

	uv_fs_req_cleanup(req);
	s->sync_inflight = 0;
	if (s->state == SESS_DEAD) {
		sess_release(s);
		return;
	}
	if (r < 0) {
		recd_log(LOG_ERR, "session %s: fdatasync: %s", s->id,
		    uv_strerror((int)r));
		sess_break(s, REC_EIO, "syncing");
		return;
	}
	if (s->sync_seq > s->durable_seq) {
		s->durable_seq = s->sync_seq;
		memcpy(s->durable_head, s->sync_head, SEAL_HASH_LEN);
	}
	s->unsynced -= s->sync_bytes < s->unsynced ? s->sync_bytes :
	    s->unsynced;
	send_ack(s);
	if (s->sync_again) {
		s->sync_again = 0;
		if (s->pending > 0)
			sess_flush(s, 1);	/* writes, then sync_start */
		else
			sync_start(s);
	}
}

/* Signs what was written (tw_seal: an ACK only ever covers signed data).
 * Returns 0, or -1 when the session broke (s may be freed). */
static int
sess_seal(struct recd_sess *s)
{
	struct tw_state st;
	int r;

	if ((r = tw_seal(s->tw, &st)) != REC_OK) {
		sess_break(s, r, "signing");
		return -1;
	}
	if (memcmp(st.head, s->written_head, SEAL_HASH_LEN) != 0)
		s->unsynced++;
	s->written_seq = st.last_seq;
	memcpy(s->written_head, st.head, SEAL_HASH_LEN);
	return 0;
}

/* Starts an fdatasync covering everything written so far, signed first.
 * Returns 0, or -1 when the session broke (s may be freed). */
static int
sync_start(struct recd_sess *s)
{
	int r;

	if (s->written_seq <= s->durable_seq && s->unsynced == 0)
		return 0;
	if (s->sync_inflight) {
		s->sync_again = 1;
		return 0;
	}
	if (sess_seal(s) < 0)
		return -1;
	s->sync_seq = s->written_seq;
	memcpy(s->sync_head, s->written_head, SEAL_HASH_LEN);
	s->sync_bytes = s->unsynced;
	s->sync_req.data = s;
	r = uv_fs_fdatasync(s->d->loop, &s->sync_req, s->sync_fd, sync_done);
	if (r < 0) {
		/* no thread pool job: sync here */
		if (fdatasync(s->sync_fd) != 0) {
			sess_break(s, rec_from_errno(errno), "syncing");
			return -1;
		}
		s->durable_seq = s->sync_seq;
		memcpy(s->durable_head, s->sync_head, SEAL_HASH_LEN);
		s->unsynced = 0;
		send_ack(s);
		return 0;
	}
	s->sync_inflight = 1;
	return 0;
}

/* Writes pending records as one segment, then syncs/acks per Fsync.
 * Returns 0, or -1 when the session broke (s may be freed). */
static int
sess_flush(struct recd_sess *s, int want_sync)
{
	struct tw_state st;
	int r;

	if ((r = tw_flush(s->tw, &st)) != REC_OK) {
		sess_break(s, r, "writing");
		return -1;
	}
	if (st.last_seq > s->written_seq || memcmp(st.head, s->written_head,
	    SEAL_HASH_LEN) != 0)
		s->unsynced += s->pending + 1;
	s->pending = 0;
	s->pending_since = 0;
	s->written_seq = st.last_seq;
	memcpy(s->written_head, st.head, SEAL_HASH_LEN);
	switch (s->d->cfg.fsync) {
	case RECD_FSYNC_NEVER:
		if (sess_seal(s) < 0)
			return -1;
		s->durable_seq = s->written_seq;
		memcpy(s->durable_head, s->written_head, SEAL_HASH_LEN);
		send_ack(s);
		break;
	case RECD_FSYNC_ALWAYS:
		return sync_start(s);
	case RECD_FSYNC_INTERVAL:
		if (want_sync || s->unsynced >= RECD_SYNC_BYTES)
			return sync_start(s);
		break;
	}
	return 0;
}

/* HELLO's records: META events only, seq 1, 2, ... */
static int
meta_check(const uint8_t *meta, size_t len, char *err, size_t errlen)
{
	uint64_t t = 0;
	size_t n = 0, off, used;
	struct ev e;
	int r;

	if ((r = ev_validate(meta, len, 1, &t, &n)) != REC_OK)
		return errf(err, errlen, REC_EPROTO, "HELLO metadata record "
		    "%zu: %s", n + 1, rec_strerror(r));
	for (off = 0; off < len; off += used) {
		if (ev_decode(meta + off, len - off, &e, &used) != REC_OK)
			break;
		if (e.type != EV_META)
			return errf(err, errlen, REC_EPROTO, "HELLO carries a "
			    "%s event; only metadata is allowed",
			    ev_type_name(e.type));
	}
	return REC_OK;
}

int
recd_sess_create(struct recd *d, const uint8_t *meta, size_t len,
    struct recd_sess **out, char *err, size_t errlen)
{
	struct tw_opts o = writer_opts(d);
	struct tw_state st;
	char id[SEAL_ID_MAX + 1];
	struct tw *tw;
	struct recd_sess *s;
	int r;

	*out = NULL;
	if ((r = meta_check(meta, len, err, errlen)) != REC_OK)
		return r;
	/* a worker's new session was counted when it was handed over */
	if (!d->is_worker && recd_pool_sessions(d) >= d->cfg.max_sessions)
		return errf(err, errlen, REC_EFULL, "too many sessions "
		    "(MaxSessions %u)", d->cfg.max_sessions);
	/* an id that maps to this worker (recd_worker.h); N draws expected */
	for (int tries = 0; ; tries++) {
		if ((r = tw_make_id(id, sizeof(id))) != REC_OK)
			return errf(err, errlen, r, "cannot make a session id: "
			    "%s", rec_strerror(r));
		if (recd_pool_mine(d, id))
			break;
		if (tries >= 64 * RECD_WORKERS_MAX)
			return errf(err, errlen, REC_ECRYPTO, "cannot draw a "
			    "session id for worker %u", d->worker);
	}
	r = tw_create(d->cfg.store, id, meta, len, d->signer, d->journal, &o,
	    &tw);
	if (r != REC_OK)
		return errf(err, errlen, r, "cannot create session file in "
		    "%s: %s", d->cfg.store, rec_strerror(r));
	if (o.no_sync == 0 && (r = tw_sync(tw)) != REC_OK) {
		tw_free(tw);
		return errf(err, errlen, r, "cannot sync the new session "
		    "file: %s", rec_strerror(r));
	}
	if ((s = sess_new(d, id, tw)) == NULL) {
		tw_free(tw);
		return errf(err, errlen, REC_ENOMEM, "out of memory");
	}
	tw_get_state(tw, &st);
	s->start_wall = wall_now();
	recd_audit_sess_init(&s->audit, meta, len, s->start_wall);
	recd_audit_records(d, &s->audit, id, meta, len);
	s->next_seq = st.last_seq + 1;
	s->written_seq = s->durable_seq = st.last_seq;
	memcpy(s->written_head, st.head, SEAL_HASH_LEN);
	memcpy(s->durable_head, st.head, SEAL_HASH_LEN);
	if (d->is_worker)
		recd_log(LOG_INFO, "session %s: created %s on worker %u", id,
		    tw_file(tw), d->worker);
	else
		recd_log(LOG_INFO, "session %s: created %s", id, tw_file(tw));
	*out = s;
	return REC_OK;
}

struct recd_sess *
recd_sess_find(struct recd *d, const char *id)
{
	struct recd_sess *s;

	for (s = d->sessions; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* A reopened session's start time, last event time and whether its last
 * event is an END, from its file (the END the recorder may write must not
 * go back in time, nor follow the sender's). */
static void
sess_times(struct recd_sess *s)
{
	struct tr_summary sum;
	struct tr *r;

	s->start_wall = wall_now();
	s->audit.start_wall = s->start_wall;	/* unreadable: times from now */
	if (tr_open(tw_file(s->tw), &r) != REC_OK)
		return;
	s->start_wall = tr_start_wall_ns(r);
	{
		const uint8_t *meta;
		size_t n;

		tr_meta(r, &meta, &n);
		recd_audit_sess_init(&s->audit, meta, n, s->start_wall);
	}
	if (tr_summarize(r, &sum) == REC_OK) {
		struct ev e;

		s->last_t = sum.last_t_ns;
		/* the sender's END may be in, its CLOSE lost with the crash */
		if (sum.last_seq > 1 && tr_seek_seq(r, sum.last_seq) == REC_OK)
			while (tr_next(r, &e) == 1)
				if (e.seq == sum.last_seq)
					s->ends = e.type == EV_END;
	}
	tr_free(r);
}

int
recd_sess_reopen(struct recd *d, const char *id, struct recd_sess **out,
    char *err, size_t errlen)
{
	struct tw_opts o = writer_opts(d);
	struct tw_state st;
	struct tw *tw;
	struct recd_sess *s;
	int r;

	r = tw_reopen(d->cfg.store, id, d->signer, d->journal, &o, &tw, &st);
	if (r == REC_ECLOSED)
		return errf(err, errlen, r, "session %s is already closed",
		    id);
	if (r == REC_ENOENT)
		return errf(err, errlen, r, "session %s: no such file, or a "
		    "file the store's journal never named (not adopted)", id);
	if (r == REC_ETAMPER) {
		errf(err, errlen, r, "session %s does not match what the "
		    "journal recorded of it (tampered); left as it is", id);
		struct recd_audit_finding f = { .finding = "tampered",
		    .detail = err };
		recd_audit_integrity(d, NULL, id, 0, &f);
		return r;
	}
	if (r == REC_ECRC || r == REC_EFORMAT || r == REC_ECHAIN ||
	    r == REC_ESEQ || r == REC_ESIG || r == REC_ETRUNC) {
		char path[1024];
		uint64_t bad = 0;

		if (tw_path(d->cfg.store, id, path, sizeof(path)) == REC_OK)
			tw_recover(path, d->signer, d->journal, NULL, &bad);
		errf(err, errlen, r, "session %s is damaged at offset %llu "
		    "(%s); left as it is", id, (unsigned long long)bad,
		    rec_strerror(r));
		struct recd_audit_finding f = { .finding = "damaged",
		    .detail = err, .offset = bad, .has_offset = 1 };
		recd_audit_integrity(d, NULL, id, 0, &f);
		return r;
	}
	if (r != REC_OK)
		return errf(err, errlen, r, "cannot reopen session %s: %s", id,
		    rec_strerror(r));
	if ((s = sess_new(d, id, tw)) == NULL) {
		tw_free(tw);
		return errf(err, errlen, REC_ENOMEM, "out of memory");
	}
	s->next_seq = st.last_seq + 1;
	s->last_t = st.last_t_ns;
	s->written_seq = s->durable_seq = st.last_seq;
	memcpy(s->written_head, st.head, SEAL_HASH_LEN);
	memcpy(s->durable_head, st.head, SEAL_HASH_LEN);
	sess_times(s);
	{
		struct recd_audit_finding f = { .finding = "recovery-cut",
		    .detail = "unsigned or torn tail cut when the session was "
		    "reopened", .has_offset = 1, .has_lost = 1 };

		if (tw_reopened_cut(tw, &f.offset, &f.lost_bytes))
			recd_audit_integrity(d, &s->audit, id, 0, &f);
	}
	if (o.no_sync == 0 && fdatasync(s->sync_fd) != 0)
		recd_log(LOG_WARNING, "session %s: fdatasync: %s", id,
		    strerror(errno));
	recd_log(LOG_INFO, "session %s: reopened at seq %llu", id,
	    (unsigned long long)st.last_seq);
	*out = s;
	return REC_OK;
}

int
recd_sess_resume(struct recd *d, const char *id, struct recd_sess **out,
    char *err, size_t errlen)
{
	struct recd_sess *s;

	*out = NULL;
	if (!tw_id_valid(id))
		return errf(err, errlen, REC_EINVAL, "invalid session id");
	if ((s = recd_sess_find(d, id)) == NULL)
		return recd_sess_reopen(d, id, out, err, errlen);
	if (s->pending > 0 && sess_flush(s, 0) < 0)
		return errf(err, errlen, REC_EIO, "session %s cannot be "
		    "written", id);
	if (s->written_seq > s->durable_seq) {
		if (d->cfg.fsync != RECD_FSYNC_NEVER &&
		    fdatasync(s->sync_fd) != 0) {
			int r = rec_from_errno(errno);

			sess_break(s, r, "syncing");
			return errf(err, errlen, r, "session %s cannot be "
			    "synced", id);
		}
		s->durable_seq = s->written_seq;
		memcpy(s->durable_head, s->written_head, SEAL_HASH_LEN);
	}
	*out = s;
	return REC_OK;
}

void
recd_sess_attach(struct recd_sess *s, struct recd_conn *c)
{
	if (s->conn != NULL && s->conn != c) {
		struct recd_conn *old = s->conn;

		recd_conn_unlink(old);
		recd_conn_fail(old, "session %s resumed on another connection",
		    s->id);
	}
	s->conn = c;
	s->acked_seq = s->durable_seq;
	s->detached_at = 0;
	s->resumed = 1;
}

void
recd_sess_set_recovered(struct recd_sess *s)
{
	s->recovered = 1;
}

void
recd_sess_detach(struct recd_sess *s)
{
	s->conn = NULL;
	s->detached_at = uv_now(s->d->loop);
	if (s->pending > 0)
		sess_flush(s, 1);
	else
		recd_kick(s->d);
}

const char *
recd_sess_id(const struct recd_sess *s)
{
	return s->id;
}

uint64_t
recd_sess_durable(const struct recd_sess *s)
{
	return s->durable_seq;
}

static void sess_appended(struct recd_sess *s, int sync);

int
recd_sess_data(struct recd_sess *s, const uint8_t *data, size_t len,
    uint32_t count, int sync, char *err, size_t errlen)
{
	uint64_t t = s->last_t;
	size_t n = 0, off = 0, used;
	struct ev e;
	int r;

	/* records already stored (a sender retransmitting after a resume)
	 * are skipped by seq */
	while (len > 0 && ev_decode(data, len, &e, &used) == REC_OK &&
	    e.seq < s->next_seq && count > 0) {
		data += used;
		len -= used;
		count--;
	}
	if (len > 0) {
		r = ev_validate(data, len, s->next_seq, &t, &n);
		if (r != REC_OK)
			return errf(err, errlen, r, "record %zu of DATA "
			    "(seq %llu expected): %s", n + 1,
			    (unsigned long long)(s->next_seq + n),
			    rec_strerror(r));
		if (n != count)
			return errf(err, errlen, REC_EPROTO, "DATA announces "
			    "%u records but holds %zu", count, n);
		for (off = 0; off < len; off += used) {
			if (ev_decode(data + off, len - off, &e, &used) !=
			    REC_OK)
				break;
			if (e.type == EV_META || e.type == EV_RECOVERY)
				return errf(err, errlen, REC_EPROTO, "event "
				    "seq %llu: type %s is not allowed in DATA",
				    (unsigned long long)e.seq,
				    ev_type_name(e.type));
		}
		s->ends = e.type == EV_END;
		if ((r = tw_append(s->tw, data, len)) != REC_OK)
			return errf(err, errlen, r, "cannot append: %s",
			    rec_strerror(r));
		recd_audit_records(s->d, &s->audit, s->id, data, len);
		s->next_seq += n;
		s->last_t = t;
		if (s->pending == 0)
			s->pending_since = uv_now(s->d->loop);
		s->pending += len;
	}
	sess_appended(s, sync);
	return REC_OK;
}

/* After records were appended: flush (and sync) when asked or when enough
 * is pending, else let the loop flush them soon. */
static void
sess_appended(struct recd_sess *s, int sync)
{
	if (sync && s->sync_inflight && s->pending < RECD_FLUSH_BYTES) {
		/* The next sync can only start when this one ends: it will
		 * write, sign and sync what is pending then (sync_done), in one
		 * segment instead of one per request. */
		s->sync_again = 1;
		recd_kick(s->d);
		return;
	}
	if (sync || s->pending >= RECD_FLUSH_BYTES) {
		if (sess_flush(s, sync) < 0)
			return;		/* broken: the connection was told */
		if (sync && s->d->cfg.fsync == RECD_FSYNC_INTERVAL)
			sync_start(s);	/* < 0: broken, the connection told */
	} else
		recd_kick(s->d);
}

size_t
recd_seal_field(const struct seal_receipt *rc, uint8_t *out)
{
	buf_be32(out, rc->cp.seg_index);
	buf_be64(out + 4, rc->cp.wall_ns);
	buf_be64(out + 12, rc->cp.offset);
	memcpy(out + 20, rc->keyid, SEAL_KEYID_LEN);
	memcpy(out + 52, rc->sig, SEAL_SIG_LEN);
	return WIRE_SEAL_LEN;
}

void
recd_sess_close(struct recd_sess *s)
{
	struct seal_receipt rc;
	struct tw_state st;
	uint8_t seal[WIRE_SEAL_LEN];
	struct recd_conn *c = s->conn;
	struct tw *tw = s->tw;
	int r;

	s->tw = NULL;
	r = tw_close(tw, &st, &rc);
	if (r != REC_OK) {
		recd_log(LOG_ERR, "session %s: closing failed: %s", s->id,
		    rec_strerror(r));
		if (c != NULL) {
			recd_conn_unlink(c);
			s->conn = NULL;
			recd_conn_fail(c, "recorder cannot close the session: "
			    "%s", rec_strerror(r));
		}
		sess_release(s);
		return;
	}
	recd_log(LOG_INFO, "session %s: closed at seq %llu, %llu bytes",
	    s->id, (unsigned long long)st.last_seq,
	    (unsigned long long)st.size);
	ship_sealed(s->d->ship, s->id);		/* ship.h: upload it */
	if (c != NULL) {
		recd_conn_unlink(c);
		s->conn = NULL;
		recd_conn_send_closed(c, s->id, st.last_seq, rc.cp.head, seal,
		    recd_seal_field(&rc, seal));
	}
	sess_release(s);
}

void
recd_sess_end(struct recd_sess *s, int kind, const char *reason)
{
	uint64_t t = wall_now(), last;
	struct buf payload, rec;
	int r;

	if (s->ends) {
		/* the sender's own END arrived; only its CLOSE did not */
		recd_sess_close(s);
		return;
	}
	last = s->last_t;
	t = t > s->start_wall ? t - s->start_wall : 0;
	if (t < last)
		t = last;
	buf_init(&payload, 4096);
	buf_init(&rec, 8192);
	if ((r = ev_end_payload(&payload, (enum ev_end_kind)kind, reason,
	    "recorder")) == REC_OK &&
	    (r = ev_encode_parts(&rec, s->next_seq, t, EV_END, 0,
	    buf_ptr(&payload), buf_len(&payload))) == REC_OK &&
	    (r = tw_append(s->tw, buf_ptr(&rec), buf_len(&rec))) == REC_OK) {
		recd_audit_records(s->d, &s->audit, s->id, buf_ptr(&rec),
		    buf_len(&rec));
		s->next_seq++;
		s->last_t = t;
		s->pending += buf_len(&rec);
	}
	buf_free(&payload);
	buf_free(&rec);
	if (r != REC_OK)
		recd_log(LOG_ERR, "session %s: cannot write its END record "
		    "(%s): %s", s->id, ev_end_kind_name((enum ev_end_kind)kind),
		    rec_strerror(r));
	else
		recd_log(LOG_WARNING, "session %s: ends: %s (%s)", s->id,
		    ev_end_kind_name((enum ev_end_kind)kind), reason);
	recd_sess_close(s);
}

/* No sender resumed s within ResumeTimeout: its END says why, then it
 * is closed. */
static void
sess_unresumed(struct recd_sess *s)
{
	char why[400];
	unsigned rt = s->d->cfg.resume_timeout;

	if (s->recovered && !s->resumed) {
		snprintf(why, sizeof(why), "escort-recorder stopped while the "
		    "session was open and no proxy resumed it within %u s of "
		    "the restart (ResumeTimeout): the proxy ended the session "
		    "while the recorder was away (RecorderTimeout), or was "
		    "lost too", rt);
		recd_sess_end(s, EV_END_RECORDER_LOST, why);
		return;
	}
	snprintf(why, sizeof(why), "the proxy's connection was lost and it "
	    "did not resume the session within %u s (ResumeTimeout)", rt);
	recd_sess_end(s, EV_END_PROXY_LOST, why);
}

int
recd_sess_tick(struct recd *d, uint64_t now)
{
	struct recd_sess *s, *next;
	int busy = 0, interval_due = 0;
	uint64_t now_ns = uv_hrtime();

	if (d->cfg.fsync == RECD_FSYNC_INTERVAL &&
	    now - d->last_interval_sync >= d->cfg.fsync_ms) {
		interval_due = 1;
		d->last_interval_sync = now;
	}
	for (s = d->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->pending > 0 && now - s->pending_since >= RECD_FLUSH_MS) {
			if (sess_flush(s, 0) < 0)
				continue;
		} else if (s->pending == 0 && tw_checkpoint_due(s->tw,
		    now_ns)) {
			if (sess_flush(s, 0) < 0)
				continue;
		}
		if (interval_due && sync_start(s) < 0)
			continue;
		if (s->conn == NULL && s->detached_at != 0 &&
		    now - s->detached_at >= (uint64_t)d->cfg.resume_timeout *
		    1000) {
			recd_log(LOG_WARNING, "session %s: no resume within %u "
			    "s; closing it", s->id, d->cfg.resume_timeout);
			sess_unresumed(s);
			continue;
		}
		busy = 1;
	}
	return busy;
}

void
recd_sess_close_all(struct recd *d)
{
	while (d->sessions != NULL) {
		struct recd_sess *s = d->sessions;
		struct recd_conn *c = s->conn;

		if (c != NULL) {
			recd_conn_unlink(c);
			s->conn = NULL;
			recd_conn_fail(c, "recorder shutting down; session %s "
			    "closed at seq %llu", s->id,
			    (unsigned long long)s->written_seq);
		}
		recd_sess_end(s, EV_END_RECORDER_SHUTDOWN, c != NULL ?
		    "escort-recorder was stopped while the session was "
		    "recording" : "escort-recorder was stopped while the "
		    "session waited for its proxy to resume it");
	}
}

int
recd_sess_note(struct recd_sess *s, uint16_t type, uint16_t seg_flags,
    const void *fields, size_t len, char *err, size_t errlen)
{
	struct buf b;
	int r;

	buf_init(&b, 0);
	r = ev_encode_parts(&b, s->next_seq, s->last_t, type, 0, fields, len);
	if (r == REC_OK && seg_flags == 0)
		r = recd_sess_data(s, buf_ptr(&b), buf_len(&b), 1, 1, err,
		    errlen);
	else if (r == REC_OK) {
		/* a segment of its own, found by its flags */
		if ((r = tw_append_alone(s->tw, buf_ptr(&b), buf_len(&b),
		    seg_flags, NULL)) != REC_OK) {
			errf(err, errlen, r, "cannot write: %s",
			    rec_strerror(r));
			buf_free(&b);
			sess_break(s, r, "writing");
			return r;
		}
		recd_audit_records(s->d, &s->audit, s->id, buf_ptr(&b),
		    buf_len(&b));
		s->next_seq++;
		s->ends = type == EV_END;
		if (s->pending == 0)
			s->pending_since = uv_now(s->d->loop);
		s->pending += buf_len(&b);
		sess_appended(s, 1);
	} else
		errf(err, errlen, r, "cannot encode the event: %s",
		    rec_strerror(r));
	buf_free(&b);
	return r;
}
