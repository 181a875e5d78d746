/* fuzz_pol_tzif: TZif files of any bytes (time zones of `when` windows)
 * must parse or fail cleanly; a zone that parses must answer offsets for
 * any time, past its last transition (the footer rule) included. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = { 0 };
	const char *why = NULL;
	const struct pol_tz *z = pol__tz_parse(&a, "Fuzz/Zone", data, size, &why);
	if (z != NULL) {
		static const int64_t at[] = { INT32_MIN, -1, 0, 1795773600, 2268727200,
			(int64_t)1 << 40, -((int64_t)1 << 40) };
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			long off = pol__tz_offset(z, (time_t)at[i]);
			if (off < -89999 - 3600 || off > 93599 + 3600)
				abort();	/* RFC 8536 offsets (a default DST adds an hour) */
		}
	} else if (why == NULL) {
		abort();
	}
	pol__arena_free(&a);
	return 0;
}
