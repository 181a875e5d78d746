/* rec_error.c: messages for the REC_E* error codes (see rec_error.h). */
#include <errno.h>
#include <stddef.h>

#include "recorder/rec_error.h"

static const char *const rec_messages[] = {
	"success",
	"out of memory",
	"invalid argument",
	"truncated input",
	"malformed input",
	"item too large",
	"buffer full",
	"input/output error",
	"CRC32C mismatch",
	"hash chain mismatch",
	"signature does not verify",
	"unsupported version",
	"bad or missing key",
	"zstd error",
	"cryptographic library error",
	"already exists",
	"not found",
	"invalid state for this call",
	"incomplete data, try again",
	"sequence number out of order",
	"already closed",
	"protocol violation",
	"rejected by peer",
	NULL,			/* -23: not a code */
	"TLS error",
	NULL,			/* -25: ESC_ECONFIG */
	"no space left on device",
	"permission denied",
	"stored data contradicts its signed record",
	"is a directory",
};

const char *
rec_strerror(int code)
{
	if (code > 0 || code < REC_ELAST || rec_messages[-code] == NULL)
		return esc_strerror(code);
	return rec_messages[-code];
}

int
rec_from_errno(int err)
{
	switch (err) {
	case ENOMEM:
		return REC_ENOMEM;
	case ENOENT:
		return REC_ENOENT;
	case EEXIST:
		return REC_EEXIST;
	case ENOSPC:
	case EDQUOT:
		return REC_ENOSPC;
	case EACCES:
	case EPERM:
	case EROFS:
		return REC_EPERM;
	case EINVAL:
		return REC_EINVAL;
	case EISDIR:
		return REC_EISDIR;
	default:
		return REC_EIO;
	}
}
