/* Unit tests for recorder/sender: the frames it writes, how ACKs drain the
 * spool, resume after a disconnect, close with a receipt, and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/sender.h"
#include "recorder/wire.h"

/* Frames the sender wrote, decoded; records collected by seq. */
struct peer {
	uint8_t		 bytes[1 << 20];
	size_t		 len;
	int		 types[64];
	int		 ntypes;
	uint64_t	 seqs[4096];
	uint32_t	 lens[4096];	/* payload length of each record */
	uint32_t	 chans[4096];
	size_t		 nseqs;
	int		 sync_flags;	/* DATA frames with WIRE_F_SYNC */
	struct wire_msg	 hello;
};

static void
drain(struct sender *s, struct peer *pr)
{
	const uint8_t *p;
	size_t n, off = 0, flen;
	char why[256];

	pr->len = 0;
	pr->ntypes = 0;
	pr->nseqs = 0;
	pr->sync_flags = 0;
	while ((n = sender_pending_output(s, &p)) > 0) {
		assert_true(pr->len + n <= sizeof(pr->bytes));
		memcpy(pr->bytes + pr->len, p, n);
		pr->len += n;
		sender_consume_output(s, n);
	}
	while (off < pr->len) {
		struct wire_msg m;

		assert_int_equal(wire_frame(pr->bytes + off, pr->len - off,
		    &flen, why, sizeof(why)), REC_OK);
		assert_true(flen > 0);
		assert_int_equal(wire_decode(pr->bytes + off, flen, &m, why,
		    sizeof(why)), REC_OK);
		pr->types[pr->ntypes++] = m.type;
		if (m.type == WIRE_HELLO)
			pr->hello = m;
		if (m.type == WIRE_DATA && (m.flags & WIRE_F_SYNC))
			pr->sync_flags++;
		if (m.type == WIRE_DATA) {
			size_t used, at = 0;
			struct ev e;

			for (uint32_t i = 0; i < m.count; i++) {
				assert_int_equal(ev_decode(m.data + at,
				    m.data_len - at, &e, &used), REC_OK);
				pr->lens[pr->nseqs] = e.len;
				pr->chans[pr->nseqs] = e.channel;
				pr->seqs[pr->nseqs++] = e.seq;
				at += used;
			}
			assert_int_equal(at, m.data_len);
		}
		off += flen;
	}
}

static void
feed(struct sender *s, const struct wire_msg *m, int want)
{
	uint8_t b[2048];
	long n = wire_encode(m, b, sizeof(b));

	assert_true(n > 0);
	/* byte by byte: any split must work */
	for (long i = 0; i < n - 1; i++)
		assert_int_equal(sender_feed(s, b + i, 1), REC_OK);
	assert_int_equal(sender_feed(s, b + n - 1, 1), want);
}

static void
accept_at(struct sender *s, const char *id, uint64_t seq)
{
	struct wire_msg m = { .type = WIRE_ACCEPT, .id = id,
	    .id_len = strlen(id), .seq = seq };
	feed(s, &m, REC_OK);
}

static void
ack(struct sender *s, uint64_t seq, int want)
{
	static const uint8_t head[WIRE_HEAD_LEN] = { 0xab };
	struct wire_msg m = { .type = WIRE_ACK, .seq = seq, .head = head };
	feed(s, &m, want);
}

static struct peer pr;

