/* evidence_anchor.c: "evidence --anchor FILE": the tree heads of FILE (kept
 * outside the store: a witness's, the proxy's StateDir/heads, or lines of
 * "escort-replay anchor") are checked against the store, and the bundle
 * gets them (log/anchors.txt) with an RFC 9162 consistency proof from
 * each to its own tree head (log/consistency.txt), so that an auditor
 * holding the same heads sees that the bundle's journal extends them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/merkle.h"
#include "recorder/rec_error.h"
#include "recorder/treehead.h"
#include "replay/evidence.h"
#include "replay/replay.h"

struct evidence_anchor_read {
	struct evidence_ctx *c;
	const char *path;
	FILE *heads, *proofs;
	uint64_t *sizes;		/* proved already */
	size_t nsizes;
	int bad;
};

static void
evidence_anchor_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* One head of the anchor file: signed by the key, held by the journal
 * (its root is MTH of the first SIZE entries), at most the bundle's head;
 * its line and a consistency proof to the bundle's head are written. */
static int
evidence_anchor_head(void *arg, const struct tree_head *h, int lineno)
{
	struct evidence_anchor_read *a = arg;
	struct evidence_ctx *c = a->c;
	const struct tree_head *top = c->head;
	uint8_t root[MERKLE_HASH_LEN], (*proof)[MERKLE_HASH_LEN] = NULL;
	char line[TREEHEAD_LINE_MAX];
	size_t np = 0;
	void *p;

	if (treehead_verify(c->v, h) != REC_OK) {
		replay_err("evidence: --anchor %s:%d: the tree head is not signed "
		    "by the key", a->path, lineno);
		a->bad = 1;
		return 0;
	}
	if (h->size > top->size) {
		replay_err("evidence: --anchor %s:%d: the tree head covers %" PRIu64
		    " journal entries, the store's newest only %" PRIu64 ": the "
		    "store was rolled back or cut", a->path, lineno, h->size,
		    top->size);
		a->bad = 1;
		return 0;
	}
	merkle_root((const uint8_t (*)[MERKLE_HASH_LEN])c->leaves, h->size,
	    root);
	if (memcmp(root, h->root, MERKLE_HASH_LEN) != 0) {
		replay_err("evidence: --anchor %s:%d: the store's journal "
		    "contradicts the tree head (entries before %" PRIu64 " were "
		    "changed)", a->path, lineno, h->size);
		a->bad = 1;
		return 0;
	}
	treehead_format(h, line, sizeof(line));
	fprintf(a->heads, "%s\n", line);
	for (size_t i = 0; i < a->nsizes; i++)
		if (a->sizes[i] == h->size)
			return 0;
	if ((p = realloc(a->sizes, (a->nsizes + 1) * sizeof(*a->sizes))) ==
	    NULL)
		return REC_ENOMEM;
	a->sizes = p;
	a->sizes[a->nsizes++] = h->size;
	if (h->size == top->size)
		return 0;	/* the same tree: no proof needed */
	if (merkle_consistency((const uint8_t (*)[MERKLE_HASH_LEN])c->leaves,
	    h->size, top->size, &proof, &np) != 0)
		return REC_ENOMEM;
	fprintf(a->proofs, "escort-proof v1 %" PRIu64 " ", h->size);
	evidence_anchor_hex(a->proofs, h->root, MERKLE_HASH_LEN);
	fprintf(a->proofs, " %" PRIu64, top->size);
	for (size_t i = 0; i < np; i++) {
		fputc(' ', a->proofs);
		evidence_anchor_hex(a->proofs, proof[i], MERKLE_HASH_LEN);
	}
	fputc('\n', a->proofs);
	free(proof);
	return 0;
}

int
evidence_anchor_prepare(struct evidence_ctx *c, const char *path)
{
	struct evidence_anchor_read a;
	int bad_line = 0, r;

	if (c->head == NULL) {
		replay_err("evidence: --anchor %s: the store has no tree head to "
		    "prove it against", path);
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.c = c;
	a.path = path;
	a.heads = open_memstream(&c->anchor_heads, &c->anchor_heads_len);
	a.proofs = open_memstream(&c->anchor_proofs, &c->anchor_proofs_len);
	if (a.heads == NULL || a.proofs == NULL) {
		if (a.heads != NULL)
			fclose(a.heads);
		if (a.proofs != NULL)
			fclose(a.proofs);
		return 2;
	}
	fprintf(a.heads, "# escort-replay evidence: the tree heads of --anchor "
	    "%s, each checked against the store;\n# see README.txt, "
	    "\"log/anchors.txt\"\n", path);
	fprintf(a.proofs, "# escort-replay evidence: from each head of "
	    "log/anchors.txt to log/tree-head.txt;\n# see README.txt, "
	    "\"log/consistency.txt\"\n");
	r = treehead_read(path, 0, evidence_anchor_head, &a, &bad_line);
	fclose(a.heads);
	fclose(a.proofs);
	free(a.sizes);
	if (r == REC_EFORMAT) {
		replay_err("evidence: --anchor %s:%d: not a tree head line", path,
		    bad_line);
		return 1;
	}
	if (r != REC_OK) {
		replay_err("evidence: --anchor %s: %s", path, rec_strerror(r));
		return 2;	/* the file cannot be read */
	}
	if (a.nsizes == 0 && !a.bad) {
		replay_err("evidence: --anchor %s holds no tree head", path);
		return 1;
	}
	return a.bad ? 1 : 0;
}
