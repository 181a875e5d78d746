/* ship: the Store copied to write-once object storage (see ship.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/recd_config.h"
#include "recorder/recd_log.h"
#include "recorder/ship.h"
#include "recorder/ship_parts.h"
#include "recorder/transcript.h"

/* The shipper's states: it must learn what the bucket holds before it
 * can tell what is new. */
enum ship_state { SHIP_LISTING, SHIP_RUNNING };

/* A growable list of strings (session ids, head object names). */
struct ship_names {
	char **v;
	size_t n, cap;
};

struct ship {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kicked;			/* mu */
	int draining;			/* mu: one last round, then exit */
	int done;			/* mu: the thread has finished */
	uint64_t held_journal;		/* mu: journal_shipped, once known */
	volatile int stop;		/* set under mu, read by s3's abort */
	/* the thread's own */
	char store[1024];
	char url[S3_URL_MAX + 8];
	unsigned retention_days;
	struct s3 *s3;
	enum ship_state state;
	uint64_t journal_shipped;	/* journal bytes in the bucket */
	uint64_t heads_off;		/* heads.esh bytes shipped */
	struct ship_names heads_known;	/* head objects listed at start,
					   sorted */
	struct ship_names sent_ids;	/* sessions uploaded whose CLOSE is
					   past journal_shipped (changed
					   under mu: ship_session_held) */
	struct ship_names gone_ids;	/* closed sessions with no file */
	int have_pubkey;
	struct ship_parts *parts;	/* open sessions' parts */
	unsigned part_interval_ms;	/* rounds at least this often */
	/* what the last round left, for the report */
	int failing;
	unsigned backoff_ms;
	uint64_t last_report_ms;
	size_t reported_sessions;	/* held_sessions in the last report */
	char last_err[1024];
	size_t held_sessions;
	uint64_t held_session_bytes, held_journal_bytes;
	size_t held_heads;
	uint64_t shipped_sessions, shipped_heads, shipped_bytes;
};

/* ---- small helpers -------------------------------------------------- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
names_add(struct ship_names *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return REC_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(s)) == NULL)
		return REC_ENOMEM;
	l->n++;
	return REC_OK;
}

static int
names_has(const struct ship_names *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
names_sorted_has(const struct ship_names *l, const char *s)
{
	return l->n > 0 && bsearch(&s, l->v, l->n, sizeof(*l->v), cmp_str) !=
	    NULL;
}

static void
names_clear(struct ship_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static void
names_free(struct ship_names *l)
{
	names_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

/* The object name of a head line "escort-head v1 SIZE ROOT TIME SIG":
 * heads/TIME-SIZE.esh.  Returns 0, or -1 for a line that is not a head. */
static int
head_name(const char *line, char *out, size_t n)
{
	unsigned long long size, t;
	char root[80];

	if (sscanf(line, "escort-head v1 %llu %79s %llu ", &size, root, &t) != 3)
		return -1;
	snprintf(out, n, "heads/%020llu-%020llu.esh", t, size);
	return 0;
}

static time_t
retain_until(const struct ship *s)
{
	return time(NULL) + (time_t)s->retention_days * 86400;
}

/* ---- learning what the bucket holds --------------------------------- */

static int
list_cb(void *arg, const char *name, uint64_t size)
{
	struct ship *s = arg;
	unsigned long long off;
	char tail[8];

	if (strncmp(name, "heads/", 6) == 0)
		return names_add(&s->heads_known, name) == REC_OK ? 0 : REC_ENOMEM;
	if (strncmp(name, TR_SESSIONS_DIR "/", sizeof(TR_SESSIONS_DIR)) == 0)
		return ship_parts_learn(s->parts, name, size);
	if (sscanf(name, "journal/%20llu.es%1[j]", &off, tail) == 2 &&
	    off + size > s->journal_shipped)
		s->journal_shipped = off + size;
	if (strcmp(name, "public-key.pem") == 0)
		s->have_pubkey = 1;
	return 0;
}

/* SHIP_LISTING: where the journal's pieces end, which heads are there. */
static int
ship_learn(struct ship *s, char *err, size_t errlen)
{
	int r;

	names_clear(&s->heads_known);
	ship_parts_learn_begin(s->parts);
	s->journal_shipped = 0;
	s->have_pubkey = 0;
	if ((r = s3_list(s->s3, "", list_cb, s, err, errlen)) != REC_OK)
		return r;
	if (s->heads_known.n > 1)
		qsort(s->heads_known.v, s->heads_known.n, sizeof(char *), cmp_str);
	s->heads_off = 0;
	recd_log(LOG_INFO, "object store %s: holds %" PRIu64 " journal bytes "
	    "and %zu tree head(s) of this Store", s->url, s->journal_shipped,
	    s->heads_known.n);
	return REC_OK;
}

