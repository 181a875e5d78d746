/* libFuzzer harness for the recorder protocol decoder: any byte string is
 * split into frames; each frame is decoded, and a decoded frame must
 * re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/rec_error.h"
#include "recorder/wire.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t flen;
	struct wire_msg m;

	while (size > 0) {
		if (wire_frame(data, size, &flen, why, sizeof(why)) != REC_OK ||
		    flen == 0)
			break;
		if (wire_decode(data, flen, &m, why, sizeof(why)) == REC_OK) {
			long n = wire_size(&m);
			uint8_t *out;

			if (n < 0 || (size_t)n != flen)
				abort();
			if ((out = malloc((size_t)n)) == NULL)
				abort();
			if (wire_encode(&m, out, (size_t)n) != n ||
			    memcmp(out, data, flen) != 0)
				abort();
			free(out);
		}
		data += flen;
		size -= flen;
	}
	return 0;
}
