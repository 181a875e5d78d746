/* utf8_width: UTF-8 decoding and terminal display width, independent of the
 * process locale (the proxy never calls setlocale).
 *
 * Widths follow wcwidth's rules from tables generated out of the Unicode
 * database by scripts/gen_utf8_width.py (proxy/utf8_width_tab.h): East Asian
 * Wide and Fullwidth characters take 2 columns, combining marks 0, other
 * printable characters 1.  Characters that must not reach a terminal raw
 * (C0 and C1 controls, DEL, line and paragraph separators, invisible format
 * characters such as bidi overrides and the zero-width space) get -1: a
 * caller shows them escaped.  Internal to libescort-proxy (px__ names). */
#ifndef PX_UTF8_WIDTH_H
#define PX_UTF8_WIDTH_H

#include <stddef.h>
#include <stdint.h>

/* An inclusive range of code points (the tables' row type). */
struct px__urange {
	uint32_t lo, hi;
};

/* Columns code point cp takes: 0, 1 or 2, or -1 for a character to show
 * escaped (see above) and for values that are not characters (surrogates,
 * above U+10FFFF). */
int px__utf8_width(uint32_t cp);

/* Length of the UTF-8 sequence whose first byte is b (1 to 4), or 0 when b
 * cannot start one (a continuation byte, C0, C1, F5-FF). */
size_t px__utf8_seqlen(uint8_t b);

/* Decodes the well-formed UTF-8 character at p[0..n): returns its length
 * (1 to 4) and the code point in *cp, or 0 when p does not start a complete
 * well-formed character (overlong forms, surrogates and values above
 * U+10FFFF are not well formed), or -1 when p[0..n) is a valid but
 * incomplete prefix of one. */
int px__utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);

#endif
