/* px_error: the one error space of libescort-proxy.
 * Every fallible px_* function returns PX_OK (0) or one of the negative codes
 * below; px__strerror() maps a code to a short static English string.  Codes
 * are never stored or sent; the gaps (-6, -7, -12, -13) are codes that no
 * function produced, removed. */
#ifndef PX_ERROR_H
#define PX_ERROR_H

enum {
	PX_OK = 0,
	PX_ENOMEM = -1,     /* allocation failed */
	PX_EINVAL = -2,     /* bad argument or malformed input */
	PX_ECONFIG = -3,    /* configuration file error (message carries FILE:LINE) */
	PX_EIO = -4,        /* system call failed (errno-level detail is logged) */
	PX_ESSH = -5,       /* libssh reported an error */
	PX_EPOLICY = -8,    /* the policy refused */
	PX_ERECORDER = -9,  /* recorder unreachable, rejected us, or timed out */
	PX_EFULL = -10,     /* bounded buffer full: retry after it drains */
	PX_ETIMEDOUT = -11, /* another proxy (shared registry) did not answer in time */
};

/* Returns a static string for code (never NULL). */
const char *px__strerror(int code);

#endif
