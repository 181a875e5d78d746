/*
 * prune: removes sealed sessions from the Store once the object store
 * holds them (ObjectStorePruneAfter in escort-recorder.conf(5); "Pruning"
 * in escort-recorder(8)).  Pruning never looks like deletion: before a
 * file goes, the journal gets a signed PRUNE entry (journal.h,
 * escort-transcript(5)) naming the object, the file's size and SHA-256.
 *
 * A session is pruned when all of these hold, checked in this order:
 *   - its CLOSE entry is at least ObjectStorePruneAfter old, and it has
 *     no PRUNE entry yet;
 *   - the bucket's journal pieces reach past that CLOSE entry (so the
 *     bucket names it closed, and the shipper never looks for the file
 *     again: ship.h);
 *   - the file verifies with the Store's key and ends with the FINAL
 *     record its CLOSE entry names, at the size that implies;
 *   - the object PREFIX/sessions/ID.est, downloaded, has the file's
 *     SHA-256, and its retention is COMPLIANCE until a time to come;
 * then the PRUNE entry is appended and synced, and only then the file is
 * unlinked and the sessions directory synced.  A file left behind a
 * PRUNE entry (a crash in between) is removed at the next round when its
 * SHA-256 is the entry's.  Any failure leaves the file, logged; it is
 * tried again at the next round.
 *
 * One thread of its own, with its own object-store client, runs a round
 * every PRUNE_ROUND_MAX_S seconds (every half of ObjectStorePruneAfter
 * when that is shorter, at least every second).  It shares the journal
 * with the recorder's writers (journal.h: every call takes its lock).
 *
 * Errors: REC_* codes (rec_error.h).
 */
#ifndef RECORDER_PRUNE_H
#define RECORDER_PRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/s3.h"

#define PRUNE_ROUND_MAX_S	60

struct journal;
struct seal_signer;
struct recd_config;

struct prune_opts {
	const char *store;		/* the Store directory (copied) */
	const char *url;		/* s3://BUCKET/PREFIX (copied) */
	struct s3_cfg s3;		/* endpoint, region, credentials */
	uint64_t after_s;		/* ObjectStorePruneAfter; 0: off */
	struct journal *journal;	/* borrowed: outlives the pruner */
	const struct seal_signer *signer;	/* borrowed, likewise */
};

/* Told of every session pruned (id, the object's address), for
 * escort-recorder --prune's lines. */
typedef void (*prune_report_cb)(void *arg, const char *id, const char *url);

/* One round now, on the calling thread (escort-recorder --prune, with the
 * recorder stopped).  *pruned counts the files removed.  Returns REC_OK
 * when the round ran (sessions it had to leave are logged), or an error
 * with err set (no credentials, the bucket cannot be listed). */
int	prune_once(const struct prune_opts *o, prune_report_cb cb, void *arg,
	    unsigned *pruned, char *err, size_t errlen);

struct prune;

/* Starts the pruning thread (none, *out NULL, when o->after_s is 0 or
 * o->url NULL).  o is copied (the journal and signer stay borrowed).
 * Returns REC_OK or an error with err set. */
int	prune_start(const struct prune_opts *o, struct prune **out, char *err,
	    size_t errlen);

/* Stops the thread (a request in progress is abandoned: the file stays
 * and is pruned at the next start) and frees p.  NULL: no-op. */
void	prune_stop(struct prune *p);

#endif
