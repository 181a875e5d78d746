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
 * joined moderated proxy ended.  An action's: verb id escort reason reply.
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

#endif
