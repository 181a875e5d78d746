/* registry: the live technician sessions of one escort-proxy, across its
 * worker threads, for escorts (escort_cmd.c) to list and act on.
 *
 * The interface is operations on copies: px__reg_add, px__reg_remove,
 * px__reg_list (a snapshot), px__reg_get, px__reg_post (an action for a
 * session's owner) and, for approvals, the owner's px__reg_set_pending and
 * px__reg_take_pending.  Nothing in the registry points into a connection,
 * and nothing a caller gets back points into the registry, so a session
 * that ends while an escort lists it or acts on it leaves nothing
 * dangling; a later store shared by several proxies can offer the same
 * operations.
 *
 * Threads: every function may be called from any thread; one mutex guards
 * the table.  An action is never applied by the thread that posts it: the
 * registry hands a copy to the owner's post function (for a worker, a queue
 * drained on its own loop after a uv_async_send, worker.c), and the owner
 * records it in the session's transcript before it takes effect
 * (conn_escort.c).  The owner's post function runs with the registry's
 * mutex held: it must only queue, never call back into the registry.
 *
 * An owner removes its entry before it can no longer take actions (the
 * connection does so when it starts closing), so a post never reaches an
 * owner that is gone. */
#ifndef PX_REGISTRY_H
#define PX_REGISTRY_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#define PX_REG_ID_MAX 64
#define PX_REG_NAME_MAX 128
#define PX_REG_REASON_MAX 200
#define PX_REG_ESCORTS_MAX 8    /* escorts remembered per session */
#define PX_REG_PENDING_MAX 512  /* a command waiting for approval, as shown */
#define PX_REG_WATCHER_MAX 33   /* a remote watcher's id: 32 hex digits */

/* A session's state as escorts see it. */
enum px_reg_state {
	PX_REG_RUNNING,
	PX_REG_PAUSED,          /* the technician's input is dropped */
	PX_REG_ENDING,          /* an escort ended it; it is closing */
	PX_REG_WAITING,         /* moderated, and no escort joined: before
	                         * the first join (not connected to the
	                         * target yet) or after the last leave (the
	                         * technician's input paused) */
	PX_REG_ENDED,           /* only from a shared registry: its proxy
	                         * stopped answering (registry_redis.h); why
	                         * in px_reg_session.ended */
};

/* "running", "paused", "ending", "waiting", "ended". */
const char *px__reg_state_name(enum px_reg_state s);

/* One session, as copied in and out. */
struct px_reg_session {
	char id[PX_REG_ID_MAX];         /* the recording's id */
	char user[PX_REG_NAME_MAX];
	char target[PX_REG_NAME_MAX];
	time_t start;                   /* wall clock, seconds */
	enum px_reg_state state;
	char paused_by[PX_REG_NAME_MAX]; /* while PAUSED */
	int nescorts;                   /* escorts that acted on it, in order */
	char escorts[PX_REG_ESCORTS_MAX][PX_REG_NAME_MAX];
	char pending[PX_REG_PENDING_MAX]; /* waiting for approval; "" when none */
	char decided[PX_REG_NAME_MAX + 16]; /* who decided the last pending command
	                                 * ("approved by bob", "denied by bob");
	                                 * "" when none, or it was withdrawn */
	int joined;                     /* escorts joined (watching) now */
	int moderated;                  /* a rule's `escort`: WAITING while no
	                                 * escort is joined and not PAUSED */
	char proxy[PX_REG_NAME_MAX];    /* the proxy it runs on (ProxyName) with
	                                 * a shared registry; "" without one */
	char ended[PX_REG_REASON_MAX];  /* ENDED: why */
};

/* What an escort can do to a session.  Approve and deny decide the
 * session's pending command (px__reg_set_pending) and leave its state.
 * Join and leave count the escorts watching (px_reg_session.joined) and
 * leave the state: join is allowed unless the session is ending, leave
 * always (the count never goes below 0). */
