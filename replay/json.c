/* json.c: JSON output helpers of escort-replay: strings from arbitrary
 * bytes, base64. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "replay/replay.h"

size_t
replay_utf8_len(const uint8_t *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* script: also < > & as \u escapes, so that the string is inert inside
 * an HTML <script> element (no "</script", no "<!--"). */
static void
json_bytes(FILE *f, const uint8_t *p, size_t n, int script)
{
	size_t i = 0, l;

	fputc('"', f);
	while (i < n) {
		if (script && (p[i] == '<' || p[i] == '>' || p[i] == '&')) {
			fprintf(f, "\\u%04x", p[i]);
			i++;
		} else if (p[i] == '"' || p[i] == '\\') {
			fprintf(f, "\\%c", p[i]);
			i++;
		} else if (p[i] == '\n') {
			fputs("\\n", f);
			i++;
		} else if (p[i] == '\r') {
			fputs("\\r", f);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(f, "\\u%04x", p[i]);
			i++;
		} else if ((l = replay_utf8_len(p + i, n - i)) == 0) {
			fputs("\\ufffd", f);	/* not UTF-8: replacement */
			i++;
		} else {
			fwrite(p + i, 1, l, f);
			i += l;
		}
	}
	fputc('"', f);
}

void
replay_json_bytes(FILE *f, const uint8_t *p, size_t n)
{
	json_bytes(f, p, n, 0);
}

void
replay_json_bytes_script(FILE *f, const uint8_t *p, size_t n)
{
	json_bytes(f, p, n, 1);
}

void
replay_json_base64(FILE *f, const uint8_t *p, size_t n)
{
	unsigned char out[4 * 768 / 3 + 4];
	size_t i, k;

	fputc('"', f);
	for (i = 0; i < n; i += k) {
		k = n - i > 768 ? 768 : n - i;
		EVP_EncodeBlock(out, p + i, (int)k);
		fputs((const char *)out, f);
	}
	fputc('"', f);
}
