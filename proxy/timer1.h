/* timer1: a one-shot deadline on a connection's libuv loop, owned through a
 * pointer that may be NULL (no deadline).
 *
 * The handle is heap memory because libuv may still touch it after its
 * owner is gone: uv_close only finishes on a later loop turn, so the
 * handle is freed in its close callback, never by the owner.  The owner
 * keeps one `uv_timer_t *` field and passes its address here.
 *
 * Contract:
 *   - px__timer1_new: allocates and initialises the handle on loop with
 *     data as handle->data; *tp is set.  Not started.  Returns PX_OK or
 *     PX_ENOMEM (then *tp is NULL and nothing is on the loop).
 *   - px__timer1_start: px__timer1_new, then starts it once after ms
 *     milliseconds with cb.  Same returns.
 *   - px__timer1_stop: NULL-safe (does nothing when *tp is NULL); clears
 *     handle->data, stops the timer and closes the handle, which frees
 *     itself once closed; *tp is NULL on return.  A stopped timer's
 *     callback never runs again, so the owner may free the struct named by
 *     data right after this call.
 *   - The callback receives the handle; it reads handle->data and returns
 *     at once when that is NULL.  It may call px__timer1_stop on its own
 *     handle (the memory stays valid until the close callback), but must
 *     not free the handle itself.
 * All on the loop's thread. */
#ifndef ESCORT_PROXY_TIMER1_H
#define ESCORT_PROXY_TIMER1_H

#include <stdint.h>

#include <uv.h>

int px__timer1_new(uv_timer_t **tp, uv_loop_t *loop, void *data);
int px__timer1_start(uv_timer_t **tp, uv_loop_t *loop, uv_timer_cb cb, void *data, uint64_t ms);
void px__timer1_stop(uv_timer_t **tp);

#endif