static void
test_hello_data_ack(void **state)
{
	(void)state;
	const char meta[] = "\0\1\0\0\0\5alice";
	struct sender *s = sender_new(meta, sizeof(meta) - 1, 0, "proxy-a");
	struct ev e;
	size_t used;

	assert_non_null(s);
	drain(s, &pr);
	assert_int_equal(pr.ntypes, 1);
	assert_int_equal(pr.types[0], WIRE_HELLO);
	assert_int_equal(pr.hello.flags, 0);
	assert_int_equal(pr.hello.count, 1);
	assert_int_equal(ev_decode(pr.hello.data, pr.hello.data_len, &e,
	    &used), REC_OK);
	assert_int_equal(e.type, EV_META);
	assert_int_equal(e.seq, 1);
	assert_memory_equal(e.data, meta, sizeof(meta) - 1);
	assert_int_equal(sender_state(s), SENDER_HELLO);

	/* events before ACCEPT are held, not sent */
	assert_int_equal(sender_event(s, EV_OUTPUT, 0, "hello", 5), REC_OK);
	drain(s, &pr);
	assert_int_equal(pr.ntypes, 0);
	accept_at(s, "S1", 1);
	assert_int_equal(sender_state(s), SENDER_OPEN);
	assert_string_equal(sender_session_id(s), "S1");
	assert_int_equal(sender_event(s, EV_INPUT, 0, "ls\r", 3), REC_OK);
	sender_sync(s);
	drain(s, &pr);
	assert_int_equal(pr.ntypes, 1);
	assert_int_equal(pr.types[0], WIRE_DATA);
	assert_int_equal(pr.sync_flags, 1);	/* sender_sync */
	assert_int_equal(pr.nseqs, 2);
	assert_int_equal(pr.seqs[0], 2);
	assert_int_equal(pr.seqs[1], 3);
	assert_true(sender_spooled(s) > 0);
	ack(s, 3, REC_OK);
	assert_int_equal(sender_acked_seq(s), 3);
	assert_int_equal(sender_acked_head(s)[0], 0xab);
	assert_int_equal(sender_spooled(s), 0);
	/* an ACK going backwards or beyond what exists is refused */
	ack(s, 2, REC_ESEQ);
	assert_int_equal(sender_state(s), SENDER_FAILED);
	assert_non_null(strstr(sender_reason(s), "after an ACK for 3"));
	assert_int_equal(sender_event(s, EV_OUTPUT, 0, "x", 1), REC_ESTATE);
	sender_free(s);

	s = sender_new("", 0, 0, "p");
	drain(s, &pr);
	accept_at(s, "S2", 1);
	ack(s, 5, REC_EPROTO);
	assert_non_null(strstr(sender_reason(s), "beyond the last event 1"));
	sender_free(s);
}

static void
test_spool_limit(void **state)
{
	(void)state;
	static uint8_t chunk[16384];
	struct sender *s = sender_new("", 0, 64 << 10, "p");
	int r, n = 0;

	drain(s, &pr);
	accept_at(s, "S3", 1);
	/* 10 ms apart: each its own record (see test_stream_merge) */
	while ((r = sender_event_at(s, (uint64_t)n * 10000000, EV_OUTPUT, 1,
	    chunk, sizeof(chunk))) == REC_OK)
		n++;
	assert_int_equal(r, REC_EFULL);
	assert_int_equal(n, 3);
	assert_true(sender_spooled(s) <= 64 << 10);
	assert_int_equal(sender_event(s, EV_OUTPUT, 1, chunk, EV_PAYLOAD_MAX +
	    1), REC_ETOOBIG);
	assert_int_equal(sender_event(s, EV_META, 1, chunk, 1), REC_EINVAL);
	drain(s, &pr);
	assert_int_equal(pr.nseqs, 3);
	/* half the spool unacked: the frame asks for a sync */
	assert_int_equal(pr.ntypes, 1);
	assert_int_equal(pr.sync_flags, 1);
	ack(s, 3, REC_OK);
	assert_int_equal(sender_event(s, EV_OUTPUT, 1, chunk, sizeof(chunk)),
	    REC_OK);
	ack(s, 5, REC_OK);
	assert_int_equal(sender_spooled(s), 0);
	sender_free(s);
}

