/* wring: one watcher's bounded output ring, with resynchronisation.
 *
 * The technician's output is put into the ring of each escort watching
 * (watch.h) and taken out by the escort's own worker as far as the escort's
 * channel takes it.  The ring never grows: a put that does not fit empties
 * it and marks it "resync": the watcher lost bytes and must be given a full
 * redraw of the screen model instead.  While it is marked, puts are dropped
 * (the screen model has them); wring_resynced clears the mark once the
 * watcher took its redraw, and puts go on from there.
 *
 * No locks, no I/O: the caller (watch.c) guards a ring with its mutex.
 * Ownership: wring_init allocates cap bytes (wring_free frees them). */
#ifndef PX_WRING_H
#define PX_WRING_H

#include <stddef.h>
#include <stdint.h>

struct wring {
	uint8_t *buf;
	size_t cap;             /* bytes the ring holds at most */
	size_t head;            /* index of the oldest byte */
	size_t len;             /* bytes held */
	int resync;             /* bytes were lost: a redraw is due */
	uint64_t dropped;       /* bytes lost so far (overflows and while marked) */
	uint64_t overflows;     /* times the ring overflowed */
};

/* Allocates a ring of cap bytes (cap > 0).  Returns 0, or -1 (no memory). */
int wring_init(struct wring *r, size_t cap);
void wring_free(struct wring *r);

/* Puts n bytes.  Returns 1 when they were kept, 0 when they were dropped:
 * the ring is marked (now, because they did not fit, or already). */
int wring_put(struct wring *r, const uint8_t *p, size_t n);

/* Takes at most max of the oldest bytes into out.  Returns the count. */
size_t wring_take(struct wring *r, uint8_t *out, size_t max);

/* The watcher got its redraw: empties the ring and clears the mark. */
void wring_resynced(struct wring *r);

#endif
