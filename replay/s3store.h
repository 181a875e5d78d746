/*
 * s3store: a store in S3-compatible object storage (what escort-recorder's
 * ObjectStore ships, see recorder/ship.h), read by escort-replay as
 * `--store s3://BUCKET/PREFIX` and `verify --anchor s3://BUCKET/PREFIX`.
 *
 * The bucket's objects are downloaded into a private directory (mode 0700,
 * under $TMPDIR or /tmp, removed when escort-replay exits) laid out as a
 * Store: sessions/ID.est, journal.esj (the journal/ pieces in order),
 * heads.esh (every heads/ object in order) and public-key.pem; the normal
 * readers and verifier then read that directory.  A session with no
 * sealed object but parts (sessions/ID.est.part-OFFSET, recorder/
 * s3_layout.h: shipped while it ran; its recorder may have stopped since)
 * is read from its parts concatenated in the order of their offsets, up to
 * the first gap or overlap (reported as a warning); readers then see a
 * live, unsealed session and verify the prefix the parts hold.  The sealed
 * object, when there, is read instead of the parts.  A note on stderr
 * names the sessions read from parts.  Credentials, endpoint
 * and region come from the environment as the AWS tools take them
 * (recorder/s3.h, s3_cfg_env).  What a reader sees is the newest version
 * of each object.
 *
 * Both return 0 with the path in out, or 2 after an error message naming
 * the bucket and what failed (replay_err).
 */
#ifndef REPLAY_S3STORE_H
#define REPLAY_S3STORE_H

#include <stddef.h>

/* Downloads the store at url into a new private directory. */
int	replay_s3_store(const char *url, char *out, size_t outlen);

/* Downloads only the bucket's tree heads into a new anchor file (one
 * head line each, in the bucket's order). */
int	replay_s3_heads(const char *url, char *out, size_t outlen);

#endif