enum px_reg_verb {
	PX_REG_PAUSE,
	PX_REG_RESUME,
	PX_REG_KILL,
	PX_REG_APPROVE,
	PX_REG_DENY,
	PX_REG_JOIN,
	PX_REG_LEAVE,
};

/* "pause", "resume", "kill", "approve", "deny", "join", "leave" (the
 * transcript's ESC_ACTION values). */
const char *px__reg_verb_name(enum px_reg_verb v);

/* An escort's action on a session. */
struct px_reg_action {
	enum px_reg_verb verb;
	char id[PX_REG_ID_MAX];
	char escort[PX_REG_NAME_MAX];
	char reason[PX_REG_REASON_MAX]; /* kill, deny: may be empty */
	char watcher[PX_REG_WATCHER_MAX]; /* join, leave of a session on
	                                 * another proxy: the id of the
	                                 * escort's remote watcher
	                                 * (px__reg_follow), which that proxy
	                                 * streams the session to only after
	                                 * it accepted this join, until this
	                                 * leave; "" otherwise */
};

/* Where a session's actions go.  post gets a copy valid only during the
 * call; it runs under the registry's mutex (queue, do not call back). */
struct px_reg_owner {
	void (*post)(void *ud, const struct px_reg_action *a);
	void *ud;
};

struct px_reg_entry;
struct px_watch;

/* Other proxies' sessions, from a registry shared by several proxies
 * (registry_redis.h).  The public operations below fall back to these for
 * a session that is not local; they run on the caller's thread without
 * the registry's mutex and may block on the network for a bounded time.
 *   changed: a local session was added, removed or changed (called after
 *     the mutex is released; must only signal).
 *   list: appends other proxies' sessions to *v (count *n, realloc'd);
 *     PX_OK or PX_ENOMEM (an unreachable store adds nothing).
 *   get: PX_OK with the copy, PX_EPOLICY when no proxy has it.
 *   post: as px__reg_post for a session on another proxy, answered by
 *     that proxy; PX_ETIMEDOUT when it did not answer in time.
 *   follow, follow_get, follow_close: px__reg_follow* below. */
struct px_reg_remote {
	void (*changed)(void *ud);
	int (*list)(void *ud, struct px_reg_session **v, long *n);
	int (*get)(void *ud, const char *id, struct px_reg_session *out);
	int (*post)(void *ud, const struct px_reg_action *a, struct px_reg_session *now);
	int (*follow)(void *ud, const struct px_reg_session *s, const char *watcher, struct px_watch **w,
	    void **h);
	int (*follow_get)(void *h, struct px_reg_session *out);
	void (*follow_close)(void *h);
};

struct px_registry {
	pthread_mutex_t mu;
	struct px_reg_entry *head;
	size_t n;
	const struct px_reg_remote *remote;     /* NULL: this proxy only */
	void *remote_ud;
	char self[PX_REG_NAME_MAX];             /* ProxyName, copied into the
	                                         * proxy of local sessions */
};

/* Initialises an empty registry. */
void px_reg_init(struct px_registry *r);

/* Frees what the registry holds (call after every worker stopped). */
void px_reg_free(struct px_registry *r);

/* Shares the registry through ops (before any worker starts; ops and ud
 * outlive the workers): this proxy is named self. */
void px__reg_attach(struct px_registry *r, const char *self, const struct px_reg_remote *ops, void *ud);

/* px__reg_list and px__reg_post of this proxy's own sessions only: the
 * owner's side of a shared registry (registry_redis.c). */
long px__reg_list_local(struct px_registry *r, struct px_reg_session **out);
int px__reg_post_local(struct px_registry *r, const struct px_reg_action *a, struct px_reg_session *now);

/* Adds session s (copied) owned by o (copied).  Returns PX_OK, PX_EINVAL
 * when a session with that id is registered already, or PX_ENOMEM. */
int px__reg_add(struct px_registry *r, const struct px_reg_session *s, const struct px_reg_owner *o);

/* Removes the session with this id; nothing when there is none. */
void px__reg_remove(struct px_registry *r, const char *id);

