/* journal.c: the store's global journal (see journal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/segfile.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/tw_internal.h"
#include "recorder/verify.h"

#define JOURNAL_CHAIN_ID "journal"

static const char journal_label[] = "escort-journal-v1";

struct journal {
	pthread_mutex_t lock;
	int fd;
	int no_sync;
	int failed;
	const struct seal_signer *signer;
	uint8_t head[SEAL_HASH_LEN];
	uint32_t nseg;
	uint64_t size;
};

/* The signed body of an entry (payload up to the key id). */
static int
journal_body(struct buf *b, const struct journal_entry *e)
{
	size_t idlen = strnlen(e->id, sizeof(e->id));
	int r;

	if (idlen == 0 || idlen > SEAL_ID_MAX)
		return REC_EINVAL;
	if ((r = buf_put_u8(b, e->kind)) != REC_OK ||
	    (r = buf_put_u8(b, (uint8_t)idlen)) != REC_OK ||
	    (r = buf_put(b, e->id, idlen)) != REC_OK ||
	    (r = buf_put_u32(b, e->seg_index)) != REC_OK ||
	    (r = buf_put_u64(b, e->offset)) != REC_OK ||
	    (r = buf_put_u64(b, e->last_seq)) != REC_OK ||
	    (r = buf_put(b, e->head, SEAL_HASH_LEN)) != REC_OK ||
	    (r = buf_put_u64(b, e->wall_ns)) != REC_OK)
		return r;
	return REC_OK;
}

static int
journal_message(struct buf *m, const uint8_t prev[SEAL_HASH_LEN],
    const uint8_t *body, size_t n)
{
	int r;

	if ((r = buf_put(m, journal_label, sizeof(journal_label))) != REC_OK ||
	    (r = buf_put(m, prev, SEAL_HASH_LEN)) != REC_OK ||
	    (r = buf_put(m, body, n)) != REC_OK)
		return r;
	return REC_OK;
}

/* Parses an entry payload; *body_len is the signed part's length. */
static int
journal_parse(const struct seg *s, struct journal_entry *e, size_t *body_len,
    const uint8_t **keyid, const uint8_t **sig)
{
	struct buf b;
	uint8_t idlen;
	const uint8_t *id;

	memset(e, 0, sizeof(*e));
	buf_view(&b, s->payload, s->len);
	if (buf_get_u8(&b, &e->kind) != REC_OK || e->kind < JOURNAL_OPEN ||
	    e->kind > JOURNAL_RECOVER || buf_get_u8(&b, &idlen) != REC_OK ||
	    idlen == 0 || idlen > SEAL_ID_MAX ||
	    buf_get_bytes(&b, idlen, &id) != REC_OK ||
	    buf_get_u32(&b, &e->seg_index) != REC_OK ||
	    buf_get_u64(&b, &e->offset) != REC_OK ||
	    buf_get_u64(&b, &e->last_seq) != REC_OK ||
	    buf_get(&b, e->head, SEAL_HASH_LEN) != REC_OK ||
	    buf_get_u64(&b, &e->wall_ns) != REC_OK)
		return REC_EFORMAT;
	*body_len = s->len - buf_len(&b);
	if (buf_get_bytes(&b, SEAL_KEYID_LEN, keyid) != REC_OK ||
	    buf_get_bytes(&b, SEAL_SIG_LEN, sig) != REC_OK || buf_len(&b) != 0)
		return REC_EFORMAT;
	memcpy(e->id, id, idlen);
	if (strlen(e->id) != idlen)
		return REC_EFORMAT;
	return REC_OK;
}

/*
 * Scans the journal at fd: chain, indexes, entry syntax and (v non-NULL)
 * signatures.  Sets *end, *nseg and head to the valid prefix.  Returns REC_OK
 * (clean or torn end: *torn says which), a callback's non-zero value, or an
 * error with *bad_offset.
 */