static void
test_resume_retransmits_unacked(void **state)
{
	(void)state;
	struct sender *s = sender_new("", 0, 0, "p");
	int i;

	drain(s, &pr);
	accept_at(s, "S4", 1);
	for (i = 0; i < 10; i++)
		assert_int_equal(sender_event_at(s, (uint64_t)i * 10000000,
		    EV_OUTPUT, 0, "abc", 3), REC_OK);
	drain(s, &pr);
	assert_int_equal(pr.nseqs, 10);		/* seqs 2..11 */
	assert_int_equal(pr.sync_flags, 0);	/* 320 bytes of 64 KiB */
	ack(s, 5, REC_OK);
	/* partial output is dropped on disconnect */
	assert_int_equal(sender_event_at(s, 200000000, EV_OUTPUT, 0, "def", 3),
	    REC_OK);
	sender_on_disconnect(s);
	drain(s, &pr);
	assert_int_equal(pr.ntypes, 1);
	assert_int_equal(pr.hello.flags, WIRE_F_RESUME);
	assert_int_equal(pr.hello.seq, 5);
	assert_int_equal(pr.hello.id_len, 2);
	assert_memory_equal(pr.hello.id, "S4", 2);
	/* the recorder had made seq 8 durable before the break */
	accept_at(s, "S4", 8);
	assert_int_equal(sender_acked_seq(s), 8);
	drain(s, &pr);
	assert_int_equal(pr.nseqs, 4);
	assert_int_equal(pr.seqs[0], 9);
	assert_int_equal(pr.seqs[3], 12);
	/* a recorder that lost acked events is caught */
	sender_on_disconnect(s);
	drain(s, &pr);
	{
		struct wire_msg m = { .type = WIRE_ACCEPT, .id = "S4",
		    .id_len = 2, .seq = 7 };
		feed(s, &m, REC_ESEQ);
	}
	assert_non_null(strstr(sender_reason(s), "had acknowledged 8"));
	sender_free(s);
}

static void
test_close_receipt(void **state)
{
	(void)state;
	static const uint8_t head[WIRE_HEAD_LEN] = { 7, 7, 7 };
	struct sender *s = sender_new("", 0, 0, "p");
	struct wire_msg m = { .type = WIRE_CLOSED, .id = "S5", .id_len = 2,
	    .head = head, .data = (const uint8_t *)"SIG", .data_len = 3 };
	const struct sender_receipt *rc;

	drain(s, &pr);
	accept_at(s, "S5", 1);
	assert_int_equal(sender_event(s, EV_OUTPUT, 0, "bye", 3), REC_OK);
	assert_int_equal(sender_close(s), REC_OK);
	assert_int_equal(sender_close(s), REC_ESTATE);
	assert_int_equal(sender_event(s, EV_OUTPUT, 0, "x", 1), REC_ESTATE);
	assert_int_equal(sender_state(s), SENDER_CLOSING);
	/* a disconnect while closing resumes, then closes again */
	drain(s, &pr);
	assert_int_equal(pr.types[pr.ntypes - 1], WIRE_CLOSE);
	sender_on_disconnect(s);
	drain(s, &pr);
	accept_at(s, "S5", 2);
	drain(s, &pr);
	assert_int_equal(pr.ntypes, 2);
	assert_int_equal(pr.types[0], WIRE_DATA);
	assert_int_equal(pr.nseqs, 1);
	assert_int_equal(pr.seqs[0], 3);	/* the END event */
	assert_int_equal(pr.types[1], WIRE_CLOSE);
	assert_null(sender_receipt(s));
	m.seq = 3;
	feed(s, &m, REC_OK);
	assert_int_equal(sender_state(s), SENDER_CLOSED);
	rc = sender_receipt(s);
	assert_non_null(rc);
	assert_string_equal(rc->id, "S5");
	assert_int_equal(rc->seq, 3);
	assert_int_equal(rc->head[0], 7);
	assert_int_equal(rc->sig_len, 3);
	assert_int_equal(sender_spooled(s), 0);
	sender_free(s);
}

