/* ship_parts: open sessions shipped in parts (see ship_parts.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/recd_log.h"
#include "recorder/s3_layout.h"
#include "recorder/segfile.h"
#include "recorder/segment.h"
#include "recorder/ship_parts.h"
#include "recorder/transcript.h"

/* One session the journal shows open (or, between a listing and the next
 * scan, one the bucket holds parts of). */
struct ship_sess {
	char id[SEAL_ID_MAX + 1];
	uint64_t shipped;	/* bytes [0, shipped) are in the bucket */
	uint64_t need;		/* the journal names segments up to here */
	uint64_t last_ns;	/* wall clock of the last part (or the OPEN) */
	uint64_t idle_size;	/* file size when nothing signed was found */
	int open;		/* the last scan shows it open */
	int broken;		/* the file does not continue the bucket */
};

struct ship_parts {
	char store[1024];
	char url[S3_URL_MAX + 8];
	unsigned interval_s;
	uint64_t size;
	unsigned retention_days;
	void *root;		/* struct ship_sess, by id (tsearch) */
	size_t n, nopen;
};

/* The sessions of the tree, collected for a pass that may delete. */
struct sess_vec {
	struct ship_sess **v;
	size_t n, cap;
	int failed;
};

static int
sess_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ship_sess *)a)->id,
	    ((const struct ship_sess *)b)->id);
}

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct ship_sess *
sess_find(struct ship_parts *p, const char *id)
{
	struct ship_sess key;
	void *node;

	if (strlen(id) > SEAL_ID_MAX)
		return NULL;
	memcpy(key.id, id, strlen(id) + 1);
	node = tfind(&key, &p->root, sess_cmp);
	return node != NULL ? *(struct ship_sess **)node : NULL;
}

/* The session id, made when absent.  NULL: out of memory or a bad id. */
static struct ship_sess *
sess_get(struct ship_parts *p, const char *id)
{
	struct ship_sess *s = sess_find(p, id);
	void *node;

	if (s != NULL || strlen(id) > SEAL_ID_MAX)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->id, id, strlen(id) + 1);
	if ((node = tsearch(s, &p->root, sess_cmp)) == NULL) {
		free(s);
		return NULL;
	}
	p->n++;
	return s;
}

static void
sess_del(struct ship_parts *p, struct ship_sess *s)
{
	tdelete(s, &p->root, sess_cmp);
	free(s);
	p->n--;
}

