/* upstream: the proxy's client session to a target (upstream.c): a
 * non-blocking TCP connect, the SSH handshake, the pinned host key check and
 * public-key authentication with the proxy-held identity.
 *
 * State (px_upstream.st): IDLE -> TCP -> SSH -> AUTH -> READY, or FAILED
 * from any of them with px_upstream.err set to a message for the
 * technician; READY -> CLOSED when the target goes.  Readiness on
 * px_upstream.poll drives it; each step ends in px__conn_step(). */
#ifndef PX_UPSTREAM_H
#define PX_UPSTREAM_H

#include <sys/types.h>

#include <libssh/libssh.h>
#include <uv.h>

#include "proxy/sshpoll.h"

struct px_conn;
struct pol_target;

enum px_up_state { UP_IDLE, UP_TCP, UP_SSH, UP_AUTH, UP_READY, UP_FAILED, UP_CLOSED };

struct px_upstream {
	enum px_up_state st;
	int fd;                         /* -1 until the connect starts */
	int lib_fd;                     /* the descriptor given to libssh, or -1 */
	dev_t lib_dev;                  /* ... and its socket's identity (fstat) */
	ino_t lib_ino;
	struct px_sshpoll poll;
	ssh_session s;                  /* owned; NULL before SSH */
	ssh_event ev;
	ssh_key identity;               /* owned */
	ssh_key pinned;                 /* owned: the target's expected host key */
	char err[512];                  /* why FAILED, for the technician */
};

/* Sets up an upstream that holds nothing (state IDLE, no descriptor). */
void px__up_init(struct px_upstream *up);

/* Frees what up holds (session, event, descriptor, keys); its poll handle
 * must be closed already (px__up_close). */
void px__up_free(struct px_upstream *up);

/* Starts connecting c's upstream to target t.  Returns PX_OK, or PX_EINVAL
 * / PX_EIO with c->up.st UP_FAILED and c->up.err set. */
int px__up_start(struct px_conn *c, const struct pol_target *t);

/* Closes the upstream's poll handle if it was opened: counted in c's open
 * handles, cb runs once it is closed (handle data: c).  The session and
 * keys are freed by px__up_free. */
void px__up_close(struct px_conn *c, uv_close_cb cb);

#endif
