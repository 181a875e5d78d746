/* chan: one session channel of a technician and its twin on the target.
 *
 * The technician's requests (pty, env, shell, exec, subsystem, window-change,
 * signal) are answered at once and queued; once the recorder and the upstream
 * are ready they are replayed upstream one at a time, in order (libssh 0.10
 * allows one pending want-reply request per channel).
 *
 * Flow control: bytes move only as far as the receiving side can take them
 * now: at most the receiving channel's window, at most PX_CHUNK, nothing while
 * the receiving session still has unsent bytes, and nothing the recorder's
 * spool cannot take.  What is not taken stays in libssh's channel buffer (its
 * window then closes, stopping the sender) and is pulled again by
 * px__chan_step().  Per stalled direction libssh buffers at most ~1.3 MB.
 *
 * End: EOF, exit-status/exit-signal and CLOSE travel behind the data of their
 * direction, in the order received.
 *
 * Lifecycle: the channel, its four halves and each queued request are state
 * machines changed only through the setters of chan_state.h, which check
 * every transition against a table and log it. */
#ifndef PX_CHAN_H
#define PX_CHAN_H

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/chan_state.h"
#include "proxy/xfer_record.h"

struct px_conn;
struct px_observe;
struct sftp_filter;
struct scp_watch;
struct px_strict;
struct pol_decision;
struct pwm;
struct px_join;

enum px_req_kind { REQ_PTY, REQ_ENV, REQ_SHELL, REQ_EXEC, REQ_SUBSYSTEM, REQ_WINCH, REQ_SIGNAL };

struct px_req {
	struct px_req *next;
	enum px_req_kind kind;
	char *a, *b;                    /* term/env name/command/subsystem/signal; env value */
	char *sent;                     /* exec: the command line sent to the target, rebuilt
	                                 * by the policy from the parse of a (never a itself);
	                                 * set by px__chan_decide when it allows the request */
	enum px_req_state st;           /* received, decided|refused, recorded, sent...
	                                 * (chan_state.h); a refused env is recorded
	                                 * before the main request is decided
	                                 * (env_settle), never sent */
	int cols, rows, pxw, pxh;
	char *why;                      /* refused: its reason */
};

enum px_chan_kind { KIND_NONE, KIND_SHELL, KIND_EXEC, KIND_SUBSYSTEM,
	KIND_FORWARD /* a direct-tcpip channel (chan_fwd.h) */ };

struct px_chan {
	struct px_conn *c;
	struct px_chan *next;
	uint32_t id;                    /* channel number in the recording */
	ssh_channel tc, uc;
	struct ssh_channel_callbacks_struct tcb, ucb;
	enum px_chan_state st;          /* px__chan_set_state only */
	enum px_half_state half[HALF_N]; /* px__chan_set_half only */
	enum px_chan_kind kind;
	struct px_req *rq, **rq_tail;
	struct px_req *inflight;        /* request being replayed upstream */
	int pty;
	int wait_told;                  /* told that the session waits for an escort */
	char *local_msg;                /* CH_LOCAL: text for stderr (or stdout when local_stdout) */
	int local_stdout;
	int local_status;
	size_t t_pend;                  /* technician bytes not yet relayed (libssh + stash[2]) */
	size_t u_pend[2];               /* target stdout / stderr not yet relayed (libssh + stash) */
	/* Bytes pull() took out of libssh in one read, all it held, and not yet
	 * relayed: [0] target stdout, [1] target stderr, [2] technician input.
	 * libssh reopens the peer's window on every read, whatever it still
	 * holds; emptying it at once keeps it within one window. */
	uint8_t *stash[3];
	size_t stash_off[3], stash_len[3], stash_cap[3];
	int exit_kind;                  /* from the target: 0 none, 1 status, 2 signal */
	int exit_status;
	char exit_signal[32];
	int exit_core;
	/* file transfers (xfer_chan.h) */
	struct sftp_filter *sftp;       /* "sftp" subsystem: bytes go through it */
	struct scp_watch *scp;          /* exec scp -t/-f: watched in passing */
	int sftp_failed;
	int xfer_finished;
	struct px_observe *obs;         /* `shell observe`: the screen model (observe_chan.h) */
	struct xfer_queue xq;           /* records waiting for the recorder */
	struct px_strict *strict;       /* `shell strict`: every byte goes through it (strict.h) */
	struct px_exec_appr *appr;      /* an exec held for an escort's approval (exec_approve.h) */
	struct px_join *join;           /* an escort's `join ID` view (join.h); stays CH_WAIT */
	int xq_summary_sent;            /* head record: summary recorded */
	size_t xq_off;                  /* head record: content recorded so far */
	uint64_t xq_file_id;            /* head record: its FILE_ID */
	/* Bytes recorded and taken from one side that the other side's session
	 * did not accept yet (libssh takes no channel data while a key
	 * re-exchange runs): [0] toward the target, [1] toward the technician.
	 * They go before anything else of their direction, and EOF, exit and
	 * CLOSE wait for them. */
	uint8_t *held[2];
	size_t held_len[2];
	int held_stderr;                /* held[1] is extended data */
	struct pwm *pwm;                /* password prompts (chan_pwmask.h); NULL until data */
	/* KIND_FORWARD (chan_fwd.h): where the technician's direct-tcpip goes */
	char *fwd_host, *fwd_orig;      /* owned */
	int fwd_port, fwd_orig_port;
};

