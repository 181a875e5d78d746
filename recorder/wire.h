/*
 * wire: the escort-recorder protocol, version 3, also speaking version 2
 * (see the PROTOCOL section of escort-recorder(8)).  Pure encode/decode, no I/O.
 *
 * Every message is one frame:
 *
 *	u32 body length (big-endian, not counting this 6-byte header)
 *	u8  protocol version (WIRE_VERSION_MIN .. WIRE_VERSION; the
 *	    recorder answers in the version of the HELLO it got)
 *	u8  message type (WIRE_HELLO ...)
 *	body
 *
 * A frame is at most WIRE_FRAME_MAX bytes, header included.  Integers are
 * big-endian; "str8" is a u8 length then that many bytes, "str16" a u16
 * length then bytes.  Bodies:
 *
 *	HELLO   u8 flags (WIRE_F_RESUME), str8 client name, str8 session id
 *	        (empty unless resuming), u64 last acked seq, u32 record count,
 *	        when resuming the session's resume token (WIRE_TOKEN_LEN bytes),
 *	        records (the session's META events; none when resuming)
 *	ACCEPT  str8 session id, u64 highest durable seq, resume token
 *	        (WIRE_TOKEN_LEN bytes: what a later HELLO must show to resume
 *	        this session; only the recorder can compute it)
 *	REJECT  str16 reason
 *	DATA    u8 flags (WIRE_F_SYNC), u32 record count, records
 *	ACK     u64 highest durable seq, 32-byte chain head
 *	CLOSE   (empty)
 *	CLOSED  str8 session id, u64 last seq, 32-byte final chain head,
 *	        str16 seal: the signed final record's remaining fields,
 *	        u32 segment index | u64 wall ns | u64 file offset |
 *	        32-byte key id | 64-byte Ed25519 signature (WIRE_SEAL_LEN),
 *	        so that the receipt can be checked with seal_receipt_verify;
 *	        version 3 only: str16 tree head line (treehead.h text form
 *	        "escort-head v1 ...", at most WIRE_HEADLINE_MAX bytes, empty
 *	        when the recorder has none) of a signed tree head that
 *	        covers the session's close entry in the journal
 *	ABORT   str16 reason
 *	PING    u64 nonce
 *	PONG    u64 nonce (echoed)
 *
 * Records are event records in the ev_encode() encoding, concatenated; the
 * wire layer only carries them (the receiver validates them with ev_decode).
 *
 * Functions return REC_OK or a negative REC_E* code (recorder/rec_error.h).
 */
#ifndef RECORDER_WIRE_H
#define RECORDER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION	3
#define WIRE_VERSION_MIN 2	/* oldest version still spoken */
#define WIRE_HDR_LEN	6
#define WIRE_FRAME_MAX	(4u << 20)
#define WIRE_BODY_MAX	(WIRE_FRAME_MAX - WIRE_HDR_LEN)
#define WIRE_HEAD_LEN	32
#define WIRE_ID_MAX	64	/* session id: 1..64 of [A-Za-z0-9._-] */
#define WIRE_NAME_MAX	255	/* client name */
#define WIRE_REASON_MAX	1024	/* REJECT / ABORT reason, printable text */
#define WIRE_SIG_MAX	1024
#define WIRE_SEAL_LEN	(4 + 8 + 8 + 32 + 64)
#define WIRE_TOKEN_LEN	64	/* resume token */
#define WIRE_HEADLINE_MAX 255	/* CLOSED's tree head line (v3) */

/* Message types. */
enum wire_type {
	WIRE_HELLO = 1,
	WIRE_ACCEPT = 2,
	WIRE_REJECT = 3,
	WIRE_DATA = 4,
	WIRE_ACK = 5,
	WIRE_CLOSE = 6,
	WIRE_CLOSED = 7,
	WIRE_ABORT = 8,
	WIRE_PING = 9,
	WIRE_PONG = 10,
};

#define WIRE_F_RESUME	0x01	/* HELLO: resume session `id` */
#define WIRE_F_SYNC	0x01	/* DATA: make durable and ack at once */

/*
 * A decoded message.  Pointer members point into the frame passed to
 * wire_decode() and stay valid only while that memory is unchanged.
 * Members not used by a type are zero.
 */
struct wire_msg {
	uint8_t		 version;	/* decode: the frame's; encode: 0 means
					 * WIRE_VERSION */
	uint8_t		 type;
	uint8_t		 flags;		/* HELLO, DATA */
	uint64_t	 seq;		/* HELLO, ACCEPT, ACK, CLOSED; nonce for PING/PONG */
	uint32_t	 count;		/* HELLO, DATA: number of records */
	const char	*id;		/* HELLO, ACCEPT, CLOSED (not NUL-terminated) */
	size_t		 id_len;
	const char	*text;		/* HELLO client name, REJECT/ABORT reason */
	size_t		 text_len;
	const uint8_t	*head;		/* ACK, CLOSED: WIRE_HEAD_LEN bytes */
	const uint8_t	*token;		/* ACCEPT, resuming HELLO: WIRE_TOKEN_LEN
					 * bytes (encoding: NULL sends zeros) */
	const uint8_t	*data;		/* HELLO, DATA: records; CLOSED: signature */
	size_t		 data_len;
	const char	*line;		/* CLOSED (version 3): tree head line,
					 * printable, not NUL-terminated */
	size_t		 line_len;
};

/* Name of a message type ("HELLO"), or "unknown". Static string. */
const char *wire_type_name(int type);

/*
 * Looks at the start of `p[0..avail)` for one frame.  Returns REC_OK and sets
 * *frame_len to the whole frame's length when one is complete, REC_OK with
 * *frame_len = 0 when more bytes are needed, or REC_EPROTO when the header is
 * invalid: REC_EVERSION (wrong version), REC_ETOOBIG (over
 * WIRE_FRAME_MAX) or REC_EPROTO (unknown type); then a reason is written
 * to `why` (NUL-terminated, truncated to whylen).  Only the header is checked.
 */
int	wire_frame(const uint8_t *p, size_t avail, size_t *frame_len,
	    char *why, size_t whylen);

/*
 * Decodes one complete frame (as measured by wire_frame) into *m, checking
 * every field strictly: exact lengths, no trailing bytes, ids of the allowed
 * characters, printable reasons.  Returns REC_OK, or one of the wire_frame()
 * errors or REC_EPROTO with a reason in `why`.
 */
int	wire_decode(const uint8_t *frame, size_t len, struct wire_msg *m,
	    char *why, size_t whylen);

/*
 * Encodes *m as one frame into out[0..cap).  Returns the frame length (> 0),
 * REC_EINVAL when a field is out of range, or REC_EFULL when cap is too small.
 * wire_size() returns the length wire_encode would produce, or REC_EINVAL.
 */
long	wire_encode(const struct wire_msg *m, uint8_t *out, size_t cap);
long	wire_size(const struct wire_msg *m);

/*
 * Writes a frame header (version WIRE_VERSION) for `type` with a body of
 * `body_len` bytes to out[0..WIRE_HDR_LEN) (for callers that assemble DATA
 * bodies in place).
 */
void	wire_put_header(uint8_t *out, int type, uint32_t body_len);

/* Returns 1 when id[0..len) is a valid session id (sessid_valid), else 0. */
int	wire_id_valid(const char *id, size_t len);

#endif /* RECORDER_WIRE_H */