static int
journal_scan(int fd, const struct seal_verifier *v, journal_cb cb, void *arg,
    uint64_t *end, uint32_t *nseg, uint8_t head[SEAL_HASH_LEN],
    uint64_t *bad_offset, int *torn)
{
	struct segf sf;
	struct seg s;
	struct journal_entry e;
	struct buf m;
	struct stat st;
	const uint8_t *raw, *keyid, *sig;
	size_t rawlen, blen;
	uint64_t off;
	uint32_t index = 0;
	int r;

	*torn = 0;
	*end = 0;
	seal_chain_init(head, JOURNAL_CHAIN_ID, strlen(JOURNAL_CHAIN_ID));
	if (fstat(fd, &st) != 0)
		return REC_EIO;
	segf_init(&sf, fd, 0);
	buf_init(&m, 0);
	for (;; index++) {
		r = segf_next(&sf, &s, &off, &raw, &rawlen);
		if (r == 0)
			break;
		if (r == REC_EIO || r == REC_ENOMEM)
			goto out;
		if (r < 0) {
			struct seg h;
			uint8_t hb[SEG_HDR_LEN];

			off = sf.off;
			if (r == REC_ETRUNC ||
			    (segf_pread(fd, hb, SEG_HDR_LEN, off) == REC_OK &&
			    seg_decode_header(hb, SEG_HDR_LEN, &h) == REC_OK &&
			    off + SEG_HDR_LEN + h.len == (uint64_t)st.st_size) ||
			    segf_zero_tail(fd, off)) {
				*torn = 1;
				break;
			}
			*bad_offset = off;
			goto out;
		}
		*bad_offset = off;
		if (s.type != SEG_JOURNAL || s.index != index) {
			r = REC_EFORMAT;
			goto out;
		}
		if ((r = journal_parse(&s, &e, &blen, &keyid, &sig)) != REC_OK)
			goto out;
		if (v != NULL) {
			if (memcmp(keyid, seal_verifier_keyid(v), SEAL_KEYID_LEN) != 0) {
				r = REC_ESIG;
				goto out;
			}
			buf_reset(&m);
			if ((r = journal_message(&m, head, s.payload, blen)) != REC_OK)
				goto out;
			if ((r = seal_verify(v, buf_ptr(&m), buf_len(&m), sig)) != REC_OK)
				goto out;
		}
		seal_chain_step(head, raw, rawlen);
		*end = off + rawlen;
		*nseg = index + 1;
		if (cb != NULL && (r = cb(arg, &e, index, off)) != 0)
			goto out;
	}
	r = REC_OK;
	*nseg = index;
out:
	buf_free(&m);
	segf_free(&sf);
	return r;
}

static int
journal_append_locked(struct journal *j, const struct journal_entry *e)
{
	struct buf body, m, out;
	uint8_t sig[SEAL_SIG_LEN];
	size_t done = 0;
	ssize_t w;
	int r;

	if (j->failed)
		return REC_ESTATE;
	buf_init(&body, 0);
	buf_init(&m, 0);
	buf_init(&out, 0);
	if ((r = journal_body(&body, e)) != REC_OK ||
	    (r = journal_message(&m, j->head, buf_ptr(&body), buf_len(&body))) != REC_OK ||
	    (r = seal_sign(j->signer, buf_ptr(&m), buf_len(&m), sig)) != REC_OK ||
	    (r = buf_put(&body, seal_signer_keyid(j->signer), SEAL_KEYID_LEN)) != REC_OK ||
	    (r = buf_put(&body, sig, SEAL_SIG_LEN)) != REC_OK ||
	    (r = seg_encode(&out, SEG_JOURNAL, 0, j->nseg, buf_ptr(&body),
	    buf_len(&body))) != REC_OK)
		goto out;
	while (done < buf_len(&out)) {
		w = write(j->fd, buf_ptr(&out) + done, buf_len(&out) - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = rec_from_errno(errno);
			if (done > 0 && ftruncate(j->fd, (off_t)j->size) != 0)
				j->failed = 1;
			goto out;
		}
		done += (size_t)w;
	}
	if (!j->no_sync && fdatasync(j->fd) != 0) {
		r = REC_EIO;
		goto out;
	}
	seal_chain_step(j->head, buf_ptr(&out), buf_len(&out));
	j->nseg++;
	j->size += buf_len(&out);
	r = REC_OK;
out:
	buf_free(&body);
	buf_free(&m);
	buf_free(&out);
	return r;
}

