/* audit_head: session heads as audit orders and filters them
 * (audit_head.h). */
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/audit_head.h"

int
replay_audit_head_cmp(const void *a, const void *b)
{
	const struct replay_audit_head *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c != 0)
		return c;
	return x->start < y->start ? -1 : x->start > y->start;
}

int
replay_audit_head_first(const struct replay_audit_head *ss, size_t i)
{
	return i == 0 || strcmp(ss[i].user, ss[i - 1].user) != 0;
}

int
replay_audit_head_last(const struct replay_audit_head *ss, size_t i, size_t n)
{
	return i + 1 == n || strcmp(ss[i].user, ss[i + 1].user) != 0;
}

int
replay_audit_has_attr(struct tr *r, const char *kv)
{
	struct ev_fields_iter it;
	const uint8_t *meta, *v;
	size_t mlen, used, len;
	uint16_t tag;
	struct ev e;

	tr_meta(r, &meta, &mlen);
	if (ev_decode(meta, mlen, &e, &used) != REC_OK || e.type != EV_META)
		return 0;
	ev_fields_begin(&it, e.data, e.len);
	while (ev_fields_next(&it, &tag, &v, &len) == 1)
		if (tag == EVF_ATTR && len == strlen(kv) && memcmp(v, kv, len) == 0)
			return 1;
	return 0;
}
