/* recpick: the order a new session tries the recorders in (see recpick.h). */
#include <stdatomic.h>
#include <stdlib.h>

#include "proxy/config.h"
#include "proxy/px_error.h"
#include "proxy/recpick.h"

struct px_recpick {
	int n;
	_Atomic uint64_t down_until[PX_MAX_RECORDERS];  /* monotonic ms; 0: up */
};

int
px__recpick_new(int n, struct px_recpick **out)
{
	struct px_recpick *t;

	*out = NULL;
	if (n < 1 || n > PX_MAX_RECORDERS)
		return PX_EINVAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return PX_ENOMEM;
	t->n = n;
	for (int i = 0; i < n; i++)
		atomic_init(&t->down_until[i], 0);
	*out = t;
	return PX_OK;
}

void
px__recpick_free(struct px_recpick *t)
{
	free(t);
}

int
px__recpick_order(struct px_recpick *t, uint64_t now_ms, int *order)
{
	int k = 0;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < t->n; i++) {
			int down = atomic_load(&t->down_until[i]) > now_ms;
			if (down == pass)
				order[k++] = i;
		}
	return k;
}

void
px__recpick_down(struct px_recpick *t, int i, uint64_t now_ms)
{
	if (t != NULL && i >= 0 && i < t->n)
		atomic_store(&t->down_until[i], now_ms + PX_RECPICK_DOWN_MS);
}

void
px__recpick_up(struct px_recpick *t, int i)
{
	if (t != NULL && i >= 0 && i < t->n)
		atomic_store(&t->down_until[i], 0);
}
