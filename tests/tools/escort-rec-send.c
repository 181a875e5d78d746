/*
 * escort-rec-send: a command-line sender for escort-recorder, built on the
 * proxy's sender (recorder/sender.h) with blocking sockets.  It streams a
 * file or stdin as events to a recorder over a unix socket or mutual TLS,
 * resumes after broken connections, and prints the receipt.  Used by the
 * integration tests and the benchmarks.
 *
 * usage: escort-rec-send -s unix:PATH|tls://HOST:PORT [options] [FILE|-]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/sender.h"
#include "common/tlsl.h"

struct opts {
	const char	*server;
	const char	*ca, *cert, *key;
	const char	*user, *target, *login, *client;
	uint16_t	 type;
	size_t		 chunk;
	size_t		 spool;
	int		 all_types;
	int		 sync_each;
	double		 retry;		/* seconds to keep reconnecting */
	long long	 kill_after;	/* _exit after this many bytes */
	int		 no_close;
	int		 quiet;
};

struct link {
	int		 fd;
	struct tlsl_ctx	*ctx;
	struct tlsl	*tls;
	long long	 written;
};

static int killed;		/* --kill-after-bytes reached */

static struct opts o = { .user = "alice", .target = "web01",
	.login = "ops", .client = "escort-rec-send", .type = EV_OUTPUT,
	.chunk = 4096, .spool = 16u << 20, .kill_after = -1 };

static void
usage(FILE *f)
{
	fprintf(f,
"usage: escort-rec-send -s unix:PATH|tls://HOST:PORT [options] [FILE|-]\n"
"  --ca FILE --cert FILE --key FILE   TLS: recorder CA, client cert and key\n"
"  --user U --target T --login L      session metadata\n"
"  --type output|input|stderr|marker  event type for the data (output)\n"
"  --chunk N        bytes per event (4096)\n"
"  --all-types      first send one event of every type\n"
"  --sync           ask for a durable ack after every event\n"
"  --spool N        spool limit in bytes (16 MiB)\n"
"  --retry SECONDS  reconnect and resume for this long after a break\n"
"  --kill-after-bytes N  exit(3) at once after writing N bytes\n"
"  --no-close       stop without closing the session\n"
"Prints 'accepted ID SEQ' per ACCEPT and 'closed ID SEQ HEAD SEAL' at the\n"
"end; exit 0 on success, 1 on failure, 2 on usage errors.\n");
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void
hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static int
dial(char *err, size_t errlen)
{
	int fd = -1, r;

	if (strncmp(o.server, "unix:", 5) == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(o.server + 5) >= sizeof(sa.sun_path)) {
			snprintf(err, errlen, "socket path too long");
			return -1;
		}
		memcpy(sa.sun_path, o.server + 5, strlen(o.server + 5) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa,
		    sizeof(sa)) == 0)
			return fd;
	} else if (strncmp(o.server, "tls://", 6) == 0) {
		char host[256], *port;
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

		snprintf(host, sizeof(host), "%s", o.server + 6);
		if ((port = strrchr(host, ':')) == NULL) {
			snprintf(err, errlen, "expected tls://HOST:PORT");
			return -1;
		}
		*port++ = '\0';
		if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
			snprintf(err, errlen, "%s: %s", host, gai_strerror(r));
			return -1;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		r = fd >= 0 ? connect(fd, ai->ai_addr, ai->ai_addrlen) : -1;
		freeaddrinfo(ai);
		if (r == 0)
			return fd;
	} else {
		snprintf(err, errlen, "unknown server \"%s\"", o.server);
		return -1;
	}
	snprintf(err, errlen, "%s: %s", o.server, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
link_open(struct link *l, char *err, size_t errlen)
{
	if ((l->fd = dial(err, errlen)) < 0)
		return -1;
	if (l->ctx != NULL) {
		char host[256], *c;

		snprintf(host, sizeof(host), "%s", o.server + 6);
		if ((c = strrchr(host, ':')) != NULL)
			*c = '\0';
		if (tlsl_new(l->ctx, host, &l->tls) != REC_OK) {
			snprintf(err, errlen, "TLS setup failed");
			close(l->fd);
			l->fd = -1;
			return -1;
		}
		tlsl_feed(l->tls, NULL, 0);	/* ClientHello */
	}
	return 0;
}

static void
link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	tlsl_free(l->tls);
	l->tls = NULL;
}

/* After a failed write: reads what the recorder sent before closing (a
 * REJECT or ABORT).  Returns -1 when that made the sender fail. */
