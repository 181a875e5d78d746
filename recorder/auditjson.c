/* auditjson: one-line JSON objects for the audit-event stream. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "recorder/auditjson.h"
#include "recorder/rec_error.h"

static int
put(struct buf *b, const void *p, size_t n)
{
	return buf_put(b, p, n) == 0 ? REC_OK : REC_ETOOBIG;
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 (RFC 3629). */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t len, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
rec__aj_escape(struct buf *b, const void *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = s;
	size_t i = 0, run = 0, k;
	int r = REC_OK;

	while (i < n && r == REC_OK) {
		uint8_t c = p[i];
		char esc[8];
		size_t elen = 0;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++, run++;
			continue;
		}
		if (c >= 0x80 && (k = utf8_len(p + i, n - i)) > 0) {
			i += k, run += k;
			continue;
		}
		if ((r = put(b, p + i - run, run)) != REC_OK)
			break;
		run = 0;
		switch (c) {
		case '"': memcpy(esc, "\\\"", elen = 2); break;
		case '\\': memcpy(esc, "\\\\", elen = 2); break;
		case '\b': memcpy(esc, "\\b", elen = 2); break;
		case '\f': memcpy(esc, "\\f", elen = 2); break;
		case '\n': memcpy(esc, "\\n", elen = 2); break;
		case '\r': memcpy(esc, "\\r", elen = 2); break;
		case '\t': memcpy(esc, "\\t", elen = 2); break;
		default:
			if (c >= 0x80)
				memcpy(esc, "\\ufffd", elen = 6);
			else {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				elen = 6;
			}
		}
		r = put(b, esc, elen);
		i++;
	}
	if (r == REC_OK && run > 0)
		r = put(b, p + n - run, run);
	return r;
}

/* ,"key": (no comma right after the opening brace) */
static int
key(struct buf *b, const char *k)
{
	int r = REC_OK;

	if (buf_len(b) > 0 && buf_ptr(b)[buf_len(b) - 1] != '{')
		r = put(b, ",", 1);
	if (r == REC_OK)
		r = put(b, "\"", 1);
	if (r == REC_OK)
		r = rec__aj_escape(b, k, strlen(k));
	if (r == REC_OK)
		r = put(b, "\":", 2);
	return r;
}

int
aj_begin(struct buf *b)
{
	return put(b, "{", 1);
}

int
aj_end(struct buf *b)
{
	return put(b, "}\n", 2);
}

int
aj_str(struct buf *b, const char *k, const void *s, size_t n)
{
	int r;

	if ((r = key(b, k)) == REC_OK && (r = put(b, "\"", 1)) == REC_OK &&
	    (r = rec__aj_escape(b, s, n)) == REC_OK)
		r = put(b, "\"", 1);
	return r;
}

int
aj_cstr(struct buf *b, const char *k, const char *s)
{
	int r;

	if (s != NULL)
		return aj_str(b, k, s, strlen(s));
	if ((r = key(b, k)) == REC_OK)
		r = put(b, "null", 4);
	return r;
}

int
aj_u64(struct buf *b, const char *k, uint64_t v)
{
	char num[24];
	int r, n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);

	if ((r = key(b, k)) == REC_OK)
		r = put(b, num, (size_t)n);
	return r;
}

int
aj_hex(struct buf *b, const char *k, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r;

	if ((r = key(b, k)) != REC_OK || (r = put(b, "\"", 1)) != REC_OK)
		return r;
	for (size_t i = 0; i < n && r == REC_OK; i++) {
		char two[2] = { hex[p[i] >> 4], hex[p[i] & 15] };

		r = put(b, two, 2);
	}
	return r == REC_OK ? put(b, "\"", 1) : r;
}

int
aj_time(struct buf *b, const char *k, uint64_t wall_ns)
{
	time_t sec = (time_t)(wall_ns / 1000000000u);
	unsigned ms = (unsigned)(wall_ns % 1000000000u / 1000000u);
	struct tm tm;
	char ts[48];
	int n;

	gmtime_r(&sec, &tm);
	n = snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	return aj_str(b, k, ts, (size_t)n);
}