/* ---- one round ------------------------------------------------------ */

/* What the journal says now: its complete length, and the sessions closed
 * in its entries past journal_shipped (in journal order). */
struct ship_scan {
	uint64_t from, end;
	struct ship_names closed;
	struct ship_parts *parts;	/* the open sessions */
};

static int
scan_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct ship_scan *sc = arg;

	(void)index;
	if (offset + e->rawlen > sc->end)
		sc->end = offset + e->rawlen;
	if (ship_parts_scan_entry(sc->parts, e, offset) != REC_OK)
		return REC_ENOMEM;
	if (offset >= sc->from && e->kind == JOURNAL_CLOSE)
		return names_add(&sc->closed, e->id) == REC_OK ? 0 : REC_ENOMEM;
	return 0;
}

/* Reads a whole file (up to max bytes from off) into *out. */
static int
read_range(const char *path, uint64_t off, uint64_t len, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = REC_OK;
	char *p;
	uint64_t done = 0;

	*out = NULL;
	if (fd < 0)
		return rec_from_errno(errno);
	if ((p = malloc(len ? len : 1)) == NULL) {
		close(fd);
		return REC_ENOMEM;
	}
	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? rec_from_errno(errno) : REC_ETRUNC;
			break;
		}
		done += (uint64_t)n;
	}
	close(fd);
	if (r != REC_OK)
		free(p);
	else
		*out = p;
	return r;
}

