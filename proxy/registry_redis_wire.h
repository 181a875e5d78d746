/* registry_redis_wire: the text that proxies sharing a registry
 * (registry_redis.h) store and send through Redis: a session
 * (struct px_reg_session), an escort's action on another proxy's session
 * (struct px_reg_action and where to answer), and that proxy's answer.  No
 * I/O: encoders write into the caller's buffer, decoders read a buffer that
 * came from the network and trust nothing in it.
 *
 * Format (version 1): a first line naming the kind and version
 * ("escort-session 1", "escort-action 1", "escort-answer 1"), then one
 * field a line, "NAME VALUE", the value with backslash, newline and
 * carriage return written as \\, \n and \r.  Unknown names are skipped (a
 * newer proxy may add fields); a value longer than its field is cut; a
 * bad first line, an unknown version, a line without a space or an
 * unknown escape is an error.  The session's fields: id user target start
 * state paused_by escort (once per escort, in order) pending decided
 * joined moderated proxy ended.  An action's: verb id escort reason
 * watcher reply.
 * An answer's: rc (a PX_* code), then the session's fields. */
#ifndef PX_REGISTRY_REDIS_WIRE_H
#define PX_REGISTRY_REDIS_WIRE_H

#include <stddef.h>

#include "proxy/registry.h"

/* Longest text any encoder writes (every field full, every byte escaped). */
#define PX_RRW_MAX 16384
#define PX_RRW_REPLY_MAX 96     /* the Redis key an answer goes to */

/* Encoders: write the text into buf (len bytes, PX_RRW_MAX is always
 * enough) with a terminating NUL.  Return its length (without the NUL),
 * or PX_EINVAL when buf is too small. */
long px__rrw_session_encode(const struct px_reg_session *s, char *buf, size_t len);
long px__rrw_action_encode(const struct px_reg_action *a, const char *reply, char *buf, size_t len);
long px__rrw_answer_encode(int rc, const struct px_reg_session *s, char *buf, size_t len);

/* Decoders: read len bytes of text (no NUL needed) into the zeroed *out
 * (and reply, PX_RRW_REPLY_MAX bytes; *rc).  Return PX_OK or PX_EINVAL. */
int px__rrw_session_decode(const char *text, size_t len, struct px_reg_session *out);
int px__rrw_action_decode(const char *text, size_t len, struct px_reg_action *out, char *reply);
int px__rrw_answer_decode(const char *text, size_t len, int *rc, struct px_reg_session *out);

/* A remote watcher's stream (registry_redis_watch.c writes it,
 * registry_redis_follow.c reads it): each Redis stream entry is one of
 *   screen: the session's screen rendered (vt_render.h) for a rows x cols
 *           terminal: what the watcher shows before anything after it;
 *   out:    output as the technician's terminal got it (rows, cols: the
 *           screen's size then);
 *   end:    the session ended, why.
 * Fields (name, value): "v" the version ("1", required), "k" the kind
 * ("screen", "out", "end", required), "seq" the entry's number for this
 * watcher from 1 (required: a gap says entries were lost), "rows" and
 * "cols" (2..500, 2..1000; required for screen), "data" (bytes; screen,
 * out) and "why" (end; cut to PX_REG_REASON_MAX).  Unknown names are
 * skipped; a name given twice, a bad number or kind is an error. */
#define PX_RRWE_VERSION "1"
#define PX_RRWE_FIELDS 7        /* field/value pairs an entry has at most */

enum px_rrwe_kind {
	PX_RRWE_SCREEN,
	PX_RRWE_OUT,
	PX_RRWE_END,
};

struct px_rrwe {
	enum px_rrwe_kind kind;
	unsigned long long seq;
	int rows, cols;                 /* 0 when not given */
	const char *data;               /* into the decoded input; NULL: none */
	size_t len;
	char why[PX_REG_REASON_MAX];
};

/* The field/value pairs of e as strings for XADD: names[i], vals[i] with
 * vlens[i] bytes (data is not copied; numbers go to nums).  Returns the
 * count of pairs (at most PX_RRWE_FIELDS). */
size_t px__rrwe_encode(const struct px_rrwe *e, const char **names, const char **vals, size_t *vlens,
    char nums[3][24]);

/* Decodes one entry of n pairs (names[i] of nlens[i] bytes, vals[i] of
 * vlens[i] bytes) into *out (data points into vals).  PX_OK or PX_EINVAL. */
int px__rrwe_decode(size_t n, const char *const *names, const size_t *nlens, const char *const *vals,
    const size_t *vlens, struct px_rrwe *out);

#endif
