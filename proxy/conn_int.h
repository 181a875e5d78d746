/* conn_int: the definition of struct px_conn, for the connection's own
 * code only: conn*.c, worker.c (its lists: next, prev), keepalive.c and
 * upstream.c.  Everything else asks the questions in conn.h. */
#ifndef PX_CONN_INT_H
#define PX_CONN_INT_H

#include "proxy/conn.h"

/* The causes of a pause (px_conn.paused), kept apart: an escort's `pause`
 * ends with an escort's `resume`; the absence of every escort from a
 * moderated session ends when one joins again. */
#define PX_PAUSE_ESCORT 1u              /* an escort's pause */
#define PX_PAUSE_ABSENT 2u              /* moderated, and no escort is present */

struct px_conn {
	struct px_worker *w;
	struct px_conn *next, *prev;    /* the worker's lists: worker.c only */
	enum px_conn_state state;       /* px__conn_set_state only (conn_state.h) */
	char id[64];                    /* connection id, then the recording id */
	char peer[64];                  /* client address */
	int peer_port;
	time_t started;
	uint64_t t0_ns;                 /* monotonic start, for event times */

	/* technician side */
	ssh_session tech;
	ssh_event tech_ev;
	struct px_sshpoll tech_poll;
	struct ssh_server_callbacks_struct scb;
	int throttled_done;             /* px__throttle_done called */
	int pp_checked;                 /* first bytes looked at for a PROXY
	                                 * header it may not send (ppwait.h) */
	int auth_failures;
	int auth_ok;                    /* a verified signature arrived */
	int totp_pending;               /* the key verified; a TOTP code is asked for
	                                 * over keyboard-interactive (conn_auth.c) */
	ssh_message auth_held;          /* its request, answered once admitted and
	                                 * recorded (conn_auth.c) */
	char *login_name;               /* SSH user name as sent: "user[:target]" */
	char *user, *target;            /* split; target NULL when listing */
	char keyfp[128];                /* SHA256:... of the client key */

	/* policy */
	struct policy *pol;             /* referenced */
	unsigned pol_generation;
	struct pol_session *ps;         /* admitted session, or NULL */
	char refusal[1024];              /* message for the technician (LOCAL) */
	int refusal_status;

	/* recorder */
	struct px_reclink *rec;
	int rec_ready, rec_stalled, rec_closed;
	uint32_t next_chan_id;
	uint64_t next_file_id;          /* FILE_ID of the recording's FILE events */

	/* upstream */
	struct px_upstream up;

	/* channels */
	struct px_chan *chans;
	int in_step;                    /* re-entrancy guard of px__conn_step */
	int pulling;                    /* data callbacks must not consume */

	/* lifetime */
	uv_timer_t timer;               /* grace, then max-session */
	uv_timer_t rec_timer;           /* RecorderTimeout while stalled */
	struct px_keepalive ka;         /* ClientAliveInterval / TargetAliveInterval */
	int handles_open;
	char *end_reason;               /* shown to the technician when ending */
	int end_kind;                   /* enum ev_end_kind, for the END record */
	int end_kind_set;               /* the first cause found is kept */
	char end_why[256];              /* REASON of the END record */
	int end_requested;
	int abandoned;                  /* px__conn_abandon: the technician is not waited for */

	/* escorts (conn_escort.c) */
	int registered;                 /* listed in the daemon's registry */
	unsigned paused;                /* why the technician's input is dropped:
	                                 * PX_PAUSE_* bits, 0 when it is not */
	int joined;                     /* escorts watching, as the joins and
	                                 * leaves this session applied count them */
	uv_timer_t escort_timer;        /* moderated: EscortWaitTimeout while
	                                 * WAIT_ESCORT, EscortLeaveTimeout while
	                                 * no escort is present */
	int escort_secs;                /* the duration escort_timer was started with */
	uint64_t paused_dropped;        /* bytes of typing dropped during this pause */
	struct px_watch *watch;         /* supervised: what joined escorts see (watch.h) */
};

/* ---- escorts, for conn_escort.c and conn_moderate.c --------------------- */

/* Tells the technician line_tty on every channel that relays, or waits for
 * an escort, interactive or not; line_other (NULL: the same) on the
 * non-interactive ones (stderr, recorded).  conn_escort.c. */
void px__conn_notify(struct px_conn *c, const char *line_tty, const char *line_other);
/* Records how many bytes of typing a pause dropped, when any (a MARKER),
 * and clears the count.  PX_OK, or px__conn_record_fields' error (the
 * session then ends).  conn_escort.c. */
int px__conn_report_dropped(struct px_conn *c);
/* For the state setter: a moderated session's wait and its absence pause
 * follow the connection's state (conn_moderate.c). */
void px__conn_moderate_track(struct px_conn *c, enum px_conn_state to);
/* An escort's join (delta 1) or leave (-1), applied and recorded: counts
 * it; in a moderated session the first join ends the wait (the upstream
 * starts), and the count reaching 0 in RELAY pauses the technician, a join
 * lets them go on (conn_moderate.c). */
void px__conn_moderate_joined(struct px_conn *c, int delta, const char *escort);
/* After a policy reload replaced c->ps: the wait or the absence pause
 * follows whether the new policy requires an escort (conn_moderate.c). */
void px__conn_moderate_policy(struct px_conn *c);

/* conn_auth.c: takes the userauth messages libssh queued (AUTH state);
 * a verified signature is held in c->auth_held and c->auth_ok set; while
 * one is held, anything else the client sends is refused. */
void px__conn_auth_pump(struct px_conn *c);
/* Once admission decided and, for an admitted session, the recording and
 * the target are ready (RELAY) or the session failed (LOCAL): sends the recording notice as a userauth banner, then the held
 * USERAUTH_SUCCESS, and installs the server callbacks.  Does nothing
 * before that, or when nothing is held. */
void px__conn_auth_settle(struct px_conn *c);
/* Frees a held request that will not be answered. */
void px__conn_auth_free(struct px_conn *c);

/* conn.c: the message callback of an authenticated connection (refuses
 * forwarding, agent, X11 and other channel types; records the refusal;
 * accepts a local forward when the session allows it, chan_fwd.h). */
int px__conn_other_message(ssh_session s, ssh_message m, void *ud);
/* "SHA256:..." fingerprint of key into out.  Returns 0 or -1. */
int px__key_fingerprint(ssh_key key, char *out, size_t outsz);

#endif
