/*
 * Fuzzer: registry_redis_wire, the text of sessions, actions and answers
 * that proxies sharing a registry read from Redis.
 *
 * Input: any bytes, read as each of the three kinds.  Checks what the
 * contract promises: every string field that comes back is NUL-terminated
 * within its size, the escorts are at most PX_REG_ESCORTS_MAX, the state
 * and verb are known ones; and what was accepted, encoded again, decodes to
 * the same thing (the encoder writes what the decoder reads).  The same
 * input is also read as a remote watcher's stream entry (split at NUL
 * bytes into names and values): a decoded entry's why is NUL-terminated,
 * its data lies within the input, its numbers in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/registry_redis_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void
check_session(const struct px_reg_session *s)
{
	if (memchr(s->id, 0, sizeof(s->id)) == NULL || memchr(s->user, 0, sizeof(s->user)) == NULL ||
	    memchr(s->pending, 0, sizeof(s->pending)) == NULL || memchr(s->ended, 0, sizeof(s->ended)) == NULL ||
	    memchr(s->proxy, 0, sizeof(s->proxy)) == NULL || memchr(s->decided, 0, sizeof(s->decided)) == NULL)
		abort();
	if (s->nescorts < 0 || s->nescorts > PX_REG_ESCORTS_MAX || (unsigned)s->state > PX_REG_ENDED)
		abort();
}

static void
check_entry(const uint8_t *d, size_t n)
{
	const char *names[16], *vals[16];
	size_t nlens[16], vlens[16], k = 0, at = 0;
	struct px_rrwe e;

	/* pieces between NUL bytes: name, value, name, value, ... */
	while (at <= n && k < 32) {
		const uint8_t *z = at < n ? memchr(d + at, 0, n - at) : NULL;
		size_t len = z != NULL ? (size_t)(z - (d + at)) : n - at;

		if ((k & 1) == 0)
			names[k / 2] = (const char *)d + at, nlens[k / 2] = len;
		else
			vals[k / 2] = (const char *)d + at, vlens[k / 2] = len;
		k++;
		at += len + 1;
		if (z == NULL)
			break;
	}
	if (px__rrwe_decode(k / 2, names, nlens, vals, vlens, &e) != PX_OK)
		return;
	if (memchr(e.why, 0, sizeof(e.why)) == NULL || (unsigned)e.kind > PX_RRWE_END || e.seq == 0)
		abort();
	if (e.kind == PX_RRWE_SCREEN && (e.rows < 2 || e.rows > 500 || e.cols < 2 || e.cols > 1000))
		abort();
	if (e.data != NULL && ((const uint8_t *)e.data < d || (const uint8_t *)e.data + e.len > d + n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static char buf[PX_RRW_MAX];
	struct px_reg_session s, s2;
	struct px_reg_action a, a2;
	char reply[PX_RRW_REPLY_MAX], reply2[PX_RRW_REPLY_MAX];
	long len;
	int rc, rc2;

	check_entry(d, n);
	if (px__rrw_session_decode((const char *)d, n, &s) == PX_OK) {
		check_session(&s);
		if ((len = px__rrw_session_encode(&s, buf, sizeof(buf))) < 0 ||
		    px__rrw_session_decode(buf, (size_t)len, &s2) != PX_OK || memcmp(&s, &s2, sizeof(s)) != 0)
			abort();
	}
	if (px__rrw_action_decode((const char *)d, n, &a, reply) == PX_OK) {
		if ((unsigned)a.verb > PX_REG_LEAVE || memchr(reply, 0, sizeof(reply)) == NULL)
			abort();
		if ((len = px__rrw_action_encode(&a, reply, buf, sizeof(buf))) < 0 ||
		    px__rrw_action_decode(buf, (size_t)len, &a2, reply2) != PX_OK ||
		    memcmp(&a, &a2, sizeof(a)) != 0 || strcmp(reply, reply2) != 0)
			abort();
	}
	if (px__rrw_answer_decode((const char *)d, n, &rc, &s) == PX_OK) {
		check_session(&s);
		if (rc > 0 || (len = px__rrw_answer_encode(rc, &s, buf, sizeof(buf))) < 0 ||
		    px__rrw_answer_decode(buf, (size_t)len, &rc2, &s2) != PX_OK || rc2 != rc ||
		    memcmp(&s, &s2, sizeof(s)) != 0)
			abort();
	}
	return 0;
}
