/* sshpoll: one uv_poll_t watching the socket of one libssh session.
 *
 * READABLE is always on while started (window adjusts, rekeys and closes must
 * keep flowing); WRITABLE is on only while libssh holds unsent bytes
 * (SSH_WRITE_PENDING), re-evaluated by px__sshpoll_update() after every call
 * that may have written.  The callback runs on the owning loop; it never frees
 * anything (see conn.c).
 *
 * The descriptor watched is the poll's own: libssh gets a dup() of it (see
 * px__sshpoll_dup).  libssh closes its descriptor by itself when the peer
 * goes away; were that the watched one, the number could be reused by the
 * next accept while this handle still holds it, and the new connection
 * would fail in uv_poll_init.  px__sshpoll_close() stops the handle and
 * closes the watched descriptor. */
#ifndef PX_SSHPOLL_H
#define PX_SSHPOLL_H

#include <libssh/libssh.h>
#include <uv.h>

struct px_sshpoll;
typedef void (*px_sshpoll_cb)(struct px_sshpoll *p, int status, int events);

struct px_sshpoll {
	uv_poll_t h;
	ssh_session s;          /* may be NULL while only the TCP connect runs */
	int fd;
	int events;             /* currently armed UV_* mask, 0 when stopped */
	int init;               /* h initialised (must be closed) */
	int steady;             /* handshake over: O_NONBLOCK no longer checked */
	px_sshpoll_cb cb;
	void *ud;
	struct ssh_counter_struct sock; /* socket bytes, kept by libssh (ssh_set_counters) */
};

/* The most libssh 0.10 reads from its socket per poll round (MAX_BUF_SIZE). */
#define PX_SSH_READ 4096

/* Initialises p on fd (sets O_NONBLOCK).  Returns PX_OK, with fd then
 * owned by p, or PX_EIO with fd still the caller's. */
int px__sshpoll_init(uv_loop_t *loop, struct px_sshpoll *p, int fd, px_sshpoll_cb cb, void *ud);

/* Arms exactly events (UV_READABLE|UV_WRITABLE). */
void px__sshpoll_want(struct px_sshpoll *p, int events);

/* Arms READABLE, plus WRITABLE while p->s has bytes pending; until
 * px__sshpoll_steady() also forces O_NONBLOCK back on (libssh clears it when
 * it first sees a connecting socket writable). */
void px__sshpoll_update(struct px_sshpoll *p);

/* The session's handshake is over: libssh no longer touches the
 * descriptor's flags, so px__sshpoll_update() stops checking O_NONBLOCK (one
 * fcntl per update saved on the relay path). */
void px__sshpoll_steady(struct px_sshpoll *p);

/* After one ssh_event_dopoll() round that began with p->sock.in_bytes ==
 * before: true when another round may find more to read.  A round reads
 * at most PX_SSH_READ bytes; one that read less left the socket empty, so
 * a keystroke costs one poll(2) and one read, not a second poll that finds
 * nothing (what arrives later makes the socket ready again). */
int px__sshpoll_more(const struct px_sshpoll *p, uint64_t before);

/* A duplicate of fd for libssh (close-on-exec), or -1 with errno set. */
int px__sshpoll_dup(int fd);

/* Stops and closes the handle and the watched descriptor; close_cb(h) runs
 * later on the loop.  No-op
 * (close_cb not called) when never initialised: returns 0 then, 1 when a
 * close was started. */
int px__sshpoll_close(struct px_sshpoll *p, uv_close_cb close_cb);

#endif
