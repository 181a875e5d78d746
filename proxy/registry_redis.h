/* registry_redis: the live-session registry (registry.h) shared by every
 * escort-proxy that names the same Redis server (`Registry redis://HOST:PORT`
 * in escort-proxy.conf(5)), so that an escort on one proxy lists and acts on
 * sessions running on another.
 *
 * Each proxy stays the only owner of its own sessions: it publishes them
 * and is the one that applies every action on them, so the first decision
 * on a pending command wins exactly as on one proxy (px__reg_post_local
 * under the registry's mutex), whichever proxy the escorts use.
 *
 * Keys (all under "escort:"; NAME is the proxy's ProxyName):
 *   proxies            SET of the names of proxies that joined
 *   alive:NAME         this run's id, expiring after PX_RR_TTL_MS unless
 *                      refreshed (every PX_RR_BEAT_MS): membership
 *   sessions:NAME      HASH session id -> session (registry_redis_wire.h)
 *   inbox:NAME         LIST of actions for NAME's sessions, first in first
 *                      applied; each names a reply key
 *   reply:NONCE        LIST holding NAME's answer, expiring after 10 s
 *   ended, ended:why, ended:at
 *                      sessions of proxies that stopped answering, why,
 *                      and when they were found so (kept PX_RR_ENDED_KEEP s)
 *   rwatchers:NAME     SET of the ids (NONCE) of remote watchers of NAME's
 *                      sessions, each named first by the join action NAME
 *                      accepted
 *   rwatch:NONCE       "SESSION-ID GEN" of a remote watcher, expiring after
 *                      PX_RR_TTL_MS unless refreshed; GEN counts the
 *                      redraws its proxy asked for
 *   rwstream:NONCE     STREAM of what the watcher is due (registry_redis_wire.h)
 * A proxy whose alive key expired is shown at once as ended ("proxy NAME
 * stopped answering ..."); the next heartbeat of any proxy moves its
 * sessions to ended (one Lua script, atomic) and drops it from proxies.
 *
 * Remote joins: an escort who joins a session of another proxy gets a
 * copy of its watch (registry.h's px__reg_follow), fed by a thread of the
 * escort's proxy from the watcher's stream (registry_redis_follow.c); the
 * owning proxy's watch thread (registry_redis_watch.c) attaches a watcher
 * of its own (watch.h) per remote watcher and writes the screen, the
 * output and the end to the stream.  Streams exist only while a remote
 * watcher does, and only for a watcher whose NONCE the join action named
 * that the owning proxy accepted (and so recorded under the escort's
 * name) for that session, until the leave naming it or the session's end
 * (registry_redis_int.h, "Grants"): a watcher registered in Redis by
 * anything else is refused, logged, and gets nothing.
 *
 * Threads: px_rr_start starts two, each with its own connection: the
 * heartbeat thread (membership, publishing this proxy's sessions when the
 * registry says they changed, moving dead proxies' sessions) and the inbox
 * thread (applies other proxies' actions on local sessions and answers);
 * and the watch thread (remote joins, above); a remote join starts one
 * more while it lasts.
 * The lookups that escorts' commands make (list, get, post of a session on
 * another proxy) run on the escort's worker thread over a connection of
 * their own, bounded by PX_RR_CALL_MS per call and PX_RR_ANSWER_MS for
 * another proxy's answer.  A Redis that does not answer costs escorts the
 * other proxies' sessions (logged), never a technician's session. */
#ifndef PX_REGISTRY_REDIS_H
#define PX_REGISTRY_REDIS_H

#include <stddef.h>

#include "proxy/registry.h"

struct px_watches;

#define PX_RR_BEAT_MS 1000      /* heartbeat: alive key refreshed */
#define PX_RR_TTL_MS 3000       /* a proxy silent this long is gone */
#define PX_RR_CALL_MS 1000      /* connect and each command, escorts' lookups */
#define PX_RR_ANSWER_MS 3000    /* another proxy's answer to an action */
#define PX_RR_ENDED_KEEP 600    /* seconds a dead proxy's sessions stay listed */
#define PX_RR_NAME_MAX 64       /* ProxyName */

struct px_rr;

/* Parses "redis://HOST:PORT" ("redis://[V6ADDR]:PORT"; HOST a numeric
 * address or a name) into host (hostlen bytes) and *port.  PX_OK or
 * PX_EINVAL. */
int px__rr_parse_url(const char *url, char *host, size_t hostlen, int *port);

/* Whether name may be a ProxyName: 1 to PX_RR_NAME_MAX characters of
 * letters, digits, '.', '-', '_' and ':'. */
int px__rr_name_ok(const char *name);

/* Shares reg (px__reg_attach) through the Redis server at url as proxy
 * name, and starts the threads; watches (watch.h; NULL: none) are this
 * proxy's sessions' screens, which escorts on other proxies join;
 * password_file (NULL: none) holds the password every connection gives
 * Redis (AUTH), on its first line, read here.  Redis need not answer yet: the threads
 * connect, and reconnect, on their own, logging an outage once.  *out is
 * the handle for px_rr_stop.  PX_OK, PX_EINVAL (a bad url, a password
 * file that cannot be read or has no password: why in err),
 * PX_ENOMEM or PX_EIO (a thread could not start). */
int px_rr_start(struct px_rr **out, struct px_registry *reg, struct px_watches *watches, const char *url,
    const char *password_file, const char *name, char *err, size_t errlen);

/* Stops the threads and leaves the registry (this proxy's keys deleted):
 * call after every worker stopped, before px_reg_free.  NULL is a no-op. */
void px_rr_stop(struct px_rr *rr);

#endif
