/*
 * Live test: the real OpenSSH scp client in legacy mode (-O) and the real
 * remote `scp -t/-f` talk through scp_watch, as they do through the proxy.
 * This program is both the test and the relay: `scp -S THIS` runs it in
 * place of ssh; with ESCORT_RELAY_MODE set it classifies the command with
 * scp_cmd_parse, refuses a direction the mode does not allow (as the proxy
 * does at exec time), else runs the command and watches both directions,
 * writing the records to ESCORT_RELAY_RECORDS, one a line:
 * OP DIRECTION OUTCOME PATH SIZE SHA256|-.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "proxy/px_error.h"
#include "tests/unit/live_files.h"
#include "proxy/xfer_scp.h"

/* ---- the relay -------------------------------------------------------- */

static void
log_records(struct scp_watch *w, FILE *out)
{
	struct xfer_record *r;

	while ((r = scp_watch_take_record(w)) != NULL) {
		fprintf(out, "%s %s %s %s %llu %s\n", xfer_op_name(r->op),
		    xfer_dir_name(r->dir), xfer_outcome_name(r->outcome),
		    r->path, (unsigned long long)r->size,
		    r->sha256_hex[0] ? r->sha256_hex : "-");
		xfer_record_free(r);
	}
	fflush(out);
}

static int
relay_main(const char *command)
{
	enum xfer_mode mode;
	struct scp_cmd cmd;
	struct scp_watch *w;
	int in[2], out[2], to_server, rc = 0;
	struct pollfd pf[2];
	uint8_t buf[65536];
	FILE *rec;
	pid_t pid;

	alarm(60);
	if (xfer_mode_parse(getenv("ESCORT_RELAY_MODE"), &mode) != PX_OK)
		return 2;
	if ((rec = fopen(getenv("ESCORT_RELAY_RECORDS"), "a")) == NULL)
		return 2;
	if (scp_cmd_parse(command, &cmd) != PX_OK)
		return 2;
	if (cmd.kind == SCP_CMD_NONE || cmd.kind == SCP_CMD_INVALID ||
	    (cmd.kind == SCP_CMD_UPLOAD && !(mode & XFER_MODE_UPLOAD)) ||
	    (cmd.kind == SCP_CMD_DOWNLOAD && !(mode & XFER_MODE_DOWNLOAD))) {
		fprintf(rec, "exec denied %s\n", command);
		fprintf(stderr, "escort: scp %s refused by policy (sftp %s)\n",
		    cmd.kind == SCP_CMD_UPLOAD ? "upload" : "download",
		    xfer_mode_name(mode));
		fclose(rec);
		scp_cmd_free(&cmd);
		return 1;
	}
	w = scp_watch_new(&cmd, 1 << 20);
	scp_cmd_free(&cmd);
	if (pipe(in) < 0 || pipe(out) < 0)
		return 2;
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_server = in[1];
	pf[0].fd = 0;
	pf[1].fd = out[0];
	pf[0].events = pf[1].events = POLLIN;
	while (pf[1].fd >= 0) {
		int r = PX_OK;
		ssize_t n;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].fd >= 0 && (pf[0].revents & (POLLIN | POLLHUP))) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				pf[0].fd = -1;
				close(to_server);
				to_server = -1;
			} else {
				r = scp_watch_client(w, buf, (size_t)n);
				if (write_all(to_server, buf, (size_t)n) < 0)
					break;
			}
		}
		if (r == PX_OK && (pf[1].revents & (POLLIN | POLLHUP))) {
			n = read(out[0], buf, sizeof(buf));
			if (n <= 0)
				pf[1].fd = -1;
			else {
				r = scp_watch_server(w, buf, (size_t)n);
				if (write_all(1, buf, (size_t)n) < 0)
					break;
			}
		}
		log_records(w, rec);
		if (r != PX_OK) {
			fprintf(rec, "error %s\n", scp_watch_error(w));
			rc = 1;
			break;
		}
	}
	scp_watch_finish(w);
	log_records(w, rec);
	scp_watch_free(w);
	fclose(rec);
	if (to_server >= 0)
		close(to_server);
	waitpid(pid, NULL, 0);
	return rc;
}

/* ---- the test side ---------------------------------------------------- */

static char self[4096];

