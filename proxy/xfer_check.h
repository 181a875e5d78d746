/*
 * xfer_check: the policy question the SFTP filter and the scp watcher ask
 * before a path operation reaches the target.  The filters stay free of the
 * policy engine and of sessions: the relay (xfer_chan.c) answers through
 * policy_decide_transfer, tests may answer from a policy of their own.
 *
 * fn returns 1 to let the operation through, or 0 to refuse it, with a
 * message for the technician (NUL-terminated, at most cap bytes, naming
 * the rule) in msg.  path2 is NULL unless the op takes two paths.  Paths
 * are NUL-free C strings (the filters refuse a path with a NUL byte
 * themselves).  A filter with fn NULL decides by its direction mode only.
 */
#ifndef XFER_CHECK_H
#define XFER_CHECK_H

#include <stddef.h>

#include "policy/policy.h"

struct xfer_check {
	int (*fn)(void *ctx, enum pol_xfer_op op, const char *path, const char *path2,
	    char *msg, size_t cap);
	void *ctx;
};

#define XFER_CHECK_MSG_MAX 320	/* room for a refusal message */

#endif
