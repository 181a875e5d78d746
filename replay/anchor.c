/* anchor.c: "escort-replay anchor": prints the store's current signed tree
 * head for safekeeping outside the store, after checking it against the
 * journal, and on request a consistency proof from an older size (see
 * escort-replay(1), escort-transcript(5)). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/journal.h"
#include "recorder/merkle.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/treehead.h"
#include "replay/replay.h"

struct replay_anchor_leaves {
	uint8_t (*h)[MERKLE_HASH_LEN];
	size_t n, cap;
};

static int
replay_anchor_leaf(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct replay_anchor_leaves *l = arg;
	void *p;

	(void)index;
	(void)offset;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		if ((p = realloc(l->h, l->cap * MERKLE_HASH_LEN)) == NULL)
			return REC_ENOMEM;
		l->h = p;
	}
	merkle_leaf(e->raw, e->rawlen, l->h[l->n++]);
	return 0;
}

static int
replay_anchor_last(void *arg, const struct tree_head *h, int lineno)
{
	(void)lineno;
	*(struct tree_head *)arg = *h;
	return 0;
}

static void
replay_anchor_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

int
replay_anchor(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "proof-from", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay_anchor_leaves l = { NULL, 0, 0 };
	struct seal_verifier *v = NULL;
	struct tree_head h;
	uint8_t root[MERKLE_HASH_LEN], (*proof)[MERKLE_HASH_LEN] = NULL;
	char path[4200], line[TREEHEAD_LINE_MAX];
	const char *key = NULL;
	uint64_t bad = 0, from = 0;
	size_t np = 0;
	int c, torn = 0, r, ret = 2;

	while ((c = getopt_long(argc, argv, "k:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'p':
			from = strtoull(optarg, NULL, 10);
			if (from == 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if (key != NULL && (r = seal_verifier_load(key, &v)) != REC_OK) {
		replay_err("anchor: %s: %s", key, r == REC_EKEY ?
		    "not a PEM Ed25519 public key" : rec_strerror(r));
		return 2;
	}
	memset(&h, 0, sizeof(h));
	snprintf(path, sizeof(path), "%s/%s", store, TREEHEAD_FILE);
	if ((r = treehead_read(path, 1, replay_anchor_last, &h, NULL)) != REC_OK) {
		replay_err("anchor: %s: %s", path, rec_strerror(r));
		goto out;
	}
	if (h.size == 0) {
		replay_err("anchor: %s holds no tree head yet", path);
		goto out;
	}
	r = journal_read(store, v, replay_anchor_leaf, &l, &bad, &torn);
	if (r != REC_OK) {
		replay_err("anchor: %s/%s: %s at offset %" PRIu64, store,
		    JOURNAL_FILE, rec_strerror(r), bad);
		ret = r == REC_ENOMEM || r == REC_EIO || r == REC_ENOENT ? 2 : 1;
		goto out;
	}
	/* The head printed must be one the journal really extends. */
	ret = 1;
	if (v != NULL && treehead_verify(v, &h) != REC_OK) {
		replay_err("anchor: the last head of %s is not signed by %s",
		    path, key);
		goto out;
	}
	if (h.size > l.n) {
		replay_err("anchor: the last head of %s covers %" PRIu64
		    " entries, the journal holds %zu", path, h.size, l.n);
		goto out;
	}
	merkle_root((const uint8_t (*)[MERKLE_HASH_LEN])l.h, h.size, root);
	if (memcmp(root, h.root, MERKLE_HASH_LEN) != 0) {
		replay_err("anchor: the journal contradicts the last head of %s",
		    path);
		goto out;
	}
	/* the proof first: nothing is printed when it cannot be made */
	if (from > 0 && (from > h.size || merkle_consistency((const uint8_t
	    (*)[MERKLE_HASH_LEN])l.h, from, h.size, &proof, &np) != 0)) {
		replay_err("anchor: --proof-from %" PRIu64 ": the head covers %"
		    PRIu64 " entries", from, h.size);
		goto out;
	}
	treehead_format(&h, line, sizeof(line));
	printf("%s\n", line);
	if (from > 0) {
		merkle_root((const uint8_t (*)[MERKLE_HASH_LEN])l.h, from, root);
		printf("escort-proof v1 %" PRIu64 " ", from);
		replay_anchor_hex(root, MERKLE_HASH_LEN);
		printf(" %" PRIu64, h.size);
		for (size_t i = 0; i < np; i++) {
			putchar(' ');
			replay_anchor_hex(proof[i], MERKLE_HASH_LEN);
		}
		putchar('\n');
	}
	ret = 0;
out:
	free(l.h);
	free(proof);
	seal_verifier_free(v);
	return ret;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] anchor [--key "
	    "PUBLIC.pem] [--proof-from SIZE]\n");
	return 2;
}
