/*
 * auditjson: builds the one-line JSON objects of the audit-event stream
 * (escort-audit(5)) in a buf: {"key":value,...}.
 *
 * Strings are escaped so that any byte sequence becomes valid JSON on one
 * line: '"' and '\' get a backslash, \b \f \n \r \t their short forms, the
 * other bytes below 0x20 and 0x7f are written \u00XX, a byte that does not
 * start a valid UTF-8 sequence (overlong, surrogate, above U+10FFFF,
 * truncated) becomes \ufffd, one per byte.  Valid UTF-8 passes unchanged.
 *
 * Every call returns REC_OK or REC_ETOOBIG / REC_ENOMEM (the buf's max);
 * after an error the object is incomplete and must be dropped.
 */
#ifndef ESCORT_AUDITJSON_H
#define ESCORT_AUDITJSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Starts an object: "{". */
int	aj_begin(struct buf *b);

/* Appends "key":"escaped s[0..n)". */
int	aj_str(struct buf *b, const char *key, const void *s, size_t n);

/* Same, NUL-terminated; NULL writes "key":null. */
int	aj_cstr(struct buf *b, const char *key, const char *s);

/* Appends "key":v. */
int	aj_u64(struct buf *b, const char *key, uint64_t v);

/* Appends "key":"hex of p[0..n)" (lower case). */
int	aj_hex(struct buf *b, const char *key, const uint8_t *p, size_t n);

/* Appends "key":"YYYY-MM-DDTHH:MM:SS.mmmZ" for ns since the epoch (UTC). */
int	aj_time(struct buf *b, const char *key, uint64_t wall_ns);

/* Ends the object: "}\n". */
int	aj_end(struct buf *b);

/* Appends the escaped form of s[0..n) without quotes. */
int	rec__aj_escape(struct buf *b, const void *s, size_t n);

#endif
