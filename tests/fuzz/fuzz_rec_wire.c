/* libFuzzer harness for the recorder protocol: any byte string is split
 * into frames; each frame is decoded, and a decoded frame must re-encode to
 * the same bytes.  The same bytes are then fed, as the recorder's answers,
 * to a sender with a few events spooled, which must never accept an ACK
 * beyond its events or lose its unacked ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/sender.h"
#include "recorder/wire.h"

static void
fuzz_sender(const uint8_t *data, size_t size)
{
	struct sender *s = sender_new("", 0, 0, "fuzz");
	const uint8_t *p;
	size_t n, half = size / 2;

	if (s == NULL)
		abort();
	sender_event(s, EV_OUTPUT, 0, "abc", 3);
	sender_event(s, EV_INPUT, 0, "x", 1);
	n = sender_pending_output(s, &p);
	sender_consume_output(s, n);
	sender_feed(s, data, half);
	if (size & 1)
		sender_on_disconnect(s);
	sender_event(s, EV_OUTPUT, 0, "def", 3);
	if (size & 2)
		sender_close(s);
	n = sender_pending_output(s, &p);
	sender_consume_output(s, n / 2);
	sender_feed(s, data + half, size - half);
	if (sender_acked_seq(s) > sender_last_seq(s))
		abort();
	if (sender_state(s) != SENDER_CLOSED && sender_state(s) !=
	    SENDER_FAILED && sender_acked_seq(s) < sender_last_seq(s) &&
	    sender_spooled(s) == 0)
		abort();
	sender_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t flen;
	struct wire_msg m;

	fuzz_sender(data, size);
	while (size > 0) {
		if (wire_frame(data, size, &flen, why, sizeof(why)) != REC_OK ||
		    flen == 0)
			break;
		if (wire_decode(data, flen, &m, why, sizeof(why)) == REC_OK) {
			long n = wire_size(&m);
			uint8_t *out;

			if (n < 0 || (size_t)n != flen)
				abort();
			if ((out = malloc((size_t)n)) == NULL)
				abort();
			if (wire_encode(&m, out, (size_t)n) != n ||
			    memcmp(out, data, flen) != 0)
				abort();
			free(out);
		}
		data += flen;
		size -= flen;
	}
	return 0;
}