static void
vec_add(const void *nodep, VISIT which, void *arg)
{
	struct sess_vec *v = arg;

	if (which != postorder && which != leaf)
		return;
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		struct ship_sess **nv = realloc(v->v, cap * sizeof(*nv));

		if (nv == NULL) {
			v->failed = 1;
			return;
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = *(struct ship_sess *const *)nodep;
}

/* Every session of the tree into v (free v->v).  REC_OK or REC_ENOMEM. */
static int
sess_all(struct ship_parts *p, struct sess_vec *v)
{
	memset(v, 0, sizeof(*v));
	twalk_r(p->root, vec_add, v);
	if (v->failed) {
		free(v->v);
		v->v = NULL;
		v->n = 0;
		return REC_ENOMEM;
	}
	return REC_OK;
}

struct ship_parts *
ship_parts_new(const char *store, const char *url, unsigned interval_s,
    uint64_t size, unsigned retention_days)
{
	struct ship_parts *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	snprintf(p->store, sizeof(p->store), "%s", store);
	snprintf(p->url, sizeof(p->url), "%s", url);
	p->interval_s = interval_s ? interval_s : SHIP_PART_INTERVAL_DEFAULT;
	p->size = size ? size : SHIP_PART_SIZE_DEFAULT;
	p->retention_days = retention_days;
	return p;
}

void
ship_parts_free(struct ship_parts *p)
{
	if (p == NULL)
		return;
	tdestroy(p->root, free);
	free(p);
}

/* ---- what the bucket and the journal say --------------------------- */

void
ship_parts_learn_begin(struct ship_parts *p)
{
	tdestroy(p->root, free);
	p->root = NULL;
	p->n = p->nopen = 0;
}

int
ship_parts_learn(struct ship_parts *p, const char *name, uint64_t size)
{
	char id[SEAL_ID_MAX + 1];
	struct ship_sess *s;
	uint64_t off;

	if (s3_session_parse(name, id, &off) != S3_SESSION_PART)
		return REC_OK;
	if ((s = sess_get(p, id)) == NULL)
		return REC_ENOMEM;
	if (off + size > s->shipped)
		s->shipped = off + size;
	return REC_OK;
}

void
ship_parts_scan_begin(struct ship_parts *p)
{
	struct sess_vec v;

	if (sess_all(p, &v) != REC_OK)
		return;
	for (size_t i = 0; i < v.n; i++) {
		v.v[i]->open = 0;
		v.v[i]->need = 0;
	}
	free(v.v);
}

static void
need_at_least(struct ship_sess *s, uint64_t end)
{
	if (end > s->need)
		s->need = end;
}

int
ship_parts_scan_entry(struct ship_parts *p, const struct journal_entry *e,
    uint64_t offset)
{
	struct ship_sess *s;

	(void)offset;
	switch (e->kind) {
	case JOURNAL_OPEN:
		/* its offset is the end of the HEAD segment */
		if ((s = sess_get(p, e->id)) == NULL)
			return tw_id_valid(e->id) ? REC_ENOMEM : REC_OK;
		s->open = 1;
		need_at_least(s, e->offset);
		if (s->last_ns == 0)
			s->last_ns = e->wall_ns;
		break;
	case JOURNAL_CHECKPOINT:
		/* the segment starting at its offset: a part ending past the
		 * offset ends past that segment (parts end at boundaries).
		 * Not a RECOVER: its entry comes before its record (the
		 * checkpoint after the record is journaled in turn). */
		if ((s = sess_find(p, e->id)) != NULL && s->open)
			need_at_least(s, e->offset + 1);
		break;
	case JOURNAL_CLOSE:
		if ((s = sess_find(p, e->id)) != NULL)
			sess_del(p, s);	/* the sealed whole goes up */
		break;
	default:
		break;
	}
	return REC_OK;
}

void
ship_parts_scan_end(struct ship_parts *p)
{
	struct sess_vec v;

	if (sess_all(p, &v) != REC_OK)
		return;
	p->nopen = 0;
	for (size_t i = 0; i < v.n; i++) {
		if (!v.v[i]->open)
			sess_del(p, v.v[i]);
		else
			p->nopen++;
	}
	free(v.v);
}

size_t
ship_parts_open(const struct ship_parts *p)
{
	return p->nopen;
}

/* ---- shipping ------------------------------------------------------- */

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/*
 * Walks the segment headers of the file open at fd (size bytes) from
 * `from`: *end is the end of the last segment a part may end at (HEAD,
 * CHECKPOINT, FINAL) within SHIP_PART_MAX bytes of from (the first one
 * past that when none is within), or from when none is there yet.  Returns
 * REC_OK, REC_EFORMAT when no segment starts at from (the file does not
 * continue the bucket), or REC_EIO.
 */
static int
part_walk(int fd, uint64_t from, uint64_t size, uint64_t *end)
{
	uint8_t h[SEG_HDR_LEN];
	uint64_t off = from;
	int r;

	*end = from;
	while (off + SEG_HDR_LEN <= size) {
		uint64_t seg_end;
		uint8_t type;

		if ((r = segf_pread(fd, h, sizeof(h), off)) != REC_OK)
			return r == REC_ETRUNC ? REC_OK : r;
		type = h[5];
		if (memcmp(h, SEG_MAGIC, 4) != 0 || h[4] != SEG_VERSION ||
		    type < SEG_HEAD || type > SEG_FINAL ||
		    (type == SEG_HEAD) != (off == 0) ||
		    be32(h + 12) > SEG_PAYLOAD_MAX)
			return off == from ? REC_EFORMAT : REC_OK;
		seg_end = off + SEG_HDR_LEN + be32(h + 12);
		if (seg_end > size)
			break;			/* being written */
		if (type == SEG_HEAD || type == SEG_CHECKPOINT ||
		    type == SEG_FINAL) {
			if (seg_end - from > SHIP_PART_MAX && *end > from)
				break;
			*end = seg_end;
			if (seg_end - from > SHIP_PART_MAX)
				break;
		}
		if (type == SEG_FINAL)
			break;
		off = seg_end;
	}
	return REC_OK;
}

/* Stops s's parts, logged once. */
static void
sess_broken(struct ship_parts *p, struct ship_sess *s, const char *why)
{
	s->broken = 1;
	recd_log(LOG_ERR, "object store %s: session %s: %s; no more parts of "
	    "it are shipped (its sealed file still is, at its close)", p->url,
	    s->id, why);
}

/* Why a part is due (ship_parts.h), said in the part's log line. */
enum part_why {
	PART_NOT_DUE = 0,
	PART_FORCED,		/* the journal names a segment it lacks */
	PART_BY_SIZE,		/* ObjectStorePartSize bytes wait */
	PART_BY_TIME		/* ObjectStorePartInterval passed */
};

static const char *const part_why_text[] = {
	[PART_NOT_DUE] = "not due",
	[PART_FORCED] = "the journal names its segments",
	[PART_BY_SIZE] = "ObjectStorePartSize reached",
	[PART_BY_TIME] = "ObjectStorePartInterval passed",
};

/* Uploads bytes [s->shipped, end) of the file open at fd, due for why. */
static int
part_put(struct ship_parts *p, struct s3 *s3, struct ship_sess *s, int fd,
    uint64_t end, enum part_why why, time_t retain_until, char *err,
    size_t errlen)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t base = s->shipped - s->shipped % (uint64_t)(pg > 0 ? pg : 4096);
	char name[SEAL_ID_MAX + 64];
	uint8_t *map;
	int r;

	if (s3_part_name(s->id, s->shipped, name, sizeof(name)) != 0) {
		snprintf(err, errlen, "session %s: no object name", s->id);
		return REC_EINVAL;
	}
	map = mmap(NULL, (size_t)(end - base), PROT_READ, MAP_PRIVATE, fd,
	    (off_t)base);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "session %s: mmap: %s", s->id,
		    strerror(errno));
		return REC_EIO;
	}
	r = s3_put(s3, name, map + (s->shipped - base), (size_t)(end -
	    s->shipped), retain_until, err, errlen);
	munmap(map, (size_t)(end - base));
	if (r != REC_OK)
		return r;
	recd_log(LOG_INFO, "session %s: part shipped to %s/%s (bytes %" PRIu64
	    "-%" PRIu64 ", %" PRIu64 " bytes, locked for %u days; due: %s)",
	    s->id, p->url, name, s->shipped, end, end - s->shipped,
	    p->retention_days, part_why_text[why]);
	s->shipped = end;
	s->last_ns = wall_ns();
	return REC_OK;
}

