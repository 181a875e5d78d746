/* upstream: the proxy's client session to a target: non-blocking TCP connect,
 * SSH handshake, pinned host key check, public-key authentication with the
 * proxy-held identity.  Driven by readiness on c->up.poll; results land in
 * c->up.st (UP_READY or UP_FAILED with c->up.err for the technician). */
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "proxy/conn_int.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/upstream.h"
#include "proxy/worker.h"

int px__key_fingerprint(ssh_key key, char *out, size_t outsz);

static void up_ready(struct px_sshpoll *p, int status, int events);

static void
fail(struct px_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct px_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->up.err, sizeof(c->up.err), fmt, ap);
	va_end(ap);
	c->up.st = UP_FAILED;
	px_log(PX_LOG_WARN, c->id, "upstream: %.*s", (int)strcspn(c->up.err, "\n"), c->up.err);
	if (c->up.poll.init)
		px__sshpoll_want(&c->up.poll, 0);
}

/* Parses "type base64" into a public key. */
static ssh_key
parse_pinned(const char *line)
{
	char type[64];
	const char *sp = strchr(line, ' ');
	ssh_key k = NULL;
	size_t tl;

	if (sp == NULL || (tl = (size_t)(sp - line)) >= sizeof(type))
		return NULL;
	memcpy(type, line, tl);
	type[tl] = '\0';
	while (*sp == ' ')
		sp++;
	char b64[16384];
	size_t bl = strcspn(sp, " \t");
	if (bl >= sizeof(b64))
		return NULL;
	memcpy(b64, sp, bl);
	b64[bl] = '\0';
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &k) != SSH_OK)
		return NULL;
	return k;
}

int
px__up_start(struct px_conn *c, const struct pol_target *t)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[16];
	int fd, rc;

	c->up.st = UP_TCP;
	if (t->login == NULL || t->identity == NULL || t->hostkey == NULL) {
		fail(c, "escort: target %s is not fully configured (login, identity, hostkey)\n", t->name);
		return PX_EINVAL;
	}
	if ((c->up.pinned = parse_pinned(t->hostkey)) == NULL) {
		fail(c, "escort: the pinned host key of %s cannot be read\n", t->name);
		return PX_EINVAL;
	}
	if (ssh_pki_import_privkey_file(t->identity, NULL, NULL, NULL, &c->up.identity) != SSH_OK) {
		px_log(PX_LOG_ERR, c->id, "cannot read identity %s of target %s", t->identity, t->name);
		fail(c, "escort: the proxy cannot use its key for %s\n", t->name);
		return PX_EIO;
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", (unsigned)t->port);
	if ((rc = getaddrinfo(t->host, port, &hints, &ai)) != 0) {
		/* Names: resolved here once; deployments should give addresses. */
		hints.ai_flags = AI_NUMERICSERV;
		if ((rc = getaddrinfo(t->host, port, &hints, &ai)) != 0) {
			fail(c, "escort: cannot resolve target %s (%s)\n", t->name, gai_strerror(rc));
			return PX_EIO;
		}
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		fail(c, "escort: cannot connect to %s\n", t->name);
		return PX_EIO;
	}
	c->up.fd = fd;
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc != 0 && errno != EINPROGRESS) {
		fail(c, "escort: cannot connect to target %s: %s\n", t->name, strerror(errno));
		return PX_EIO;
	}
	if (px__sshpoll_init(&c->w->loop, &c->up.poll, fd, up_ready, c) != PX_OK) {
		fail(c, "escort: cannot connect to %s\n", t->name);
		return PX_EIO;
	}
	c->up.fd = -1; /* owned by the poll now */
	px__sshpoll_want(&c->up.poll, UV_WRITABLE);
	return PX_OK;
}

static int
start_ssh(struct px_conn *c)
{
	const struct pol_target *t = c->ps->target;
	int f = 0, one = 1, v = SSH_LOG_NOLOG;
	const char *hk;
	unsigned port = t->port;
	struct stat st;

	(void)setsockopt(c->up.poll.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c->up.s = ssh_new()) == NULL)
		return -1;
	/* libssh gets its own descriptor (see sshpoll.h).  libssh closes it
	 * when the socket fails or the target hangs up, but not in
	 * ssh_disconnect or ssh_free (a descriptor given with SSH_OPTIONS_FD
	 * stays the caller's): px__up_free closes it then. */
	if ((c->up.fd = px__sshpoll_dup(c->up.poll.fd)) < 0)
		return -1;
	if (fstat(c->up.fd, &st) == 0) {
		c->up.lib_fd = c->up.fd;
		c->up.lib_dev = st.st_dev;
		c->up.lib_ino = st.st_ino;
	}
	switch (ssh_key_type(c->up.pinned)) {
	case SSH_KEYTYPE_RSA: hk = "rsa-sha2-512,rsa-sha2-256"; break;
	default: hk = ssh_key_type_to_char(ssh_key_type(c->up.pinned)); break;
	}
	if (ssh_options_set(c->up.s, SSH_OPTIONS_PROCESS_CONFIG, &f) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_LOG_VERBOSITY, &v) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_HOST, t->host) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_USER, t->login) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_HOSTKEYS, hk) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_CIPHERS_C_S, PX_CIPHERS) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_CIPHERS_S_C, PX_CIPHERS) != SSH_OK ||
	    ssh_options_set(c->up.s, SSH_OPTIONS_FD, &c->up.fd) != SSH_OK)
		return -1;
	c->up.fd = -1;
	c->up.poll.s = c->up.s;
	ssh_set_counters(c->up.s, &c->up.poll.sock, &c->ka.up.cnt);
	ssh_set_blocking(c->up.s, 0);
	return 0;
}

