/* textfield.c: decimal and hex fields of the store's text lines (see
 * textfield.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/textfield.h"

static const char field_digits[] = "0123456789abcdef";

int
rec__field_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
rec__field_unhex(const char *s, uint8_t *out, size_t n)
{
	const char *a, *b;

	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((a = strchr(field_digits, s[2 * i])) == NULL || *a == '\0' ||
		    (b = strchr(field_digits, s[2 * i + 1])) == NULL || *b == '\0')
			return -1;
		out[i] = (uint8_t)((a - field_digits) << 4 | (b - field_digits));
	}
	return 0;
}

void
rec__field_hex(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = field_digits[in[i] >> 4];
		out[2 * i + 1] = field_digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}
