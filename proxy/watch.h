/* watch: what escorts joined to a session see of it, shared between the
 * technician's worker (which feeds it) and the escorts' workers (which
 * read it), without pointers between the two connections.
 *
 * A watch belongs to one supervised session (a rule names escorts): a
 * screen model of what the technician's terminal shows (libvterm's
 * VTermScreen, sized by the technician's pty and window changes, fed
 * through vt_guard.h, which keeps out what could hang libvterm; bulk
 * output is held back, at most 64 KiB, and the lines of it that scroll off
 * the screen before anyone reads the model are skipped, so a screen model
 * costs a scan of the output, not an emulation of every line), and the
 * list of its watchers, each with a bounded output ring (wring.h).  The
 * technician's output goes into the model and into every watcher's ring,
 * and the watcher is woken; nothing waits for a watcher: a ring that
 * overflows is emptied and the watcher gets a full redraw of the model
 * when it next reads (so a slow or stopped escort costs the technician at
 * most one ring's copy, never a wait).  A new watcher starts marked for a
 * redraw: an escort who joins first sees the current screen.
 *
 * Lifetime: a watch is reference counted.  The technician's connection
 * holds one reference from px__watch_open to px__watch_close; an escort
 * holds one from px__watch_find to px__watch_unref; the last unref frees it.
 * The table (px_watches, one per proxy) holds none: px__watch_close takes
 * the watch out of it, so a session that ended can no longer be found.
 * A watcher (struct px_watcher, the escort's) is in a watch's list from
 * px__watch_attach to px__watch_detach; its wake function is called, under
 * the watch's mutex, only while it is attached (it must only signal, e.g.
 * uv_async_send, never call back into the watch).
 *
 * Threads: every function may be called from any thread; the table and
 * each watch have their own mutex (the table's is never held while a
 * watch's is taken, and no other lock is taken under either). */
#ifndef PX_WATCH_H
#define PX_WATCH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/wring.h"

#define PX_WATCH_RING (256 * 1024)   /* bytes buffered per watcher */

struct px_watch;

struct px_watches {
	pthread_mutex_t mu;
	struct px_watch *head;
};

/* One escort's view.  Filled by the caller (wake, ud) before attach; the
 * ring is the watch's (under its mutex). */
struct px_watcher {
	struct px_watcher *next;        /* the watch's list */
	void (*wake)(void *ud);         /* any thread, under the watch's mutex */
	void *ud;
	struct wring ring;
};

void px__watches_init(struct px_watches *t);
/* After every connection ended: frees nothing that is referenced. */
void px__watches_free(struct px_watches *t);

/* The technician's side.  px__watch_open makes the watch of session id
 * with a rows x cols screen and puts it in the table: the watch (the
 * caller's reference), or NULL (no memory, id in use).  px__watch_close
 * takes it out of the table, marks it ended, wakes its watchers and drops
 * the caller's reference.  feed and resize change the model (and feed the
 * watchers' rings); both accept NULL (a session nobody may supervise). */
struct px_watch *px__watch_open(struct px_watches *t, const char *id, int rows, int cols);
void px__watch_close(struct px_watches *t, struct px_watch *w);
void px__watch_feed(struct px_watch *w, const uint8_t *p, size_t n);
void px__watch_resize(struct px_watch *w, int rows, int cols);

/* A copy of another proxy's watch (registry_redis_follow.c): the model
 * is reset to a rows x cols screen, given p (n bytes: a rendering of the
 * other model, vt_render.h) and every watcher is marked for a redraw.  The
 * rings get nothing of p.  NULL is a no-op. */
void px__watch_reset(struct px_watch *w, int rows, int cols, const uint8_t *p, size_t n);

/* The escort's side.  px__watch_find: the watch of session id with a new
 * reference, or NULL.  px__watch_attach adds x (its ring allocated here,
 * PX_WATCH_RING bytes, marked for a redraw): 0, or -1 (no memory, or the
 * session ended).  px__watch_detach takes it out and frees its ring. */
struct px_watch *px__watch_find(struct px_watches *t, const char *id);
void px__watch_unref(struct px_watch *w);
int px__watch_attach(struct px_watch *w, struct px_watcher *x);
void px__watch_detach(struct px_watch *w, struct px_watcher *x);

/* Marks x for a redraw (the escort's terminal changed size). */
void px__watch_redraw(struct px_watch *w, struct px_watcher *x);

/* What watcher x is due, at most max bytes of it into out.  When x is
 * marked for a redraw, the model is rendered (vt_render.h, its last
 * max_rows rows at most) into *redraw (a new string to free, length
 * *redraw_len) and the mark cleared: what follows in the ring comes after
 * it.  Returns the bytes put in out (0
 * with *redraw set, or nothing due); *ended is set once the session
 * ended.  rows, cols: the screen's size now. */
size_t px__watch_take(struct px_watch *w, struct px_watcher *x, uint8_t *out, size_t max,
    int max_rows, char **redraw, size_t *redraw_len, int *ended, int *rows, int *cols);

#endif