static void
up_ready(struct px_sshpoll *p, int status, int events)
{
	struct px_conn *c = p->ud;
	const struct pol_target *t = c->ps ? c->ps->target : NULL;
	int rc, err = 0;
	socklen_t el = sizeof(err);

	(void)events;
	if (c->state == CONN_DEAD || t == NULL)
		return;
	switch (c->up.st) {
	case UP_TCP:
		/* the socket's own error even when the poll reports one (libuv
		 * gives EBADF for POLLERR): "Connection refused", not EIO */
		if (getsockopt(c->up.poll.fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
		if (status < 0 || err != 0) {
			fail(c, "escort: cannot connect to target %s: %s\n", t->name, strerror(err ? err : EIO));
			break;
		}
		if (start_ssh(c) != 0) {
			fail(c, "escort: cannot start SSH to %s\n", t->name);
			break;
		}
		c->up.st = UP_SSH;
		/* fallthrough */
	case UP_SSH:
		rc = ssh_connect(c->up.s);
		if (rc == SSH_AGAIN)
			break;
		if (rc != SSH_OK) {
			fail(c, "escort: SSH handshake with target %s failed: %s\n", t->name, ssh_get_error(c->up.s));
			break;
		}
		{
			ssh_key k = NULL;
			char got[128], want[128];
			if (ssh_get_server_publickey(c->up.s, &k) != SSH_OK) {
				fail(c, "escort: target %s sent no host key\n", t->name);
				break;
			}
			rc = ssh_key_cmp(k, c->up.pinned, SSH_KEY_CMP_PUBLIC);
			if (rc != 0) {
				if (px__key_fingerprint(k, got, sizeof(got)) < 0)
					snprintf(got, sizeof(got), "?");
				if (px__key_fingerprint(c->up.pinned, want, sizeof(want)) < 0)
					snprintf(want, sizeof(want), "?");
				ssh_key_free(k);
				fail(c, "escort: HOST KEY MISMATCH for target %s: it presented %s but the policy pins %s; "
				    "connection refused\n", t->name, got, want);
				break;
			}
			ssh_key_free(k);
		}
		c->up.st = UP_AUTH;
		/* fallthrough */
	case UP_AUTH:
		rc = ssh_userauth_publickey(c->up.s, NULL, c->up.identity);
		if (rc == SSH_AUTH_AGAIN)
			break;
		if (rc != SSH_AUTH_SUCCESS) {
			fail(c, "escort: target %s refused the proxy's key for login %s\n", t->name, t->login);
			break;
		}
		if ((c->up.ev = ssh_event_new()) == NULL || ssh_event_add_session(c->up.ev, c->up.s) != SSH_OK) {
			fail(c, "escort: internal error on the connection to %s\n", t->name);
			break;
		}
		c->up.st = UP_READY;
		px_log(PX_LOG_INFO, c->id, "connected to %s as %s", t->name, t->login);
		break;
	case UP_READY:
		if (status < 0) {
			c->up.st = UP_CLOSED;
			break;
		}
		for (int i = 0; i < PX_PUMP_BUDGET; i++) {
			uint64_t before = c->up.poll.sock.in_bytes;

			rc = ssh_event_dopoll(c->up.ev, 0);
			if (rc != SSH_OK || !px__sshpoll_more(&c->up.poll, before))
				break;
		}
		if (!ssh_is_connected(c->up.s) || (ssh_get_status(c->up.s) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
			c->up.st = UP_CLOSED;
		break;
	default:
		px__sshpoll_want(p, 0);
		return;
	}
	if (c->up.st != UP_FAILED && c->up.st != UP_CLOSED)
		px__sshpoll_update(p);
	else
		px__sshpoll_want(p, 0);
	px__conn_step(c);
}

void
px__up_close(struct px_conn *c, uv_close_cb cb)
{
	if (c->up.poll.init) {
		c->handles_open++;
		px__sshpoll_close(&c->up.poll, cb);
		c->up.poll.h.data = c;
	}
}

void
px__up_init(struct px_upstream *up)
{
	up->st = UP_IDLE;
	up->fd = -1;
	up->lib_fd = -1;
}

void
px__up_free(struct px_upstream *up)
{
	if (up->ev != NULL) {
		ssh_event_remove_session(up->ev, up->s);
		ssh_event_free(up->ev);
	}
	if (up->s != NULL) {
		/* -1 once libssh closed it itself (socket error, EOF) */
		int fd = ssh_get_fd(up->s);
		struct stat st;

		ssh_disconnect(up->s);
		ssh_free(up->s);
		/* Still the socket handed over (not one another thread got since,
		 * should a libssh close it in ssh_disconnect after all): close it,
		 * else the target's connection and this descriptor stay open. */
		if (fd >= 0 && fd == up->lib_fd && fstat(fd, &st) == 0 &&
		    st.st_dev == up->lib_dev && st.st_ino == up->lib_ino)
			close(fd);
	}
	if (up->fd >= 0)
		close(up->fd);
	ssh_key_free(up->identity);
	ssh_key_free(up->pinned);
}
