/*
 * Live test: the real OpenSSH sftp client and the real sftp-server talk
 * through sftp_filter, as they do through the proxy.  This program is both
 * the test and the relay: `sftp -S THIS` runs it in place of ssh, and with
 * ESCORT_RELAY_MODE set it starts sftp-server, pumps both directions
 * through the filter and writes the records to ESCORT_RELAY_RECORDS, one a
 * line: OP DIRECTION OUTCOME PATH SIZE SHA256|-.
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
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "proxy/px_error.h"
#include "tests/unit/live_files.h"
#include "proxy/xfer_sftp_filter.h"

#define SFTP_SERVER	"/usr/lib/openssh/sftp-server"

/* ---- the relay -------------------------------------------------------- */

static int
flush(struct sftp_filter *f, int to_server, int to_client)
{
	const uint8_t *p;
	size_t n;

	p = sftp_filter_upstream(f, &n);
	if (n > 0 && to_server >= 0 && write_all(to_server, p, n) < 0)
		return -1;
	sftp_filter_upstream_consume(f, n);
	p = sftp_filter_downstream(f, &n);
	if (n > 0 && write_all(to_client, p, n) < 0)
		return -1;
	sftp_filter_downstream_consume(f, n);
	return 0;
}

static void
log_records(struct sftp_filter *f, FILE *out)
{
	struct xfer_record *r;

	while ((r = sftp_filter_take_record(f)) != NULL) {
		fprintf(out, "%s %s %s %s %llu %s\n", xfer_op_name(r->op),
		    xfer_dir_name(r->dir), xfer_outcome_name(r->outcome),
		    r->path, (unsigned long long)r->size,
		    r->sha256_hex[0] ? r->sha256_hex : "-");
		xfer_record_free(r);
	}
	fflush(out);
}

static int
relay_main(void)
{
	struct sftp_filter_config cfg;
	struct sftp_filter *f;
	int in[2], out[2], to_server, rc = 0;
	struct pollfd pf[2];
	uint8_t buf[65536];
	FILE *rec;
	pid_t pid;

	alarm(60);
	sftp_filter_config_init(&cfg);
	if (xfer_mode_parse(getenv("ESCORT_RELAY_MODE"), &cfg.mode) != PX_OK)
		return 2;
	if ((rec = fopen(getenv("ESCORT_RELAY_RECORDS"), "a")) == NULL)
		return 2;
	if (pipe(in) < 0 || pipe(out) < 0)
		return 2;
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(SFTP_SERVER, SFTP_SERVER, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_server = in[1];
	f = sftp_filter_new(&cfg);
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
			} else
				r = sftp_filter_client(f, buf, (size_t)n);
		}
		if (r == PX_OK && (pf[1].revents & (POLLIN | POLLHUP))) {
			n = read(out[0], buf, sizeof(buf));
			if (n <= 0)
				pf[1].fd = -1;
			else
				r = sftp_filter_server(f, buf, (size_t)n);
		}
		if (flush(f, to_server, 1) < 0)
			break;
		log_records(f, rec);
		if (r != PX_OK) {
			fprintf(rec, "error %s\n", sftp_filter_error(f));
			rc = 1;
			break;
		}
	}
	sftp_filter_finish(f);
	log_records(f, rec);
	sftp_filter_free(f);
	fclose(rec);
	if (to_server >= 0)
		close(to_server);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return rc;
}

/* ---- the test side ---------------------------------------------------- */

static char self[4096];

static int
exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return stat(p, &st) == 0;
}

/* Runs sftp with this batch through the relay in the given mode; returns
 * the records written (malloc'd text). */
static char *
run_sftp(const char *mode, const char *batch)
{
	char bpath[512], rpath[512];
	size_t n;
	pid_t pid;
	int st = 0, waited;
	FILE *f;

	snprintf(bpath, sizeof(bpath), "%s/batch", dir);
	snprintf(rpath, sizeof(rpath), "%s/records", dir);
	unlink(rpath);
	assert_non_null(f = fopen(bpath, "w"));
	fputs(batch, f);
	fclose(f);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);

		if (chdir(dir) < 0)
			_exit(126);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setenv("ESCORT_RELAY_MODE", mode, 1);
		setenv("ESCORT_RELAY_RECORDS", rpath, 1);
		execlp("sftp", "sftp", "-q", "-S", self, "-b", bpath, "host",
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
		fail_msg("sftp did not finish in 30 s");
	}
	{
		char *t = (char *)get_file("records", &n);

		assert_non_null(t);
		t[n] = '\0';
		return t;
	}
}

