/* reclink: one session's connection to escort-recorder.
 *
 * The link owns a recorder sender (recorder/sender.h) and the stream it
 * talks over (a unix socket, or TCP with TLS).  Every event of the session is
 * handed to px__reclink_event() BEFORE its bytes are forwarded anywhere; the
 * sender keeps it in a bounded spool until the recorder acknowledges it.
 * The write to the recorder is deferred: at the next loop iteration once
 * 16 KiB of events wait, else within 5 ms, so that small events (a
 * keystroke and its echo, a burst across sessions) share one write and one
 * DATA frame.
 *
 * Lifecycle: px__reclink_open() starts connecting and returns at once.  Exactly
 * one of on_ready / on_fail follows.  After on_ready the link may report
 * on_stalled (connection lost: the session must stop forwarding both ways),
 * then on_writable (room again, or reconnected and resumed), and on_fail
 * when the recorder did not come back within RecorderTimeout.  The owner calls
 * px__reclink_close() to end the session in the recording (END + final signed
 * record), gets on_closed, and calls px__reclink_free().  The recorder's receipt
 * and the tree head that came with it are appended under the configured
 * StateDir, in that recorder's own files when several are configured
 * (receipts.h), before on_closed(ok = 1) runs.  px__reclink_free() may be
 * called at any time from outside the link's callbacks; no callback runs after
 * it; the memory goes when the link's handles have closed.
 *
 * All calls and callbacks happen on the loop given to px__reclink_open(). */
#ifndef PX_RECLINK_H
#define PX_RECLINK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct px_config;
struct px_reclink;

struct px_reclink_cbs {
	/* Recorder accepted the session; id is the recording's id (valid while
	 * the link lives). */
	void (*on_ready)(void *ud, const char *id);
	/* The spool took everything handed to it and has room again, or the
	 * connection is back and resumed. */
	void (*on_writable)(void *ud);
	/* Connection lost mid-session; forwarding must pause. */
	void (*on_stalled)(void *ud, const char *why);
	/* Unreachable at start, rejected, or not back in time: end the session. */
	void (*on_fail)(void *ud, const char *why);
	/* Final record acknowledged (or the attempt gave up: ok == 0). */
	void (*on_closed)(void *ud, int ok);
};

/* Starts connecting to one of cfg->recorders, in the order cfg->recpick
 * gives (recpick.h).  Until one has accepted the session, a failure (cannot
 * connect, refused, or, with another left to try, no ACCEPT within 5 s)
 * moves on to the next with a new sender for the same META; on_fail follows
 * only when none is left, its why naming every recorder tried ("ADDRESS:
 * REASON; ...", or the one reason when a single recorder is configured).
 * After on_ready the link stays on that recorder.  cfg must stay valid for
 * the link's life (configurations are kept until exit: daemon.h).  meta,
 * metalen: the META payload (TLV fields), copied.  Returns PX_OK and *out, or
 * PX_ENOMEM / PX_EINVAL / PX_ERECORDER (then no callback runs). */
int px__reclink_open(uv_loop_t *loop, const struct px_config *cfg, const void *meta,
    size_t metalen, const struct px_reclink_cbs *cbs, void *ud, struct px_reclink **out);

/* Hands one event to the spool.  Returns PX_OK when taken; PX_EFULL when the
 * spool is over its limit or the link is down (nothing taken: retry after
 * on_writable); PX_ERECORDER after on_fail or close.  Control events (not
 * INPUT/OUTPUT/STDERR) are taken while the link is up even past the limit,
 * up to a small reserve, so that requests and exits are never reordered. */
int px__reclink_event(struct px_reclink *l, uint16_t type, uint32_t channel, const void *p, size_t n);

/* True when an INPUT/OUTPUT/STDERR event of n bytes would be taken now. */
int px__reclink_can_take(const struct px_reclink *l, size_t n);

/* Bytes handed in but not yet acknowledged (for the memory ceiling). */
size_t px__reclink_spooled(const struct px_reclink *l);

/* Appends END and asks for the final signed record; on_closed follows. */
void px__reclink_close(struct px_reclink *l);

/* Same, with the END payload end[0..len) (recorder/ev_end.h), copied. */
void px__reclink_close_with(struct px_reclink *l, const void *end, size_t len);

/* A close made while the connection is down keeps reconnecting (every
 * few seconds) for ms more, so that the END still reaches a recorder that
 * comes back; then on_closed(ok == 0) as before.  Call before the close. */
void px__reclink_linger(struct px_reclink *l, unsigned ms);

/* Releases the link (see above).  NULL is ignored. */
void px__reclink_free(struct px_reclink *l);

#endif
