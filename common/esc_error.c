/* esc_error.c: messages for the libescort-common error codes. */
#include <stddef.h>

#include "common/esc_error.h"

static const char *const esc_messages[-ESC_ELAST + 1] = {
	[-ESC_OK] = "success",
	[-ESC_ENOMEM] = "out of memory",
	[-ESC_EINVAL] = "invalid argument",
	[-ESC_ETRUNC] = "truncated input",
	[-ESC_ETOOBIG] = "item too large",
	[-ESC_EIO] = "input/output error",
	[-ESC_ESTATE] = "invalid state for this call",
	[-ESC_ECLOSED] = "already closed",
	[-ESC_ETLS] = "TLS error",
	[-ESC_ECONFIG] = "configuration error",
};

const char *
esc_strerror(int code)
{
	if (code > 0 || code < ESC_ELAST || esc_messages[-code] == NULL)
		return "unknown error";
	return esc_messages[-code];
}
