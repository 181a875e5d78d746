/*
 * event.h: transcript events, their binary record encoding, and the TLV
 * field encoding of structured payloads.
 *
 * One record encoding is used everywhere an event travels or rests: in DATA
 * wire messages, inside the compressed chunks of a transcript file, and in
 * the head segment.  All integers are big-endian.
 *
 *   record  = u32 payload_len | u16 type | u32 channel | u64 seq | u64 t_ns
 *             | payload_len bytes
 *
 * seq counts the events of one session from 1 (assigned by the sender);
 * events written by the recorder itself (RECOVERY) carry seq 0.  t_ns is
 * monotonic nanoseconds since the session started.  payload_len is at most
 * EV_PAYLOAD_MAX.  The full format is in escort-transcript(5).
 *
 * Structured payloads (META, RESIZE, CHANNEL, DECISION, ESCORT, FILE, EXIT,
 * RECOVERY, END) are a sequence of fields:
 *
 *   field = u16 tag | u32 len | len bytes
 *
 * Tags are the EVF_* constants; strings are UTF-8 without NUL, integers are
 * 8-byte big-endian, SHA-256 digests 32 raw bytes.  Unknown tags are kept
 * and skipped by readers.  INPUT, OUTPUT and STDERR payloads are raw bytes;
 * MARKER is one EVF_TEXT field.
 */
#ifndef ESCORT_EVENT_H
#define ESCORT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum ev_type {
	EV_META = 1,		/* session metadata (fields) */
	EV_INPUT = 2,		/* technician -> target bytes */
	EV_OUTPUT = 3,		/* target stdout -> technician */
	EV_STDERR = 4,		/* target extended data (stderr) */
	EV_RESIZE = 5,		/* window size (EVF_COLS, EVF_ROWS, EVF_PX_*) */
	EV_CHANNEL = 6,		/* channel open/request/close (EVF_CH_*) */
	EV_DECISION = 7,	/* policy decision */
	EV_ESCORT = 8,		/* escort action */
	EV_FILE = 9,		/* file transfer summary or content chunk */
	EV_MARKER = 10,		/* free text */
	EV_EXIT = 11,		/* exit status or signal */
	EV_RECOVERY = 12,	/* written by the recorder after a torn tail */
	EV_END = 13,		/* session ended (EVF_END_KIND, EVF_REASON) */
	EV_TYPE_MAX = 13
};

#define EV_HDR_LEN	26		/* bytes before the payload */
#define EV_PAYLOAD_MAX	(1u << 20)	/* 1 MiB */

struct ev {
	uint64_t seq;
	uint64_t t_ns;
	uint16_t type;
	uint32_t channel;
	const uint8_t *data;	/* payload; borrowed, see the producing call */
	uint32_t len;
};

/* Field tags (one namespace for all event types). */
enum ev_field_tag {
	/* META */
	EVF_USER = 1, EVF_ATTR = 2 /* "key=value", repeatable */, EVF_TARGET = 3,
	EVF_LOGIN = 4, EVF_CLIENT_ADDR = 5, EVF_CLIENT_KEY = 6 /* SHA256:... */,
	EVF_POLICY_HASH = 7, EVF_PROXY_ID = 8, EVF_TARGET_ADDR = 9,
	EVF_WALL_NS = 10 /* u64 ns since the Unix epoch */, EVF_KIND = 11
	/* "shell" | "exec" | "sftp" | "scp" | ... */,
	/* RESIZE (also in CHANNEL pty requests) */
	EVF_COLS = 20, EVF_ROWS = 21, EVF_PX_W = 22, EVF_PX_H = 23,
	/* CHANNEL */
	EVF_CH_ACTION = 30 /* "open" "pty" "env" "shell" "exec" "subsystem"
			      "signal" "eof" "close" */,
	EVF_CH_TYPE = 31, EVF_TERM = 32, EVF_ENV_NAME = 33, EVF_ENV_VALUE = 34,
	EVF_COMMAND = 35, EVF_SUBSYSTEM = 36, EVF_SIGNAL = 37,
	/* DECISION */
	EVF_VERDICT = 40 /* "allow" "deny" "approve" */, EVF_RULE = 41,
	EVF_RULE_LINE = 42, EVF_REASON = 43, EVF_APPROVER = 44,
	EVF_RENDERED = 45 /* the command line sent to the target, rebuilt from the parse */,
	/* ESCORT */
	EVF_ESC_ACTION = 50 /* "join" "leave" "approve" "deny" "pause" "resume"
			       "kill" */, EVF_ESCORT = 51,
	/* FILE */
	EVF_PATH = 60, EVF_DIRECTION = 61 /* "upload" | "download" */,
	EVF_SIZE = 62, EVF_SHA256 = 63, EVF_OFFSET = 64, EVF_CONTENT = 65,
	EVF_FILE_ID = 66,
	/* MARKER */
	EVF_TEXT = 70,
	/* EXIT */
	EVF_EXIT_STATUS = 80, EVF_EXIT_SIGNAL = 81, EVF_CORE = 82,
	EVF_MESSAGE = 83,
	/* RECOVERY */
	EVF_CUT_OFFSET = 90, EVF_LOST_BYTES = 91,
	/* MARKER written by the recorder when a resume disagrees */
	EVF_ACKED_SEQ = 92 /* seq the proxy holds an ACK for */,
	EVF_STORED_SEQ = 93 /* seq the store holds */,
	/* END (with EVF_REASON): how the session ended, and who wrote it */
	EVF_END_KIND = 100 /* "normal" "client-lost" "target-lost" "policy"
			      "proxy-shutdown" "recorder-lost" "record-failed"
			      "proxy-error" "proxy-lost" "recorder-shutdown",
			      see ev_end.h */,
	EVF_END_BY = 101 /* "proxy" | "recorder" */,
	/* A command typed in an interactive shell (DECISION, and the EXIT
	 * that ends it in strict mode): */
	EVF_CMD_SEQ = 102 /* u64: its number in the channel, from 1 */,
	EVF_SHELL_MODE = 103 /* "strict" | "observe" */
};

