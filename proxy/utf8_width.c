/* utf8_width: see utf8_width.h. */
#include "proxy/utf8_width.h"

#include "proxy/utf8_width_tab.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Whether cp lies in one of the n sorted, disjoint ranges of t. */
static int
urange_has(const struct px__urange *t, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	if (n == 0 || cp < t[0].lo || cp > t[n - 1].hi)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < t[mid].lo)
			hi = mid;
		else if (cp > t[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int
px__utf8_width(uint32_t cp)
{
	if (cp >= 0x20 && cp < 0x7f)
		return 1;
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	if (urange_has(utf8_esc, NELEM(utf8_esc), cp))
		return -1;
	if (urange_has(utf8_zero, NELEM(utf8_zero), cp))
		return 0;
	if (urange_has(utf8_wide, NELEM(utf8_wide), cp))
		return 2;
	return 1;
}

size_t
px__utf8_seqlen(uint8_t b)
{
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

int
px__utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v;
	uint8_t lo = 0x80, hi = 0xbf;

	if (n == 0)
		return -1;
	len = px__utf8_seqlen(p[0]);
	if (len == 0)
		return 0;
	if (len == 1) {
		*cp = p[0];
		return 1;
	}
	/* the second byte's range excludes overlong forms, surrogates and
	 * values above U+10FFFF (RFC 3629's table) */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	v = p[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if (i >= n)
			return -1;
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	*cp = v;
	return (int)len;
}
