/* evidence.c: "escort-replay evidence": selects sessions (ids, --user,
 * --since/--until, --all), verifies the store with the public key, reads
 * the journal (every entry's Merkle leaf, the entries about the sessions)
 * and the newest signed tree head, and writes the bundle (evidence.h):
 * README.txt, verify.py, public-key.pem, the tree head, each session's
 * part (evidence_session.c), index.txt and SHA256SUMS last.  Exit 0: the
 * bundle is written and every session verified; 1: written, but a session
 * does not verify in the store (the bundle's check fails on it too), or
 * nothing to write (no such session, none matches, the journal or its
 * tree head does not verify); 2: usage, key, output or I/O error. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/merkle.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "recorder/treehead.h"
#include "recorder/verify.h"
#include "replay/evidence.h"
#include "replay/replay.h"

#define EVIDENCE_USAGE "usage: escort-replay [--store DIR] evidence (ID... | " \
	"--all | --user U | --since TIME | --until TIME) --out DIR|FILE.tar " \
	"[--anchor FILE] [--key PUBLIC.pem]\n"

struct evidence_opts {
	const char *out, *user, *anchor;
	uint64_t since, until;
	int all, filtered;
};

static int
evidence_sess_cmp(const void *a, const void *b)
{
	return strcmp(((const struct evidence_sess *)a)->id,
	    ((const struct evidence_sess *)b)->id);
}

static struct evidence_sess *
evidence_find(struct evidence_ctx *c, const char *id)
{
	struct evidence_sess key;

	if (strlen(id) >= sizeof(key.id) || c->n == 0)
		return NULL;
	memcpy(key.id, id, strlen(id) + 1);
	return bsearch(&key, c->s, c->n, sizeof(*c->s), evidence_sess_cmp);
}

/* 1 when session id matches the filters (its META user, its start), 0
 * when not, -1 when its head cannot be read (said why). */
static int
evidence_matches(const char *store, const char *id,
    const struct evidence_opts *o)
{
	char user[128], target[128];
	struct tr *r;
	uint64_t start;
	int x;

	if (o->all)
		return 1;
	if ((x = replay_open_quiet(store, id, &r)) != REC_OK) {
		if (x == REC_EAGAIN)
			return 0;	/* created this instant: no head yet */
		replay_err("evidence: %s: %s: its user and start cannot be "
		    "read, so it is not selected (name it, or use --all)", id,
		    rec_strerror(x));
		return -1;
	}
	replay_meta(r, user, sizeof(user), target, sizeof(target));
	start = tr_start_wall_ns(r);
	tr_free(r);
	return (o->user == NULL || strcmp(o->user, user) == 0) &&
	    start >= o->since && start <= o->until;
}

/* Fills c->s with the sessions named (argv) or matching.  Returns 0, or
 * the exit status after saying why. */
static int
evidence_select(struct evidence_ctx *c, const struct evidence_opts *o,
    int argc, char **argv)
{
	char **ids, path[4096];
	size_t nids, i;
	struct stat st;

	if (!o->filtered) {
		if ((c->s = calloc((size_t)argc, sizeof(*c->s))) == NULL)
			return 2;
		for (int k = 0; k < argc; k++) {
			if (tw_path(c->store, argv[k], path, sizeof(path)) !=
			    REC_OK) {
				replay_err("evidence: \"%s\" is not a session id",
				    replay_esc(argv[k]));
				return 2;
			}
			if (stat(path, &st) != 0) {
				replay_err("evidence: no session %s in %s (%s)",
				    replay_esc(argv[k]), c->store,
				    strerror(errno));
				return errno == ENOENT ? 1 : 2;
			}
			snprintf(c->s[c->n++].id, sizeof(c->s->id), "%s",
			    argv[k]);
		}
	} else {
		if (replay_session_ids(c->store, &ids, &nids) != 0) {
			replay_err("evidence: %s/%s: %s", c->store,
			    TR_SESSIONS_DIR, strerror(errno));
			return 2;
		}
		if (nids > 0 && (c->s = calloc(nids, sizeof(*c->s))) == NULL) {
			replay_free_ids(ids, nids);
			return 2;
		}
		for (i = 0; i < nids; i++) {
			int m = evidence_matches(c->store, ids[i], o);

			if (m > 0)
				snprintf(c->s[c->n++].id, sizeof(c->s->id), "%s",
				    ids[i]);
			else if (m < 0)
				c->unreadable++;
		}
		replay_free_ids(ids, nids);
		if (c->n == 0) {
			replay_err("evidence: no session in %s matches", c->store);
			return 1;
		}
	}
	qsort(c->s, c->n, sizeof(*c->s), evidence_sess_cmp);
	for (i = 1; i < c->n; i++)
		if (strcmp(c->s[i - 1].id, c->s[i].id) == 0) {
			replay_err("evidence: session %s is named twice",
			    replay_esc(c->s[i].id));
			return 2;
		}
	return 0;
}

