/*
 * ship: escort-recorder's shipper to write-once object storage
 * (ObjectStore in escort-recorder.conf(5)).  It copies the Store to a
 * bucket with S3 Object Lock in COMPLIANCE mode, each object locked for
 * ObjectStoreRetention days, under the bucket's PREFIX:
 *
 *	sessions/ID.est		a sealed session file, whole (uploaded once
 *				its CLOSE entry is in the journal)
 *	sessions/ID.est.part-OFFSET
 *				while the session is open, the file's bytes
 *				from OFFSET (20 digits) to a signed boundary
 *				(ship_parts.h, s3_layout.h)
 *	journal/OFFSET.esj	the journal's bytes from OFFSET (20 digits)
 *				up to the end of its last complete entry;
 *				the pieces in order are journal.esj
 *	heads/TIME-SIZE.esh	one signed tree head line (heads.esh), TIME
 *				in ns and SIZE as 20 digits
 *	public-key.pem		the Store's public key
 *
 * What to ship is read from the Store itself, never from a queue in
 * memory: the journal's CLOSE entries after the journal bytes already
 * shipped name the sealed sessions, and heads.esh's lines after the last
 * one shipped are the heads.  Order keeps the bucket consistent for a
 * reader at every moment: the sessions a journal piece closes go first,
 * then the parts of open sessions holding every segment it names, then
 * that piece, then the heads that cover it.  At start the shipper
 * learns from a listing of the bucket where the journal's pieces end and
 * which heads are there, so a restart (or a crash) loses nothing and
 * re-sends at most what it sent without recording it.
 *
 * One thread of its own does all of this with blocking libcurl calls
 * (s3.h): the recorder's loop never waits on the network, and an object
 * store that is slow or away never holds up recording or acknowledging.
 * A failed upload is retried with backoff (1 s doubling to 15 s); nothing
 * counts as shipped before the store answered 2xx.  While something is
 * held back the recorder logs what (sessions and bytes, journal bytes,
 * heads) when it starts failing, when more sessions are held back, and
 * every 30 s, and logs when it has caught up.
 *
 * Thread safety: ship_sealed, ship_head, ship_session_held and
 * ship_journal_held may be called from any thread (ship_head runs inside
 * the journal's lock: it only signals).
 */
#ifndef RECORDER_SHIP_H
#define RECORDER_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/s3.h"

#define SHIP_BACKOFF_MIN_MS	1000
#define SHIP_BACKOFF_MAX_MS	15000
#define SHIP_REPORT_MS		30000
#define SHIP_STOP_MS		5000	/* last round at shutdown */
#define SHIP_IDLE_MS		60000	/* a round this often unasked */

struct ship_opts {
	const char *store;		/* the Store directory (copied) */
	const char *url;		/* s3://BUCKET/PREFIX (copied) */
	struct s3_cfg s3;		/* endpoint, region, credentials */
	unsigned retention_days;	/* COMPLIANCE lock period */
	unsigned part_interval;		/* seconds; 0: the default */
	uint64_t part_size;		/* bytes; 0: the default */
};

struct ship;

/* Starts the shipper thread (none, *out NULL, when o->url is NULL).
 * Returns REC_OK with *out set, or an error with err set (bad URL, no
 * credentials, thread).  o is copied. */
int	ship_start(const struct ship_opts *o, struct ship **out, char *err,
	    size_t errlen);

/* From escort-recorder.conf(5)'s ObjectStore* settings into *o: the
 * environment (s3_cfg_env), then ObjectStoreCredentials (read here: call
 * it before the recorder gives up root), ObjectStoreEndpoint and
 * ObjectStoreRegion over it.  Without ObjectStore, o->url is NULL.
 * o->store and o->url point into c.  ship_config_check only checks
 * (escort-recorder -t).  Errors as ship_start. */
struct recd_config;
int	ship_config_opts(const struct recd_config *c, struct ship_opts *o,
	    char *err, size_t errlen);
int	ship_config_check(const struct recd_config *c, char *err,
	    size_t errlen);

/* A reload (SIGHUP): 1 when nc's ObjectStore* settings differ from the
 * running cur's; ship_config_keep copies cur's into nc (they change only
 * with a restart). */
int	ship_config_changed(const struct recd_config *cur,
	    const struct recd_config *nc);
void	ship_config_keep(const struct recd_config *cur, struct recd_config *nc);

/* Session id was sealed (its CLOSE entry journaled): look again.  s may
 * be NULL (no object store configured). */
void	ship_sealed(struct ship *s, const char *id);

/* A tree head was signed and appended to heads.esh: look again.  arg is
 * the struct ship (a journal_head_cb in spirit); NULL does nothing. */
void	ship_head(struct ship *s, const char *line);

/*
 * Whether the bucket holds sealed session id whole (sessions/ID.est
 * answered 2xx), for a caller that may then remove it from the Store:
 * close_offset is the offset of the session's CLOSE entry in the journal
 * (journal_read's offset).  A session goes up before the journal piece
 * that closes it, so every session whose CLOSE lies below the journal
 * bytes the bucket holds is there (also those shipped before a restart,
 * learned from the bucket's listing), and so is one shipped since whose
 * CLOSE is not yet in a piece.  Returns 1 held, 0 not yet (or s NULL: no
 * object store).  A session closed without a file in the Store (reported
 * when the shipper met it) counts as held once its CLOSE is shipped: there
 * is nothing of it to keep.
 */
int	ship_session_held(struct ship *s, const char *id, uint64_t close_offset);

/* The journal bytes the bucket holds, [0, n), once the shipper has
 * listed the bucket and found that the Store's journal continues them
 * (else 0).  NULL: 0. */
uint64_t ship_journal_held(struct ship *s);

/* Stops the thread after one last round (what the shutdown sealed) of
 * SHIP_STOP_MS at most (a transfer still running then is abandoned, to be
 * sent again at the next start), logs what is still held back, frees s.
 * NULL: no-op. */
void	ship_stop(struct ship *s);

#endif
