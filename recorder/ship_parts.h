/*
 * ship_parts: the shipper's parts of open sessions (ship.h): while a
 * session runs, the signed bytes of its file beyond what the bucket holds
 * go up as objects of their own, sessions/ID.est.part-OFFSET (s3_layout.h),
 * each ending at a segment boundary the journal or a signature vouches for
 * (the HEAD segment, a CHECKPOINT, or the FINAL), so that the parts in
 * order are a prefix of the session file that a reader can verify.  The
 * sealed whole still goes up at the close (ship.c); the parts stay, locked.
 *
 * When a part is due, for each session the journal shows open:
 *   - forced: the journal names a segment of the session (its OPEN's head,
 *     a journaled checkpoint) that the parts do not hold yet.
 *     The shipper sends parts before the journal piece that names them, so
 *     the bucket is a consistent Store at every moment (a reader's verify
 *     finds every journaled segment of a live session in its parts);
 *   - by time: signed bytes wait and `interval_s` seconds (wall clock)
 *     passed since the session's last part (or its OPEN);
 *   - by size: `size` bytes or more of the file wait.
 * A part holds everything signed at that moment (up to SHIP_PART_MAX bytes
 * a part).  The file is synced (fdatasync) before its bytes are read, so
 * the bucket never holds a byte a crash of this host could take back from
 * the Store.  Nothing counts as shipped before the store answered 2xx.
 *
 * What the bucket holds is learned at start from its listing (the parts'
 * offsets and sizes); what is open, from the journal scan of every round.
 * A file that does not continue what the bucket holds (shorter, or no
 * segment where the last part ended) stops that session's parts, logged;
 * its sealed whole still goes up at the close.
 *
 * One struct ship_parts belongs to the shipper's thread; nothing here
 * locks.  Errors: REC_* codes (rec_error.h) with a one-line reason in err.
 */
#ifndef RECORDER_SHIP_PARTS_H
#define RECORDER_SHIP_PARTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "recorder/journal.h"
#include "recorder/s3.h"

#define SHIP_PART_INTERVAL_DEFAULT	60		/* seconds */
#define SHIP_PART_SIZE_DEFAULT		((uint64_t)16 << 20)	/* bytes */
#define SHIP_PART_MAX			((uint64_t)1 << 30)	/* bytes a part */
#define SHIP_PART_POLL_MS		1000	/* between rounds: a look at
						   the open sessions' sizes */

struct ship_parts;

/* A new, empty set for the Store at store (copied), logging as url.
 * Returns NULL when out of memory. */
struct ship_parts *ship_parts_new(const char *store, const char *url,
	    unsigned interval_s, uint64_t size, unsigned retention_days);
void	ship_parts_free(struct ship_parts *p);

/* The bucket's listing: ship_parts_learn_begin forgets everything, then
 * ship_parts_learn takes each object name (relative to PREFIX/) with its
 * size; names that are not parts are ignored.  Returns 0 or REC_ENOMEM. */
void	ship_parts_learn_begin(struct ship_parts *p);
int	ship_parts_learn(struct ship_parts *p, const char *name,
	    uint64_t size);

/* A journal scan (from the journal's start): begin, then every entry in
 * order (a journal_cb's arguments), then end, which forgets the sessions
 * the journal does not show open.  Returns 0 or REC_ENOMEM. */
void	ship_parts_scan_begin(struct ship_parts *p);
int	ship_parts_scan_entry(struct ship_parts *p,
	    const struct journal_entry *e, uint64_t offset);
void	ship_parts_scan_end(struct ship_parts *p);

/* Ships every part that is due (see above), retained until retain_until.
 * Stops at the first failure: REC_* with err set.  REC_OK when every due
 * part is in the bucket. */
int	ship_parts_round(struct ship_parts *p, struct s3 *s3,
	    time_t retain_until, char *err, size_t errlen);

/* Between rounds: 1 when a session open at the last round has a part due
 * by size or time (a stat(2) of each file), else 0. */
int	ship_parts_due(struct ship_parts *p);

/* The number of sessions open at the last round (0: nothing to poll). */
size_t	ship_parts_open(const struct ship_parts *p);

/* What the bucket does not hold yet of the open sessions: how many have
 * bytes waiting, and how many bytes (a stat(2) of each file). */
void	ship_parts_held(struct ship_parts *p, size_t *sessions,
	    uint64_t *bytes);

#endif