static void
mk(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

/* Runs scp -O with args through the relay; returns its exit status and
 * the records (malloc'd text, "" if none). */
static int
run_scp(const char *mode, const char *a1, const char *a2, const char *a3,
    char **records)
{
	char rpath[512];
	size_t n;
	pid_t pid;
	int st = 0, waited;

	snprintf(rpath, sizeof(rpath), "%s/records", dir);
	unlink(rpath);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);

		if (chdir(dir) < 0)
			_exit(126);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setenv("ESCORT_RELAY_MODE", mode, 1);
		setenv("ESCORT_RELAY_RECORDS", rpath, 1);
		execlp("scp", "scp", "-O", "-q", "-S", self, a1, a2, a3,
		    (char *)NULL);
		_exit(127);
	}
	for (waited = 0; waited < 3000; waited++) {	/* 30 s at most */
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	if (waited == 3000) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("scp did not finish in 30 s");
	}
	*records = (char *)get_file("records", &n);
	if (*records == NULL)
		*records = strdup("");
	else
		(*records)[n] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int
setup(void **state)
{
	ssize_t n;

	(void)state;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "/tmp/escort-scp-live-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
expect_line(const char *rec, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (strstr(rec, line) == NULL)
		fail_msg("no \"%s\" in:\n%s", line, rec);
}

/* Download-only: a recursive download is recorded file by file; an upload
 * is refused at exec time and nothing arrives. */
static void
test_live_download_only(void **state)
{
	static uint8_t a[250000], b[3000];
	char src[600], ha[65], hb[65], *rec;
	uint8_t *got;
	size_t n;

	(void)state;
	pattern(a, sizeof(a), 1);
	pattern(b, sizeof(b), 2);
	mk("d1"); mk("d1/tree"); mk("d1/tree/in"); mk("out1");
	put_file("d1/tree/a.bin", a, sizeof(a));
	put_file("d1/tree/in/b.txt", b, sizeof(b));
	snprintf(src, sizeof(src), "host:%s/d1/tree", dir);
	assert_int_equal(run_scp("download", "-r", src, "out1/", &rec), 0);
	assert_non_null(got = get_file("out1/tree/a.bin", &n));
	assert_int_equal(n, sizeof(a));
	assert_memory_equal(got, a, n);
	free(got);
	hex(a, sizeof(a), ha);
	hex(b, sizeof(b), hb);
	expect_line(rec, "file download ok %s/d1/tree/a.bin 250000 %s\n", dir, ha);
	expect_line(rec, "file download ok %s/d1/tree/in/b.txt 3000 %s\n", dir,
	    hb);
	assert_null(strstr(rec, "error"));
	free(rec);

	snprintf(src, sizeof(src), "host:%s/out1/", dir);
	assert_int_not_equal(run_scp("download", "-p", "d1/tree/in/b.txt", src,
	    &rec), 0);
	assert_null(get_file("out1/b.txt", &n));
	expect_line(rec, "exec denied scp ");
	assert_non_null(strstr(rec, " -t "));
	free(rec);
}

/* Both: an upload of a tree lands intact and is recorded with digests. */
static void
test_live_upload(void **state)
{
	static uint8_t a[120000];
	char dst[600], ha[65], *rec;
	uint8_t *got;
	size_t n;

	(void)state;
	pattern(a, sizeof(a), 3);
	mk("d2"); mk("d2/up"); mk("dest");
	put_file("d2/up/a.bin", a, sizeof(a));
	put_file("d2/up/empty", a, 0);
	snprintf(dst, sizeof(dst), "host:%s/dest/", dir);
	assert_int_equal(run_scp("both", "-r", "d2/up", dst, &rec), 0);
	assert_non_null(got = get_file("dest/up/a.bin", &n));
	assert_int_equal(n, sizeof(a));
	assert_memory_equal(got, a, n);
	free(got);
	hex(a, sizeof(a), ha);
	expect_line(rec, "mkdir upload ok %s/dest/up 0 -\n", dir);
	expect_line(rec, "file upload ok %s/dest/up/a.bin 120000 %s\n", dir, ha);
	expect_line(rec, "file upload ok %s/dest/up/empty 0 "
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
	    dir);
	free(rec);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_download_only),
		cmocka_unit_test(test_live_upload),
	};

	if (getenv("ESCORT_RELAY_MODE") != NULL)
		return argc > 1 ? relay_main(argv[argc - 1]) : 2;
	return cmocka_run_group_tests(tests, setup, teardown);
}