/* ---- the journal ---------------------------------------------------------- */

struct evidence_jread {
	struct evidence_ctx *c;
	uint8_t head[SEAL_HASH_LEN];	/* the journal's chain head */
};

static int
evidence_jent(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct evidence_jread *j = arg;
	struct evidence_ctx *c = j->c;
	struct evidence_sess *s;
	struct evidence_jent *x;
	void *p;

	(void)offset;
	if (index != c->nleaves)
		return REC_EFORMAT;
	if (c->nleaves == c->capleaves) {
		c->capleaves = c->capleaves ? c->capleaves * 2 : 1024;
		if ((p = realloc(c->leaves, c->capleaves * 32)) == NULL)
			return REC_ENOMEM;
		c->leaves = p;
	}
	merkle_leaf(e->raw, e->rawlen, c->leaves[c->nleaves]);
	if ((s = evidence_find(c, e->id)) != NULL) {
		if (s->nent == s->capent) {
			s->capent = s->capent ? s->capent * 2 : 8;
			if ((p = realloc(s->ent, s->capent * sizeof(*x))) == NULL)
				return REC_ENOMEM;
			s->ent = p;
		}
		x = &s->ent[s->nent];
		if ((x->raw = malloc(e->rawlen)) == NULL)
			return REC_ENOMEM;
		memcpy(x->raw, e->raw, e->rawlen);
		x->rawlen = e->rawlen;
		x->leaf = c->nleaves;
		memcpy(x->prev, j->head, SEAL_HASH_LEN);
		s->nent++;
	}
	seal_chain_step(j->head, e->raw, e->rawlen);
	c->nleaves++;
	return 0;
}

/* Reads the journal (every signature checked) and the newest tree head,
 * which must hold for it.  Returns 0 or the exit status. */
static int
evidence_journal(struct evidence_ctx *c, struct tree_head *h)
{
	struct evidence_jread j = { c, { 0 } };
	uint8_t root[32];
	uint64_t bad = 0;
	int torn = 0, r;

	seal_chain_init(j.head, "journal", 7);
	r = journal_read(c->store, c->v, evidence_jent, &j, &bad, &torn);
	if (r != REC_OK) {
		replay_err("evidence: %s/%s: %s at offset %" PRIu64 " (escort-"
		    "replay verify --all says more)", c->store, JOURNAL_FILE,
		    rec_strerror(r), bad);
		return r == REC_ENOMEM || r == REC_EIO ? 2 : 1;
	}
	r = journal_newest_head(c->store, c->v, h);
	if (r == REC_ENOENT) {
		replay_err("evidence: note: %s/%s holds no tree head yet: the "
		    "bundle's journal entries are checked by their own "
		    "signatures only", c->store, TREEHEAD_FILE);
		return 0;
	}
	if (r != REC_OK) {
		replay_err("evidence: %s/%s: the newest tree head: %s", c->store,
		    TREEHEAD_FILE, rec_strerror(r));
		return 1;
	}
	if (h->size == 0 || h->size > c->nleaves ||
	    evidence_tree_build(&c->tree, (const uint8_t (*)[32])c->leaves,
	    h->size) != 0) {
		replay_err("evidence: %s/%s: the newest tree head covers %"
		    PRIu64 " entries, the journal holds %" PRIu64, c->store,
		    TREEHEAD_FILE, h->size, c->nleaves);
		return 1;
	}
	evidence_tree_root(&c->tree, root);
	if (memcmp(root, h->root, 32) != 0) {
		replay_err("evidence: %s/%s: the journal contradicts the newest "
		    "tree head (escort-replay verify --all says more)", c->store,
		    TREEHEAD_FILE);
		return 1;
	}
	c->head = h;
	return 0;
}

