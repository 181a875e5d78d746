/*
 * evidence.h: "escort-replay evidence", a bundle for an outside auditor:
 * the sessions' files as stored, their seals as message and signature
 * files, the journal entries about them with Merkle inclusion proofs in
 * the store's newest signed tree head, the recorder's public key, a plain
 * text index, a README and a Python 3 checker (replay/evidence/) that
 * verifies it all offline with openssl, without escort's programs.  The
 * bundle's layout and every check are in replay/evidence/README.txt.
 *
 * Modules: evidence.c (the command: selection, the store's state, the
 * bundle's common files and index), evidence_session.c (one session's
 * files and index block), evidence_sink.c (writing the bundle to a
 * directory or a tar archive), evidence_proof.c (inclusion proofs),
 * evidence_anchor.c (consistency proofs to heads kept elsewhere),
 * evidence_text.c (the README and the checker, built in).
 */
#ifndef ESCORT_REPLAY_EVIDENCE_H
#define ESCORT_REPLAY_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The command (replay.h's contract for commands). */
int replay_evidence(const char *store, int argc, char **argv);

/* ---- the bundle's files (evidence_sink.c) -------------------------------- */

/* One file written, in the order written. */
struct evidence_file {
	char *rel;			/* path inside the bundle */
	uint64_t size;
	uint8_t sha256[32];
};

struct evidence_sink;

/*
 * Starts a bundle at out: a tar archive when out ends in ".tar" (its
 * members under one directory named after the file), else a directory.
 * Either must not exist, or (a directory) be empty.  Output goes to a
 * temporary name beside out until evidence_sink_commit.  Returns 0 with
 * *s, or -1 with why (naming out) in err.
 */
int evidence_sink_open(const char *out, struct evidence_sink **s, char *err,
    size_t errsz);

/* Writes the file rel (a relative path with '/' between directories,
 * created as needed) holding p[0..n).  Returns 0 or -1 (errno set). */
int evidence_sink_put(struct evidence_sink *s, const char *rel, const void *p,
    size_t n);

/* Writes the file rel holding the first n bytes of fd (read with pread;
 * fd is not moved).  Returns 0 or -1 (errno set; EIO: fd is shorter). */
int evidence_sink_copy(struct evidence_sink *s, const char *rel, int fd,
    uint64_t n);

/* The files written so far (valid until the next call on s). */
const struct evidence_file *evidence_sink_files(const struct evidence_sink *s,
    size_t *n);

/* Moves the finished bundle to its name.  Returns 0 or -1 (errno set).
 * Either way s is released. */
int evidence_sink_commit(struct evidence_sink *s);

/* Removes what was written and releases s (NULL: nothing). */
void evidence_sink_abort(struct evidence_sink *s);

/* ---- inclusion proofs (evidence_proof.c) -------------------------------- */

/*
 * The levels of the Merkle tree of RFC 9162 2.1 over leaves[0..n), n > 0:
 * built once (O(n) hashes) so that each inclusion proof then costs
 * O(log n).  The tree is the one merkle.h defines (a node without a right
 * sibling is carried up unchanged, which gives the same root).
 */
struct evidence_tree {
	uint8_t (*lv[65])[32];		/* lv[0] = the leaves (borrowed) */
	uint64_t len[65];
	int nlv;
};

/* Returns 0, or -1 (out of memory).  leaves stays borrowed. */
int evidence_tree_build(struct evidence_tree *t, const uint8_t (*leaves)[32],
    uint64_t n);
void evidence_tree_free(struct evidence_tree *t);

/* The root (MTH of all the leaves). */
void evidence_tree_root(const struct evidence_tree *t, uint8_t out[32]);

/* The inclusion proof PATH(m, D[0:n]) of RFC 9162 2.1.3.1 for leaf m < n,
 * lowest level first, into path (room for 64 hashes).  Returns the number
 * of hashes. */
size_t evidence_tree_path(const struct evidence_tree *t, uint64_t m,
    uint8_t path[64][32]);

/* ---- built-in texts (evidence_text.c) ----------------------------------- */

/* The bundle's README.txt and verify.py, as in replay/evidence/. */
extern const char evidence_readme[], evidence_readme_end[];
extern const char evidence_verify_py[], evidence_verify_py_end[];

/* ---- what the command gathers (evidence.c, evidence_session.c) ---------- */

/* A journal entry about a selected session. */
struct evidence_jent {
	uint64_t leaf;			/* its index in the journal */
	uint8_t prev[32];		/* the journal's chain head before it */
	uint8_t *raw;			/* the whole segment (malloc'd) */
	size_t rawlen;
};

/* A selected session. */
struct evidence_sess {
	char id[65];
	struct evidence_jent *ent;	/* in journal order */
	size_t nent, capent;
	char problem[400];		/* the store's verification: first
					   problem ("" when it verified) */
	char notice[400];		/* verified, with a notice (recovered) */
};

struct tree_head;
struct seal_verifier;

/* The store's state the bundle is made from. */
struct evidence_ctx {
	const char *store;
	const struct seal_verifier *v;
	struct evidence_sess *s;	/* sorted by id */
	size_t n;
	uint8_t (*leaves)[32];		/* every journal entry's leaf hash */
	uint64_t nleaves, capleaves;
	const struct tree_head *head;	/* newest signed head; NULL: none */
	struct evidence_tree tree;	/* over the head's first size leaves */
	struct evidence_sink *sink;
	char *anchor_heads;		/* log/anchors.txt (NULL: none) */
	size_t anchor_heads_len;
	char *anchor_proofs;		/* log/consistency.txt */
	size_t anchor_proofs_len;
	size_t unreadable;		/* sessions a filter could not read */
	size_t store_problems;		/* of the store, not of a session in
					   the bundle (journal, a missing
					   session) */
};

/*
 * --anchor path (evidence_anchor.c): checks every tree head of the file
 * against the key and the journal (c->leaves, c->head) and prepares the
 * texts of log/anchors.txt and log/consistency.txt in c.  Returns 0, 1
 * after saying which head does not hold (or none is found), 2 on an I/O
 * or memory error.
 */
int evidence_anchor_prepare(struct evidence_ctx *c, const char *path);

/*
 * Writes session s's files into the bundle (sessions/ID.est, its seals,
 * log/ID.proof) and appends its index block to idx.  Returns 0, 1 when
 * the session file could not be read as it was verified (why printed), or
 * -1 on a write error (errno set).
 */
int evidence_session_write(struct evidence_ctx *c, struct evidence_sess *s,
    FILE *idx);

#endif
