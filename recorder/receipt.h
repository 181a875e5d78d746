/*
 * receipt.h: a session's receipt (the signed FINAL record the recorder
 * returns in CLOSED, see wire.h and escort-transcript(5)) as one text line,
 * the line that escort-proxy appends to STATEDIR/receipts and that
 * escort-replay verify --anchor checks against the store:
 *
 *   escort-receipt v1 ID LAST_SEQ HEADHEX SEG_INDEX WALL_NS OFFSET SIGBASE64
 *
 * ID the session id, LAST_SEQ the last event's seq, HEADHEX the chain head
 * before the FINAL segment (64 lower-case hex digits), SEG_INDEX and OFFSET
 * the FINAL segment's index and file offset, WALL_NS its signing time (ns
 * since the epoch), SIGBASE64 the Ed25519 signature (88 characters) over the
 * checkpoint message of kind 2 (seal_checkpoint_message).
 */
#ifndef ESCORT_RECEIPT_H
#define ESCORT_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/seal.h"

#define RECEIPT_PREFIX	"escort-receipt "
#define RECEIPT_LINE_MAX 512

/* Fills *rc (kind SEAL_FINAL) from CLOSED's fields: id[0..id_len), last seq,
 * chain head, and the seal field seal[0..seal_len) (u32 segment index, u64
 * wall ns, u64 offset, key id, signature).  Returns REC_OK, or REC_EFORMAT
 * when seal_len is not 116 or the id is too long. */
int receipt_from_closed(const char *id, size_t id_len, uint64_t seq,
    const uint8_t head[SEAL_HASH_LEN], const uint8_t *seal, size_t seal_len,
    struct seal_receipt *rc);

/* The text line of rc, NUL-terminated, without newline, into line (n >=
 * RECEIPT_LINE_MAX). */
void receipt_format(const struct seal_receipt *rc, char *line, size_t n);

/* Parses one line (a trailing newline is allowed) into *rc (kind
 * SEAL_FINAL, key id zero).  Returns REC_OK or REC_EFORMAT. */
int receipt_parse(const char *line, struct seal_receipt *rc);

#endif
