/* recpick: which of the configured recorders a new session tries first.
 *
 * escort-proxy.conf(5) may list several recorders (Recorder).  A new session
 * tries them in the configuration's order and stays on the first that
 * opens its recording; a recorder that failed to open a session, or lost a
 * live one, counts as down for PX_RECPICK_DOWN_MS and is tried after the
 * others until then (still tried: never is a session refused while a
 * recorder might take it).  A recorder that opens or resumes a session
 * counts as up again at once.
 *
 * One table per loaded configuration (config.h owns it), shared by every
 * worker thread: the marks are atomics, no call blocks or allocates. */
#ifndef PX_RECPICK_H
#define PX_RECPICK_H

#include <stdint.h>

#define PX_RECPICK_DOWN_MS 10000

struct px_recpick;

/* A table for n recorders (1..PX_MAX_RECORDERS), all up.  Returns PX_OK and
 * *out, PX_EINVAL or PX_ENOMEM. */
int px__recpick_new(int n, struct px_recpick **out);

/* Frees t.  NULL is ignored. */
void px__recpick_free(struct px_recpick *t);

/* Writes the order to try the recorders in at monotonic time now_ms into
 * order[0..n) (n as given to px__recpick_new): those up, in the
 * configuration's order, then those down, in the configuration's order.
 * Returns n. */
int px__recpick_order(struct px_recpick *t, uint64_t now_ms, int *order);

/* Recorder i failed to open a session or lost one at now_ms. */
void px__recpick_down(struct px_recpick *t, int i, uint64_t now_ms);

/* Recorder i opened or resumed a session. */
void px__recpick_up(struct px_recpick *t, int i);

#endif
