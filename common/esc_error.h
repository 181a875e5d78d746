/*
 * esc_error.h: the error space of libescort-common.
 *
 * Every function of the library that can fail returns ESC_OK (0) or one of
 * the negative ESC_E* codes below; esc_strerror() maps a code to a short
 * static English message (never NULL, never to be freed).
 *
 * The values are those of the recorder's REC_E* codes of the same meaning
 * (REC_ENOMEM == ESC_ENOMEM, ...; recorder/rec_error.h defines them so), so
 * a code from a buffer or TLS call passes through recorder code unchanged.
 * The gaps between the values are the recorder's own codes.  Codes are
 * stable within one build only: never store them or send them.
 */
#ifndef ESCORT_ESC_ERROR_H
#define ESCORT_ESC_ERROR_H

enum {
	ESC_OK = 0,
	ESC_ENOMEM = -1,	/* out of memory */
	ESC_EINVAL = -2,	/* invalid argument */
	ESC_ETRUNC = -3,	/* input ends before the item it announces */
	ESC_ETOOBIG = -5,	/* item over its size limit */
	ESC_EIO = -7,		/* read/write failed (see errno) */
	ESC_ESTATE = -17,	/* call not valid in the object's current state */
	ESC_ECLOSED = -20,	/* the peer closed */
	ESC_ETLS = -24,		/* TLS failure */
	ESC_ECONFIG = -25,	/* configuration error */
	ESC_ELAST = -25
};

/* Returns a static message for code (ESC_OK or an ESC_E* code; any other
 * value gives "unknown error"). */
const char *esc_strerror(int code);

#endif