static int
read_last_words(struct link *l, struct sender *s)
{
	uint8_t rb[65536], pb[65536];
	ssize_t r;
	long got;

	while ((r = recv(l->fd, rb, sizeof(rb), MSG_DONTWAIT)) > 0) {
		if (l->tls != NULL) {
			if (tlsl_feed(l->tls, rb, (size_t)r) != REC_OK)
				break;
			while ((got = tlsl_read(l->tls, pb, sizeof(pb))) > 0)
				if (sender_feed(s, pb, (size_t)got) != REC_OK)
					return -1;
		} else if (sender_feed(s, rb, (size_t)r) != REC_OK)
			return -1;
	}
	return sender_state(s) == SENDER_FAILED ? -1 : 0;
}

/*
 * One round of I/O: writes what is pending, reads what arrived (waiting up
 * to wait_ms).  Returns 0, -1 when the connection broke (reason in err),
 * -2 when the sender failed.
 */
static int
pump(struct link *l, struct sender *s, int wait_ms, char *err, size_t errlen)
{
	const uint8_t *p;
	uint8_t rb[65536], pb[65536];
	size_t n;
	ssize_t r;
	struct pollfd pf;

	n = sender_pending_output(s, &p);
	if (l->tls != NULL && n > 0) {
		if (tlsl_write(l->tls, p, n) != REC_OK) {
			snprintf(err, errlen, "%s", tlsl_error(l->tls));
			return -1;
		}
		sender_consume_output(s, n);
	}
	if (l->tls != NULL)
		n = tlsl_pending(l->tls, &p);
	pf.fd = l->fd;
	pf.events = POLLIN | (n > 0 ? POLLOUT : 0);
	pf.revents = 0;
	if (poll(&pf, 1, wait_ms) < 0 && errno != EINTR) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return -1;
	}
	if (pf.revents & POLLOUT) {
		size_t w = n;

		if (o.kill_after >= 0 && l->written + (long long)w >
		    o.kill_after)
			w = (size_t)(o.kill_after - l->written);
		r = send(l->fd, p, w, MSG_NOSIGNAL);
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			/* the recorder may have said why before closing */
			if (read_last_words(l, s) < 0)
				goto failed;
			return -1;
		}
		if (r > 0) {
			l->written += r;
			if (l->tls != NULL)
				tlsl_consume(l->tls, (size_t)r);
			else
				sender_consume_output(s, (size_t)r);
		}
		if (o.kill_after >= 0 && l->written >= o.kill_after) {
			killed = 1;	/* main exits at once, like a crash */
			return -2;
		}
	}
	if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
		r = read(l->fd, rb, sizeof(rb));
		if (r <= 0) {
			snprintf(err, errlen, "connection closed by the "
			    "recorder%s%s", r < 0 ? ": " : "",
			    r < 0 ? strerror(errno) : "");
			return -1;
		}
		if (l->tls != NULL) {
			long got;

			if (tlsl_feed(l->tls, rb, (size_t)r) != REC_OK) {
				snprintf(err, errlen, "%s", tlsl_error(l->tls));
				return -1;
			}
			while ((got = tlsl_read(l->tls, pb, sizeof(pb))) > 0)
				if (sender_feed(s, pb, (size_t)got) != REC_OK)
					goto failed;
			if (got < 0) {
				snprintf(err, errlen, "%s", got == REC_ECLOSED ?
				    "TLS closed" : tlsl_error(l->tls));
				return -1;
			}
		} else if (sender_feed(s, rb, (size_t)r) != REC_OK)
			goto failed;
	}
	return 0;
failed:
	snprintf(err, errlen, "%s", sender_reason(s));
	return -2;
}

/* Keeps the connection going: on a break, resumes within o.retry seconds.
 * Returns 0, or -1 (message printed). */
static int
step(struct link *l, struct sender *s, int wait_ms)
{
	char err[1024];
	double deadline;
	int r;
	static char last_id[80];
	static uint64_t last_acked = (uint64_t)-1;

	r = pump(l, s, wait_ms, err, sizeof(err));
	if (killed)
		return -1;
	if (strcmp(last_id, sender_session_id(s)) != 0 ||
	    (sender_state(s) == SENDER_OPEN && last_acked == (uint64_t)-1)) {
		snprintf(last_id, sizeof(last_id), "%s", sender_session_id(s));
		if (last_id[0] != '\0') {
			last_acked = sender_acked_seq(s);
			printf("accepted %s %llu\n", last_id,
			    (unsigned long long)last_acked);
			fflush(stdout);
		}
	}
	if (r == 0)
		return 0;
	if (r == -2 || sender_state(s) == SENDER_FAILED) {
		fprintf(stderr, "escort-rec-send: %s\n", err);
		return -1;
	}
	link_close(l);
	if (sender_state(s) == SENDER_CLOSED)
		return 0;
	if (o.retry <= 0) {
		fprintf(stderr, "escort-rec-send: %s\n", err);
		return -1;
	}
	if (!o.quiet)
		fprintf(stderr, "escort-rec-send: %s; resuming\n", err);
	sender_on_disconnect(s);
	deadline = now_s() + o.retry;
	while (link_open(l, err, sizeof(err)) < 0) {
		if (now_s() > deadline) {
			fprintf(stderr, "escort-rec-send: %s (gave up after "
			    "%.0f s)\n", err, o.retry);
			return -1;
		}
		usleep(20000);
	}
	last_acked = (uint64_t)-1;
	last_id[0] = '\0';
	return 0;
}