/* ---- the store's verdicts ------------------------------------------------- */

/* Control bytes as ' ': an index value stays on its line. */
static void
evidence_clean_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void
evidence_report(void *arg, int ok, const char *session, uint32_t index,
    uint64_t offset, const char *msg)
{
	struct evidence_ctx *c = arg;
	struct evidence_sess *s = evidence_find(c, session);
	char *dst;

	if (ok == VERIFY_INTACT || s == NULL) {
		/* the journal, heads, or (with --all) a session the journal
		 * names that the store lacks: not in the bundle, but said */
		if (ok == VERIFY_PROBLEM) {
			replay_err("evidence: %s: %s", replay_esc(session),
			    replay_esc(msg));
			c->store_problems++;
		}
		return;
	}
	dst = ok == VERIFY_NOTICE ? s->notice : s->problem;
	if (dst[0] != '\0')
		return;
	if (index != UINT32_MAX && offset != UINT64_MAX)
		snprintf(dst, sizeof(s->problem), "segment %" PRIu32 ", offset %"
		    PRIu64 ": %s", index, offset, msg);
	else
		snprintf(dst, sizeof(s->problem), "%s", msg);
	evidence_clean_line(dst);
}

/* ---- the bundle ----------------------------------------------------------- */

/* The public half of the key file as PEM (a private key file gives its
 * public key: the bundle never holds a private key).  Returns 0 with
 * *pem (malloc'd), or -1. */
static int
evidence_pubkey_pem(const char *path, char **pem, size_t *n)
{
	EVP_PKEY *k = NULL;
	BIO *in, *out = NULL;
	char *p;
	long len;
	int ret = -1;

	if ((in = BIO_new_file(path, "r")) == NULL)
		return -1;
	if ((k = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL)) == NULL &&
	    BIO_reset(in) == 0)
		k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	if (k == NULL || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519 ||
	    (out = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(out, k) != 1)
		goto out;
	len = BIO_get_mem_data(out, &p);
	if (len <= 0 || (*pem = malloc((size_t)len)) == NULL)
		goto out;
	memcpy(*pem, p, (size_t)len);
	*n = (size_t)len;
	ret = 0;
out:
	EVP_PKEY_free(k);
	BIO_free(in);
	BIO_free(out);
	return ret;
}