static void
test_reject_ping_and_garbage(void **state)
{
	(void)state;
	struct sender *s = sender_new("", 0, 0, "p");
	struct wire_msg m = { .type = WIRE_REJECT, .text = "store is full",
	    .text_len = 13 };

	drain(s, &pr);
	feed(s, &m, REC_EREJECTED);
	assert_int_equal(sender_state(s), SENDER_FAILED);
	assert_string_equal(sender_reason(s),
	    "recorder rejected the session: store is full");
	sender_free(s);

	s = sender_new("", 0, 0, "p");
	drain(s, &pr);
	m = (struct wire_msg){ .type = WIRE_PING, .seq = 99 };
	feed(s, &m, REC_OK);
	drain(s, &pr);
	assert_int_equal(pr.ntypes, 1);
	assert_int_equal(pr.types[0], WIRE_PONG);
	m = (struct wire_msg){ .type = WIRE_DATA };
	feed(s, &m, REC_EPROTO);
	assert_string_equal(sender_reason(s), "unexpected DATA from the "
	    "recorder");
	sender_free(s);

	s = sender_new("", 0, 0, "p");
	assert_int_equal(sender_feed(s, "\0\0\0\0\7\1", 6), REC_EPROTO);
	assert_non_null(strstr(sender_reason(s), "unsupported protocol "
	    "version 7"));
	sender_free(s);
}

/* Stream bytes arriving together share one record; anything else starts a
 * new one, and a framed record never grows (it may already be stored). */
static void
test_stream_merge(void **state)
{
	(void)state;
	static uint8_t big[40 << 10];
	struct sender *s = sender_new("", 0, 1 << 20, "p");
	const uint64_t ms = 1000000;

	drain(s, &pr);
	accept_at(s, "S9", 1);
	assert_int_equal(sender_event_at(s, 1 * ms, EV_OUTPUT, 1, "ab", 2), REC_OK);
	assert_int_equal(sender_event_at(s, 2 * ms, EV_OUTPUT, 1, "cd", 2), REC_OK);
	assert_int_equal(sender_event_at(s, 6 * ms, EV_OUTPUT, 1, "ef", 2), REC_OK);
	assert_int_equal(sender_event_at(s, 6 * ms, EV_OUTPUT, 2, "gh", 2), REC_OK);	/* channel */
	assert_int_equal(sender_event_at(s, 6 * ms, EV_STDERR, 2, "ij", 2), REC_OK);	/* type */
	assert_int_equal(sender_event_at(s, 20 * ms, EV_STDERR, 2, "kl", 2), REC_OK);	/* > 5 ms */
	assert_int_equal(sender_event_at(s, 20 * ms, EV_MARKER, 2, "m", 1), REC_OK);
	assert_int_equal(sender_event_at(s, 20 * ms, EV_MARKER, 2, "n", 1), REC_OK);	/* never */
	assert_int_equal(sender_event_at(s, 21 * ms, EV_INPUT, 0, big, sizeof(big)), REC_OK);
	assert_int_equal(sender_event_at(s, 21 * ms, EV_INPUT, 0, big, sizeof(big)), REC_OK);	/* > 64 KiB */
	drain(s, &pr);
	assert_int_equal(pr.nseqs, 8);
	assert_int_equal(pr.seqs[0], 2);
	assert_int_equal(pr.seqs[7], 9);
	assert_int_equal(pr.lens[0], 6);	/* ab cd ef */
	assert_int_equal(pr.lens[1], 2);
	assert_int_equal(pr.chans[1], 2);
	assert_int_equal(pr.lens[2], 2);
	assert_int_equal(pr.lens[3], 2);
	assert_int_equal(pr.lens[4], 1);
	assert_int_equal(pr.lens[5], 1);
	assert_int_equal(pr.lens[6], sizeof(big));
	assert_int_equal(pr.lens[7], sizeof(big));
	/* framed: the next piece is a record of its own */
	assert_int_equal(sender_event_at(s, 21 * ms, EV_INPUT, 0, "x", 1), REC_OK);
	drain(s, &pr);
	assert_int_equal(pr.nseqs, 1);
	assert_int_equal(pr.seqs[0], 10);
	assert_int_equal(pr.lens[0], 1);
	sender_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_data_ack),
		cmocka_unit_test(test_spool_limit),
		cmocka_unit_test(test_resume_retransmits_unacked),
		cmocka_unit_test(test_close_receipt),
		cmocka_unit_test(test_reject_ping_and_garbage),
		cmocka_unit_test(test_stream_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