/* A snapshot of every session, oldest first: *out is a new array (free it)
 * of the returned count, NULL when 0.  Returns the count or PX_ENOMEM. */
long px__reg_list(struct px_registry *r, struct px_reg_session **out);

/* One session's current copy into *out.  Returns PX_OK or PX_EPOLICY when
 * there is no such session (the caller says "no such session"). */
int px__reg_get(struct px_registry *r, const char *id, struct px_reg_session *out);

/* Checks action a against the session's state, updates the state (pause:
 * PAUSED, resume: RUNNING, kill: ENDING; approve and deny clear the
 * pending command), notes the escort, and hands a copy to the owner, all
 * under the mutex (join: joined + 1; leave: joined - 1, never below 0).
 * Returns PX_OK; PX_EPOLICY when there is no such
 * session; PX_EINVAL when the state does not allow it (pausing a paused
 * session, resuming a running one, approving or denying when no command
 * is pending, anything on one that is ending), with the session's copy in
 * *now when now is not NULL.  So the first approve or deny of a pending
 * command wins (noted in decided); a second one finds nothing pending
 * and, in *now, who decided. */
int px__reg_post(struct px_registry *r, const struct px_reg_action *a, struct px_reg_session *now);

/* An escort's join of session s, which runs on another proxy (s->proxy
 * set and not this one), as remote watcher `watcher` (px__reg_watcher_id's,
 * named by the join action the owning proxy accepted first, and by the
 * leave): px__reg_follow starts following it without
 * blocking (registry_redis_follow.c) and gives a copy of its watch (*w, a
 * reference for the caller, watch.h: the screen first, then the output,
 * as a local watch gives them; ended when the session or its proxy ended)
 * and a handle (*h).  px__reg_follow_get: the session as last read from
 * the shared registry (PX_OK; state PX_REG_ENDED with why in ended once it
 * ended), without blocking.  px__reg_follow_close: stops following and
 * frees h (call once, from the thread that started it or any other).
 * PX_OK, PX_EINVAL (no shared registry, s names no proxy, or watcher is
 * not an id px__reg_watcher_id makes), PX_ENOMEM or PX_EIO (no thread
 * could be started). */
int px__reg_follow(struct px_registry *r, const struct px_reg_session *s, const char *watcher,
    struct px_watch **w, void **h);
int px__reg_follow_get(struct px_registry *r, void *h, struct px_reg_session *out);
void px__reg_follow_close(struct px_registry *r, void *h);

/* A new remote watcher's id, unguessable (16 random bytes in lowercase
 * hex) into out (PX_REG_WATCHER_MAX bytes).  PX_OK, or PX_EIO when the
 * kernel gives no random bytes. */
int px__reg_watcher_id(char out[PX_REG_WATCHER_MAX]);

/* Whether s (len bytes) is an id as px__reg_watcher_id makes them: 1 to
 * PX_REG_WATCHER_MAX - 1 lowercase hex digits. */
int px__reg_watcher_ok(const char *s, size_t len);

/* The owner's side of a policy reload: whether the session is moderated
 * now.  Not moderated, a WAITING session shows RUNNING; moderated, one
 * with no escort joined shows WAITING (unless PAUSED).  PX_OK, or
 * PX_EPOLICY when there is no such session. */
int px__reg_set_moderated(struct px_registry *r, const char *id, int moderated);

/* The owner's side of approvals.  px__reg_set_pending shows cmd (copied,
 * cut to fit) as the session's pending command: PX_OK, PX_EINVAL when one
 * is pending already, PX_EPOLICY when there is no such session; it clears
 * the last decision (decided).  px__reg_take_pending
 * withdraws it (a timeout, the technician's Ctrl-C; decided cleared) and returns 1 when it
 * was still pending, 0 when an escort's approve or deny took it first (that
 * action is then on its way to the owner) or there is no such session. */
int px__reg_set_pending(struct px_registry *r, const char *id, const char *cmd);
int px__reg_take_pending(struct px_registry *r, const char *id);

#endif