/* Creates the pair for a technician channel just opened (callbacks set before
 * returning, as libssh may deliver requests in the same read).  Returns NULL
 * on allocation failure. */
struct px_chan *px__chan_new(struct px_conn *c, ssh_channel tc);

/* Decides the main request r of ch (chan_decide.c).  Returns 1 when it goes
 * upstream (r->sent holds the line to run), 0 when it was answered locally
 * (px__chan_local called) or while it waits for an escort's approval
 * (ch->appr set; called again on every step until it is decided). */
int px__chan_decide(struct px_chan *ch, struct px_req *r);

/* Does everything due: replays requests, pulls stalled data, propagates EOF,
 * exit and close.  Called from px__conn_step only. */
void px__chan_step(struct px_chan *ch);

/* The exit status of a request the policy refused (exec, scp, a subsystem,
 * a shell, an approval denied or timed out, a session not admitted): 77,
 * EX_NOPERM of sysexits(3), sent as the channel's exit-status so that stock
 * ssh exits with it.  Failures of the proxy itself (out of memory, the
 * recorder, the target) stay 1; see escort-proxy(8), EXIT STATUS. */
#define PX_EXIT_DENIED 77

/* Answers the channel locally: msg on stderr (or stdout), exit status, close.
 * msg copied. */
void px__chan_local(struct px_chan *ch, const char *msg, int to_stdout, int status);

/* Writes one line of the proxy (an escort's notice) to the technician on
 * stderr, recorded as STDERR when the recorder takes it. */
void px__chan_notice(struct px_chan *ch, const char *line);

/* Ends the channel now, with msg on stderr when the technician can still see
 * it, exit status 255. */
void px__chan_abort(struct px_chan *ch, const char *msg);

/* Bytes that may be written to the technician (to_tech) or the target now,
 * at most len: bounded by the receiving window, PX_CHUNK, a session with
 * unsent bytes, and the recorder's spool.  0 when nothing may go. */
size_t px__chan_room(struct px_chan *ch, int to_tech, size_t len);

/* Records n bytes (n from px__chan_room) as INPUT/OUTPUT/STDERR and writes
 * them to that side; what that session does not take now (a key
 * re-exchange runs) is held and written before anything else of that
 * direction. */
void px__chan_emit(struct px_chan *ch, int to_tech, const uint8_t *data, size_t n, int is_stderr);

/* Bytes held for this channel in libssh buffers and in the SFTP filter
 * (memory accounting, and whether a direction is drained). */
size_t px__chan_buffered(const struct px_chan *ch);

/* Whether the channel still has something to relay from a target that is
 * gone: bytes to deliver, or the target's close to pass on (exit status).
 * A channel the target never opened or closed gets nothing more. */
int px__chan_busy(const struct px_chan *ch);

/* Whether the technician left this channel open: it is not done, closing or
 * local, and the technician did not send CLOSE (a session that ends with such
 * a channel ended because the client was lost, not normally). */
int px__chan_open_by_tech(const struct px_chan *ch);

/* Frees a CH_DONE channel (or any channel at conn teardown). */
void px__chan_free(struct px_chan *ch);

#endif
