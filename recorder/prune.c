/* prune: sealed sessions removed from the Store once the object store
 * holds them, each after a signed PRUNE journal entry (see prune.h). */
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

#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/journal_prune.h"
#include "recorder/rec_error.h"
#include "recorder/recd_log.h"
#include "recorder/prune.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/tw_internal.h"
#include "recorder/verify.h"

/* What the journal says of one closed session. */
struct prune_sess {
	char id[SEAL_ID_MAX + 1];
	uint32_t index;			/* its FINAL segment */
	uint64_t offset;		/* and where it starts */
	uint64_t last_seq;
	uint8_t head[SEAL_HASH_LEN];	/* chain head before FINAL */
	uint64_t closed_ns;		/* the CLOSE entry's wall time */
	uint64_t entry_end;		/* end of the CLOSE entry in the
					   journal */
	int pruned;			/* a PRUNE entry follows */
	uint8_t sha[SEAL_HASH_LEN];	/* its SHA-256 */
	uint64_t size;			/* and size */
};

struct prune_scan {
	struct prune_sess *v;
	size_t n, cap;
};

/* The round's state: the options, and the client and key of this round
 * (the thread keeps them from one round to the next). */
struct prune_ctx {
	struct prune_opts o;
	char store[1024];
	char url[S3_URL_MAX + 8];
	struct s3 *s3;
	struct seal_verifier *v;
	prune_report_cb cb;
	void *cb_arg;
	unsigned pruned;
};

struct prune {
	struct prune_ctx c;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	volatile int stop;		/* set under mu; s3's abort flag */
};

/* ---- the journal's closed and pruned sessions ----------------------- */

static struct prune_sess *
scan_find(struct prune_scan *sc, const char *id)
{
	/* newest first: a PRUNE follows its CLOSE closely */
	for (size_t i = sc->n; i-- > 0; )
		if (strcmp(sc->v[i].id, id) == 0)
			return &sc->v[i];
	return NULL;
}

static int
scan_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct prune_scan *sc = arg;
	struct prune_sess *s;

	(void)index;
	if (e->kind == JOURNAL_CLOSE) {
		if (sc->n == sc->cap) {
			size_t cap = sc->cap ? 2 * sc->cap : 64;
			void *p = realloc(sc->v, cap * sizeof(*sc->v));

			if (p == NULL)
				return REC_ENOMEM;
			sc->v = p;
			sc->cap = cap;
		}
		s = &sc->v[sc->n++];
		memset(s, 0, sizeof(*s));
		memcpy(s->id, e->id, sizeof(s->id));
		s->index = e->seg_index;
		s->offset = e->offset;
		s->last_seq = e->last_seq;
		memcpy(s->head, e->head, SEAL_HASH_LEN);
		s->closed_ns = e->wall_ns;
		s->entry_end = offset + e->rawlen;
	} else if (e->kind == JOURNAL_PRUNE &&
	    (s = scan_find(sc, e->id)) != NULL) {
		s->pruned = 1;
		memcpy(s->sha, e->head, SEAL_HASH_LEN);
		s->size = e->offset;
	}
	return 0;
}

/* ---- what the bucket holds ------------------------------------------ */

static int
journal_list_cb(void *arg, const char *name, uint64_t size)
{
	uint64_t *end = arg;
	unsigned long long off;
	char tail[8];

	if (sscanf(name, "journal/%20llu.es%1[j]", &off, tail) == 2 &&
	    off + size > *end)
		*end = off + size;
	return 0;
}