int
journal_append(struct journal *j, const struct journal_entry *e)
{
	int r;

	pthread_mutex_lock(&j->lock);
	r = journal_append_locked(j, e);
	pthread_mutex_unlock(&j->lock);
	return r;
}

/* What the journal knows of one session, for reconciliation. */
struct journal_known {
	char id[SEAL_ID_MAX + 1];
	int closed;
};

struct journal_known_set {
	struct journal_known *k;
	size_t n, cap;
};

static int
journal_known_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct journal_known_set *ks = arg;
	struct journal_known *nk;

	(void)index;
	(void)offset;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 256;
		if ((nk = realloc(ks->k, ks->cap * sizeof(*nk))) == NULL)
			return REC_ENOMEM;
		ks->k = nk;
	}
	memcpy(ks->k[ks->n].id, e->id, sizeof(e->id));
	ks->k[ks->n++].closed = e->kind == JOURNAL_CLOSE;
	return 0;
}

static int
journal_known_cmp_id(const void *a, const void *b)
{
	return strcmp(((const struct journal_known *)a)->id,
	    ((const struct journal_known *)b)->id);
}

static int
journal_known_cmp(const void *a, const void *b)
{
	const struct journal_known *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : y->closed - x->closed;	/* closed entries first */
}

/* Appends an entry describing segment g of the file checked in vr. */
static int
journal_put_seg(struct journal *j, uint8_t kind, const struct verify_file_result *vr,
    size_t g, uint64_t last_seq)
{
	struct journal_entry e;
	const struct verify_seg *s = &vr->seg[g];

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	memcpy(e.id, vr->id, sizeof(e.id));
	e.seg_index = (uint32_t)g;
	e.offset = kind == JOURNAL_OPEN ? s->end : s->offset;
	e.last_seq = last_seq;
	memcpy(e.head, kind == JOURNAL_OPEN ? s->head_after : s->head_before,
	    SEAL_HASH_LEN);
	e.wall_ns = tw_now_wall();
	return journal_append_locked(j, &e);
}

/*
 * Brings the journal up to date with session files after a crash between
 * a session write and its journal entry: a finished session whose close is
 * not journaled gets its close entry; a session file unknown to the journal
 * is adopted only if it holds a checkpoint signed by this recorder's key
 * (an unsigned stranger stays unknown, for verify to report), except
 * that a file holding only its head (or part of it) is renamed ID.est.orphan:
 * a crash came between its creation and its journal entry, before the
 * session was accepted.  Sessions the journal already has closed are not
 * read.
 */
