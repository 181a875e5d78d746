/* rec_link: placeholder transport that accepts every event locally. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/config.h"
#include "proxy/px_error.h"
#include "proxy/rec_link.h"

struct rec_link {
	uv_loop_t *loop;
	uv_timer_t t;
	struct rec_link_cbs cbs;
	void *ud;
	char id[64];
	int state; /* 0 connecting, 1 ready, 2 closing, 3 closed */
	int freed;
};

static void
on_close(uv_handle_t *h)
{
	free(h->data);
}

static void
on_timer(uv_timer_t *t)
{
	struct rec_link *l = t->data;

	if (l->state == 0) {
		l->state = 1;
		l->cbs.on_ready(l->ud, l->id);
	} else if (l->state == 2) {
		l->state = 3;
		l->cbs.on_closed(l->ud, 1);
	}
}

int
rec_link_open(uv_loop_t *loop, const struct px_config *cfg, const void *meta,
    size_t metalen, const struct rec_link_cbs *cbs, void *ud, struct rec_link **out)
{
	static unsigned n;
	struct rec_link *l;

	(void)cfg; (void)meta; (void)metalen;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return PX_ENOMEM;
	l->loop = loop;
	l->cbs = *cbs;
	l->ud = ud;
	snprintf(l->id, sizeof(l->id), "local-%u", __atomic_add_fetch(&n, 1, __ATOMIC_RELAXED));
	uv_timer_init(loop, &l->t);
	l->t.data = l;
	uv_timer_start(&l->t, on_timer, 0, 0);
	*out = l;
	return PX_OK;
}

int
rec_link_event(struct rec_link *l, uint16_t type, uint32_t channel, const void *p, size_t n)
{
	(void)type; (void)channel; (void)p; (void)n;
	return l->state == 1 ? PX_OK : PX_ERECORDER;
}

int
rec_link_can_take(const struct rec_link *l, size_t n)
{
	(void)n;
	return l->state == 1;
}

size_t
rec_link_spooled(const struct rec_link *l)
{
	(void)l;
	return 0;
}

void
rec_link_close(struct rec_link *l)
{
	if (l->state != 1)
		return;
	l->state = 2;
	uv_timer_start(&l->t, on_timer, 0, 0);
}

void
rec_link_free(struct rec_link *l)
{
	if (l == NULL)
		return;
	uv_timer_stop(&l->t);
	uv_close((uv_handle_t *)&l->t, on_close);
}
