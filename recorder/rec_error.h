/*
 * rec_error.h: the one error space of recorder/ (libescort-transcript,
 * libescort-recproto and the daemon).
 *
 * Every function of these that can fail returns REC_OK (0) or one of
 * the negative REC_E* codes below; functions returning a count return it as a
 * non-negative int.  rec_strerror() maps a code to a short static English
 * message (never NULL, never to be freed).  Codes are stable within one build
 * only: never store them in files or send them on the wire.  The codes
 * libescort-common shares (buffers, TLS) have the values of its ESC_E*
 * codes, so its errors pass through unchanged, and rec_strerror names every
 * ESC_E* code too (ESC_ECONFIG, of the daemon's configuration reader).
 * -23 and -25 are not recorder codes.
 */
#ifndef ESCORT_REC_ERROR_H
#define ESCORT_REC_ERROR_H

#include "common/esc_error.h"

enum {
	REC_OK = ESC_OK,
	REC_ENOMEM = ESC_ENOMEM,	/* out of memory */
	REC_EINVAL = ESC_EINVAL,	/* invalid argument */
	REC_ETRUNC = ESC_ETRUNC,	/* input ends before the item it announces */
	REC_EFORMAT = -4,	/* malformed input */
	REC_ETOOBIG = ESC_ETOOBIG,	/* item over its size limit */
	REC_EFULL = -6,		/* bounded buffer or spool full */
	REC_EIO = ESC_EIO,		/* read/write/sync failed (see errno) */
	REC_ECRC = -8,		/* CRC32C mismatch */
	REC_ECHAIN = -9,	/* hash chain mismatch */
	REC_ESIG = -10,		/* signature does not verify */
	REC_EVERSION = -11,	/* unsupported format or protocol version */
	REC_EKEY = -12,		/* key missing, unreadable or of the wrong type */
	REC_EZSTD = -13,	/* zstd (de)compression failed */
	REC_ECRYPTO = -14,	/* OpenSSL call failed */
	REC_EEXIST = -15,	/* already exists */
	REC_ENOENT = -16,	/* not found */
	REC_ESTATE = ESC_ESTATE,	/* call not valid in the object's current state */
	REC_EAGAIN = -18,	/* no complete item yet; retry when more data arrived */
	REC_ESEQ = -19,		/* sequence number out of order */
	REC_ECLOSED = ESC_ECLOSED,	/* object or session already closed */
	REC_EPROTO = -21,	/* protocol violation by the peer */
	REC_EREJECTED = -22,	/* the peer refused the request */
	REC_ETLS = ESC_ETLS,		/* TLS failure */
	REC_ENOSPC = -26,	/* no space left on the store's device */
	REC_EPERM = -27,	/* permission denied */
	REC_ETAMPER = -28,	/* stored data contradicts its signed record */
	REC_EISDIR = -29,	/* a directory where a file was expected */
	REC_ELAST = -29
};

/* Returns a static message for code (REC_OK, a REC_E* or an ESC_E* code;
 * any other value gives "unknown error"). */
const char *rec_strerror(int code);

/* Maps an errno value to the closest REC_E* code (REC_EIO by default). */
int rec_from_errno(int err);

#endif
