/* escort_cmd: the escorts' commands, answered by the proxy to a user who
 * connects without a target (`ssh -p 2222 bob@proxy sessions`); rows of the
 * dispatch table of commands without a target in conn.c.
 *
 * Each takes the escort's connection c, the channel ch to answer on (always
 * answered with px__chan_local: text, exit status, close) and argv: argv[0]
 * the command, then its arguments, NULL-terminated; the last argument of
 * kill and deny is the rest of the line (a reason of several words).
 *
 * Who may act: a user that some rule names as an escort
 * (policy_names_escort), on sessions of another user that the policy in
 * force lets them supervise now (policy_may_escort for the session's user
 * and target).  Anyone else is refused with exit status 1 and why; an
 * unknown session is exit 1 "no such session".  Actions go through the
 * registry (registry.h) to the session's own worker, which records them
 * before they take effect (conn_escort.c); exit 0 says the action was
 * accepted and handed to the session. */
#ifndef PX_ESCORT_CMD_H
#define PX_ESCORT_CMD_H

#include <stddef.h>

#include "proxy/registry.h"

struct px_conn;
struct px_chan;

/* `sessions [--json]`: the live sessions the escort may supervise. */
void px__escort_sessions(struct px_conn *c, struct px_chan *ch, char **argv);
/* `pause ID`, `resume ID`, `kill ID [REASON]`. */
void px__escort_pause(struct px_conn *c, struct px_chan *ch, char **argv);
void px__escort_resume(struct px_conn *c, struct px_chan *ch, char **argv);
void px__escort_kill(struct px_conn *c, struct px_chan *ch, char **argv);
/* `approve ID`, `deny ID [REASON]`: decide the command session ID holds
 * for approval (a strict shell's line, strict_approve.c, or an exec
 * request, exec_approve.h).  The first decision wins: when nothing
 * is pending (none asked, or another escort decided first) exit 1
 * "nothing pending". */
void px__escort_approve(struct px_conn *c, struct px_chan *ch, char **argv);
void px__escort_deny(struct px_conn *c, struct px_chan *ch, char **argv);
/* `join ID` (needs a pty; without one exit 2 and why): the join view of
 * join.h, until the escort leaves (q, exit 0) or the session ends. */
void px__escort_join(struct px_conn *c, struct px_chan *ch, char **argv);

/* Posts verb on session id for the escort of c after the checks above
 * (reason: kill, deny; may be NULL): 0 with what was done in msg (one line
 * ending in a newline), or 1 with why not.  The join view's keys use it.
 * px__escort_act_watcher: a join or leave of a session on another proxy,
 * naming the escort's remote watcher (registry.h's px__reg_follow). */
int px__escort_act(struct px_conn *c, const char *id, enum px_reg_verb verb, const char *reason,
    char *msg, size_t msglen);
int px__escort_act_watcher(struct px_conn *c, const char *id, enum px_reg_verb verb, const char *watcher,
    char *msg, size_t msglen);

#endif
