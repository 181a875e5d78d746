/* strict_marker: finds the strict-mode shell's markers (strict_boot.h) in
 * the target's output and takes them out of it.
 *
 * Every byte of the output goes through px__sm_feed.  Bytes that are not part of
 * a marker are appended to the pass-through buffer unchanged and in order;
 * a marker is removed and reported.  A sequence that starts with
 * SB_MARK_PREFIX but is not a well-formed marker (unknown kind, bad field,
 * longer than SM_MARK_MAX, a byte other than BEL ending it) is reported as
 * SM_BAD and also removed (it is never shown).  Once the nonce is set, the
 * nonce appearing anywhere in the pass-through output (in either case,
 * also split across chunks or around a removed marker) is reported as
 * SM_LEAK (the bytes are still passed; the caller ends the session).
 * A malformed marker ends at the byte that could not be part of it; that
 * byte is removed too, but for an ESC, which starts the next sequence.
 * A prefix cut at the end of a chunk is held until the next chunk decides
 * it (at most SM_MARK_MAX bytes held).
 *
 * The scanner only parses; whether a marker's nonce and number are the
 * ones expected is the caller's decision.
 *
 * Ownership: px__sm_new's result belongs to the caller (px__sm_free).  No I/O. */
#ifndef PX_STRICT_MARKER_H
#define PX_STRICT_MARKER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proxy/strict_boot.h"

#define SM_MARK_MAX 2400        /* longest marker (the PWDHEX of a 1 KiB path) */

enum sm_kind { SM_NONE, SM_HELLO, SM_PROMPT, SM_DISCARD, SM_BAD, SM_LEAK };

struct sm_marker {
	enum sm_kind kind;
	char nonce[SB_NONCE_HEX + 1];   /* PROMPT, DISCARD: as received */
	uint64_t seq;                   /* PROMPT, DISCARD */
	int status;                     /* PROMPT: last exit status */
	char pwd[1025];                 /* PROMPT: decoded, NUL-terminated */
	uint64_t nbytes;                /* DISCARD */
	int version;                    /* HELLO */
};

struct sm;

struct sm *px__sm_new(void);
void px__sm_free(struct sm *s);

/* From now on, report the nonce seen in pass-through output (SM_LEAK). */
void px__sm_set_nonce(struct sm *s, const char *nonce);

/* Scans n bytes of target output.  Consumes bytes until one marker was
 * found (filled into *m; m->kind SM_NONE when none) or the end; returns the
 * number consumed (at least 1 when n > 0), or -1 when out could take none
 * of the bytes (nothing lost: the same call may be repeated once out has
 * room; when out fills part way the count consumed so far is returned;
 * out must be able to take SB_MARK_PREFIX's length at once, or the scanner
 * stalls on a cut prefix).  Pass-through bytes go to out. */
long px__sm_feed(struct sm *s, const uint8_t *d, size_t n, struct buf *out, struct sm_marker *m);

/* Bytes held as a possible marker prefix. */
size_t px__sm_held(const struct sm *s);

#endif
