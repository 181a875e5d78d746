/*
 * seal.h: the integrity primitives of transcripts and the journal:
 * SHA-256 hash chain and Ed25519 signatures (OpenSSL EVP).
 *
 * Chain: for a session with id ID (ASCII, 1..SEAL_ID_MAX bytes),
 *   head_{-1} = SHA-256("escort-transcript-v1" 0x00 ID)
 *   head_i    = SHA-256(head_{i-1} || bytes of segment i)
 * so head_0 covers the session id and its first (metadata) segment.  The
 * journal uses the same rule with ID = "journal".
 *
 * Checkpoint signature: Ed25519 over the message built by
 * seal_checkpoint_message() (layout in escort-transcript(5)).
 *
 * Ownership: seal_signer / seal_verifier objects are created by the *_load
 * functions and released with *_free; they are immutable afterwards and may
 * be shared between threads.
 */
#ifndef ESCORT_SEAL_H
#define ESCORT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define SEAL_HASH_LEN	32
#define SEAL_SIG_LEN	64
#define SEAL_KEYID_LEN	32	/* SHA-256 of the raw 32-byte public key */
#define SEAL_ID_MAX	64

struct seal_signer;
struct seal_verifier;

/* Loads a PEM Ed25519 private key (openssl genpkey -algorithm ed25519).
 * Returns REC_OK, REC_ENOENT/REC_EPERM/REC_EIO (file), REC_EKEY (not an
 * Ed25519 private key), REC_ENOMEM. */
int seal_signer_load(const char *path, struct seal_signer **out);
void seal_signer_free(struct seal_signer *s);

/* Signs msg.  Returns REC_OK or REC_ECRYPTO. */
int seal_sign(const struct seal_signer *s, const void *msg, size_t n,
    uint8_t sig[SEAL_SIG_LEN]);

/* Writes the signer's public key as PEM to `path` (created with mode 0644,
 * or replaced atomically through PATH.tmp).  Returns REC_OK or an I/O
 * error. */
int seal_signer_write_public(const struct seal_signer *s, const char *path);

/* The key id (SHA-256 of the raw public key) of the signer. */
const uint8_t *rec__seal_signer_keyid(const struct seal_signer *s);

/* A verifier for the signer's own public key (for self-checks). */
int rec__seal_signer_verifier(const struct seal_signer *s, struct seal_verifier **out);

/* Loads a PEM Ed25519 public key; a PEM private key is also accepted and
 * its public half used.  Same errors as seal_signer_load. */
int seal_verifier_load(const char *path, struct seal_verifier **out);
void seal_verifier_free(struct seal_verifier *v);

/* Returns REC_OK when sig is a valid signature of msg, else REC_ESIG. */
int rec__seal_verify(const struct seal_verifier *v, const void *msg, size_t n,
    const uint8_t sig[SEAL_SIG_LEN]);
const uint8_t *seal_verifier_keyid(const struct seal_verifier *v);

/* SHA-256 of p[0..n). */
void seal_sha256(const void *p, size_t n, uint8_t out[SEAL_HASH_LEN]);

/* head = head_{-1} for id (length idlen). */
void seal_chain_init(uint8_t head[SEAL_HASH_LEN], const char *id, size_t idlen);

/* head = SHA-256(head || p[0..n)). */
void seal_chain_step(uint8_t head[SEAL_HASH_LEN], const void *p, size_t n);

/* Signed content of a checkpoint or final record. */
enum seal_kind {
	SEAL_CHECKPOINT = 1,
	SEAL_FINAL = 2,
	SEAL_RECOVERED = 3	/* checkpoint written by recovery */
};

struct seal_checkpoint {
	uint8_t kind;			/* enum seal_kind */
	char id[SEAL_ID_MAX + 1];	/* session id, NUL-terminated */
	uint32_t seg_index;		/* index of the checkpoint segment */
	uint64_t last_seq;		/* last sender seq stored before it */
	uint8_t head[SEAL_HASH_LEN];	/* chain head of segment seg_index-1 */
	uint64_t wall_ns;		/* signing time, ns since the epoch */
	uint64_t offset;		/* file offset of the checkpoint segment */
};

/* Appends the exact bytes that are signed for c:
 *   "escort-checkpoint-v1" 0x00 | u8 kind | u8 idlen | id | u32 seg_index
 *   | u64 last_seq | head[32] | u64 wall_ns | u64 offset
 * Returns REC_OK, REC_EINVAL (bad id) or a buf error. */
int seal_checkpoint_message(const struct seal_checkpoint *c, struct buf *out);

/* A signed checkpoint as handed to the sender at close (the receipt). */
struct seal_receipt {
	struct seal_checkpoint cp;
	uint8_t keyid[SEAL_KEYID_LEN];
	uint8_t sig[SEAL_SIG_LEN];
};

/* Verifies a receipt with v.  Returns REC_OK or REC_ESIG/REC_EKEY. */
int seal_receipt_verify(const struct seal_verifier *v,
    const struct seal_receipt *r);

#endif
