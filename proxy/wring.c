/* wring: a watcher's bounded output ring (wring.h). */
#include <stdlib.h>
#include <string.h>

#include "proxy/wring.h"

int
px__wring_init(struct wring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	if (cap == 0 || (r->buf = malloc(cap)) == NULL)
		return -1;
	r->cap = cap;
	return 0;
}

void
px__wring_free(struct wring *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

int
px__wring_put(struct wring *r, const uint8_t *p, size_t n)
{
	size_t tail, first;

	if (r->resync || n > r->cap - r->len) {
		if (!r->resync)
			r->overflows++;
		r->dropped += r->len + n;
		r->resync = 1;
		r->head = r->len = 0;
		return 0;
	}
	tail = (r->head + r->len) % r->cap;
	first = r->cap - tail < n ? r->cap - tail : n;
	memcpy(r->buf + tail, p, first);
	memcpy(r->buf, p + first, n - first);
	r->len += n;
	return 1;
}

size_t
px__wring_take(struct wring *r, uint8_t *out, size_t max)
{
	size_t n = r->len < max ? r->len : max, first;

	if (n == 0)
		return 0;	/* also a ring never allocated or freed: buf is NULL */
	first = r->cap - r->head < n ? r->cap - r->head : n;
	memcpy(out, r->buf + r->head, first);
	memcpy(out + first, r->buf, n - first);
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (r->len == 0)
		r->head = 0;
	return n;
}

void
px__wring_resynced(struct wring *r)
{
	r->head = r->len = 0;
	r->resync = 0;
}
