/* conn_int: the definition of struct px_conn, for the connection's own
 * code only: conn*.c, worker.c (its lists: next, prev), keepalive.c and
 * upstream.c.  Everything else asks the questions in conn.h. */
#ifndef PX_CONN_INT_H
#define PX_CONN_INT_H

#include "proxy/conn.h"

struct px_conn {
	struct px_worker *w;
	struct px_conn *next, *prev;    /* the worker's lists: worker.c only */
	enum px_conn_state state;       /* px_conn_set_state only (conn_state.h) */
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
	int throttled_done;             /* px_throttle_done called */
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
	int in_step;                    /* re-entrancy guard of px_conn_step */
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
	int abandoned;                  /* px_conn_abandon: the technician is not waited for */

	/* escorts (conn_escort.c) */
	int registered;                 /* listed in the daemon's registry */
	int paused;                     /* an escort paused the technician's input */
	uint64_t paused_dropped;        /* bytes of typing dropped during this pause */
};

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
 * forwarding, agent, X11 and other channel types; records the refusal). */
int px__conn_other_message(ssh_session s, ssh_message m, void *ud);
/* "SHA256:..." fingerprint of key into out.  Returns 0 or -1. */
int px_key_fingerprint(ssh_key key, char *out, size_t outsz);

#endif