/* Whether s has a part due with its file at size bytes, and why. */
static enum part_why
part_due(const struct ship_parts *p, const struct ship_sess *s,
    uint64_t size, uint64_t now)
{
	uint64_t wait = size > s->shipped ? size - s->shipped : 0;

	if (s->need > s->shipped)
		return PART_FORCED;
	if (wait == 0 || size <= s->idle_size)
		return PART_NOT_DUE;
	if (wait >= p->size)
		return PART_BY_SIZE;
	return now - s->last_ns >= (uint64_t)p->interval_s * 1000000000u ?
	    PART_BY_TIME : PART_NOT_DUE;
}

/* Ships what is due of s: one part or more (SHIP_PART_MAX each). */
static int
sess_ship(struct ship_parts *p, struct s3 *s3, struct ship_sess *s,
    time_t retain_until, char *err, size_t errlen)
{
	char path[1200], why[160];
	struct stat sb;
	uint64_t end;
	enum part_why due;
	int fd, r = REC_OK;

	if (tw_path(p->store, s->id, path, sizeof(path)) != REC_OK)
		return REC_OK;
	if (stat(path, &sb) == 0 && (uint64_t)sb.st_size >= s->shipped &&
	    !part_due(p, s, (uint64_t)sb.st_size, wall_ns()))
		return REC_OK;		/* nothing to open the file for */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			sess_broken(p, s, "its file is not in the Store");
			return REC_OK;
		}
		snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
		return rec_from_errno(errno);
	}
	for (;;) {
		if (fstat(fd, &sb) != 0) {
			snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
			r = REC_EIO;
			break;
		}
		if ((uint64_t)sb.st_size < s->shipped) {
			snprintf(why, sizeof(why), "its file (%lld bytes) is "
			    "shorter than its parts in the bucket (%" PRIu64
			    " bytes)", (long long)sb.st_size, s->shipped);
			sess_broken(p, s, why);
			break;
		}
		if ((due = part_due(p, s, (uint64_t)sb.st_size, wall_ns())) ==
		    PART_NOT_DUE)
			break;
		/* what goes up must be on this host's disk first */
		if (fdatasync(fd) != 0) {
			snprintf(err, errlen, "%.900s: fdatasync: %s", path,
			    strerror(errno));
			r = REC_EIO;
			break;
		}
		r = part_walk(fd, s->shipped, (uint64_t)sb.st_size, &end);
		if (r == REC_EFORMAT) {
			snprintf(why, sizeof(why), "its file holds no segment at "
			    "offset %" PRIu64 ", where its parts in the bucket "
			    "end", s->shipped);
			sess_broken(p, s, why);
			r = REC_OK;
			break;
		}
		if (r != REC_OK) {
			snprintf(err, errlen, "%.900s: %s", path, rec_strerror(r));
			break;
		}
		if (end == s->shipped) {
			if (s->need > s->shipped) {
				snprintf(why, sizeof(why), "its file does not "
				    "hold the segment at offset %" PRIu64 " that "
				    "the journal names", s->need - 1);
				sess_broken(p, s, why);
			}
			s->idle_size = (uint64_t)sb.st_size;
			break;
		}
		if ((r = part_put(p, s3, s, fd, end, due, retain_until, err,
		    errlen)) != REC_OK)
			break;
	}
	close(fd);
	return r;
}

