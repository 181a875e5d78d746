/* conn: one technician connection and everything it drives: the server-side
 * libssh session, authentication, admission, the recorder link, the upstream
 * session to the target, and the channel pairs (chan.h).
 *
 * State machine (conn->state): KEX, AUTH, PREPARE, LOCAL, RELAY, CLOSING,
 * DEAD; its transitions and their setter px__conn_set_state() are in
 * conn_state.h.
 *
 * Every way into CLOSING names its cause (px__conn_set_end: the first one
 * wins); the END record carries it (recorder/ev_end.h).  The technician's
 * side going counts as a normal end when no channel it opened was left
 * open, else as client-lost.
 *
 * Rules: libssh callbacks only record facts in the conn or its channels; all
 * actions (writes to the other side, transitions, frees) happen in
 * px__conn_step(), which runs after every pump from uv callbacks.  Nothing is
 * freed while a libssh call on it is on the stack. */
#ifndef PX_CONN_H
#define PX_CONN_H

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include "proxy/conn_state.h"
#include "proxy/keepalive.h"
#include "proxy/sshpoll.h"
#include "proxy/upstream.h"

/* Ciphers offered to targets (the listener's lists are in algos.h).
 * AES-GCM stays out of the offer. */
#define PX_CIPHERS "chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr"

/* Largest slice moved from one side to the other in one write. */
#define PX_CHUNK (64 * 1024)

/* Zero-timeout libssh pumps per readiness of one socket.  Each reads at most
 * 4 KiB (libssh's MAX_BUF_SIZE), so this bounds one session's turn to 256 KiB
 * of input before the loop serves the others; the pump stops earlier as soon
 * as the socket has nothing more. */
#define PX_PUMP_BUDGET 64

struct px_worker;
struct px_config;
struct px_chan;
struct px_reclink;
struct policy;
struct pol_session;
struct pol_target;

struct px_conn; /* opaque outside conn*.c, worker.c, keepalive.c, upstream.c: conn_int.h */

/* ---- questions for the channel code (conn_query.c) ----------------------
 * The channel code (chan*.c) asks these instead of reading fields.  Strings
 * and pointers returned live as long as the connection (the session and the
 * policy until a reload). */

/* Connection id (then the recording id), for log lines. */
const char *px__conn_id(const struct px_conn *c);
/* The user and the target as the technician named them; NULL when not
 * known yet (target NULL when listing). */
const char *px__conn_user(const struct px_conn *c);
const char *px__conn_target(const struct px_conn *c);
/* The admitted policy session, or NULL before admission. */
const struct pol_session *px__conn_session(const struct px_conn *c);
/* The policy in force for this connection (referenced by it). */
const struct policy *px__conn_policy(const struct px_conn *c);
/* The proxy's configuration as of now. */
const struct px_config *px__conn_cfg(const struct px_conn *c);
/* The connection's state (conn_state.h). */
enum px_conn_state px__conn_current_state(const struct px_conn *c);
/* The technician's (tech != 0) or the target's session and its poll;
 * the target's are NULL / not initialised before the upstream starts. */
ssh_session px__conn_ssh(const struct px_conn *c, int tech);
struct px_sshpoll *px__conn_poll(struct px_conn *c, int tech);
/* 1 when the upstream session is authenticated and usable. */
int px__conn_up_ready(const struct px_conn *c);
/* 1 when the connection has a recording at all (one that answers only
 * no-target commands, CONN_LOCAL, has none). */
int px__conn_records(const struct px_conn *c);
/* 1 when the recording is open (its START acknowledged or spooled). */
int px__conn_rec_ready(const struct px_conn *c);
/* 1 while the recorder link is stalled: nothing may be relayed. */
int px__conn_rec_stalled(const struct px_conn *c);
/* 1 when the recorder link can take n more bytes of data now. */
int px__conn_rec_can_take(const struct px_conn *c, size_t n);
/* 1 while px__conn_step pulls data: data callbacks must not consume. */
int px__conn_pulling(const struct px_conn *c);
void px__conn_set_pulling(struct px_conn *c, int on);
/* The next channel id of the recording (1, 2, ...). */
uint32_t px__conn_new_chan_id(struct px_conn *c);
/* The counter of the recording's FILE ids (the last one given), for the
 * transfer parsers; valid as long as c. */
uint64_t *px__conn_file_ids(struct px_conn *c);
/* The loop the connection runs on (for a channel's timers). */
uv_loop_t *px__conn_loop(struct px_conn *c);
/* 1 once the session is ending (px__conn_end was called). */
int px__conn_ending(const struct px_conn *c);
/* Whether an env request may pass, for the admitted session or, before
 * admission, for the one the user and target would get now.  0 or
 * POL_E_REFUSED with why filled in. */