/* SHA-256 of the file at fd (its whole size, sz). */
static int
hash_fd(int fd, uint64_t sz, uint8_t out[SEAL_HASH_LEN])
{
	void *map;

	if (sz == 0) {
		seal_sha256("", 0, out);
		return REC_OK;
	}
	if ((map = mmap(NULL, (size_t)sz, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED)
		return rec_from_errno(errno);
	seal_sha256(map, (size_t)sz, out);
	munmap(map, (size_t)sz);
	return REC_OK;
}

/* Downloads PREFIX/name into an unnamed file of the Store's directory and
 * gives its size and SHA-256. */
static int
object_hash(struct prune_ctx *c, const char *name, uint64_t *size,
    uint8_t sha[SEAL_HASH_LEN], char *err, size_t errlen)
{
	struct stat sb;
	int fd, r;

	if ((fd = open(c->store, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "%.900s: a file to download into: %s",
		    c->store, strerror(errno));
		return rec_from_errno(errno);
	}
	r = s3_get_fd(c->s3, name, fd, err, errlen);
	if (r == REC_OK && fstat(fd, &sb) != 0)
		r = rec_from_errno(errno);
	if (r == REC_OK) {
		*size = (uint64_t)sb.st_size;
		r = hash_fd(fd, *size, sha);
	}
	close(fd);
	return r;
}

/* ---- one session ---------------------------------------------------- */

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* Unlinks the session file and syncs its directory. */
static int
remove_file(struct prune_ctx *c, const char *path)
{
	char dir[1200];
	int fd, r = REC_OK;

	if (unlink(path) != 0)
		return rec_from_errno(errno);
	snprintf(dir, sizeof(dir), "%s/%s", c->store, TR_SESSIONS_DIR);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return rec_from_errno(errno);
	if (fsync(fd) != 0)
		r = rec_from_errno(errno);
	close(fd);
	return r;
}

/* The file at path (open at fd, sb) is the sealed session s: it verifies
 * and ends with the FINAL record its CLOSE entry names. */
static int
file_is_sealed(struct prune_ctx *c, const struct prune_sess *s, int fd,
    const struct stat *sb, char *why, size_t whylen)
{
	struct verify_file_result vr;
	const struct verify_seg *g;
	int r, ok;

	if ((uint64_t)sb->st_size != s->offset + SEG_HDR_LEN + SEG_SEAL_LEN) {
		snprintf(why, whylen, "the file is %lld bytes, its close entry "
		    "says %" PRIu64, (long long)sb->st_size,
		    s->offset + SEG_HDR_LEN + SEG_SEAL_LEN);
		return REC_ETAMPER;
	}
	if ((r = verify_file(fd, s->id, c->v, 0, &vr)) != REC_OK) {
		snprintf(why, whylen, "verifying it: %s", rec_strerror(r));
		return r;
	}
	g = vr.nseg > 0 ? &vr.seg[vr.nseg - 1] : NULL;
	ok = vr.err == REC_OK && vr.finished && !vr.tail_torn && g != NULL &&
	    vr.nseg - 1 == s->index && g->offset == s->offset &&
	    memcmp(g->head_before, s->head, SEAL_HASH_LEN) == 0 &&
	    vr.last_seq == s->last_seq;
	if (!ok)
		snprintf(why, whylen, "it does not verify as the session its "
		    "close entry sealed%s%s", vr.err != REC_OK ? ": " : "",
		    vr.err != REC_OK ? vr.msg : "");
	verify_file_result_free(&vr);
	return ok ? REC_OK : REC_ETAMPER;
}

/* The PRUNE entry's text for the file at path (verified): the object's
 * address, then the user and target of its META event (journal_prune.h),
 * so that readers still list it by them once the file is gone.  Without a
 * readable META the address alone. */
static void
prune_text(const char *path, const char *objurl, char *out, size_t outsz)
{
	char user[JOURNAL_TEXT_MAX + 1] = "", target[JOURNAL_TEXT_MAX + 1] = "";
	const uint8_t *meta;
	struct tr *r;
	struct ev ev;
	size_t mlen, used;

	if (tr_open(path, &r) == REC_OK) {
		tr_meta(r, &meta, &mlen);
		if (ev_decode(meta, mlen, &ev, &used) == REC_OK &&
		    ev.type == EV_META) {
			ev_fields_get_str(ev.data, ev.len, EVF_USER, user,
			    sizeof(user));
			ev_fields_get_str(ev.data, ev.len, EVF_TARGET, target,
			    sizeof(target));
		}
		tr_free(r);
	}
	if (journal_prune_text_make(objurl, user, target, out, outsz) !=
	    REC_OK)
		snprintf(out, outsz, "%s", objurl);
}

/* Prunes s (not pruned yet): checks, PRUNE entry, unlink.  Returns REC_OK
 * (pruned), REC_ENOENT (no file: verify reports it), or an error, logged. */
static int
prune_session(struct prune_ctx *c, const struct prune_sess *s)
{
	char path[1200], name[300], objurl[S3_URL_MAX + 400], why[1024];
	char mode[32], shahex[2 * SEAL_HASH_LEN + 1];
	char text[JOURNAL_TEXT_MAX + 1];
	uint8_t sha[SEAL_HASH_LEN], osha[SEAL_HASH_LEN];
	struct journal_entry e;
	struct stat sb;
	uint64_t osize = 0;
	time_t until = 0;
	int fd, r;

	if (tw_path(c->store, s->id, path, sizeof(path)) != REC_OK)
		return REC_EINVAL;
	snprintf(name, sizeof(name), "%s/%s%s", TR_SESSIONS_DIR, s->id,
	    TR_SUFFIX);
	snprintf(objurl, sizeof(objurl), "%s/%s", c->url, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? REC_ENOENT : rec_from_errno(errno);
	r = fstat(fd, &sb) != 0 ? rec_from_errno(errno) :
	    file_is_sealed(c, s, fd, &sb, why, sizeof(why));
	if (r == REC_OK)
		r = hash_fd(fd, (uint64_t)sb.st_size, sha);
	close(fd);
	if (r != REC_OK) {
		recd_log(LOG_ERR, "session %s: not pruned: %s: %s", s->id, path,
		    r == REC_ETAMPER ? why : rec_strerror(r));
		return r;
	}
	if ((r = object_hash(c, name, &osize, osha, why, sizeof(why))) !=
	    REC_OK) {
		recd_log(LOG_WARNING, "session %s: not pruned: %s", s->id, why);
		return r;
	}
	if (osize != (uint64_t)sb.st_size || memcmp(osha, sha, sizeof(sha))) {
		recd_log(LOG_ERR, "session %s: not pruned: %s holds %" PRIu64
		    " bytes whose SHA-256 is not the file's (%lld bytes)",
		    s->id, objurl, osize, (long long)sb.st_size);
		return REC_ETAMPER;
	}
	if ((r = s3_retention(c->s3, name, mode, sizeof(mode), &until, why,
	    sizeof(why))) != REC_OK) {
		recd_log(LOG_WARNING, "session %s: not pruned: %s", s->id, why);
		return r;
	}
	if (strcmp(mode, "COMPLIANCE") != 0 || until <= time(NULL)) {
		recd_log(LOG_ERR, "session %s: not pruned: %s is not locked "
		    "(retention %s until %lld)", s->id, objurl, mode,
		    (long long)until);
		return REC_EPERM;
	}
	memset(&e, 0, sizeof(e));
	e.kind = JOURNAL_PRUNE;
	memcpy(e.id, s->id, sizeof(e.id));
	e.seg_index = s->index;
	e.offset = (uint64_t)sb.st_size;
	e.last_seq = s->last_seq;
	memcpy(e.head, sha, SEAL_HASH_LEN);
	e.wall_ns = rec__tw_now_wall();
	prune_text(path, objurl, text, sizeof(text));
	e.text = text;
	if ((r = rec__journal_append(c->o.journal, &e)) != REC_OK) {
		recd_log(LOG_ERR, "session %s: not pruned: the journal entry: "
		    "%s", s->id, rec_strerror(r));
		return r;
	}
	if ((r = remove_file(c, path)) != REC_OK) {
		recd_log(LOG_ERR, "session %s: the prune entry is written but "
		    "%s could not be removed: %s (tried again at the next "
		    "round)", s->id, path, rec_strerror(r));
		return r;
	}
	hex(sha, SEAL_HASH_LEN, shahex);
	recd_log(LOG_INFO, "session %s: pruned from the Store, held in %s "
	    "(%lld bytes, SHA-256 %s, locked until %lld)", s->id, objurl,
	    (long long)sb.st_size, shahex, (long long)until);
	c->pruned++;
	if (c->cb != NULL)
		c->cb(c->cb_arg, s->id, objurl);
	return REC_OK;
}

/* A file still present behind its PRUNE entry (a crash between the entry
 * and the unlink): removed when it is the file the entry names. */
static void
prune_finish(struct prune_ctx *c, const struct prune_sess *s)
{
	char path[1200];
	uint8_t sha[SEAL_HASH_LEN];
	struct stat sb;
	int fd, r;

	if (tw_path(c->store, s->id, path, sizeof(path)) != REC_OK ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	r = fstat(fd, &sb) != 0 ? rec_from_errno(errno) :
	    hash_fd(fd, (uint64_t)sb.st_size, sha);
	close(fd);
	if (r == REC_OK && ((uint64_t)sb.st_size != s->size ||
	    memcmp(sha, s->sha, SEAL_HASH_LEN) != 0)) {
		recd_log(LOG_ERR, "session %s: %s is not the file its prune "
		    "entry names (size or SHA-256 differ): left as it is "
		    "(escort-replay verify reports it)", s->id, path);
		return;
	}
	if (r == REC_OK)
		r = remove_file(c, path);
	if (r != REC_OK)
		recd_log(LOG_ERR, "session %s: removing %s after its prune "
		    "entry: %s", s->id, path, rec_strerror(r));
	else
		recd_log(LOG_INFO, "session %s: pruned: removed the file its "
		    "prune entry named", s->id);
}

/* ---- a round -------------------------------------------------------- */

static int
prune_round(struct prune_ctx *c, char *err, size_t errlen)
{
	struct prune_scan sc = { NULL, 0, 0 };
	uint64_t now = rec__tw_now_wall(), bad = 0, held = 0;
	uint64_t after_ns = c->o.after_s * 1000000000ull;
	size_t i, due = 0;
	int torn = 0, r;

	r = journal_read(c->store, NULL, scan_cb, &sc, &bad, &torn);
	if (r == REC_ENOMEM) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r = REC_OK;		/* what was read before a bad entry counts */
	for (i = 0; i < sc.n; i++) {
		if (sc.v[i].pruned)
			prune_finish(c, &sc.v[i]);
		else if (sc.v[i].closed_ns + after_ns <= now)
			due++;
	}
	if (due == 0)
		goto out;
	if ((r = s3_list(c->s3, "journal/", journal_list_cb, &held, err,
	    errlen)) != REC_OK)
		goto out;
	for (i = 0; i < sc.n; i++) {
		const struct prune_sess *s = &sc.v[i];

		if (s->pruned || s->closed_ns + after_ns > now)
			continue;
		if (s->entry_end > held) {
			recd_log(LOG_DEBUG, "session %s: not pruned yet: the "
			    "bucket's journal does not reach its close entry",
			    s->id);
			continue;
		}
		(void)prune_session(c, s);
	}
out:
	free(sc.v);
	return r;
}

/* Client and key for a round (kept by the thread). */
static int
ctx_open(struct prune_ctx *c, const struct prune_opts *o, char *err,
    size_t errlen)
{
	struct s3_cfg cfg = o->s3;
	char why[512];
	int r;

	memset(c, 0, sizeof(*c));
	c->o = *o;
	snprintf(c->store, sizeof(c->store), "%s", o->store);
	snprintf(c->url, sizeof(c->url), "%s", o->url);
	c->o.store = c->store;
	c->o.url = c->url;
	explicit_bzero(&c->o.s3, sizeof(c->o.s3));
	if ((r = s3_url_parse(o->url, &cfg, err, errlen)) != REC_OK ||
	    (r = s3_cfg_finish(&cfg, err, errlen)) != REC_OK)
		goto out;
	if ((r = s3_open(&cfg, &c->s3, why, sizeof(why))) != REC_OK) {
		snprintf(err, errlen, "object store %s: %s", o->url, why);
		goto out;
	}
	if ((r = rec__seal_signer_verifier(o->signer, &c->v)) != REC_OK) {
		snprintf(err, errlen, "the Store's key: %s", rec_strerror(r));
		s3_close(c->s3);
		c->s3 = NULL;
	}
out:
	explicit_bzero(&cfg, sizeof(cfg));
	return r;
}

static void
ctx_close(struct prune_ctx *c)
{
	s3_close(c->s3);
	seal_verifier_free(c->v);
	c->s3 = NULL;
	c->v = NULL;
}

int
prune_once(const struct prune_opts *o, prune_report_cb cb, void *arg,
    unsigned *pruned, char *err, size_t errlen)
{
	struct prune_ctx c;
	int r;

	*pruned = 0;
	if ((r = ctx_open(&c, o, err, errlen)) != REC_OK)
		return r;
	c.cb = cb;
	c.cb_arg = arg;
	r = prune_round(&c, err, errlen);
	*pruned = c.pruned;
	ctx_close(&c);
	return r;
}

/* ---- the thread ----------------------------------------------------- */

static unsigned
round_every_s(const struct prune *p)
{
	uint64_t half = p->c.o.after_s / 2;

	return half >= PRUNE_ROUND_MAX_S ? PRUNE_ROUND_MAX_S : half < 1 ? 1 :
	    (unsigned)half;
}

static void *
prune_main(void *arg)
{
	struct prune *p = arg;
	char err[1024], last[1024] = "";
	struct timespec ts;

	for (;;) {
		err[0] = '\0';
		if (prune_round(&p->c, err, sizeof(err)) != REC_OK &&
		    strcmp(err, last) != 0)
			recd_log(LOG_WARNING, "object store %s: pruning: %s "
			    "(tried again in %u s)", p->c.url, err,
			    round_every_s(p));
		snprintf(last, sizeof(last), "%s", err);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += round_every_s(p);
		pthread_mutex_lock(&p->mu);
		while (!p->stop)
			if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) ==
			    ETIMEDOUT)
				break;
		pthread_mutex_unlock(&p->mu);
		if (p->stop)
			break;
	}
	return NULL;
}

int
prune_start(const struct prune_opts *o, struct prune **out, char *err,
    size_t errlen)
{
	pthread_condattr_t ca;
	struct prune *p;
	int r;

	*out = NULL;
	if (o->url == NULL || o->after_s == 0)
		return REC_OK;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return REC_ENOMEM;
	if ((r = ctx_open(&p->c, o, err, errlen)) != REC_OK) {
		free(p);
		return r;
	}
	s3_set_abort(p->c.s3, &p->stop);
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((r = pthread_create(&p->thread, NULL, prune_main, p)) != 0) {
		snprintf(err, errlen, "object store %s: pruning thread: %s",
		    o->url, strerror(r));
		ctx_close(&p->c);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return REC_ENOMEM;
	}
	recd_log(LOG_INFO, "object store %s: sealed sessions closed for %"
	    PRIu64 " s are pruned from the Store once the bucket holds them "
	    "(looked at every %u s)", o->url, o->after_s, round_every_s(p));
	*out = p;
	return REC_OK;
}

void
prune_stop(struct prune *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	ctx_close(&p->c);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