int
ship_parts_round(struct ship_parts *p, struct s3 *s3, time_t retain_until,
    char *err, size_t errlen)
{
	struct sess_vec v;
	int r = REC_OK;

	if ((r = sess_all(p, &v)) != REC_OK) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	for (size_t i = 0; i < v.n && r == REC_OK; i++)
		if (v.v[i]->open && !v.v[i]->broken)
			r = sess_ship(p, s3, v.v[i], retain_until, err, errlen);
	free(v.v);
	return r;
}

/* The size of s's file, or 0 when it cannot be read. */
static uint64_t
sess_size(const struct ship_parts *p, const struct ship_sess *s)
{
	char path[1200];
	struct stat sb;

	if (tw_path(p->store, s->id, path, sizeof(path)) != REC_OK ||
	    stat(path, &sb) != 0)
		return 0;
	return (uint64_t)sb.st_size;
}

int
ship_parts_due(struct ship_parts *p)
{
	struct sess_vec v;
	uint64_t now = wall_ns();
	int due = 0;

	if (p->nopen == 0 || sess_all(p, &v) != REC_OK)
		return 0;
	for (size_t i = 0; i < v.n && !due; i++)
		if (v.v[i]->open && !v.v[i]->broken)
			due = part_due(p, v.v[i], sess_size(p, v.v[i]), now);
	free(v.v);
	return due;
}

void
ship_parts_held(struct ship_parts *p, size_t *sessions, uint64_t *bytes)
{
	struct sess_vec v;

	*sessions = 0;
	*bytes = 0;
	if (sess_all(p, &v) != REC_OK)
		return;
	for (size_t i = 0; i < v.n; i++) {
		uint64_t size = sess_size(p, v.v[i]);

		if (v.v[i]->open && size > v.v[i]->shipped) {
			(*sessions)++;
			*bytes += size - v.v[i]->shipped;
		}
	}
	free(v.v);
}
