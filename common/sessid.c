/* sessid: the session-id rule (see sessid.h). */
#include <string.h>

#include "common/sessid.h"

int
sessid_valid(const char *id, size_t len)
{
	if (len == 0 || len > SESSID_MAX || id[0] == '.' ||
	    (len == 7 && memcmp(id, "journal", 7) == 0))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}