static int
journal_reconcile(struct journal *j, const char *store)
{
	struct journal_known_set ks = { NULL, 0, 0 };
	struct journal_known key, *found;
	struct verify_file_result vr;
	struct seal_verifier *v = NULL;
	struct dirent *d;
	char dir[4096], path[4400];
	size_t n, sl = strlen(TR_SUFFIX), w, i;
	uint64_t bad = 0;
	DIR *dp;
	int fd, torn, r;

	snprintf(dir, sizeof(dir), "%s/%s", store, TR_SESSIONS_DIR);
	if ((dp = opendir(dir)) == NULL)
		return REC_OK;
	r = journal_scan(j->fd, NULL, journal_known_cb, &ks, &(uint64_t){ 0 },
	    &(uint32_t){ 0 }, (uint8_t[SEAL_HASH_LEN]){ 0 }, &bad, &torn);
	if (r == REC_OK)
		r = seal_signer_verifier(j->signer, &v);
	if (r != REC_OK)
		goto out;
	if (ks.n > 0)
		qsort(ks.k, ks.n, sizeof(*ks.k), journal_known_cmp);
	for (i = w = 0; i < ks.n; i++)	/* one per id, closed if ever closed */
		if (w == 0 || strcmp(ks.k[w - 1].id, ks.k[i].id) != 0)
			ks.k[w++] = ks.k[i];
	ks.n = w;
	while ((d = readdir(dp)) != NULL) {
		n = strlen(d->d_name);
		if (n <= sl || n - sl > SEAL_ID_MAX ||
		    strcmp(d->d_name + n - sl, TR_SUFFIX) != 0)
			continue;
		memcpy(key.id, d->d_name, n - sl);
		key.id[n - sl] = '\0';
		found = ks.n ? bsearch(&key, ks.k, ks.n, sizeof(*ks.k),
		    journal_known_cmp_id) : NULL;
		if (!tw_id_valid(key.id) || (found != NULL && found->closed))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		r = verify_file(fd, key.id, v, 0, &vr);
		close(fd);
		if (r == REC_OK && vr.err == REC_OK && found == NULL &&
		    vr.signed_end == 0 && vr.nseg <= 1) {
			/* Created, then the crash came before its journal
			 * entry: it was never accepted, so it holds nothing
			 * but its head.  Set it aside, out of the store. */
			char orphan[4500];

			snprintf(orphan, sizeof(orphan), "%s%s", path,
			    JOURNAL_ORPHAN_SUFFIX);
			if (rename(path, orphan) != 0)
				r = rec_from_errno(errno);
		} else if (r == REC_OK && vr.err == REC_OK && vr.nseg > 0 &&
		    (found != NULL || vr.signed_end > 0)) {
			if (found == NULL)
				r = journal_put_seg(j, JOURNAL_OPEN, &vr, 0, 0);
			if (r == REC_OK && vr.finished)
				r = journal_put_seg(j, JOURNAL_CLOSE, &vr,
				    vr.nseg - 1, vr.last_seq);
		}
		verify_file_result_free(&vr);
		if (r == REC_ENOMEM || r == REC_EIO || r == REC_ENOSPC)
			goto out;
		r = REC_OK;
	}
out:
	closedir(dp);
	seal_verifier_free(v);
	free(ks.k);
	return r;
}

int
journal_open(const char *store, const struct seal_signer *signer, int no_sync,
    struct journal **out)
{
	char path[4096];
	struct journal *j;
	struct journal_entry e;
	struct stat st;
	uint64_t end = 0, bad = 0;
	int torn, r;

	if (snprintf(path, sizeof(path), "%s/%s", store, JOURNAL_FILE) >=
	    (int)sizeof(path))
		return REC_EINVAL;
	if (mkdir(store, 0750) != 0 && errno != EEXIST)
		return rec_from_errno(errno);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return REC_ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->signer = signer;
	j->no_sync = no_sync;
	if ((j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) < 0) {
		r = rec_from_errno(errno);
		goto fail;
	}
	if ((r = journal_scan(j->fd, NULL, NULL, NULL, &end, &j->nseg, j->head,
	    &bad, &torn)) != REC_OK)
		goto fail;
	j->size = end;
	if (fstat(j->fd, &st) != 0) {
		r = REC_EIO;
		goto fail;
	}
	if ((uint64_t)st.st_size != end) {
		if (ftruncate(j->fd, (off_t)end) != 0) {
			r = rec_from_errno(errno);
			goto fail;
		}
		memset(&e, 0, sizeof(e));
		e.kind = JOURNAL_RECOVER;
		snprintf(e.id, sizeof(e.id), "%s", JOURNAL_CHAIN_ID);
		e.seg_index = j->nseg;
		e.offset = end;
		memcpy(e.head, j->head, SEAL_HASH_LEN);
		e.wall_ns = tw_now_wall();
		if ((r = journal_append_locked(j, &e)) != REC_OK)
			goto fail;
	}
	if ((r = journal_reconcile(j, store)) != REC_OK)
		goto fail;
	*out = j;
	return REC_OK;
fail:
	journal_close(j);
	return r;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

int
journal_read(const char *store, const struct seal_verifier *v, journal_cb cb,
    void *arg, uint64_t *bad_offset, int *tail_torn)
{
	char path[4096];
	uint8_t head[SEAL_HASH_LEN];
	uint64_t end;
	uint32_t nseg;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", store, JOURNAL_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rec_from_errno(errno);
	r = journal_scan(fd, v, cb, arg, &end, &nseg, head, bad_offset, tail_torn);
	close(fd);
	return r;
}
