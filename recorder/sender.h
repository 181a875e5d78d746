/*
 * sender: the proxy side of one recorded session, as a state machine with
 * no I/O of its own.  The caller moves bytes between the sender and a
 * connection to escort-recorder (unix socket, TLS, blocking or libuv):
 *
 *	s = sender_new(meta, len, spool_limit, "proxy-1");
 *	loop:
 *		sender_event(s, EV_OUTPUT, ch, bytes, n);    (REC_EFULL: stop
 *		                                             reading that source)
 *		n = sender_pending_output(s, &p); write(fd, p, n) -> w;
 *		sender_consume_output(s, w);
 *		r = read(fd, ...); sender_feed(s, bytes, r);
 *	on a broken connection: sender_on_disconnect(s), reconnect, go on
 *	(the sender asks to resume and retransmits what was not acked);
 *	at the end: sender_close(s), keep writing/reading until
 *	sender_state(s) == SENDER_CLOSED, then sender_receipt(s).
 *
 * Events get seq 1 (the META event carried by HELLO), 2, 3, ... and t_ns
 * from CLOCK_MONOTONIC since sender_new.  Every event stays in the spool
 * until an ACK covers it; ACK means durable on the recorder per its Fsync
 * setting.  The spool is bounded by spool_limit bytes of encoded records;
 * once half of it waits for ACKs, the next DATA frame asks the recorder to
 * sync at once (WIRE_F_SYNC) rather than at its next Fsync interval.
 *
 * All functions returning int return REC_OK or a negative REC_E* code.
 * The sender owns all its memory; sender_free releases it.
 */
#ifndef RECORDER_SENDER_H
#define RECORDER_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/wire.h"

enum sender_state {
	SENDER_HELLO,		/* HELLO queued or sent, waiting for ACCEPT */
	SENDER_OPEN,		/* accepted: events flow, ACKs come back */
	SENDER_CLOSING,		/* sender_close called; waiting for CLOSED */
	SENDER_CLOSED,		/* CLOSED received: receipt available */
	SENDER_FAILED,		/* REJECT, ABORT or protocol error: see reason */
};

/* What the recorder returns when the session closes: the final chain head
 * and the recorder's signature over the final record (sig: CLOSED's seal
 * field, WIRE_SEAL_LEN bytes from this recorder), and the signed tree head
 * of the journal that covers the session's close ("" when the recorder sent
 * none). */
struct sender_receipt {
	char		id[WIRE_ID_MAX + 1];
	uint64_t	seq;
	uint8_t		head[WIRE_HEAD_LEN];
	uint8_t		sig[WIRE_SIG_MAX];
	size_t		sig_len;
	char		tree_head[WIRE_HEADLINE_MAX + 1];
};

struct sender;

/*
 * Creates a sender for a new session whose META event payload is
 * meta[0..meta_len) (ev_fields_* TLV, copied).  spool_limit bounds the
 * unacked encoded events (at least 64 KiB is used).  client names the
 * proxy in the recorder's log (copied, at most WIRE_NAME_MAX bytes).
 * A HELLO is queued at once.  Returns NULL when out of memory or when the
 * metadata is over EV_PAYLOAD_MAX.
 */
struct sender *sender_new(const void *meta, size_t meta_len,
    size_t spool_limit, const char *client);

/* Frees s and everything it holds.  NULL is allowed. */
void	sender_free(struct sender *s);

/*
 * Adds an event (type EV_INPUT ... EV_MARKER, EV_EXIT; payload copied)
 * stamped with the time since sender_new.  Returns REC_OK, REC_EFULL when
 * the spool is over its limit (nothing stored: retry after ACKs drain it),
 * REC_ETOOBIG (payload over EV_PAYLOAD_MAX), REC_EINVAL (type), or
 * REC_ESTATE after sender_close or a failure.
 *
 * INPUT, OUTPUT and STDERR bytes that follow the previous event of the same
 * type and channel within 5 ms, while that event has not been framed yet,
 * are appended to it (up to 64 KiB) instead of costing a record each: the
 * merged event keeps the first piece's seq and time.
 */
int	sender_event(struct sender *s, uint16_t type, uint32_t channel,
	    const void *data, size_t len);

/* Same with an explicit time (ns since the session start; a time earlier
 * than the previous event's is raised to it). */
int	sender_event_at(struct sender *s, uint64_t t_ns, uint16_t type,
	    uint32_t channel, const void *data, size_t len);

/* Asks the recorder to make everything sent so far durable and ack it now
 * (the next DATA frame carries WIRE_F_SYNC). */
void	sender_sync(struct sender *s);

/*
 * Points *p at bytes to write to the recorder and returns their count
 * (0: nothing to write now).  The pointer stays valid until the next call
 * other than sender_pending_output.  Report what was written with
 * sender_consume_output(s, n), n <= the count returned.  The bytes may be
 * part of a message: a DATA frame is handed out as its prefix and then its
 * records in place in the spool (no copy), so write in a loop until 0.
 */
size_t	sender_pending_output(struct sender *s, const uint8_t **p);
void	sender_consume_output(struct sender *s, size_t n);

/*
 * Parses bytes read from the recorder (any split).  Returns REC_OK, or on a
 * REJECT/ABORT REC_EREJECTED, on a malformed or unexpected message
 * REC_EPROTO, on an ACK/ACCEPT below an earlier ACK REC_ESEQ (the recorder
 * lost acknowledged events); after an error the state is SENDER_FAILED and
 * sender_reason() says why.
 */
int	sender_feed(struct sender *s, const void *data, size_t len);

/*
 * The connection broke: drops partial input and output and queues a HELLO
 * that resumes the session (or a new HELLO when none was accepted yet).
 * Everything not acked is sent again after the next ACCEPT.  No effect in
 * SENDER_CLOSED or SENDER_FAILED.
 */
void	sender_on_disconnect(struct sender *s);

/*
 * Ends the session: appends the END event and queues CLOSE after all
 * events.  Returns REC_OK or REC_ESTATE (already closing or failed).
 */
int	sender_close(struct sender *s);

/* Same, with the END event's payload (ev_end.h fields), copied.  Also
 * REC_ETOOBIG. */
int	sender_close_with(struct sender *s, const void *payload, size_t len);

enum sender_state sender_state(const struct sender *s);

/* Receipt after CLOSED (else NULL); valid until sender_free. */
const struct sender_receipt *sender_receipt(const struct sender *s);

/* Why the session failed ("" otherwise); valid until sender_free. */
const char *sender_reason(const struct sender *s);

/* Session id assigned by the recorder ("" before the first ACCEPT). */
const char *sender_session_id(const struct sender *s);

/* Highest acked (durable) seq, and the chain head that came with it. */
uint64_t sender_acked_seq(const struct sender *s);
const uint8_t *sender_acked_head(const struct sender *s);

/* Seq of the last event added (0 before any). */
uint64_t sender_last_seq(const struct sender *s);

/* Bytes of encoded events held until acked. */
size_t	sender_spooled(const struct sender *s);

#endif /* RECORDER_SENDER_H */