static void
put_fields(struct buf *b, const char *kind)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	ev_fields_put_str(b, EVF_USER, o.user);
	ev_fields_put_str(b, EVF_ATTR, "team=ops");
	ev_fields_put_str(b, EVF_TARGET, o.target);
	ev_fields_put_str(b, EVF_LOGIN, o.login);
	ev_fields_put_str(b, EVF_CLIENT_ADDR, "127.0.0.1:40000");
	ev_fields_put_str(b, EVF_CLIENT_KEY, "SHA256:escort-rec-send");
	ev_fields_put_str(b, EVF_POLICY_HASH, "0000");
	ev_fields_put_str(b, EVF_PROXY_ID, "escort-rec-send");
	ev_fields_put_u64(b, EVF_WALL_NS, (uint64_t)t.tv_sec * 1000000000 +
	    (uint64_t)t.tv_nsec);
	ev_fields_put_str(b, EVF_KIND, kind);
}

/* Adds an event, pumping I/O while the spool is full. */
static int
add(struct link *l, struct sender *s, uint16_t type, const void *p,
    size_t n)
{
	int r;

	while ((r = sender_event(s, type, 0, p, n)) == REC_EFULL)
		if (step(l, s, 100) < 0)
			return -1;
	if (r != REC_OK) {
		fprintf(stderr, "escort-rec-send: event: %s\n",
		    rec_strerror(r));
		return -1;
	}
	if (o.sync_each)
		sender_sync(s);
	/* keep the socket busy without waiting */
	return step(l, s, 0);
}

/* One event of every type a proxy sends, with typical fields. */
static int
all_types(struct link *l, struct sender *s)
{
	struct buf b;
	uint8_t sha[32];
	int r = 0;

	buf_init(&b, 0);
#define FIELDS(type, stmts) do { buf_reset(&b); stmts; \
	if (r == 0 && add(l, s, type, buf_ptr(&b), buf_len(&b)) < 0) r = -1; \
} while (0)
	FIELDS(EV_CHANNEL, ev_fields_put_str(&b, EVF_CH_ACTION, "pty");
	    ev_fields_put_str(&b, EVF_TERM, "xterm-256color");
	    ev_fields_put_u64(&b, EVF_COLS, 80);
	    ev_fields_put_u64(&b, EVF_ROWS, 24));
	FIELDS(EV_RESIZE, ev_fields_put_u64(&b, EVF_COLS, 132);
	    ev_fields_put_u64(&b, EVF_ROWS, 43));
	if (r == 0 && add(l, s, EV_INPUT, "ls -l\r", 6) < 0)
		r = -1;
	FIELDS(EV_DECISION, ev_fields_put_str(&b, EVF_VERDICT, "allow");
	    ev_fields_put_str(&b, EVF_COMMAND, "ls -l");
	    ev_fields_put_str(&b, EVF_RULE, "vendors-on-prod");
	    ev_fields_put_u64(&b, EVF_RULE_LINE, 12));
	if (r == 0 && add(l, s, EV_STDERR, "warning: x\n", 11) < 0)
		r = -1;
	FIELDS(EV_ESCORT, ev_fields_put_str(&b, EVF_ESC_ACTION, "join");
	    ev_fields_put_str(&b, EVF_ESCORT, "carol"));
	memset(sha, 0x5a, sizeof(sha));
	FIELDS(EV_FILE, ev_fields_put_str(&b, EVF_PATH, "/tmp/f");
	    ev_fields_put_str(&b, EVF_DIRECTION, "upload");
	    ev_fields_put_u64(&b, EVF_SIZE, 3);
	    ev_fields_put(&b, EVF_SHA256, sha, sizeof(sha));
	    ev_fields_put_u64(&b, EVF_OFFSET, 0);
	    ev_fields_put(&b, EVF_CONTENT, "abc", 3));
	FIELDS(EV_MARKER, ev_fields_put_str(&b, EVF_TEXT, "checkpoint A"));
	FIELDS(EV_EXIT, ev_fields_put_u64(&b, EVF_EXIT_STATUS, 0));
#undef FIELDS
	buf_free(&b);
	return r;
}

