/* px_error: the one error space of libescort-proxy.
 * Every fallible px_* function returns PX_OK (0) or one of the negative codes
 * below; px_strerror() maps a code to a short static English string. */
#ifndef PX_ERROR_H
#define PX_ERROR_H

enum {
	PX_OK = 0,
	PX_ENOMEM = -1,     /* allocation failed */
	PX_EINVAL = -2,     /* bad argument or malformed input */
	PX_ECONFIG = -3,    /* configuration file error (message carries FILE:LINE) */
	PX_EIO = -4,        /* system call failed (errno-level detail is logged) */
	PX_ESSH = -5,       /* libssh reported an error */
	PX_EHOSTKEY = -6,   /* target host key differs from the pinned key */
	PX_EAUTH = -7,      /* authentication failed */
	PX_EPOLICY = -8,    /* the policy refused */
	PX_ERECORDER = -9,  /* recorder unreachable, rejected us, or timed out */
	PX_EFULL = -10,     /* bounded buffer full: retry after it drains */
	PX_EAGAIN = -11,    /* operation in progress: call again on readiness */
	PX_ECLOSED = -12,   /* peer or object already closed */
	PX_ETIMEOUT = -13,  /* a timer expired */
};

/* Returns a static string for code (never NULL). */
const char *px_strerror(int code);

#endif
