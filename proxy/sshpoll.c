/* sshpoll: readiness for a libssh socket through libuv. */
#include <fcntl.h>
#include <unistd.h>

#include "proxy/px_error.h"
#include "proxy/sshpoll.h"

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct px_sshpoll *p = h->data;

	p->cb(p, status, events);
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
px__sshpoll_init(uv_loop_t *loop, struct px_sshpoll *p, int fd, px_sshpoll_cb cb, void *ud)
{
	p->fd = fd;
	p->cb = cb;
	p->ud = ud;
	p->events = 0;
	p->steady = 0;
	set_nonblock(fd);
	if (uv_poll_init(loop, &p->h, fd) != 0)
		return PX_EIO;
	p->h.data = p;
	p->init = 1;
	return PX_OK;
}

void
px__sshpoll_want(struct px_sshpoll *p, int events)
{
	if (!p->init || events == p->events)
		return;
	p->events = events;
	if (events == 0)
		uv_poll_stop(&p->h);
	else
		uv_poll_start(&p->h, events, on_poll);
}

void
px__sshpoll_update(struct px_sshpoll *p)
{
	int ev = UV_READABLE;

	if (!p->init)
		return;
	if (!p->steady)
		set_nonblock(p->fd);
	if (p->s != NULL && (ssh_get_status(p->s) & SSH_WRITE_PENDING))
		ev |= UV_WRITABLE;
	px__sshpoll_want(p, ev);
}

void
px__sshpoll_steady(struct px_sshpoll *p)
{
	if (p->init)
		set_nonblock(p->fd);
	p->steady = 1;
}

int
px__sshpoll_more(const struct px_sshpoll *p, uint64_t before)
{
	return p->sock.in_bytes - before >= PX_SSH_READ;
}

int
px__sshpoll_dup(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

int
px__sshpoll_close(struct px_sshpoll *p, uv_close_cb close_cb)
{
	if (!p->init)
		return 0;
	p->init = 0;
	uv_poll_stop(&p->h);
	uv_close((uv_handle_t *)&p->h, close_cb);
	/* uv_poll_stop removed fd from the loop's epoll set at once. */
	close(p->fd);
	p->fd = -1;
	return 1;
}