static uint16_t
type_of(const char *name)
{
	if (strcmp(name, "output") == 0)
		return EV_OUTPUT;
	if (strcmp(name, "input") == 0)
		return EV_INPUT;
	if (strcmp(name, "stderr") == 0)
		return EV_STDERR;
	if (strcmp(name, "marker") == 0)
		return EV_MARKER;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "user", required_argument, NULL, 'u' },
		{ "target", required_argument, NULL, 'T' },
		{ "login", required_argument, NULL, 'L' },
		{ "type", required_argument, NULL, 'y' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "spool", required_argument, NULL, 'S' },
		{ "all-types", no_argument, NULL, 'a' },
		{ "sync", no_argument, NULL, 'Y' },
		{ "retry", required_argument, NULL, 'r' },
		{ "kill-after-bytes", required_argument, NULL, 'k' },
		{ "no-close", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct link l = { .fd = -1 };
	struct sender *s;
	struct buf meta;
	const struct sender_receipt *rc;
	char err[1024];
	uint8_t *data;
	int ch, in = 0, rcode = 1;
	ssize_t n;

	while ((ch = getopt_long(argc, argv, "s:h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o.server = optarg; break;
		case 'A': o.ca = optarg; break;
		case 'C': o.cert = optarg; break;
		case 'K': o.key = optarg; break;
		case 'u': o.user = optarg; break;
		case 'T': o.target = optarg; break;
		case 'L': o.login = optarg; break;
		case 'y':
			if ((o.type = type_of(optarg)) == 0) {
				fprintf(stderr, "escort-rec-send: unknown type "
				    "%s\n", optarg);
				return 2;
			}
			break;
		case 'c': o.chunk = strtoul(optarg, NULL, 0); break;
		case 'S': o.spool = strtoul(optarg, NULL, 0); break;
		case 'a': o.all_types = 1; break;
		case 'Y': o.sync_each = 1; break;
		case 'r': o.retry = strtod(optarg, NULL); break;
		case 'k': o.kill_after = strtoll(optarg, NULL, 0); break;
		case 'N': o.no_close = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.server == NULL || argc - optind > 1 || o.chunk == 0 ||
	    o.chunk > EV_PAYLOAD_MAX) {
		usage(stderr);
		return 2;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0 &&
	    (in = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "escort-rec-send: %s: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	if (strncmp(o.server, "tls://", 6) == 0) {
		if (o.ca == NULL) {
			fprintf(stderr, "escort-rec-send: tls needs --ca\n");
			return 2;
		}
		if (tlsl_ctx_client(o.ca, o.cert, o.key, &l.ctx, err,
		    sizeof(err)) != REC_OK) {
			fprintf(stderr, "escort-rec-send: %s\n", err);
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	buf_init(&meta, 0);
	put_fields(&meta, o.all_types ? "shell" : "exec");
	s = sender_new(buf_ptr(&meta), buf_len(&meta), o.spool, o.client);
	buf_free(&meta);
	if (s == NULL || (data = malloc(o.chunk)) == NULL) {
		fprintf(stderr, "escort-rec-send: out of memory\n");
		return 1;
	}
	if (link_open(&l, err, sizeof(err)) < 0) {
		fprintf(stderr, "escort-rec-send: %s\n", err);
		goto out;
	}
	if (o.all_types && all_types(&l, s) < 0)
		goto out;
	for (;;) {
		n = read(in, data, o.chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "escort-rec-send: read: %s\n",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (add(&l, s, o.type, data, (size_t)n) < 0)
			goto out;
	}
	if (o.no_close) {
		sender_sync(s);
		while (sender_acked_seq(s) < sender_last_seq(s))
			if (step(&l, s, 100) < 0)
				goto out;
		printf("acked %s %llu\n", sender_session_id(s),
		    (unsigned long long)sender_acked_seq(s));
		rcode = 0;
		goto out;
	}
	if (sender_close(s) != REC_OK) {
		fprintf(stderr, "escort-rec-send: close: %s\n",
		    sender_reason(s));
		goto out;
	}
	while (sender_state(s) != SENDER_CLOSED)
		if (step(&l, s, 100) < 0)
			goto out;
	rc = sender_receipt(s);
	printf("closed %s %llu ", rc->id, (unsigned long long)rc->seq);
	hex(stdout, rc->head, sizeof(rc->head));
	putchar(' ');
	hex(stdout, rc->sig, rc->sig_len);
	putchar('\n');
	rcode = 0;
out:
	if (killed)
		_exit(3);	/* no cleanup, no close: a crashed proxy */
	link_close(&l);
	tlsl_ctx_free(l.ctx);
	sender_free(s);
	free(data);
	return rcode;
}
