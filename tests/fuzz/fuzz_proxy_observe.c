/*
 * Fuzzer: observe mode's screen model and command extraction
 * (proxy/observe.h).
 *
 * Input: two bytes for the terminal's rows and columns, a settings byte
 * (bit 0: a pty), then chunks: a tag byte (bit 0 set: technician input,
 * else target output; bit 1 set: a resize to the next two bytes instead), a
 * length byte, the bytes.  Checks that every command returned is a
 * NUL-terminated string of its stated length, at most OBS_CMD_MAX bytes,
 * and that the model's memory stays bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/observe.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct obs *o;
	struct obs_cmd c;
	size_t i = 3;

	if (n < 3)
		return 0;
	if ((o = px__obs_new(1 + d[0] % 60, 1 + d[1] % 200, d[2] & 1)) == NULL)
		return 0;
	while (i + 2 <= n) {
		uint8_t tag = d[i], len = d[i + 1];
		const uint8_t *p = d + i + 2;
		size_t m = n - i - 2 < len ? n - i - 2 : len;

		i += 2 + m;
		if (tag & 2) {
			if (m >= 2)
				(void)px__obs_resize(o, 1 + p[0] % 60, 1 + p[1] % 200);
			continue;
		}
		if (!(tag & 1)) {
			px__obs_output(o, p, m);
			continue;
		}
		for (size_t off = 0, first = 1; off < m; first = 0) {
			size_t k = px__obs_input(o, p + off, m - off, (int)first, &c);
			if (k == 0 || k > m - off)
				abort();
			off += k;
			if (c.found && (c.text == NULL || strlen(c.text) != c.len || c.len > OBS_CMD_MAX ||
			    c.len == 0))
				abort();
		}
		if (px__obs_mem_bytes(o) > 2 * 1024 * 1024)
			abort();
	}
	for (int r = 0; r < 60; r++)
		(void)px__obs_row_text(o, r);
	px__obs_free(o);
	return 0;
}
