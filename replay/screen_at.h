/*
 * screen_at: the screen model of a session at a moment, read from the
 * nearest snapshot of its cache (screen_cache.h) when it has one: for
 * "screen --at" and "play"'s seeking.
 *
 * Lifetimes: a struct screen_at belongs to one open reader r and lives
 * until screen_at_free; a struct screen_run holds one model, released
 * with screen_run_free.
 */
#ifndef REPLAY_SCREEN_AT_H
#define REPLAY_SCREEN_AT_H

#include <stdint.h>

#include "recorder/transcript.h"
#include "replay/screen_cache.h"
#include "replay/vtmodel.h"

/* One reading of the session: the model and the window size. */
struct screen_run {
	struct vtm m;
	int open;		/* m is open (output was seen) */
	uint64_t cols, rows;	/* the window size recorded last */
	int exact;		/* every byte through libvterm */
};

struct screen_at {
	struct scache cache;
	struct tr_summary sum;	/* finished, last_seq, last_t_ns at least */
	int no_cache;
	int have_cache;		/* 0 none, 1 to build, 2 loaded or built */
	char cpath[4200];
};

/* Looks up the cache of session id (read by r); without a cache that
 * names this file, reads r's summary.  no_cache: neither read nor built,
 * and every byte goes through libvterm.  Returns REC_OK or a read error;
 * sa->sum.last_t_ns is then the time of the session's last event. */
int screen_at_init(struct screen_at *sa, const char *store, const char *id,
    struct tr *r, int no_cache);

/* Fills *s (not open before) with the screen after every event with
 * t_ns <= at_ns (stop_seq 0), or every event with seq < stop_seq.  The
 * cache of a closed session is built on first use.  r is left after the
 * first event past that point (read, not applied).  Returns REC_OK or a
 * REC_E* code. */
int screen_at_model(struct screen_at *sa, struct tr *r, uint64_t at_ns,
    uint64_t stop_seq, struct screen_run *s);

/* Applies one event to s (output to the model, opened at the first;
 * window sizes).  Returns 0 or -1 (out of memory). */
struct ev;
int screen_apply(struct screen_run *s, const struct ev *e);

void screen_run_free(struct screen_run *s);
void screen_at_free(struct screen_at *sa);

#endif