static void
evidence_hexs(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* log/tree-head.txt, .msg and .sig. */
static int
evidence_head_files(struct evidence_ctx *c)
{
	char line[TREEHEAD_LINE_MAX + 1];
	uint8_t msg[20 + 8 + 32 + 8];

	treehead_format(c->head, line, sizeof(line) - 1);
	strcat(line, "\n");
	memcpy(msg, "escort-tree-head-v1", 20);	/* with its NUL */
	buf_be64(msg + 20, c->head->size);
	memcpy(msg + 28, c->head->root, 32);
	buf_be64(msg + 60, c->head->time_ns);
	if (evidence_sink_put(c->sink, "log/tree-head.txt", line,
	    strlen(line)) != 0 ||
	    evidence_sink_put(c->sink, "log/tree-head.msg", msg,
	    sizeof(msg)) != 0 ||
	    evidence_sink_put(c->sink, "log/tree-head.sig", c->head->sig,
	    SEAL_SIG_LEN) != 0)
		return -1;
	return 0;
}

/* Writes every file of the bundle.  Returns 0, 1 (a session could not be
 * read), or -1 (write error, errno set). */
static int
evidence_write(struct evidence_ctx *c, const char *key_pem, size_t key_len)
{
	char *idx = NULL, *sums = NULL, *store, t[32];
	size_t ilen = 0, slen = 0, nf;
	const struct evidence_file *files;
	FILE *f, *g;
	int r = -1, x;

	if (evidence_sink_put(c->sink, "README.txt", evidence_readme,
	    (size_t)(evidence_readme_end - evidence_readme)) != 0 ||
	    evidence_sink_put(c->sink, "verify.py", evidence_verify_py,
	    (size_t)(evidence_verify_py_end - evidence_verify_py)) != 0 ||
	    evidence_sink_put(c->sink, "public-key.pem", key_pem, key_len) != 0 ||
	    (c->head != NULL && evidence_head_files(c) != 0) ||
	    (c->anchor_heads != NULL && (evidence_sink_put(c->sink,
	    "log/anchors.txt", c->anchor_heads, c->anchor_heads_len) != 0 ||
	    evidence_sink_put(c->sink, "log/consistency.txt", c->anchor_proofs,
	    c->anchor_proofs_len) != 0)))
		return -1;
	if ((f = open_memstream(&idx, &ilen)) == NULL)
		return -1;
	replay_time((uint64_t)time(NULL) * 1000000000ull, t, sizeof(t));
	store = realpath(c->store, NULL);
	fprintf(f, "escort-evidence v1\ncreated %s\nstore %s\nkey-id ", t,
	    store != NULL ? store : c->store);
	free(store);
	evidence_hexs(f, seal_verifier_keyid(c->v), SEAL_KEYID_LEN);
	if (c->head != NULL) {
		replay_time(c->head->time_ns, t, sizeof(t));
		fprintf(f, "\ntree-head %" PRIu64 " %s\n", c->head->size, t);
	} else {
		fprintf(f, "\ntree-head none\n");
	}
	fprintf(f, "sessions %zu\n", c->n);
	for (size_t i = 0; i < c->n; i++)
		if ((x = evidence_session_write(c, &c->s[i], f)) != 0) {
			fclose(f);
			free(idx);
			return x;
		}
	if (fclose(f) != 0 || evidence_sink_put(c->sink, "index.txt", idx,
	    ilen) != 0)
		goto out;
	files = evidence_sink_files(c->sink, &nf);
	if ((g = open_memstream(&sums, &slen)) == NULL)
		goto out;
	for (size_t i = 0; i < nf; i++) {
		evidence_hexs(g, files[i].sha256, 32);
		fprintf(g, "  %s\n", files[i].rel);
	}
	if (fclose(g) != 0)
		goto out;
	r = evidence_sink_put(c->sink, "SHA256SUMS", sums, slen);
out:
	free(idx);
	free(sums);
	return r;
}

/* ---- the command ---------------------------------------------------------- */

static int
evidence_opts_parse(int argc, char **argv, struct evidence_opts *o)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'U' },
		{ "anchor", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->until = UINT64_MAX;
	while ((c = getopt_long(argc, argv, "o:au:s:U:A:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'A':
			o->anchor = optarg;
			break;
		case 'a':
			o->all = o->filtered = 1;
			break;
		case 'u':
			o->user = optarg;
			o->filtered = 1;
			break;
		case 's':
		case 'U':
			if (replay_parse_time(optarg, c == 's' ? &o->since :
			    &o->until) != 0) {
				replay_err("evidence: bad time \"%s\" (use "
				    "YYYY-MM-DD[THH:MM[:SS]] UTC or @SECONDS)",
				    optarg);
				return 2;
			}
			o->filtered = 1;
			break;
		case 'h':
			fputs(EVIDENCE_USAGE, stdout);
			return 0;
		default:
			fputs(EVIDENCE_USAGE, stderr);
			return 2;
		}
	}
	if (o->filtered == (optind < argc)) {
		replay_err("evidence: name the sessions: ID..., or --all, "
		    "--user U, --since TIME, --until TIME (not both)");
		return 2;
	}
	if (o->out == NULL) {
		replay_err("evidence: --out DIR or --out FILE.tar is needed: "
		    "where to write the bundle");
		return 2;
	}
	return -1;
}

static void
evidence_ctx_free(struct evidence_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->s[i].nent; k++)
			free(c->s[i].ent[k].raw);
		free(c->s[i].ent);
	}
	free(c->s);
	free(c->leaves);
	free(c->anchor_heads);
	free(c->anchor_proofs);
	evidence_tree_free(&c->tree);
}

