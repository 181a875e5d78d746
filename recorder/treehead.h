/*
 * treehead.h: signed tree heads of the journal's Merkle tree (merkle.h),
 * their text form, and the heads file STORE/heads.esh.
 *
 * A head says "the journal's first SIZE entries have Merkle root ROOT, at
 * TIME".  Signed message (Ed25519, the store's signing key):
 *
 *   "escort-tree-head-v1" 0x00 | u64 size | root[32] | u64 time_ns
 *
 * (big-endian).  Text form, one line (also the line of heads.esh and of
 * an anchor file, and what a witness command reads on stdin):
 *
 *   escort-head v1 SIZE ROOTHEX TIME_NS SIGBASE64
 */
#ifndef ESCORT_TREEHEAD_H
#define ESCORT_TREEHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/seal.h"

#define TREEHEAD_FILE	"heads.esh"
#define TREEHEAD_LINE_MAX 256

struct tree_head {
	uint64_t size;
	uint8_t root[SEAL_HASH_LEN];
	uint64_t time_ns;
	uint8_t sig[SEAL_SIG_LEN];
};

/* Signs h (size, root, time_ns set) into h->sig.  Returns REC_OK or
 * REC_ECRYPTO. */
int rec__treehead_sign(const struct seal_signer *s, struct tree_head *h);

/* Returns REC_OK when h's signature verifies with v, else REC_ESIG. */
int treehead_verify(const struct seal_verifier *v, const struct tree_head *h);

/* The text form, NUL-terminated, without newline, into line (>=
 * TREEHEAD_LINE_MAX bytes). */
void treehead_format(const struct tree_head *h, char *line, size_t n);

/* Parses one text line (a trailing newline is allowed).  Returns REC_OK or
 * REC_EFORMAT. */
int rec__treehead_parse(const char *line, struct tree_head *h);

/*
 * Reads every head line of the file at path in order, calling cb(arg, h,
 * lineno).  Blank lines, lines starting with '#' and receipt lines
 * ("escort-receipt ...", receipt.h: an anchor file may hold both) are
 * skipped.  A last
 * line without its newline (a write cut by a crash) is ignored when
 * torn_ok, else reported as a format error.  Returns REC_OK, a file error,
 * REC_EFORMAT with *bad_line set, or a callback's non-zero return.
 */
typedef int (*treehead_cb)(void *arg, const struct tree_head *h, int lineno);
int treehead_read(const char *path, int torn_ok, treehead_cb cb, void *arg,
    int *bad_line);

#endif