/* Uploads sessions/ID.est.  REC_ENOENT: the file is not in the Store. */
static int
ship_session(struct ship *s, const char *id, char *err, size_t errlen)
{
	char path[1200], name[300];
	struct stat sb;
	void *map = NULL;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s/%s%s", s->store, TR_SESSIONS_DIR,
	    id, TR_SUFFIX);
	snprintf(name, sizeof(name), "%s/%s%s", TR_SESSIONS_DIR, id,
	    TR_SUFFIX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
		r = rec_from_errno(errno);
		snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (sb.st_size > 0 && (map = mmap(NULL, (size_t)sb.st_size, PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		snprintf(err, errlen, "%.900s: mmap: %s", path, strerror(errno));
		close(fd);
		return REC_EIO;
	}
	close(fd);
	r = s3_put(s->s3, name, map != NULL ? map : "", (size_t)sb.st_size,
	    retain_until(s), err, errlen);
	if (map != NULL)
		munmap(map, (size_t)sb.st_size);
	if (r == REC_OK) {
		s->shipped_sessions++;
		s->shipped_bytes += (uint64_t)sb.st_size;
		recd_log(LOG_INFO, "session %s: shipped to %s/%s (%lld bytes, "
		    "locked for %u days)", id, s->url, name,
		    (long long)sb.st_size, s->retention_days);
	}
	return r;
}

/* The complete head lines of heads.esh past heads_off, into *buf (lines
 * ending in '\n'; *len bytes).  A file shorter than heads_off (replaced
 * by a journal rebuild) is read from its start. */
static int
heads_new(struct ship *s, char **buf, size_t *len)
{
	char path[1200];
	struct stat sb;
	int r;

	*buf = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", s->store, TREEHEAD_FILE);
	if (stat(path, &sb) != 0)
		return errno == ENOENT ? REC_OK : rec_from_errno(errno);
	if ((uint64_t)sb.st_size < s->heads_off)
		s->heads_off = 0;
	if ((uint64_t)sb.st_size == s->heads_off)
		return REC_OK;
	if ((r = read_range(path, s->heads_off, (uint64_t)sb.st_size -
	    s->heads_off, buf)) != REC_OK)
		return r;
	*len = (size_t)((uint64_t)sb.st_size - s->heads_off);
	while (*len > 0 && (*buf)[*len - 1] != '\n')
		(*len)--;		/* a line still being written */
	return REC_OK;
}

/* Sizes of the sessions in sc->closed not yet sent (for the report). */
static void
held_sessions(struct ship *s, const struct ship_scan *sc)
{
	s->held_sessions = 0;
	s->held_session_bytes = 0;
	for (size_t i = 0; i < sc->closed.n; i++) {
		char path[1200];
		struct stat sb;

		if (names_has(&s->sent_ids, sc->closed.v[i]) ||
		    names_has(&s->gone_ids, sc->closed.v[i]))
			continue;
		s->held_sessions++;
		snprintf(path, sizeof(path), "%s/%s/%s%s", s->store,
		    TR_SESSIONS_DIR, sc->closed.v[i], TR_SUFFIX);
		if (stat(path, &sb) == 0)
			s->held_session_bytes += (uint64_t)sb.st_size;
	}
}

/* Ships the public key once. */
static int
ship_pubkey(struct ship *s, char *err, size_t errlen)
{
	char path[1200], *p = NULL;
	struct stat sb;
	int r;

	if (s->have_pubkey)
		return REC_OK;
	snprintf(path, sizeof(path), "%s/public-key.pem", s->store);
	if (stat(path, &sb) != 0)
		return REC_OK;		/* written by the recorder at start */
	if ((r = read_range(path, 0, (uint64_t)sb.st_size, &p)) != REC_OK) {
		snprintf(err, errlen, "%.900s: %s", path, rec_strerror(r));
		return r;
	}
	r = s3_put(s->s3, "public-key.pem", p, (size_t)sb.st_size,
	    retain_until(s), err, errlen);
	free(p);
	if (r == REC_OK)
		s->have_pubkey = 1;
	return r;
}

/*
 * One round: heads snapshot, journal scan, then the sessions closed in the
 * journal's new part, that part, and the heads.  Stops at the first
 * failure (REC_* with err set); what is left is counted in held_*.
 */
static int
ship_round(struct ship *s, char *err, size_t errlen)
{
	struct ship_scan sc = { s->journal_shipped, 0, { NULL, 0, 0 },
	    s->parts };
	char jpath[1200], *heads = NULL, *piece = NULL, name[96];
	size_t hlen = 0, i;
	uint64_t bad = 0;
	int torn = 0, r;

	s->held_heads = 0;
	s->held_journal_bytes = 0;
	if ((r = ship_pubkey(s, err, errlen)) != REC_OK)
		return r;
	if ((r = heads_new(s, &heads, &hlen)) != REC_OK) {
		snprintf(err, errlen, "%.900s/%s: %s", s->store, TREEHEAD_FILE,
		    rec_strerror(r));
		return r;
	}
	for (i = 0; i < hlen; i++)
		if (heads[i] == '\n')
			s->held_heads++;
	ship_parts_scan_begin(s->parts);
	r = journal_read(s->store, NULL, scan_cb, &sc, &bad, &torn);
	ship_parts_scan_end(s->parts);
	if (r == REC_ENOMEM) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* a scan stopped by a segment being written still gave its end */
	if (sc.end < s->journal_shipped) {
		snprintf(err, errlen, "the Store's journal (%" PRIu64 " bytes) "
		    "is shorter than what the bucket holds (%" PRIu64 "): it "
		    "was rebuilt or cut; its new entries and heads are held "
		    "back (see escort-recorder.conf(5), ObjectStore)", sc.end,
		    s->journal_shipped);
		r = REC_ETAMPER;
		goto out;
	}
	s->held_journal_bytes = sc.end - s->journal_shipped;
	pthread_mutex_lock(&s->mu);	/* the journal continues the bucket's */
	s->held_journal = s->journal_shipped;
	pthread_mutex_unlock(&s->mu);
	held_sessions(s, &sc);
	for (i = 0; i < sc.closed.n; i++) {
		const char *id = sc.closed.v[i];

		if (names_has(&s->sent_ids, id) || names_has(&s->gone_ids, id))
			continue;
		r = ship_session(s, id, err, errlen);
		if (r == REC_ENOENT) {
			recd_log(LOG_ERR, "object store %s: session %s is "
			    "closed in the journal but its file is not in the "
			    "Store: it cannot be shipped (escort-replay verify "
			    "reports it)", s->url, id);
			r = names_add(&s->gone_ids, id);
		} else if (r == REC_OK) {
			pthread_mutex_lock(&s->mu);
			r = names_add(&s->sent_ids, id);
			pthread_mutex_unlock(&s->mu);
		}
		if (r != REC_OK)
			goto out;
		held_sessions(s, &sc);
	}
	/* the open sessions' parts before the journal piece that names
	 * their segments (ship_parts.h) */
	if ((r = ship_parts_round(s->parts, s->s3, retain_until(s), err,
	    errlen)) != REC_OK)
		goto out;
	if (sc.end > s->journal_shipped) {
		snprintf(jpath, sizeof(jpath), "%s/%s", s->store, JOURNAL_FILE);
		if ((r = read_range(jpath, s->journal_shipped, sc.end -
		    s->journal_shipped, &piece)) != REC_OK) {
			snprintf(err, errlen, "%.900s: %s", jpath, rec_strerror(r));
			goto out;
		}
		snprintf(name, sizeof(name), "journal/%020" PRIu64 ".esj",
		    s->journal_shipped);
		if ((r = s3_put(s->s3, name, piece, (size_t)(sc.end -
		    s->journal_shipped), retain_until(s), err, errlen)) !=
		    REC_OK)
			goto out;
		s->journal_shipped = sc.end;
		s->held_journal_bytes = 0;
		pthread_mutex_lock(&s->mu);
		s->held_journal = s->journal_shipped;
		names_clear(&s->sent_ids);
		pthread_mutex_unlock(&s->mu);
	}
	for (char *line = heads; line < heads + hlen; ) {
		char *nl = memchr(line, '\n', (size_t)(heads + hlen - line));
		size_t n = (size_t)(nl - line) + 1;

		*nl = '\0';
		if (head_name(line, name, sizeof(name)) == 0 &&
		    !names_sorted_has(&s->heads_known, name)) {
			*nl = '\n';
			if ((r = s3_put(s->s3, name, line, n, retain_until(s),
			    err, errlen)) != REC_OK)
				goto out;
			s->shipped_heads++;
		}
		s->heads_off += n;
		s->held_heads--;
		line += n;
	}
	r = REC_OK;
out:
	free(heads);
	free(piece);
	names_free(&sc.closed);
	return r;
}

/* ---- the thread ----------------------------------------------------- */

static void
report_held(struct ship *s, int level, const char *why)
{
	size_t live;
	uint64_t live_bytes;

	if (s->state == SHIP_LISTING) {
		recd_log(level, "object store %s: %s; everything of the Store "
		    "not yet in the bucket is held back until the bucket can "
		    "be listed%s%s", s->url, why, s->last_err[0] ? ": " : "",
		    s->last_err);
		return;
	}
	ship_parts_held(s->parts, &live, &live_bytes);
	recd_log(level, "object store %s: %s; holding back %zu sealed "
	    "session(s) (%" PRIu64 " bytes), %" PRIu64 " bytes of %zu live "
	    "session(s), %" PRIu64 " journal bytes and %zu tree head(s)%s%s",
	    s->url, why, s->held_sessions, s->held_session_bytes, live_bytes,
	    live, s->held_journal_bytes, s->held_heads,
	    s->last_err[0] ? ": " : "", s->last_err);
}

/* Waits until kicked, stopped, or ms passed.  Returns with mu unlocked:
 * 1 when kicked, stopped or draining, 0 when the time passed. */
static int
ship_wait(struct ship *s, unsigned ms)
{
	struct timespec ts;
	int woken;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->kicked && !s->stop && !s->draining)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	woken = s->kicked || s->stop || s->draining;
	s->kicked = 0;
	pthread_mutex_unlock(&s->mu);
	return woken;
}

/* Between rounds that shipped everything: until kicked, SHIP_IDLE_MS (or
 * the part interval, to find sessions opened since) passed, or, while
 * sessions are open, a look every SHIP_PART_POLL_MS finds a part due. */
static void
ship_wait_idle(struct ship *s)
{
	unsigned total = SHIP_IDLE_MS < s->part_interval_ms ? SHIP_IDLE_MS :
	    s->part_interval_ms;
	uint64_t until = mono_ms() + total;

	for (;;) {
		uint64_t now = mono_ms();
		unsigned ms;

		if (now >= until)
			return;
		ms = (unsigned)(until - now);
		if (ship_parts_open(s->parts) > 0 && ms > SHIP_PART_POLL_MS)
			ms = SHIP_PART_POLL_MS;
		if (ship_wait(s, ms) || ship_parts_due(s->parts))
			return;
	}
}

static void *
ship_main(void *arg)
{
	struct ship *s = arg;
	char err[sizeof(s->last_err)];
	int r = REC_OK;

	for (;;) {
		int last;

		pthread_mutex_lock(&s->mu);
		last = s->draining;
		pthread_mutex_unlock(&s->mu);
		if (s->stop)
			break;
		err[0] = '\0';
		if (s->state == SHIP_LISTING &&
		    (r = ship_learn(s, err, sizeof(err))) == REC_OK)
			s->state = SHIP_RUNNING;	/* and a round at once */
		if (s->state == SHIP_RUNNING)
			r = ship_round(s, err, sizeof(err));
		if (r != REC_OK)
			snprintf(s->last_err, sizeof(s->last_err), "%s", err);
		if (s->stop || last)
			break;
		if (r == REC_OK) {
			if (s->failing)
				recd_log(LOG_NOTICE, "object store %s: caught up: "
				    "everything held back is shipped", s->url);
			s->failing = 0;
			s->backoff_ms = 0;
			s->last_err[0] = '\0';
			ship_wait_idle(s);
			continue;
		}
		s->backoff_ms = s->backoff_ms == 0 ? SHIP_BACKOFF_MIN_MS :
		    s->backoff_ms * 2 > SHIP_BACKOFF_MAX_MS ?
		    SHIP_BACKOFF_MAX_MS : s->backoff_ms * 2;
		if (!s->failing || s->held_sessions != s->reported_sessions ||
		    mono_ms() - s->last_report_ms >= SHIP_REPORT_MS) {
			char why[64];

			snprintf(why, sizeof(why), "%s (retrying in %u ms)",
			    s->state == SHIP_LISTING ? "cannot list the bucket"
			    : "upload failed", s->backoff_ms);
			report_held(s, LOG_WARNING, why);
			s->last_report_ms = mono_ms();
			s->reported_sessions = s->held_sessions;
		}
		s->failing = 1;
		ship_wait(s, s->backoff_ms);
	}
	pthread_mutex_lock(&s->mu);
	s->done = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
ship_start(const struct ship_opts *o, struct ship **out, char *err,
    size_t errlen)
{
	pthread_condattr_t ca;
	struct s3_cfg c = o->s3;
	struct ship *s;
	char why[512];
	int r;

	*out = NULL;
	if (o->url == NULL)
		return REC_OK;
	if ((r = s3_url_parse(o->url, &c, err, errlen)) != REC_OK ||
	    (r = s3_cfg_finish(&c, err, errlen)) != REC_OK)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return REC_ENOMEM;
	snprintf(s->store, sizeof(s->store), "%s", o->store);
	snprintf(s->url, sizeof(s->url), "%s", o->url);
	s->retention_days = o->retention_days;
	s->part_interval_ms = (o->part_interval ? o->part_interval :
	    SHIP_PART_INTERVAL_DEFAULT) * 1000u;
	if ((s->parts = ship_parts_new(o->store, o->url, o->part_interval,
	    o->part_size, o->retention_days)) == NULL) {
		free(s);
		return REC_ENOMEM;
	}
	if ((r = s3_open(&c, &s->s3, why, sizeof(why))) != REC_OK) {
		ship_parts_free(s->parts);
		free(s);
		snprintf(err, errlen, "object store %s: %s", o->url, why);
		return r;
	}
	s3_set_abort(s->s3, &s->stop);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((r = pthread_create(&s->thread, NULL, ship_main, s)) != 0) {
		snprintf(err, errlen, "object store %s: thread: %s", o->url,
		    strerror(r));
		s3_close(s->s3);
		ship_parts_free(s->parts);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return REC_ENOMEM;
	}
	recd_log(LOG_INFO, "object store %s at %s: shipping sealed sessions, "
	    "live sessions in parts (every %u s or %" PRIu64 " bytes), the "
	    "journal and tree heads, locked (COMPLIANCE) for %u days", o->url,
	    c.endpoint, s->part_interval_ms / 1000u, o->part_size ?
	    o->part_size : SHIP_PART_SIZE_DEFAULT, o->retention_days);
	*out = s;
	return REC_OK;
}

static void
ship_kick(struct ship *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->kicked = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void
ship_sealed(struct ship *s, const char *id)
{
	(void)id;
	ship_kick(s);
}

void
ship_head(struct ship *s, const char *line)
{
	(void)line;
	ship_kick(s);
}

int
ship_session_held(struct ship *s, const char *id, uint64_t close_offset)
{
	int held;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->mu);
	held = close_offset < s->held_journal || names_has(&s->sent_ids, id);
	pthread_mutex_unlock(&s->mu);
	return held;
}

uint64_t
ship_journal_held(struct ship *s)
{
	uint64_t n;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->mu);
	n = s->held_journal;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void
ship_stop(struct ship *s)
{
	struct timespec ts;
	int failed;

	if (s == NULL)
		return;
	/* one last round for what the shutdown sealed, SHIP_STOP_MS at
	 * most; then a transfer still running is abandoned */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += SHIP_STOP_MS / 1000;
	pthread_mutex_lock(&s->mu);
	s->draining = 1;
	pthread_cond_broadcast(&s->cv);
	while (!s->done)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	failed = s->last_err[0] != '\0' || s->state == SHIP_LISTING;
	if (failed)
		report_held(s, LOG_WARNING, "stopping; shipped at the next "
		    "start");
	s3_close(s->s3);
	names_free(&s->heads_known);
	names_free(&s->sent_ids);
	names_free(&s->gone_ids);
	ship_parts_free(s->parts);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int
config_opts(const struct recd_config *c, struct ship_opts *o, char *err,
    size_t errlen)
{
	struct s3_cfg t;
	int r;

	memset(o, 0, sizeof(*o));
	if (c->objstore[0] == '\0')
		return REC_OK;
	o->store = c->store;
	o->url = c->objstore;
	o->retention_days = c->objstore_retention;
	o->part_interval = c->objstore_part_interval;
	o->part_size = c->objstore_part_size;
	s3_cfg_env(&o->s3);
	if (c->objstore_credentials[0] != '\0' && (r = s3_cfg_credentials(
	    c->objstore_credentials, &o->s3, err, errlen)) != REC_OK)
		return r;
	if (c->objstore_endpoint[0] != '\0')
		snprintf(o->s3.endpoint, sizeof(o->s3.endpoint), "%s",
		    c->objstore_endpoint);
	if (c->objstore_region[0] != '\0')
		snprintf(o->s3.region, sizeof(o->s3.region), "%s",
		    c->objstore_region);
	t = o->s3;
	r = s3_url_parse(c->objstore, &t, err, errlen);
	if (r == REC_OK)
		r = s3_cfg_finish(&t, err, errlen);
	explicit_bzero(&t, sizeof(t));
	return r;
}

/* ship_config_opts with "ObjectStore URL: " before a reason. */
static int
config_opts_named(const struct recd_config *c, struct ship_opts *o,
    char *err, size_t errlen)
{
	char why[1024];
	int r;

	if ((r = config_opts(c, o, why, sizeof(why))) != REC_OK)
		snprintf(err, errlen, "ObjectStore %.600s: %s", c->objstore, why);
	return r;
}

int
ship_config_check(const struct recd_config *c, char *err, size_t errlen)
{
	struct ship_opts o;
	int r;

	r = config_opts_named(c, &o, err, errlen);
	explicit_bzero(&o, sizeof(o));
	return r;
}

int
ship_config_opts(const struct recd_config *c, struct ship_opts *o, char *err,
    size_t errlen)
{
	return config_opts_named(c, o, err, errlen);
}

int
ship_config_changed(const struct recd_config *cur, const struct recd_config *nc)
{
	return strcmp(cur->objstore, nc->objstore) != 0 ||
	    strcmp(cur->objstore_endpoint, nc->objstore_endpoint) != 0 ||
	    strcmp(cur->objstore_region, nc->objstore_region) != 0 ||
	    strcmp(cur->objstore_credentials, nc->objstore_credentials) != 0 ||
	    cur->objstore_retention != nc->objstore_retention ||
	    cur->objstore_part_interval != nc->objstore_part_interval ||
	    cur->objstore_part_size != nc->objstore_part_size;
}

void
ship_config_keep(const struct recd_config *cur, struct recd_config *nc)
{
	memcpy(nc->objstore, cur->objstore, sizeof(nc->objstore));
	memcpy(nc->objstore_endpoint, cur->objstore_endpoint,
	    sizeof(nc->objstore_endpoint));
	memcpy(nc->objstore_region, cur->objstore_region,
	    sizeof(nc->objstore_region));
	memcpy(nc->objstore_credentials, cur->objstore_credentials,
	    sizeof(nc->objstore_credentials));
	nc->objstore_retention = cur->objstore_retention;
	nc->objstore_part_interval = cur->objstore_part_interval;
	nc->objstore_part_size = cur->objstore_part_size;
}