int px__conn_env_decide(const struct px_conn *c, const char *name, const char *value, char *why,
    size_t whylen);

/* ---- escorts (conn_escort.c; registry.h) ---------------------------------- */

/* 1 while the session is paused, by an escort or (moderated sessions) by
 * the absence of every escort: the technician's input is dropped on
 * interactive channels (a shell, or a pty) and held on the others, so a
 * transfer's stream is not cut. */
int px__conn_paused(const struct px_conn *c);
/* Counts len bytes of typing dropped while paused (reported when the
 * session resumes or ends); returns len. */
size_t px__conn_drop_paused(struct px_conn *c, size_t len);
/* The proxy's registry of live sessions (registry.h). */
struct px_registry;
struct px_registry *px__conn_registry(struct px_conn *c);
/* For the state setter: entering RELAY (or, for a moderated session,
 * WAIT_ESCORT, listed as waiting) lists the session in the registry,
 * entering LOCAL, CLOSING or DEAD removes it. */
void px__conn_escort_track(struct px_conn *c, enum px_conn_state to);
/* For a channel whose shell or exec request arrived while the session
 * waits for an escort (WAIT_ESCORT): tells the technician it waits, and
 * for whom (stderr, recorded).  Nothing in any other state. */
void px__conn_wait_notice(struct px_conn *c, struct px_chan *ch);
/* The session's watch while it is supervised and relays (watch.h), else
 * NULL; the table of every watch of this proxy. */
struct px_watch *px__conn_watch(struct px_conn *c);
struct px_watches *px__conn_watches(struct px_conn *c);
/* Applies an escort's action on the session's own loop (from the worker's
 * queue): records it (ESCORT event), logs it, then pauses, resumes or ends
 * the session.  Does nothing once the session is ending. */
struct px_reg_action;
void px__conn_escort_apply(struct px_conn *c, const struct px_reg_action *a);

/* Takes fd (accepted, non-blocking) and starts the key exchange.  Always
 * consumes fd (closes it on failure). */
void px__conn_accept(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t sl);

/* Runs the state machine after any event (see above). */
void px__conn_step(struct px_conn *c);

/* Ends the session with reason shown to the technician (copied).  The
 * recording's END says "proxy-error" with that text unless a cause was
 * set before (px__conn_set_end). */
void px__conn_end(struct px_conn *c, const char *reason);

/* Sets why the session ends, for its END record (recorder/ev_end.h):
 * kind and a sentence (NULL: the kind's own).  The first cause set is
 * kept; later calls do nothing. */
void px__conn_set_end(struct px_conn *c, int kind, const char *why);

/* px__conn_set_end (why NULL: msg's text), then px__conn_end(c, msg). */
void px__conn_end_as(struct px_conn *c, int kind, const char *why, const char *msg);

/* Answers the main request m of channel ch on a LOCAL connection: the
 * refusal message, or without a target (`ssh USER@proxy [COMMAND]`) the
 * targets open to the user, or for `rules TARGET` what the user may run
 * there (policy_rules_for).  Calls px__chan_local. */
struct px_chan;
struct px_req;
void px__conn_answer_local(struct px_conn *c, struct px_chan *ch, const struct px_req *m);

/* Applies a reload: forbid matches end the session; the new policy is used
 * for the next command. */
void px__conn_reload(struct px_conn *c);

/* Clean shutdown of this connection (SIGTERM). */
void px__conn_shutdown(struct px_conn *c, const char *reason);

/* Gives up waiting for the technician: hard == 0 drops the channels and
 * closes the recording (bounded by the recorder link's close wait); hard
 * tears the connection down at once. */
void px__conn_abandon(struct px_conn *c, int hard);

/* Frees a conn whose handles are all closed. */
void px__conn_free(struct px_conn *c);

/* Hands an event to the recorder; see px__reclink_event().  Returns PX_OK,
 * PX_EFULL, PX_ERECORDER. */
int px__conn_record(struct px_conn *c, uint16_t type, uint32_t chan, const void *p, size_t n);
/* Records a structured event built from (tag, string) pairs ending with 0.
 * A failure ends the session, as px__conn_record_or_end does. */
int px__conn_record_fields(struct px_conn *c, uint16_t type, uint32_t chan, ...);
/* Hands an event to the recorder; when it is not taken (`built` is not
 * REC_OK: the event could not be built; or the link refused it), nothing
 * goes on unrecorded: the session is ended with a message (px__conn_end)
 * and the error returned.  Returns PX_OK, PX_EFULL, PX_ERECORDER or
 * PX_EINVAL (built != REC_OK). */
int px__conn_record_or_end(struct px_conn *c, uint16_t type, uint32_t chan, const void *p,
    size_t n, int built);

#endif
