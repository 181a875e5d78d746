/* recd_audit: the audit-event stream (escort-audit(5)), one table row per
 * event type and one per field. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "recorder/auditjson.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/recd.h"
#include "recorder/recd_audit.h"
#include "recorder/recd_log.h"

#define AUDIT_LINE_MAX	(64u << 10)	/* longer values are cut */
#define AUDIT_VALUE_MAX	8192		/* bytes of one string value */
#define AUDIT_SYSLOG_PATH "/dev/log"
#define AUDIT_IDENT	"escort-recorder-audit"
#define AUDIT_PRI	(4 << 3 | 6)	/* LOG_AUTH | LOG_INFO */
#define AUDIT_WARN_S	60		/* one failure line a minute */

struct recd_audit {
	int	 fd;		/* AuditLog, or -1 */
	int	 sock;		/* syslog datagram socket, or -1 */
	time_t	 warned;	/* last failure logged */
	unsigned long dropped;	/* lines lost since then */
};

static uint64_t
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- sinks ----------------------------------------------------------- */

/* A line was lost: say so, at most once per AUDIT_WARN_S. */
static void
audit_failed(struct recd_audit *a, const char *sink, int err)
{
	time_t now = time(NULL);

	a->dropped++;
	if (a->warned != 0 && now - a->warned < AUDIT_WARN_S)
		return;
	a->warned = now;
	recd_log(LOG_WARNING, "audit: cannot write to %s: %s (%lu line(s) "
	    "lost; recording goes on)", sink, strerror(err), a->dropped);
	a->dropped = 0;
}

static int
open_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0640);

	if (fd < 0)
		snprintf(err, errlen, "AuditLog %s: %s", path, strerror(errno));
	return fd;
}

static int
open_syslog(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

int
recd_audit_on(const struct recd *d)
{
	return d->audit != NULL && (d->audit->fd >= 0 || d->audit->sock >= 0);
}

int
recd_audit_open(struct recd *d, char *err, size_t errlen)
{
	struct recd_audit *a;

	if (d->cfg.audit_log[0] == '\0' && !d->cfg.audit_syslog)
		return 0;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "audit: out of memory");
		return -1;
	}
	a->fd = a->sock = -1;
	if (d->cfg.audit_log[0] != '\0' &&
	    (a->fd = open_file(d->cfg.audit_log, err, errlen)) < 0) {
		free(a);
		return -1;
	}
	if (d->cfg.audit_syslog && (a->sock = open_syslog()) < 0) {
		snprintf(err, errlen, "AuditSyslog: socket: %s",
		    strerror(errno));
		if (a->fd >= 0)
			close(a->fd);
		free(a);
		return -1;
	}
	d->audit = a;
	return 0;
}

void
recd_audit_close(struct recd *d)
{
	struct recd_audit *a = d->audit;

	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	if (a->sock >= 0)
		close(a->sock);
	free(a);
	d->audit = NULL;
}

void
recd_audit_reopen(struct recd *d)
{
	char err[1024];

	recd_audit_close(d);
	if (recd_audit_open(d, err, sizeof(err)) < 0)
		recd_log(LOG_ERR, "audit: %s; no audit events until the next "
		    "SIGHUP", err);
}

