/* recd_listen: unix and TLS listening sockets of escort-recorder. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "recorder/recd_conn.h"
#include "recorder/recd_listen.h"
#include "recorder/recd_log.h"

struct recd_listener {
	struct recd	*d;
	struct recd_listener *next;
	struct recd_listen_cfg cfg;
	union {
		uv_handle_t	handle;
		uv_stream_t	stream;
		uv_pipe_t	pipe;
		uv_tcp_t	tcp;
	} h;
	int		 marked;
};

/* A peer is waiting on a listener. */
static void
on_connection(uv_stream_t *server, int status)
{
	struct recd_listener *l = server->data;

	if (status < 0) {
		recd_log(LOG_WARNING, "listen %s: %s", l->cfg.spec,
		    uv_strerror(status));
		return;
	}
	recd_conn_accept(l->d, server, l->cfg.kind == RECD_LISTEN_TLS,
	    l->cfg.kind == RECD_LISTEN_TLS ? l->d->tls : NULL);
}

/* Frees a listener once its handle is closed. */
static void
free_on_close(uv_handle_t *h)
{
	free(h->data);
}

/* Removes a unix socket file nobody accepts on.  Returns 0, or -1 with the
 * reason (a live socket, or not a socket). */
static int
clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd, r;

	if (lstat(path, &sb) != 0)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return 0;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "%s: another process is listening on "
		    "it", path);
		return -1;
	}
	unlink(path);
	return 0;
}

/* The directory of a unix socket must exist: libuv's bind reports a missing
 * one as "permission denied".  Returns 0, or -1 with the reason. */
static int
socket_dir_check(const char *path, char *err, size_t errlen)
{
	char dir[256];
	char *slash;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &sb) != 0) {
		snprintf(err, errlen, "%s: directory %s: %s", path, dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: %s is not a directory", path, dir);
		return -1;
	}
	return 0;
}

int
recd_listen_open(struct recd *d, const struct recd_listen_cfg *cfg, int uid,
    int gid, char *err, size_t errlen)
{
	struct recd_listener *l;
	struct addrinfo hints, *ai = NULL;
	int r;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->d = d;
	l->cfg = *cfg;
	if (cfg->kind == RECD_LISTEN_UNIX) {
		if (clear_stale(cfg->path, err, errlen) < 0 ||
		    socket_dir_check(cfg->path, err, errlen) < 0) {
			free(l);
			return -1;
		}
		uv_pipe_init(d->loop, &l->h.pipe, 0);
		l->h.handle.data = l;
		if ((r = uv_pipe_bind(&l->h.pipe, cfg->path)) != 0)
			goto uverr;
		if (chmod(cfg->path, 0660) != 0 || ((uid >= 0 || gid >= 0) &&
		    chown(cfg->path, (uid_t)uid, (gid_t)gid) != 0)) {
			snprintf(err, errlen, "%s: %s", cfg->path,
			    strerror(errno));
			unlink(cfg->path);
			uv_close(&l->h.handle, free_on_close);
			return -1;
		}
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		if ((r = getaddrinfo(cfg->host, cfg->port, &hints, &ai)) != 0) {
			snprintf(err, errlen, "%s: %s", cfg->spec,
			    gai_strerror(r));
			free(l);
			return -1;
		}
		uv_tcp_init(d->loop, &l->h.tcp);
		l->h.handle.data = l;
		r = uv_tcp_bind(&l->h.tcp, ai->ai_addr, 0);
		freeaddrinfo(ai);
		if (r != 0)
			goto uverr;
	}
	if ((r = uv_listen(&l->h.stream, 128, on_connection)) != 0)
		goto uverr;
	l->next = d->listeners;
	d->listeners = l;
	recd_log(LOG_INFO, "listening on %s", cfg->spec);
	return 0;
uverr:
	snprintf(err, errlen, "%s: %s", cfg->spec, uv_strerror(r));
	if (cfg->kind == RECD_LISTEN_UNIX)
		unlink(cfg->path);
	uv_close(&l->h.handle, free_on_close);
	return -1;
}

struct recd_listener *
recd_listen_find(struct recd *d, const char *spec)
{
	struct recd_listener *l;

	for (l = d->listeners; l != NULL; l = l->next)
		if (strcmp(l->cfg.spec, spec) == 0)
			return l;
	return NULL;
}

void
recd_listen_close(struct recd *d, struct recd_listener *l)
{
	struct recd_listener **pp;

	for (pp = &d->listeners; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	if (l->cfg.kind == RECD_LISTEN_UNIX)
		unlink(l->cfg.path);
	recd_log(LOG_INFO, "stopped listening on %s", l->cfg.spec);
	uv_close(&l->h.handle, free_on_close);
}

void
recd_listen_close_all(struct recd *d)
{
	while (d->listeners != NULL)
		recd_listen_close(d, d->listeners);
}

void
recd_listen_mark(struct recd *d, int mark)
{
	struct recd_listener *l;

	for (l = d->listeners; l != NULL; l = l->next)
		l->marked = mark;
}

void
recd_listen_keep(struct recd_listener *l)
{
	l->marked = 0;
}

void
recd_listen_sweep(struct recd *d)
{
	struct recd_listener *l, *next;

	for (l = d->listeners; l != NULL; l = next) {
		next = l->next;
		if (l->marked)
			recd_listen_close(d, l);
	}
}
