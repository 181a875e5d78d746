/* join: an escort's live view of a supervised session (`ssh -t
 * escort@proxy join ID`), on the escort's own connection and worker.
 *
 * The channel stays in CH_WAIT with ch->join set; chan.c hands it the
 * escort's keys (px__join_input), window changes (px__join_resize) and steps
 * (px__join_step); px__chan_free calls px__join_free.
 *
 * What the escort sees: first the technician's current screen, rendered
 * from the session's watch (watch.h), then the technician's output as it
 * comes, in a scroll region above the last row, which is a status line:
 * technician, target, session time, state and a command waiting for
 * approval, with the keys.  Output is written only as far as the escort's
 * channel window takes it and libssh has nothing unsent; what does not
 * fit waits in the watcher's bounded ring (a ring that overflows is
 * replaced by a redraw of the screen), so an escort who stops reading
 * never holds the technician.
 *
 * Keys: a approve, d deny, p pause or resume, k kill ("killed by escort"),
 * q leave.  Each goes through px__escort_act (escort_cmd.h), as the
 * commands do: checked, recorded in the session, first decision wins.
 * Nothing the escort types reaches the session.  Leaving (q, the escort's
 * channel closing, the session ending) posts LEAVE once.
 *
 * Lifetime: the join is owned by its channel until px__join_free, which
 * detaches it from the watch, drops the watch's reference and closes its
 * two libuv handles (a wake-up async and a one-second timer); the memory
 * is freed by the last close callback.  The watch calls the async only
 * while the join is attached. */
#ifndef PX_JOIN_H
#define PX_JOIN_H

#include <stddef.h>
#include <stdint.h>

struct px_chan;
struct px_watch;
struct px_reg_session;

/* Starts the view on ch for session s (joined already: JOIN posted), with
 * the escort's terminal of rows x cols; w is the caller's reference to the
 * session's watch, which the join takes in every case.  follow, watcher:
 * NULL for a session of this proxy; for one on another proxy,
 * px__reg_follow's handle (w then its copy of the watch), which the join
 * also takes in every case: the status line then reads the session from
 * it (px__reg_follow_get), never from the network; and the remote
 * watcher's id that the JOIN named, which the LEAVE names too (copied).
 * PX_OK, or PX_ENOMEM (nothing started). */
int px__join_start(struct px_chan *ch, const struct px_reg_session *s, struct px_watch *w, void *follow,
    const char *watcher, int rows, int cols);

/* The escort typed n bytes: keys acted on, everything consumed. */
size_t px__join_input(struct px_chan *ch, const uint8_t *p, size_t n);

/* The escort's terminal is now rows x cols. */
void px__join_resize(struct px_chan *ch, int rows, int cols);

/* Writes what is due to the escort; ends the view when the session ended. */
void px__join_step(struct px_chan *ch);

/* Leaves (once) and frees the view of ch, if any. */
void px__join_free(struct px_chan *ch);

#endif
