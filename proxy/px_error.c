/* px_error: strings for the PX_E* codes. */
#include "proxy/px_error.h"

const char *
px__strerror(int code)
{
	switch (code) {
	case PX_OK: return "success";
	case PX_ENOMEM: return "out of memory";
	case PX_EINVAL: return "invalid argument";
	case PX_ECONFIG: return "configuration error";
	case PX_EIO: return "input/output error";
	case PX_ESSH: return "SSH protocol error";
	case PX_EPOLICY: return "refused by policy";
	case PX_ERECORDER: return "recorder unavailable";
	case PX_EFULL: return "buffer full";
	case PX_ETIMEDOUT: return "no answer in time";
	}
	return "unknown error";
}