static int
setup(void **state)
{
	char p[512];
	ssize_t n;

	(void)state;
	if (access(SFTP_SERVER, X_OK) != 0)
		return -1;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "/tmp/escort-sftp-live-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/remote", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/local", dir);
	mkdir(p, 0700);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Download-only: get works and is recorded with its digest; put, rm and
 * mkdir are refused by the filter and never happen. */
static void
test_live_download_only(void **state)
{
	static uint8_t data[300000], up[5000];
	char want[65], line[1024], *rec;
	uint8_t *got;
	size_t n;

	(void)state;
	pattern(data, sizeof(data), 7);
	pattern(up, sizeof(up), 8);
	put_file("remote/data.bin", data, sizeof(data));
	put_file("local/up.txt", up, sizeof(up));
	rec = run_sftp("download",
	    "-put local/up.txt remote/up.txt\n"
	    "get remote/data.bin local/data.bin\n"
	    "-rm remote/data.bin\n"
	    "-mkdir remote/newdir\n");
	assert_false(exists("remote/up.txt"));
	assert_true(exists("remote/data.bin"));
	assert_false(exists("remote/newdir"));
	assert_non_null(got = get_file("local/data.bin", &n));
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(got, data, n);
	free(got);
	hex(data, sizeof(data), want);
	snprintf(line, sizeof(line), "file download ok %s/remote/data.bin "
	    "300000 %s\n", dir, want);
	if (strstr(rec, line) == NULL)
		fail_msg("no \"%s\" in:\n%s", line, rec);
	snprintf(line, sizeof(line), "file upload denied %s/remote/up.txt 0 -\n",
	    dir);
	assert_non_null(strstr(rec, line));
	snprintf(line, sizeof(line), "remove upload denied %s/remote/data.bin",
	    dir);
	assert_non_null(strstr(rec, line));
	snprintf(line, sizeof(line), "mkdir upload denied %s/remote/newdir",
	    dir);
	assert_non_null(strstr(rec, line));
	assert_null(strstr(rec, "error"));
	free(rec);
}

/* Both: put and get intact; each recorded with the file's SHA-256. */
static void
test_live_both(void **state)
{
	static uint8_t up[1000000];
	char want[65], line[1024], *rec;
	uint8_t *got;
	size_t n;

	(void)state;
	pattern(up, sizeof(up), 9);
	put_file("local/big.bin", up, sizeof(up));
	rec = run_sftp("both",
	    "put local/big.bin remote/big.bin\n"
	    "get remote/big.bin local/back.bin\n"
	    "rename remote/big.bin remote/moved.bin\n");
	assert_non_null(got = get_file("remote/moved.bin", &n));
	assert_int_equal(n, sizeof(up));
	assert_memory_equal(got, up, n);
	free(got);
	assert_non_null(got = get_file("local/back.bin", &n));
	assert_int_equal(n, sizeof(up));
	free(got);
	hex(up, sizeof(up), want);
	snprintf(line, sizeof(line), "file upload ok %s/remote/big.bin "
	    "1000000 %s\n", dir, want);
	if (strstr(rec, line) == NULL)
		fail_msg("no \"%s\" in:\n%s", line, rec);
	snprintf(line, sizeof(line), "file download ok %s/remote/big.bin "
	    "1000000 %s\n", dir, want);
	assert_non_null(strstr(rec, line));
	snprintf(line, sizeof(line), "rename upload ok %s/remote/big.bin", dir);
	assert_non_null(strstr(rec, line));
	free(rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_download_only),
		cmocka_unit_test(test_live_both),
	};

	if (getenv("ESCORT_RELAY_MODE") != NULL)
		return relay_main();
	return cmocka_run_group_tests(tests, setup, teardown);
}