/* One whole line to the file (a single append), and to syslog. */
static void
audit_emit(struct recd *d, const struct buf *line)
{
	struct recd_audit *a = d->audit;
	const uint8_t *p = buf_ptr(line);
	size_t n = buf_len(line);

	if (a->fd >= 0) {
		ssize_t w = write(a->fd, p, n);

		if (w < 0 || (size_t)w != n)
			audit_failed(a, d->cfg.audit_log, w < 0 ? errno : ENOSPC);
	}
	if (a->sock >= 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char hdr[96], stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		struct msghdr mh = { 0 };
		struct iovec iov[2];

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		iov[0].iov_base = hdr;
		iov[0].iov_len = (size_t)snprintf(hdr, sizeof(hdr),
		    "<%d>%s %s[%ld]: ", AUDIT_PRI, stamp, AUDIT_IDENT,
		    (long)getpid());
		iov[1].iov_base = (void *)p;
		iov[1].iov_len = n - 1;		/* without the newline */
		memcpy(sa.sun_path, AUDIT_SYSLOG_PATH,
		    sizeof(AUDIT_SYSLOG_PATH));
		mh.msg_name = &sa;
		mh.msg_namelen = sizeof(sa);
		mh.msg_iov = iov;
		mh.msg_iovlen = 2;
		if (sendmsg(a->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			audit_failed(a, AUDIT_SYSLOG_PATH, errno);
	}
}

/* ---- events ---------------------------------------------------------- */

enum fkind { F_STR, F_U64, F_HEX };

/* One recorded field and its JSON name (name2: a second occurrence). */
struct afield {
	uint16_t	 tag;
	enum fkind	 kind;
	const char	*name;
	const char	*name2;
};

static const struct afield meta_fields[] = {
	{ EVF_LOGIN, F_STR, "login", NULL },
	{ EVF_CLIENT_KEY, F_STR, "client_key", NULL },
	{ EVF_POLICY_HASH, F_STR, "policy_hash", NULL },
	{ EVF_TARGET_ADDR, F_STR, "target_addr", NULL },
	{ EVF_KIND, F_STR, "kind", NULL },
	{ 0, 0, NULL, NULL }
};

static const struct afield decision_fields[] = {
	{ EVF_VERDICT, F_STR, "verdict", NULL },
	{ EVF_COMMAND, F_STR, "command", NULL },
	{ EVF_RENDERED, F_STR, "rendered", NULL },
	{ EVF_RULE, F_STR, "rule", NULL },
	{ EVF_RULE_LINE, F_U64, "rule_line", NULL },
	{ EVF_REASON, F_STR, "reason", NULL },
	{ EVF_APPROVER, F_STR, "approver", NULL },
	{ EVF_SHELL_MODE, F_STR, "shell_mode", NULL },
	{ EVF_CMD_SEQ, F_U64, "cmd_seq", NULL },
	{ EVF_POLICY_HASH, F_STR, "policy_hash", NULL },
	{ 0, 0, NULL, NULL }
};

static const struct afield escort_fields[] = {
	{ EVF_ESC_ACTION, F_STR, "action", NULL },
	{ EVF_ESCORT, F_STR, "escort", NULL },
	{ EVF_REASON, F_STR, "reason", NULL },
	{ 0, 0, NULL, NULL }
};

static const struct afield file_fields[] = {
	{ EVF_KIND, F_STR, "protocol", NULL },
	{ EVF_CH_ACTION, F_STR, "op", NULL },
	{ EVF_VERDICT, F_STR, "outcome", NULL },
	{ EVF_PATH, F_STR, "path", "target_path" },
	{ EVF_DIRECTION, F_STR, "direction", NULL },
	{ EVF_SIZE, F_U64, "size", NULL },
	{ EVF_SHA256, F_HEX, "sha256", NULL },
	{ EVF_MESSAGE, F_STR, "message", NULL },
	{ EVF_FILE_ID, F_U64, "file_id", NULL },
	{ 0, 0, NULL, NULL }
};

static const struct afield end_fields[] = {
	{ EVF_END_KIND, F_STR, "end_kind", NULL },
	{ EVF_REASON, F_STR, "reason", NULL },
	{ EVF_END_BY, F_STR, "end_by", NULL },
	{ 0, 0, NULL, NULL }
};

static const struct afield marker_fields[] = {
	{ EVF_TEXT, F_STR, "text", NULL },
	{ 0, 0, NULL, NULL }
};

static const struct afield refused_fields[] = {
	{ EVF_TEXT, F_STR, "detail", NULL },
	{ EVF_ACKED_SEQ, F_U64, "acked_seq", NULL },
	{ EVF_STORED_SEQ, F_U64, "stored_seq", NULL },
	{ 0, 0, NULL, NULL }
};

/* Appends the fields of payload p[0..n) that the table names, in the
 * payload's order; the first of each (or name2 for the second). */
static int
put_fields(struct buf *b, const struct afield *tab, const uint8_t *p,
    size_t n)
{
	struct ev_fields_iter it;
	unsigned seen[16] = { 0 };
	const uint8_t *v;
	uint16_t tag;
	size_t len;
	int r = REC_OK, i;

	ev_fields_begin(&it, p, n);
	while (r == REC_OK && ev_fields_next(&it, &tag, &v, &len) == 1) {
		const char *name;

		for (i = 0; tab[i].name != NULL && tab[i].tag != tag; i++)
			;
		if (tab[i].name == NULL || i >= 16)
			continue;
		name = seen[i] == 0 ? tab[i].name : seen[i] == 1 ?
		    tab[i].name2 : NULL;
		seen[i]++;
		if (name == NULL)
			continue;
		switch (tab[i].kind) {
		case F_STR:
			r = aj_str(b, name, v, len > AUDIT_VALUE_MAX ?
			    AUDIT_VALUE_MAX : len);
			break;
		case F_U64:
			if (len == 8)
				r = aj_u64(b, name, (uint64_t)v[0] << 56 |
				    (uint64_t)v[1] << 48 | (uint64_t)v[2] << 40 |
				    (uint64_t)v[3] << 32 | (uint64_t)v[4] << 24 |
				    (uint64_t)v[5] << 16 | (uint64_t)v[6] << 8 |
				    v[7]);
			break;
		case F_HEX:
			r = aj_hex(b, name, v, len > 64 ? 64 : len);
			break;
		}
	}
	return r;
}

static const char *
or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* The fields every event carries, after {. */
static int
put_common(struct buf *b, uint64_t wall, const char *kind, const char *id,
    const struct recd_audit_sess *as, uint64_t seq)
{
	int r;

	if ((r = aj_time(b, "time", wall)) == REC_OK &&
	    (r = aj_cstr(b, "event", kind)) == REC_OK &&
	    (r = aj_cstr(b, "session", or_null(id))) == REC_OK &&
	    (r = aj_cstr(b, "user", as ? or_null(as->user) : NULL)) ==
	    REC_OK &&
	    (r = aj_cstr(b, "target", as ? or_null(as->target) : NULL)) ==
	    REC_OK &&
	    (r = aj_cstr(b, "proxy", as ? or_null(as->proxy) : NULL)) ==
	    REC_OK &&
	    (r = aj_cstr(b, "client_addr", as ? or_null(as->client_addr) :
	    NULL)) == REC_OK && seq > 0)
		r = aj_u64(b, "seq", seq);
	return r;
}

/* The kind of event a record gives, and its field table; NULL: none. */
static const char *
record_kind(const struct ev *e, const struct afield **tab)
{
	const uint8_t *v;
	size_t len;

	switch (e->type) {
	case EV_META:
		*tab = meta_fields;
		return "session.start";
	case EV_DECISION:
		*tab = decision_fields;
		return "decision";
	case EV_ESCORT:
		*tab = escort_fields;
		return "escort";
	case EV_END:
		*tab = end_fields;
		return "session.end";
	case EV_FILE:
		/* content chunks are not events; summaries are */
		if (ev_fields_find(e->data, e->len, EVF_CONTENT, &v, &len) ==
		    REC_OK)
			return NULL;
		*tab = file_fields;
		if (ev_fields_find(e->data, e->len, EVF_VERDICT, &v, &len) ==
		    REC_OK && len == 7 && memcmp(v, "started", 7) == 0)
			return "transfer.start";
		return "transfer";
	case EV_MARKER:
		if (ev_fields_find(e->data, e->len, EVF_ACKED_SEQ, &v, &len) ==
		    REC_OK) {
			*tab = refused_fields;
			return "integrity";
		}
		if (ev_fields_find(e->data, e->len, EVF_TEXT, &v, &len) ==
		    REC_OK && len >= 14 && memcmp(v, "policy reload:", 14) == 0) {
			*tab = marker_fields;
			return "policy.reload";
		}
		return NULL;
	default:
		return NULL;	/* INPUT, OUTPUT, ...: payload not read */
	}
}

/* One event of a session from record e. */
static void
emit_record(struct recd *d, const struct recd_audit_sess *as, const char *id,
    const struct ev *e)
{
	const struct afield *tab = NULL;
	const char *kind = record_kind(e, &tab);
	struct buf b;
	int r;

	if (kind == NULL)
		return;
	buf_init(&b, AUDIT_LINE_MAX);
	r = aj_begin(&b);
	if (r == REC_OK)
		r = put_common(&b, as->start_wall + e->t_ns, kind, id, as,
		    e->seq);
	if (r == REC_OK && tab == refused_fields)
		r = aj_cstr(&b, "finding", "resume-refused");
	if (r == REC_OK && e->channel != 0)
		r = aj_u64(&b, "channel", e->channel);
	if (r == REC_OK)
		r = put_fields(&b, tab, e->data, e->len);
	if (r == REC_OK)
		r = aj_end(&b);
	if (r == REC_OK)
		audit_emit(d, &b);
	else
		audit_failed(d->audit, "the audit stream (event too long)",
		    EMSGSIZE);
	buf_free(&b);
}

void
recd_audit_records(struct recd *d, const struct recd_audit_sess *as,
    const char *id, const uint8_t *data, size_t len)
{
	size_t off, used;
	struct ev e;

	if (!recd_audit_on(d))
		return;
	for (off = 0; off < len; off += used) {
		if (ev_decode(data + off, len - off, &e, &used) != REC_OK)
			break;
		emit_record(d, as, id, &e);
	}
}

/* Copies a string field of a META payload into dst when present. */
static void
meta_str(const uint8_t *p, size_t n, uint16_t tag, char *dst, size_t dstsz)
{
	const uint8_t *v;
	size_t len;

	if (ev_fields_find(p, n, tag, &v, &len) == REC_OK && len > 0) {
		if (len >= dstsz)
			len = dstsz - 1;
		memcpy(dst, v, len);
		dst[len] = '\0';
	}
}

void
recd_audit_sess_init(struct recd_audit_sess *as, const uint8_t *meta,
    size_t len, uint64_t fallback_wall)
{
	size_t off, used;
	struct ev e;

	memset(as, 0, sizeof(*as));
	as->start_wall = fallback_wall;
	for (off = 0; off < len; off += used) {
		uint64_t w;

		if (ev_decode(meta + off, len - off, &e, &used) != REC_OK)
			break;
		if (e.type != EV_META)
			continue;
		meta_str(e.data, e.len, EVF_USER, as->user, sizeof(as->user));
		meta_str(e.data, e.len, EVF_TARGET, as->target,
		    sizeof(as->target));
		meta_str(e.data, e.len, EVF_PROXY_ID, as->proxy,
		    sizeof(as->proxy));
		meta_str(e.data, e.len, EVF_CLIENT_ADDR, as->client_addr,
		    sizeof(as->client_addr));
		if (ev_fields_get_u64(e.data, e.len, EVF_WALL_NS, &w) ==
		    REC_OK && w > e.t_ns)
			as->start_wall = w - e.t_ns;
	}
}

void
recd_audit_integrity(struct recd *d, const struct recd_audit_sess *as,
    const char *id, uint64_t wall_ns, const struct recd_audit_finding *f)
{
	struct buf b;
	int r;

	if (!recd_audit_on(d))
		return;
	buf_init(&b, AUDIT_LINE_MAX);
	r = aj_begin(&b);
	if (r == REC_OK)
		r = put_common(&b, wall_ns != 0 ? wall_ns : wall_now(),
		    "integrity", id, as, 0);
	if (r == REC_OK)
		r = aj_cstr(&b, "finding", f->finding);
	if (r == REC_OK && f->detail != NULL)
		r = aj_cstr(&b, "detail", f->detail);
	if (r == REC_OK && f->has_offset)
		r = aj_u64(&b, "offset", f->offset);
	if (r == REC_OK && f->has_lost)
		r = aj_u64(&b, "lost_bytes", f->lost_bytes);
	if (r == REC_OK && f->has_seqs)
		r = aj_u64(&b, "acked_seq", f->acked_seq);
	if (r == REC_OK && f->has_seqs)
		r = aj_u64(&b, "stored_seq", f->stored_seq);
	if (r == REC_OK)
		r = aj_end(&b);
	if (r == REC_OK)
		audit_emit(d, &b);
	buf_free(&b);
}
