/* recd_witness: the Witness command (see recd_witness.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "recorder/recd.h"
#include "recorder/recd_log.h"
#include "recorder/recd_witness.h"

struct witness_run {
	uv_process_t proc;
	char line[64];		/* start of the head, for the log */
};

static void
witness_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
witness_exit(uv_process_t *p, int64_t status, int sig)
{
	struct witness_run *w = p->data;

	if (status != 0 || sig != 0)
		recd_log(LOG_ERR, "Witness: command failed (exit %lld, signal "
		    "%d) for head %s...", (long long)status, sig, w->line);
	uv_close((uv_handle_t *)p, witness_closed);
}

void
recd_witness_head(void *arg, const char *line)
{
	struct recd *d = arg;
	struct witness_run *w;
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	char *argv[4];
	int fds[2], r;
	size_t n = strlen(line);

	if (d->cfg.witness[0] == '\0')
		return;
	/* The head (< PIPE_BUF) goes into the pipe before the command
	 * starts: writing it never blocks. */
	if (pipe2(fds, O_CLOEXEC) != 0) {
		recd_log(LOG_ERR, "Witness: pipe: %s", strerror(errno));
		return;
	}
	if (write(fds[1], line, n) != (ssize_t)n || write(fds[1], "\n", 1) != 1) {
		recd_log(LOG_ERR, "Witness: cannot hand the head over: %s",
		    strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	close(fds[1]);
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		close(fds[0]);
		return;
	}
	memcpy(w->line, line, n < sizeof(w->line) - 1 ? n : sizeof(w->line) - 1);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = d->cfg.witness;
	argv[3] = NULL;
	memset(&o, 0, sizeof(o));
	memset(io, 0, sizeof(io));
	io[0].flags = UV_INHERIT_FD;
	io[0].data.fd = fds[0];
	io[1].flags = UV_IGNORE;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	o.file = argv[0];
	o.args = argv;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = witness_exit;
	w->proc.data = w;
	r = uv_spawn(d->loop, &w->proc, &o);
	close(fds[0]);
	if (r != 0) {
		recd_log(LOG_ERR, "Witness %s: %s", d->cfg.witness,
		    uv_strerror(r));
		uv_close((uv_handle_t *)&w->proc, witness_closed);
	}
}