int
replay_evidence(const char *store, int argc, char **argv)
{
	struct evidence_ctx c;
	struct evidence_opts o;
	struct seal_verifier *v = NULL;
	struct tree_head h;
	const char *key, *src;
	char kbuf[4096], err[4400], *pem = NULL;
	size_t pemlen = 0, failed = 0;
	int x;

	if ((x = evidence_opts_parse(argc, argv, &o)) >= 0)
		return x;
	memset(&c, 0, sizeof(c));
	c.store = store;
	if ((x = replay_key_find(store, "evidence", NULL, kbuf, sizeof(kbuf),
	    &key, &src)) == 2)
		return 2;
	if (x == 1) {
		replay_err("evidence: no public key to check the signatures with "
		    "and to give the auditor: give --key PUBLIC.pem, or set "
		    "ESCORT_KEY to its file, or keep it as %s", kbuf);
		return 2;
	}
	if ((x = seal_verifier_load(key, &v)) != REC_OK ||
	    evidence_pubkey_pem(key, &pem, &pemlen) != 0) {
		replay_err("evidence: public key %s (%s): %s", key, src,
		    x == REC_OK || x == REC_EKEY ? "not a PEM Ed25519 key" :
		    x == REC_ENOENT ? strerror(ENOENT) :
		    x == REC_EPERM ? strerror(EACCES) : rec_strerror(x));
		seal_verifier_free(v);
		return 2;
	}
	c.v = v;
	if (strcmp(src, "--key") != 0 && strcmp(src, "ESCORT_KEY") != 0)
		replay_err("evidence: note: the public key is the store's own "
		    "(%s): the auditor must compare its key id with one kept "
		    "elsewhere", key);
	if ((x = evidence_select(&c, &o, argc - optind, argv + optind)) != 0)
		goto out;
	if (evidence_sink_open(o.out, &c.sink, err, sizeof(err)) != 0) {
		replay_err("evidence: --out %s", err);
		x = 2;
		goto out;
	}
	if ((x = evidence_journal(&c, &h)) != 0 || (o.anchor != NULL &&
	    (x = evidence_anchor_prepare(&c, o.anchor)) != 0))
		goto out;
	{
		const char **ids = calloc(c.n, sizeof(*ids));

		x = 2;
		if (ids == NULL)
			goto out;
		for (size_t i = 0; i < c.n; i++)
			ids[i] = c.s[i].id;
		/* --all: every session, and the set of them, is checked */
		x = verify_store(store, v, ids, o.all ? 0 : c.n,
		    VERIFY_WAIT_LIVE, evidence_report, &c);
		free(ids);
		if (x < 0) {
			replay_err("evidence: %s: %s", store, rec_strerror(x));
			x = 2;
			goto out;
		}
	}
	if ((x = evidence_write(&c, pem, pemlen)) != 0) {
		if (x < 0)
			replay_err("evidence: writing %s: %s", o.out,
			    strerror(errno));
		x = 2;
		goto out;
	}
	x = evidence_sink_commit(c.sink);
	c.sink = NULL;	/* released */
	if (x != 0) {
		replay_err("evidence: writing %s: %s", o.out, strerror(errno));
		x = 2;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (c.s[i].problem[0] != '\0') {
			failed++;
			replay_err("evidence: %s does not verify (%s): bundled "
			    "as stored; the bundle's check fails on it",
			    c.s[i].id, c.s[i].problem);
		} else if (c.s[i].notice[0] != '\0') {
			replay_err("evidence: %s: %s", c.s[i].id, c.s[i].notice);
		}
	}
	printf("evidence: %zu session%s written to %s (%zu not verifying); "
	    "check it with: python3 verify.py (see its README.txt)\n", c.n,
	    c.n == 1 ? "" : "s", o.out, failed);
	x = failed > 0 || c.unreadable > 0 || c.store_problems > 0 ? 1 : 0;
out:
	evidence_sink_abort(c.sink);	/* not written: nothing is left */
	evidence_ctx_free(&c);
	seal_verifier_free(v);
	free(pem);
	return x;
}
