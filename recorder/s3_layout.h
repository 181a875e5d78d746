/*
 * s3_layout: the names of a Store's objects in a bucket, as escort-recorder's
 * shipper writes them (ship.h) and escort-replay reads them (s3store.h).
 * Names are relative to the bucket's PREFIX/:
 *
 *	sessions/ID.est			a sealed session file, whole
 *	sessions/ID.est.part-OFFSET	bytes [OFFSET, OFFSET + object size) of
 *					a session file while it is open,
 *					OFFSET 20 digits; a part ends at a
 *					segment boundary (the head, or a
 *					signed checkpoint), the parts in order
 *					are the file's first bytes
 *	journal/OFFSET.esj		the journal's bytes from OFFSET
 *	heads/TIME-SIZE.esh		one signed tree head line
 *	public-key.pem			the Store's public key
 *
 * Pure functions, no I/O.  escort-transcript(5) documents the layout.
 */
#ifndef RECORDER_S3_LAYOUT_H
#define RECORDER_S3_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/seal.h"

#define S3_PART_TAG	".part-"	/* between ID.est and OFFSET */
#define S3_OFFSET_DIGITS 20

/* What a name under sessions/ is. */
enum s3_session_obj {
	S3_SESSION_NONE = 0,	/* not a session object */
	S3_SESSION_WHOLE = 1,	/* sessions/ID.est */
	S3_SESSION_PART = 2	/* sessions/ID.est.part-OFFSET */
};

/* "sessions/ID.est.part-OFFSET" into out.  Returns 0, or -1 when it does
 * not fit (out is then ""). */
int	s3_part_name(const char *id, uint64_t offset, char *out, size_t n);

/*
 * Parses name (relative to PREFIX/): the session id into id (a valid id,
 * sessid_valid) and, for a part, its offset into *offset (else 0).  A name
 * ending in ".est" is a whole session (an id may itself hold ".est.part-");
 * one ending in ".est.part-" and 20 digits is a part.  Anything else, or an
 * id that is not valid, is S3_SESSION_NONE.
 */
enum s3_session_obj s3_session_parse(const char *name,
	    char id[SEAL_ID_MAX + 1], uint64_t *offset);

#endif
