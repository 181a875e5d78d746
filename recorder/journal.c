/* journal.c: the store's global journal (see journal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/journal.h"
#include "recorder/journal_internal.h"
#include "recorder/rec_error.h"
#include "recorder/segfile.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/tw_internal.h"

static const char journal_label[] = "escort-journal-v1";

static int journal_open_check(struct journal *j, uint64_t *bad);

/* The signed body of an entry (payload up to the key id). */
static int
journal_body(struct buf *b, const struct journal_entry *e)
{
	size_t idlen = strnlen(e->id, sizeof(e->id)), tl;
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
	if (JOURNAL_HAS_TEXT(e->kind)) {
		tl = e->text != NULL ? strnlen(e->text, JOURNAL_TEXT_MAX) : 0;
		if ((r = buf_put_u16(b, (uint16_t)tl)) != REC_OK ||
		    (tl > 0 && (r = buf_put(b, e->text, tl)) != REC_OK))
			return r;
	}
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

/* Parses an entry payload; *body_len is the signed part's length; text
 * (JOURNAL_TEXT_MAX + 1 bytes) receives the text. */
static int
journal_parse(const struct seg *s, struct journal_entry *e, size_t *body_len,
    const uint8_t **keyid, const uint8_t **sig, char *text)
{
	struct buf b;
	uint8_t idlen;
	uint16_t tl;
	const uint8_t *id, *tp;

	memset(e, 0, sizeof(*e));
	buf_view(&b, s->payload, s->len);
	if (buf_get_u8(&b, &e->kind) != REC_OK || e->kind < JOURNAL_OPEN ||
	    e->kind > JOURNAL_PRUNE || buf_get_u8(&b, &idlen) != REC_OK ||
	    idlen == 0 || idlen > SEAL_ID_MAX ||
	    buf_get_bytes(&b, idlen, &id) != REC_OK ||
	    buf_get_u32(&b, &e->seg_index) != REC_OK ||
	    buf_get_u64(&b, &e->offset) != REC_OK ||
	    buf_get_u64(&b, &e->last_seq) != REC_OK ||
	    buf_get(&b, e->head, SEAL_HASH_LEN) != REC_OK ||
	    buf_get_u64(&b, &e->wall_ns) != REC_OK)
		return REC_EFORMAT;
	text[0] = '\0';
	if (JOURNAL_HAS_TEXT(e->kind)) {
		if (buf_get_u16(&b, &tl) != REC_OK || tl > JOURNAL_TEXT_MAX ||
		    buf_get_bytes(&b, tl, &tp) != REC_OK ||
		    memchr(tp, '\0', tl) != NULL)
			return REC_EFORMAT;
		memcpy(text, tp, tl);
		text[tl] = '\0';
		e->text = text;
	}
	*body_len = s->len - buf_len(&b);
	if (buf_get_bytes(&b, SEAL_KEYID_LEN, keyid) != REC_OK ||
	    buf_get_bytes(&b, SEAL_SIG_LEN, sig) != REC_OK || buf_len(&b) != 0)
		return REC_EFORMAT;
	memcpy(e->id, id, idlen);
	if (strlen(e->id) != idlen)
		return REC_EFORMAT;
	return REC_OK;
}

/* 1 when the signature of entry index (id) is checked on its own: always
 * without a cover, else when the cover's head does not cover it or its
 * caller wants it checked. */
static int
journal_sig_needed(const struct journal_cover *c, uint32_t index,
    const char *id)
{
	if (c == NULL || index >= c->head->size)
		return 1;
	return c->must_sign != NULL && c->must_sign(c->must_sign_arg, id);
}

int
rec__journal_scan(int fd, const struct seal_verifier *v,
    struct journal_cover *cover, journal_cb cb, void *arg, uint64_t *end,
    uint32_t *nseg, uint8_t head[SEAL_HASH_LEN], uint64_t *bad_offset,
    int *torn)
{
	struct merkle_frontier tree;
	uint8_t leaf[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	struct segf sf;
	struct seg s;
	struct journal_entry e;
	struct buf m;
	struct stat st;
	const uint8_t *raw, *keyid, *sig;
	char text[JOURNAL_TEXT_MAX + 1];
	size_t rawlen, blen;
	uint64_t off;
	uint32_t index = 0;
	int r;

	*torn = 0;
	*end = 0;
	*nseg = 0;
	seal_chain_init(head, JOURNAL_CHAIN_ID, strlen(JOURNAL_CHAIN_ID));
	if (cover != NULL) {
		rec__merkle_frontier_init(&tree);
		cover->held = cover->head->size == 0;
	}
	if (fstat(fd, &st) != 0)
		return REC_EIO;
	rec__segf_init(&sf, fd, 0);
	buf_init(&m, 0);
	for (;; index++) {
		r = rec__segf_next(&sf, &s, &off, &raw, &rawlen);
		if (r == 0)
			break;
		if (r == REC_EIO || r == REC_ENOMEM)
			goto out;
		if (r < 0) {
			off = sf.off;
			if (rec__segf_torn_tail(fd, r, off, (uint64_t)st.st_size)) {
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
		if ((r = journal_parse(&s, &e, &blen, &keyid, &sig, text)) != REC_OK)
			goto out;
		if (v != NULL) {
			if (memcmp(keyid, seal_verifier_keyid(v), SEAL_KEYID_LEN) != 0) {
				r = REC_ESIG;
				goto out;
			}
		}
		if (v != NULL && journal_sig_needed(cover, index, e.id)) {
			buf_reset(&m);
			if ((r = journal_message(&m, head, s.payload, blen)) != REC_OK)
				goto out;
			if ((r = rec__seal_verify(v, buf_ptr(&m), buf_len(&m), sig)) != REC_OK)
				goto out;
		}
		seal_chain_step(head, raw, rawlen);
		if (cover != NULL && index < cover->head->size) {
			/* The head stands for these signatures only when its
			 * root is the root of these very entries. */
			merkle_leaf(raw, rawlen, leaf);
			rec__merkle_frontier_add(&tree, leaf);
			if (index + 1 == cover->head->size) {
				rec__merkle_frontier_root(&tree, root);
				cover->held = memcmp(root, cover->head->root,
				    MERKLE_HASH_LEN) == 0;
				if (!cover->held) {
					r = REC_ETAMPER;
					goto out;
				}
			}
		}
		*end = off + rawlen;
		*nseg = index + 1;
		e.raw = raw;
		e.rawlen = rawlen;
		if (cb != NULL && (r = cb(arg, &e, index, off)) != 0)
			goto out;
	}
	r = REC_OK;
	*nseg = index;
out:
	buf_free(&m);
	rec__segf_free(&sf);
	return r;
}

/* ---- what the journal says of each session (open addressing) ---------- */

static uint64_t
jsess_hash(const char *id)
{
	uint64_t h = 1469598103934665603ull;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 1099511628211ull;
	return h;
}

static struct jsess *
jsess_find(struct journal *j, const char *id, int add)
{
	struct jsess *t;
	size_t i, cap;

	if (add && (j->tabn + 1) * 2 > j->tabcap) {
		cap = j->tabcap ? j->tabcap * 2 : 256;
		if ((t = calloc(cap, sizeof(*t))) == NULL)
			return NULL;
		for (i = 0; i < j->tabcap; i++) {
			size_t k;

			if (j->tab[i].id[0] == '\0')
				continue;
			for (k = jsess_hash(j->tab[i].id) & (cap - 1);
			    t[k].id[0] != '\0'; k = (k + 1) & (cap - 1))
				;
			t[k] = j->tab[i];
		}
		free(j->tab);
		j->tab = t;
		j->tabcap = cap;
	}
	if (j->tabcap == 0)
		return NULL;
	for (i = jsess_hash(id) & (j->tabcap - 1); j->tab[i].id[0] != '\0';
	    i = (i + 1) & (j->tabcap - 1))
		if (strcmp(j->tab[i].id, id) == 0)
			return &j->tab[i];
	if (!add)
		return NULL;
	snprintf(j->tab[i].id, sizeof(j->tab[i].id), "%s", id);
	j->tab[i].order = j->order++;
	j->tabn++;
	return &j->tab[i];
}

/* Updates the session table and the Merkle tree with one entry. */
static int
journal_note(struct journal *j, const struct journal_entry *e,
    const uint8_t *raw, size_t rawlen)
{
	uint8_t leaf[SEAL_HASH_LEN];
	struct jsess *s;

	merkle_leaf(raw, rawlen, leaf);
	rec__merkle_frontier_add(&j->tree, leaf);
	if (e->kind > JOURNAL_RECOVER || strcmp(e->id, JOURNAL_CHAIN_ID) == 0)
		return REC_OK;
	if ((s = jsess_find(j, e->id, e->kind == JOURNAL_OPEN)) == NULL)
		return e->kind == JOURNAL_OPEN ? REC_ENOMEM : REC_OK;
	s->js.recover_last = 0;
	switch (e->kind) {
	case JOURNAL_RECOVER:
		s->js.recover_last = 1;
		s->js.rec_index = e->seg_index;
		s->js.rec_offset = e->offset;
		memcpy(s->js.rec_head, e->head, SEAL_HASH_LEN);
		s->js.rec_lost = 0;
		if (e->text != NULL)	/* "cut N bytes at offset X: ..." */
			(void)sscanf(e->text, "cut %" SCNu64, &s->js.rec_lost);
		break;
	case JOURNAL_OPEN:
		s->js.state = JOURNAL_SESS_OPEN;
		s->js.open_end = e->offset;
		memcpy(s->js.open_head, e->head, SEAL_HASH_LEN);
		break;
	case JOURNAL_CHECKPOINT:
		s->js.has_cp = 1;
		s->js.cp_index = e->seg_index;
		s->js.cp_offset = e->offset;
		memcpy(s->js.cp_head, e->head, SEAL_HASH_LEN);
		break;
	case JOURNAL_CLOSE:
		s->js.state = JOURNAL_SESS_CLOSED;
		break;
	}
	return REC_OK;
}

static int
journal_load_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	(void)index;
	(void)offset;
	return journal_note(arg, e, e->raw, e->rawlen);
}

int
journal_session_get(struct journal *j, const char *id,
    struct journal_session *out)
{
	struct jsess *s;
	int r = REC_ENOENT;

	pthread_mutex_lock(&j->lock);
	if ((s = jsess_find(j, id, 0)) != NULL) {
		*out = s->js;
		r = REC_OK;
	}
	pthread_mutex_unlock(&j->lock);
	return r;
}

static int
jsess_cmp_order(const void *a, const void *b)
{
	const struct jsess *x = *(struct jsess *const *)a;
	const struct jsess *y = *(struct jsess *const *)b;

	return x->order < y->order ? -1 : x->order > y->order;
}

int
journal_each_open(struct journal *j, int (*cb)(void *arg, const char *id),
    void *arg)
{
	struct jsess **list;
	char (*ids)[SEAL_ID_MAX + 1];
	size_t i, n = 0;
	int r = 0;

	pthread_mutex_lock(&j->lock);
	list = calloc(j->tabn + 1, sizeof(*list));
	ids = calloc(j->tabn + 1, sizeof(*ids));
	if (list == NULL || ids == NULL) {
		pthread_mutex_unlock(&j->lock);
		free(list);
		free(ids);
		return REC_ENOMEM;
	}
	for (i = 0; i < j->tabcap; i++)
		if (j->tab[i].id[0] != '\0' &&
		    j->tab[i].js.state == JOURNAL_SESS_OPEN)
			list[n++] = &j->tab[i];
	qsort(list, n, sizeof(*list), jsess_cmp_order);
	for (i = 0; i < n; i++)
		memcpy(ids[i], list[i]->id, sizeof(ids[i]));
	pthread_mutex_unlock(&j->lock);
	for (i = 0; i < n && r == 0; i++)
		r = cb(arg, ids[i]);
	free(list);
	free(ids);
	return r;
}

/* ---- appending ---------------------------------------------------------- */

int
rec__journal_append_locked(struct journal *j, const struct journal_entry *e)
{
	struct buf body, m, out;
	uint8_t sig[SEAL_SIG_LEN];
	size_t done = 0;
	ssize_t w;
	int r;

	if (j->failed)
		return REC_ESTATE;
	{
		/* Cut or extended by another process since our last append:
		 * appending would hide it.  Stop journaling. */
		struct stat st;

		if (fstat(j->fd, &st) != 0 || (uint64_t)st.st_size != j->size) {
			j->failed = 1;
			return REC_ETAMPER;
		}
	}
	buf_init(&body, 0);
	buf_init(&m, 0);
	buf_init(&out, 0);
	if ((r = journal_body(&body, e)) != REC_OK ||
	    (r = journal_message(&m, j->head, buf_ptr(&body), buf_len(&body))) != REC_OK ||
	    (r = seal_sign(j->signer, buf_ptr(&m), buf_len(&m), sig)) != REC_OK ||
	    (r = buf_put(&body, rec__seal_signer_keyid(j->signer), SEAL_KEYID_LEN)) != REC_OK ||
	    (r = buf_put(&body, sig, SEAL_SIG_LEN)) != REC_OK ||
	    (r = rec__seg_encode(&out, SEG_JOURNAL, 0, j->nseg, buf_ptr(&body),
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
	r = journal_note(j, e, buf_ptr(&out), buf_len(&out));
	if (r == REC_OK && e->kind == JOURNAL_CLOSE)
		r = rec__journal_head_issue_locked(j, 0, NULL);
out:
	buf_free(&body);
	buf_free(&m);
	buf_free(&out);
	return r;
}

int
rec__journal_append(struct journal *j, const struct journal_entry *e)
{
	int r;

	pthread_mutex_lock(&j->lock);
	r = rec__journal_append_locked(j, e);
	pthread_mutex_unlock(&j->lock);
	return r;
}

/* ---- opening ------------------------------------------------------------ */

/* 1 when store holds nothing (or only an empty sessions directory, and the
 * public key the recorder writes beside it at start). */
static int
journal_store_is_new(const char *store)
{
	char sub[4096];
	struct dirent *d;
	DIR *dp;
	int empty = 1;

	if ((dp = opendir(store)) == NULL)
		return errno == ENOENT;
	while (empty && (d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    strcmp(d->d_name, "public-key.pem") == 0 ||
		    strcmp(d->d_name, "public-key.pem.tmp") == 0)
			continue;
		if (strcmp(d->d_name, TR_SESSIONS_DIR) == 0) {
			DIR *sp;
			struct dirent *e;

			snprintf(sub, sizeof(sub), "%s/%s", store, TR_SESSIONS_DIR);
			if ((sp = opendir(sub)) == NULL) {
				empty = 0;
				break;
			}
			while ((e = readdir(sp)) != NULL)
				if (strcmp(e->d_name, ".") != 0 &&
				    strcmp(e->d_name, "..") != 0)
					empty = 0;
			closedir(sp);
			continue;
		}
		empty = 0;
	}
	closedir(dp);
	return empty;
}

int
rec__journal_new(const char *store, const struct seal_signer *signer, int no_sync,
    int fd, struct journal **out)
{
	struct journal *j;
	char path[4096];

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return REC_ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->signer = signer;
	j->no_sync = no_sync;
	j->fd = fd;
	j->heads_fd = -1;
	snprintf(j->store, sizeof(j->store), "%s", store);
	rec__merkle_frontier_init(&j->tree);
	seal_chain_init(j->head, JOURNAL_CHAIN_ID, strlen(JOURNAL_CHAIN_ID));
	snprintf(path, sizeof(path), "%s/%s", store, TREEHEAD_FILE);
	j->heads_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (j->heads_fd < 0) {
		int r = rec_from_errno(errno);

		j->fd = -1;
		journal_close(j);
		return r;
	}
	*out = j;
	return REC_OK;
}

/* Opens (creating when asked) the journal file and takes its lock. */
int
rec__journal_open_file(const char *path, int create, int *fdp)
{
	int fd, flags = O_RDWR | O_APPEND | O_CLOEXEC;

	if (create)
		flags |= O_CREAT | O_EXCL;
	if ((fd = open(path, flags, 0640)) < 0)
		return rec_from_errno(errno);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return errno == EWOULDBLOCK ? REC_ESTATE : rec_from_errno(errno);
	}
	*fdp = fd;
	return REC_OK;
}

int
journal_open2(const char *store, const struct seal_signer *signer, int no_sync,
    struct journal **out, uint64_t *bad_offset)
{
	char path[4096], text[160];
	struct journal *j = NULL;
	struct journal_entry e;
	struct stat st;
	uint64_t end = 0, bad = 0;
	int torn, fd = -1, create = 0, r;

	if (snprintf(path, sizeof(path), "%s/%s", store, JOURNAL_FILE) >=
	    (int)sizeof(path))
		return REC_EINVAL;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return rec_from_errno(errno);
		if (!journal_store_is_new(store))
			return REC_ENOENT;
		if (mkdir(store, 0750) != 0 && errno != EEXIST)
			return rec_from_errno(errno);
		create = 1;
	}
	if ((r = rec__journal_open_file(path, create, &fd)) != REC_OK)
		return r;
	if ((r = rec__journal_new(store, signer, no_sync, fd, &j)) != REC_OK) {
		close(fd);
		return r;
	}
	if (create) {
		memset(&e, 0, sizeof(e));
		e.kind = JOURNAL_CREATE;
		snprintf(e.id, sizeof(e.id), "%s", JOURNAL_CHAIN_ID);
		e.wall_ns = rec__tw_now_wall();
		e.text = "store created";
		if ((r = rec__journal_append_locked(j, &e)) != REC_OK)
			goto fail;
		*out = j;
		return REC_OK;
	}
	if ((r = journal_open_check(j, &bad)) != REC_OK ||
	    (r = rec__journal_scan(j->fd, NULL, NULL, journal_load_cb, j, &end,
	    &j->nseg, j->head, &bad, &torn)) != REC_OK) {
		if (bad_offset != NULL)
			*bad_offset = bad;
		goto fail;
	}
	j->size = end;
	if (j->nseg == 0 && !torn) {
		/* An empty journal file is no journal. */
		r = REC_ENOENT;
		goto fail;
	}
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
		e.wall_ns = rec__tw_now_wall();
		snprintf(text, sizeof(text), "cut %llu bytes at offset %llu: "
		    "an incomplete last entry (torn write)",
		    (unsigned long long)((uint64_t)st.st_size - end),
		    (unsigned long long)end);
		e.text = text;
		if ((r = rec__journal_append_locked(j, &e)) != REC_OK)
			goto fail;
	}
	j->head_size = j->tree.n;	/* heads of the past were issued */
	*out = j;
	return REC_OK;
fail:
	journal_close(j);
	return r;
}

int
rec__journal_open(const char *store, const struct seal_signer *signer, int no_sync,
    struct journal **out)
{
	return journal_open2(store, signer, no_sync, out, NULL);
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->heads_fd >= 0)
		close(j->heads_fd);
	pthread_mutex_destroy(&j->lock);
	free(j->tab);
	free(j);
}

int
rec__journal_read_cover(const char *store, const struct seal_verifier *v,
    struct journal_cover *cover, journal_cb cb, void *arg,
    uint64_t *bad_offset, int *tail_torn)
{
	char path[4096];
	uint8_t head[SEAL_HASH_LEN];
	uint64_t end;
	uint32_t nseg;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", store, JOURNAL_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rec_from_errno(errno);
	r = rec__journal_scan(fd, v, cover, cb, arg, &end, &nseg, head, bad_offset,
	    tail_torn);
	close(fd);
	return r;
}

int
journal_read(const char *store, const struct seal_verifier *v, journal_cb cb,
    void *arg, uint64_t *bad_offset, int *tail_torn)
{
	return rec__journal_read_cover(store, v, NULL, cb, arg, bad_offset,
	    tail_torn);
}

struct journal_newest {
	struct tree_head h;
	int found;
};

static int
journal_newest_cb(void *arg, const struct tree_head *h, int lineno)
{
	struct journal_newest *n = arg;

	(void)lineno;
	if (!n->found || h->size > n->h.size)
		n->h = *h;
	n->found = 1;
	return 0;
}

int
journal_newest_head(const char *store, const struct seal_verifier *v,
    struct tree_head *h)
{
	char path[4096];
	struct journal_newest n;
	int r, bad_line = 0;

	memset(&n, 0, sizeof(n));
	if (snprintf(path, sizeof(path), "%s/%s", store, TREEHEAD_FILE) >=
	    (int)sizeof(path))
		return REC_EINVAL;
	if ((r = treehead_read(path, 1, journal_newest_cb, &n, &bad_line)) !=
	    REC_OK)
		return r;
	if (!n.found)
		return REC_ENOENT;
	if ((r = treehead_verify(v, &n.h)) != REC_OK)
		return r;
	*h = n.h;
	return REC_OK;
}

/*
 * Before the recorder signs anything new over the journal (every head it
 * issues covers all entries, old ones too), every entry it holds must be
 * authenticated: by the newest head of heads.esh that verifies and whose
 * root the entries have, the others by their own signatures.  So a head
 * never covers an entry the key did not sign, and a head can stand for the
 * signatures of the entries it covers (journal_cover).
 */
static int
journal_open_check(struct journal *j, uint64_t *bad)
{
	struct seal_verifier *v = NULL;
	struct tree_head h;
	struct journal_cover c = { &h, NULL, NULL, 0 };
	uint8_t head[SEAL_HASH_LEN];
	uint64_t end;
	uint32_t nseg;
	int torn, have, r;

	if ((r = rec__seal_signer_verifier(j->signer, &v)) != REC_OK)
		return r;
	have = journal_newest_head(j->store, v, &h) == REC_OK;
	r = rec__journal_scan(j->fd, v, have ? &c : NULL, NULL, NULL, &end, &nseg,
	    head, bad, &torn);
	if (have && !c.held)
		r = rec__journal_scan(j->fd, v, NULL, NULL, NULL, &end, &nseg, head,
		    bad, &torn);
	seal_verifier_free(v);
	return r;
}
