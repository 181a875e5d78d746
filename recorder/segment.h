/*
 * segment.h: the segment, unit of every transcript and journal file.
 *
 *   offset size
 *   0      4    magic "ESG1"
 *   4      1    format version (SEG_VERSION = 1)
 *   5      1    type (enum seg_type)
 *   6      2    flags (SEGF_*)
 *   8      4    segment index (0, 1, 2, ... within the file)
 *   12     4    payload length (<= SEG_PAYLOAD_MAX)
 *   16     4    CRC32C of bytes 0..15 followed by the payload
 *   20     ...  payload
 *
 * Payload layouts per type are in escort-transcript(5) and below.
 */
#ifndef ESCORT_SEGMENT_H
#define ESCORT_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "recorder/seal.h"

#define SEG_MAGIC	"ESG1"
#define SEG_VERSION	1
#define SEG_HDR_LEN	20
#define SEG_PAYLOAD_MAX	(64u << 20)

enum seg_type {
	SEG_HEAD = 1,		/* session head: id, wall time, META records */
	SEG_DATA = 2,		/* zstd bytes of event records */
	SEG_CHECKPOINT = 3,	/* signed checkpoint */
	SEG_RECOVERY = 4,	/* one RECOVERY event record (seq 0) */
	SEG_FINAL = 5,		/* signed final record; nothing may follow */
	SEG_JOURNAL = 6		/* one journal entry (journal file only) */
};

enum seg_flags {
	SEGF_CHUNK_START = 1,	/* DATA: starts a new zstd frame */
	SEGF_CHUNK_END = 2,	/* DATA: the zstd frame ends in this segment */
	SEGF_RESUME_REFUSED = 4	/* DATA: a frame of its own holding the
				   recorder's MARKER of a refused resume
				   (ACKED_SEQ, STORED_SEQ): readers learn of
				   it without decoding the session */
};

struct seg {
	uint8_t type;
	uint16_t flags;
	uint32_t index;
	uint32_t len;		/* payload length */
	const uint8_t *payload;	/* borrowed */
};

/* Limits of a DATA segment: decompressed bytes, and the zstd window a
 * reader accepts (2^SEG_WINDOW_LOG_MAX bytes). */
#define SEG_RAW_MAX		(32u << 20)
#define SEG_WINDOW_LOG_MAX	23

/* DATA payload: this fixed prefix, then the zstd bytes. */
#define SEG_DATA_PREFIX 44
struct seg_data {
	uint64_t first_seq;	/* first event seq in this segment */
	uint64_t last_seq;	/* last event seq */
	uint64_t first_t_ns;
	uint64_t last_t_ns;
	uint64_t wall_ns;	/* wall clock when written */
	uint32_t raw_len;	/* decompressed bytes of this segment */
};

/* HEAD payload: u8 idlen | id | u64 wall_ns | u32 meta_len | META records. */

/* CHECKPOINT / FINAL payload:
 *   u8 kind | u32 seg_index | u64 last_seq | head[32] | u64 wall_ns
 *   | u64 offset | keyid[32] | sig[64]          (157 bytes) */
#define SEG_SEAL_LEN 157

/* Appends a whole segment (header + payload) to out.  Returns REC_OK or
 * a buf error; REC_ETOOBIG if len > SEG_PAYLOAD_MAX. */
int rec__seg_encode(struct buf *out, uint8_t type, uint16_t flags, uint32_t index,
    const void *payload, size_t len);

/* Begins a segment in out whose payload the caller appends next; finish it
 * with rec__seg_end(out, start) which fills the length and CRC. */
int rec__seg_begin(struct buf *out, uint8_t type, uint16_t flags, uint32_t index,
    size_t *start);
int rec__seg_end(struct buf *out, size_t start);

/* Parses the segment at p[0..n).  Returns REC_OK (s filled, *used set),
 * REC_ETRUNC (incomplete: n too short for the header or the payload),
 * REC_EFORMAT (bad magic or type), REC_EVERSION, REC_ETOOBIG, REC_ECRC. */
int seg_decode(const uint8_t *p, size_t n, struct seg *s, size_t *used);

/* seg_decode without the CRC check (never REC_ECRC), for a verifier that
 * establishes the bytes otherwise (verify_file.c: the hash chain under a
 * verified signature). */
int rec__seg_decode_nocrc(const uint8_t *p, size_t n, struct seg *s,
    size_t *used);

/* Parses only the 20-byte header (no CRC check): fills s (payload NULL). */
int rec__seg_decode_header(const uint8_t *p, size_t n, struct seg *s);

/* DATA prefix helpers. */
void rec__seg_data_put(uint8_t *p, const struct seg_data *d);
int rec__seg_data_get(const struct seg *s, struct seg_data *d);

/* CHECKPOINT/FINAL payload helpers. */
int rec__seg_seal_put(struct buf *out, const struct seal_receipt *r);
/* Fills r from the segment (r->cp.id is left empty: the file knows it). */
int seg_seal_get(const struct seg *s, struct seal_receipt *r);


/* Parses a HEAD payload: id (copied, NUL-terminated), wall time, META
 * records (pointing into the payload).  Returns REC_OK or REC_EFORMAT. */
int seg_head_get(const struct seg *s, char id[SEAL_ID_MAX + 1],
    uint64_t *wall_ns, const uint8_t **meta, size_t *meta_len);

#endif