/* Returns the lower-case name of an event type ("output"), or "unknown". */
const char *ev_type_name(uint16_t type);

/* Appends the record of e to out.  Returns REC_OK, REC_EINVAL (unknown
 * type), REC_ETOOBIG (payload over EV_PAYLOAD_MAX or out over its max),
 * REC_ENOMEM.  out is unchanged on error. */
int ev_encode(struct buf *out, const struct ev *e);

/* Same, from parts. */
int ev_encode_parts(struct buf *out, uint64_t seq, uint64_t t_ns,
    uint16_t type, uint32_t channel, const void *data, size_t len);

/* Decodes the record at the start of p[0..n).  On success fills e (e->data
 * points into p), sets *used to the record size and returns REC_OK.
 * Returns REC_ETRUNC when p holds only part of a record (need more bytes),
 * REC_ETOOBIG when the payload length is over EV_PAYLOAD_MAX, REC_EFORMAT
 * for an unknown type. */
int ev_decode(const uint8_t *p, size_t n, struct ev *e, size_t *used);

/*
 * Validates a batch of whole records as a sender must produce them: every
 * record decodes, the batch holds nothing else, and the seqs run
 * next_seq, next_seq + 1, ... with no gap.  Times must not go backwards from
 * *last_t_ns.  On success sets *count, advances *last_t_ns and returns
 * REC_OK; otherwise returns the first error (REC_ETRUNC, REC_ETOOBIG,
 * REC_EFORMAT, REC_ESEQ) and sets *count to the number of valid records.
 * Pass next_seq 0 to accept any first seq (then consecutive).
 */
int ev_validate(const uint8_t *p, size_t n, uint64_t next_seq,
    uint64_t *last_t_ns, size_t *count);

/* ---- TLV fields ------------------------------------------------------- */

/* Append one field.  Return REC_OK, REC_ETOOBIG, REC_ENOMEM. */
int ev_fields_put(struct buf *b, uint16_t tag, const void *p, size_t n);
int ev_fields_put_str(struct buf *b, uint16_t tag, const char *s);
int ev_fields_put_u64(struct buf *b, uint16_t tag, uint64_t v);

struct ev_fields_iter {
	const uint8_t *p;
	size_t n;
	size_t off;
};

/* Iterates the fields of p[0..n) (p must outlive the iterator). */
void ev_fields_begin(struct ev_fields_iter *it, const uint8_t *p, size_t n);

/* Returns 1 and the next field (val points into the payload), 0 at the
 * end, or REC_EFORMAT when the payload is not a valid field sequence. */
int ev_fields_next(struct ev_fields_iter *it, uint16_t *tag,
    const uint8_t **val, size_t *len);

/* Finds the first field with tag.  Returns REC_OK, REC_ENOENT or
 * REC_EFORMAT. */
int ev_fields_find(const uint8_t *p, size_t n, uint16_t tag,
    const uint8_t **val, size_t *len);

/* Finds a u64 field (must be 8 bytes: else REC_EFORMAT). */
int ev_fields_get_u64(const uint8_t *p, size_t n, uint16_t tag, uint64_t *v);

/* Copies a string field into out (size outsz, NUL-terminated, truncated
 * to fit).  Returns REC_OK, REC_ENOENT or REC_EFORMAT. */
int ev_fields_get_str(const uint8_t *p, size_t n, uint16_t tag, char *out,
    size_t outsz);

/* Returns 1 when p[0..n) is a complete, valid field sequence, else 0. */
int ev_fields_valid(const uint8_t *p, size_t n);

#endif
