/*
 * journal.h: the store's global journal, STORE/journal.esj.
 *
 * An append-only file of JOURNAL segments (segment.h) chained like a
 * session (seal.h, chain id "journal"); each entry is signed on its own:
 *
 *   payload = u8 kind | u8 idlen | id | u32 seg_index | u64 offset
 *             | u64 last_seq | head[32] | u64 wall_ns | keyid[32] | sig[64]
 *   sig = Ed25519("escort-journal-v1" 0x00 | prev journal head[32]
 *                 | payload up to keyid)
 *
 * kind OPEN names the HEAD segment (index 0, offset = its end, head_0),
 * CHECKPOINT / CLOSE a checkpoint / FINAL segment of a session (index,
 * offset of that segment, head before it), RECOVER a cut (offset = cut
 * offset, index = segments kept, head = head of the last kept segment).
 *
 * A struct journal may be shared by the writers of several sessions; its
 * calls take an internal mutex.
 */
#ifndef ESCORT_JOURNAL_H
#define ESCORT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/seal.h"

#define JOURNAL_FILE "journal.esj"
#define JOURNAL_ORPHAN_SUFFIX ".orphan"

enum journal_kind {
	JOURNAL_OPEN = 1,
	JOURNAL_CHECKPOINT = 2,
	JOURNAL_CLOSE = 3,
	JOURNAL_RECOVER = 4
};

struct journal_entry {
	uint8_t kind;
	char id[SEAL_ID_MAX + 1];
	uint32_t seg_index;
	uint64_t offset;
	uint64_t last_seq;
	uint8_t head[SEAL_HASH_LEN];
	uint64_t wall_ns;
};

struct journal;

/*
 * Opens (creating if absent) STORE/journal.esj for appending, validating
 * it and cutting a torn tail (a RECOVER entry with id "journal" records the
 * cut).  Then reconciles it with STORE/sessions after a crash between a
 * session write and its journal entry: a session with a signed FINAL whose
 * close is not journaled gets its close entry; a file unknown to the
 * journal is adopted when it holds a checkpoint signed by signer; an
 * unknown file holding no more than its HEAD (never accepted) is renamed
 * ID.est.orphan.  Unsigned strangers are left for verification to report.
 * signer is borrowed and must outlive the journal.  no_sync: never
 * fdatasync.  Returns REC_OK, file errors, or REC_ECRC/REC_ECHAIN/
 * REC_EFORMAT for corruption before the tail.
 */
int journal_open(const char *store, const struct seal_signer *signer,
    int no_sync, struct journal **out);
void journal_close(struct journal *j);

/* Appends and (unless no_sync) syncs one signed entry.  Returns REC_OK or
 * an I/O error. */
int journal_append(struct journal *j, const struct journal_entry *e);

/* Reading, for verification: calls cb for every entry in order with its
 * segment index and offset in the journal; stops at the first invalid
 * segment and returns its error with *bad_offset set, or at a callback
 * returning non-zero (returned).  When v is non-NULL every signature is
 * checked (REC_ESIG).  Returns REC_OK at a clean end; REC_ENOENT without
 * journal.  *tail_torn is set when the file ends in an incomplete segment. */
typedef int (*journal_cb)(void *arg, const struct journal_entry *e,
    uint32_t index, uint64_t offset);
int journal_read(const char *store, const struct seal_verifier *v,
    journal_cb cb, void *arg, uint64_t *bad_offset, int *tail_torn);

#endif
