/* sshpoll: one uv_poll_t watching the socket of one libssh session.
 *
 * READABLE is always on while started (window adjusts, rekeys and closes must
 * keep flowing); WRITABLE is on only while libssh holds unsent bytes
 * (SSH_WRITE_PENDING), re-evaluated by px_sshpoll_update() after every call
 * that may have written.  The callback runs on the owning loop; it never frees
 * anything (see conn.c).  The handle must be closed with px_sshpoll_close()
 * before the session (which owns the fd) is freed. */
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
	px_sshpoll_cb cb;
	void *ud;
};

/* Initialises p on fd (sets O_NONBLOCK).  Returns PX_OK or PX_EIO. */
int px_sshpoll_init(uv_loop_t *loop, struct px_sshpoll *p, int fd, px_sshpoll_cb cb, void *ud);

/* Arms exactly events (UV_READABLE|UV_WRITABLE). */
void px_sshpoll_want(struct px_sshpoll *p, int events);

/* Arms READABLE, plus WRITABLE while p->s has bytes pending; also forces
 * O_NONBLOCK back on (libssh may have cleared it).  Stops watching instead
 * once libssh has closed the session's socket. */
void px_sshpoll_update(struct px_sshpoll *p);

/* Stops and closes the handle; close_cb(h) runs later on the loop.  No-op
 * (close_cb not called) when never initialised: returns 0 then, 1 when a
 * close was started. */
int px_sshpoll_close(struct px_sshpoll *p, uv_close_cb close_cb);

#endif
