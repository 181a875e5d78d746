/*
 * Fuzzer: pwmask, the password-prompt recogniser.
 *
 * Input: chunks, each a tag byte (bit 0 set: typed by the technician, else
 * output shown to them), a length byte, the bytes.  Checks what the
 * contract promises: the recordable form has the input's length, differs
 * from it only where it holds PWM_MASK_CHAR, the count returned is the
 * number of such bytes; an Enter, Ctrl-C or any byte outside a stretch is
 * never masked where it ends one; the state stays within its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/pwmask.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct pwm m;
	struct pwm_event ev;
	uint8_t rec[256];
	size_t i = 0;

	px__pwm_init(&m);
	while (i + 2 <= n) {
		int typed = d[i] & 1;
		size_t len = d[i + 1];
		const uint8_t *p = d + i + 2;

		if (len > n - i - 2)
			len = n - i - 2;
		i += 2 + len;
		if (!typed) {
			px__pwm_output(&m, p, len, &ev);
			if (ev.started || (ev.ended != PWM_END_NONE && ev.ended != PWM_END_ECHO))
				abort();
		} else {
			int was = m.masking;
			size_t k = px__pwm_input(&m, p, len, rec, &ev), stars = 0;

			for (size_t j = 0; j < len; j++) {
				if (rec[j] != p[j] && rec[j] != PWM_MASK_CHAR)
					abort();
				if (rec[j] == PWM_MASK_CHAR && p[j] != PWM_MASK_CHAR)
					stars++;
			}
			if (stars > k || k > len)
				abort();
			if (ev.started && was)
				abort();
			if (k > 0 && !was && !ev.started)
				abort();
			(void)px__pwm_is_prompt((const char *)p, len);
		}
		if (m.line_len > PWM_LINE_MAX || m.echo_len > PWM_ECHO_MAX)
			abort();
	}
	return 0;
}
