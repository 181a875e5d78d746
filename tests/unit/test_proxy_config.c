/* Unit tests for proxy/config: escort-proxy.conf(5) parsing, defaults, and
 * the FILE:LINE: message of every kind of error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "proxy/config.h"
#include "proxy/px_error.h"

static char path[64];

static int
load(const char *text, struct px_config *c, char *err, size_t errlen)
{
	FILE *f;
	int fd, rc;

	snprintf(path, sizeof(path), "/tmp/test_proxy_config.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	rc = px_config_load(path, c, err, errlen);
	unlink(path);
	return rc;
}

#define BASE "Listen 127.0.0.1:2222\nHostKey /k\nPolicy /p\nRecorder unix:/r.sock\n"

static void
test_valid_and_defaults(void **state)
{
	struct px_config c;
	char err[512] = "";

	(void)state;
	assert_int_equal(load("# proxy\n"
	    "listen 127.0.0.1:2222   # trailing comment\n"
	    "Listen [::1]:2223\n"
	    "HostKey \"/etc/escort/host key\"\nPolicy /p\nRecorder unix:/r.sock\n"
	    "Workers 4\nLoginGraceTime 2m\nMaxStartups 5:50:20\nSpoolLimit 8M\n"
	    "FileContentLimit 0\nClientAliveInterval 15\nClientAliveCountMax 4\n"
	    "TargetAliveInterval 1m\nLogLevel debug\nApprovalTimeout 5m\n"
	    "EscortWaitTimeout 10m\nEscortLeaveTimeout 30\n", &c, err, sizeof(err)), PX_OK);
	assert_int_equal(c.nlisten, 2);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 2222);
	assert_string_equal(c.listen[1].host, "::1");
	assert_string_equal(c.hostkey, "/etc/escort/host key");
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.login_grace_time, 120);
	assert_int_equal(c.max_startups_start, 5);
	assert_int_equal(c.max_startups_rate, 50);
	assert_int_equal(c.max_startups_full, 20);
	assert_int_equal(c.spool_limit, 8u << 20);
	assert_int_equal(c.file_content_limit, 0);
	assert_int_equal(c.keepalive_interval, 15);
	assert_int_equal(c.keepalive_count_max, 4);
	assert_int_equal(c.target_alive_interval, 60);
	assert_int_equal(c.target_alive_count_max, 3);
	assert_int_equal(c.log_level, 3);
	assert_int_equal(c.approval_timeout, 300);
	assert_int_equal(c.escort_wait_timeout, 600);
	assert_int_equal(c.escort_leave_timeout, 30);
	px_config_free(&c);

	assert_int_equal(load(BASE, &c, err, sizeof(err)), PX_OK);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.login_grace_time, 30);
	assert_int_equal(c.max_auth_tries, 6);
	assert_int_equal(c.recorder_timeout, 30);
	assert_int_equal(c.approval_timeout, 120);
	assert_int_equal(c.escort_wait_timeout, 300);
	assert_int_equal(c.escort_leave_timeout, 120);
	assert_int_equal(c.spool_limit, 16u << 20);
	assert_int_equal(c.file_content_limit, 1u << 20);
	assert_int_equal(c.keepalive_interval, 0);
	assert_null(c.recorder_tls);
	px_config_free(&c);
}

/* Each bad line yields "FILE:LINE: message" naming the problem. */
static void
test_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} cases[] = {
		{ BASE "Frobnicate yes\n", 5, "unknown keyword \"Frobnicate\"" },
		{ BASE "Workers\n", 5, "Workers takes exactly one argument" },
		{ BASE "Workers 0\n", 5, "Workers: \"0\" is not a number from 1 to 64" },
		{ BASE "Workers 2 3\n", 5, "Workers takes exactly one argument" },
		{ "Listen 127.0.0.1\n", 1, "Listen: \"127.0.0.1\" is not ADDRESS:PORT" },
		{ "Listen [::1:22\n", 1, "is not [ADDRESS]:PORT" },
		{ "Listen 127.0.0.1:70000\n", 1, "is not a number from 1 to 65535" },
		{ BASE "HostKey /other\n", 5, "HostKey given twice (first at line 2)" },
		{ BASE "Workers 2\nworkers 3\n", 6, "Workers given twice (first at line 5)" },
		{ "Recorder http://x\n", 1, "is neither unix:PATH nor tls://HOST:PORT" },
		{ BASE "LoginGraceTime soon\n", 5, "is not a duration" },
		{ BASE "LoginGraceTime 0\n", 5, "LoginGraceTime must be at least 1 second" },
		{ BASE "ApprovalTimeout later\n", 5, "is not a duration" },
		{ BASE "EscortWaitTimeout never\n", 5, "is not a duration" },
		{ BASE "EscortLeaveTimeout 0\n", 5, "EscortLeaveTimeout must be at least 1 second" },
		{ BASE "SpoolLimit 10K\n", 5, "SpoolLimit must be at least 64K" },
		{ BASE "SpoolLimit lots\n", 5, "is not a size" },
		{ BASE "FileContentLimit 1G\n", 5, "FileContentLimit must be at most 64M" },
		{ BASE "MaxStartups 10:30\n", 5, "expected START or START:RATE:FULL" },
		{ BASE "MaxStartups 10:30:5\n", 5, "FULL must not be below START" },
		{ BASE "ClientAliveCountMax 0\n", 5, "is not a number from 1 to 1000" },
		{ BASE "LogLevel loud\n", 5, "is not error, warning, info or debug" },
		{ BASE "HostKey \"/k\n", 5, "unterminated quoted string" },
		{ BASE "Policy \"/p\"x\n", 5, "text after closing quote" },
		{ BASE "ProxyProtocol\n", 5, "ProxyProtocol takes one or more addresses" },
		{ BASE "ProxyProtocol 10.0.0.1 lb.example\n", 5,
		  "ProxyProtocol: \"lb.example\" is not ADDRESS or ADDRESS/PREFIX" },
		{ BASE "ProxyProtocol 10.0.0.1/8\n", 5, "no host bits past the prefix" },
		{ BASE "ProxyProtocol ::1/129\n", 5, "is not ADDRESS or ADDRESS/PREFIX" },
		{ BASE "Registry 127.0.0.1:6379\n", 5, "Registry: \"127.0.0.1:6379\" is not redis://HOST:PORT" },
		{ BASE "Registry redis://h:1\nProxyName a/b\n", 6, "ProxyName: \"a/b\" is not 1 to 64" },
		{ BASE "Registry redis://h:1\nRegistryPasswordFile pw\n", 6,
		  "RegistryPasswordFile: \"pw\" is not an absolute path" },
	};
	struct px_config c;
	char err[512], want[600];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(cases[i].text, &c, err, sizeof(err)), PX_ECONFIG);
		snprintf(want, sizeof(want), "%s:%d: ", path, cases[i].line);
		if (strncmp(err, want, strlen(want)) != 0 || strstr(err, cases[i].msg) == NULL) {
			print_error("case %zu: got \"%s\", want \"%s...%s\"\n", i, err, want, cases[i].msg);
			fail();
		}
		px_config_free(&c);
	}
}

/* Every mistake of a file is reported in one load, one line each, in file
 * order; whole-file problems follow. */
static void
test_every_error_in_one_run(void **state)
{
	struct px_config c;
	char err[2048], want[4][600];

	(void)state;
	assert_int_equal(load("Listen 127.0.0.1:99999\nHostKey /k\nWorkers many\nColour blue\n"
	    "Policy /p\n", &c, err, sizeof(err)), PX_ECONFIG);
	snprintf(want[0], sizeof(want[0]), "%s:1: Listen", path);
	snprintf(want[1], sizeof(want[1]), "%s:3: Workers", path);
	snprintf(want[2], sizeof(want[2]), "%s:4: unknown keyword \"Colour\"", path);
	snprintf(want[3], sizeof(want[3]), "%s: Recorder is required", path);
	{
		char *line = err, *next;
		for (int i = 0; i < 4; i++) {
			assert_non_null(line);
			next = strchr(line, '\n');
			if (strncmp(line, want[i], strlen(want[i])) != 0) {
				print_error("line %d: got \"%s\", want \"%s...\"\n", i, line, want[i]);
				fail();
			}
			line = next ? next + 1 : NULL;
		}
		assert_null(line);
	}
	/* what was read is kept for the policy check (and freed by the caller) */
	assert_string_equal(c.policy, "/p");
	assert_string_equal(c.hostkey, "/k");
	px_config_free(&c);
}

/* Whole-file problems name the file. */
static void
test_missing_keywords(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "HostKey /k\nPolicy /p\nRecorder unix:/r\n", "no Listen address" },
		{ "Listen 127.0.0.1:22\nPolicy /p\nRecorder unix:/r\n", "HostKey is required" },
		{ "Listen 127.0.0.1:22\nHostKey /k\nRecorder unix:/r\n", "Policy is required" },
		{ "Listen 127.0.0.1:22\nHostKey /k\nPolicy /p\n", "Recorder is required" },
		{ "Listen 127.0.0.1:22\nHostKey /k\nPolicy /p\nRecorder tls://127.0.0.1:7447\n",
		  "needs RecorderCA, RecorderCertificate and RecorderKey" },
		{ "Listen 127.0.0.1:22\nHostKey /k\nPolicy /p\nRecorder tls://127.0.0.1:7447\n"
		  "RecorderCA /nonexistent/ca.pem\nRecorderCertificate /c\nRecorderKey /k\n",
		  "/nonexistent/ca.pem" },
	};
	struct px_config c;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(cases[i].text, &c, err, sizeof(err)), PX_ECONFIG);
		if (strncmp(err, path, strlen(path)) != 0 || strstr(err, cases[i].msg) == NULL) {
			print_error("case %zu: got \"%s\", want \"%s: ...%s\"\n", i, err, path, cases[i].msg);
			fail();
		}
		px_config_free(&c);
	}
	assert_int_equal(px_config_load("/nonexistent/escort-proxy.conf", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, "/nonexistent/escort-proxy.conf: No such file"));
}

/* The dump reads back as the same configuration. */
static void
test_dump_round_trip(void **state)
{
	struct px_config c, d;
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(load(BASE "Workers 3\nSpoolLimit 1M\nClientAliveInterval 7\nStateDir /s\n"
	    "ProxyProtocol 10.0.0.0/8 192.0.2.7\nProxyProtocol 2001:db8::/48\n", &c, err,
	    sizeof(err)), PX_OK);
	assert_int_equal(c.nlb, 3);
	assert_int_equal(c.lb[0].prefix, 8);
	assert_int_equal(c.lb[1].prefix, 32);
	assert_int_equal(c.lb[2].family, AF_INET6);
	assert_non_null(f = open_memstream(&text, &len));
	px_config_dump(&c, f);
	fclose(f);
	assert_int_equal(load(text, &d, err, sizeof(err)), PX_OK);
	assert_int_equal(d.workers, 3);
	assert_int_equal(d.spool_limit, 1u << 20);
	assert_int_equal(d.keepalive_interval, 7);
	assert_string_equal(d.statedir, "/s");
	assert_int_equal(d.nrecorders, 1);
	assert_string_equal(d.recorders[0], "unix:/r.sock");
	assert_int_equal(d.nlb, 3);
	assert_memory_equal(d.lb, c.lb, 3 * sizeof(c.lb[0]));
	px_config_free(&c);
	px_config_free(&d);
	free(text);
}

/* KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms: lists, +, -, ^, and
 * names libssh does not offer reported at their line. */
/* Registry and ProxyName: the name defaults to the host name and the first
 * Listen port; ProxyName alone is an error. */
static void
test_registry(void **state)
{
	struct px_config c;
	char err[512] = "", host[256], want[300];

	(void)state;
	assert_int_equal(load(BASE "Registry redis://[::1]:6379\n", &c, err, sizeof(err)), PX_OK);
	assert_string_equal(c.registry, "redis://[::1]:6379");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(want, sizeof(want), "%.50s:%d", host, c.listen[0].port);
	assert_string_equal(c.proxy_name, want);
	px_config_free(&c);
	assert_int_equal(load(BASE "Registry redis://h:1\nProxyName site-a:1\n", &c, err, sizeof(err)), PX_OK);
	assert_string_equal(c.proxy_name, "site-a:1");
	px_config_free(&c);
	assert_int_equal(load(BASE "ProxyName a\n", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, "ProxyName without Registry"));
	px_config_free(&c);
	assert_int_equal(load(BASE "Registry redis://h:1\nRegistryPasswordFile /etc/escort/redis.pw\n", &c, err,
	    sizeof(err)), PX_OK);
	assert_string_equal(c.registry_password_file, "/etc/escort/redis.pw");
	px_config_free(&c);
	assert_int_equal(load(BASE "RegistryPasswordFile /pw\n", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, "RegistryPasswordFile without Registry"));
	px_config_free(&c);
}

static void
test_algorithms(void **state)
{
	struct px_config c;
	char err[1024] = "";

	(void)state;
	assert_int_equal(load(BASE, &c, err, sizeof(err)), PX_OK);
	for (int k = 0; k < PX_ALGO_N; k++)
		assert_null(c.algos[k]);
	assert_null(strstr(px__algo_default(PX_ALGO_KEX), "nistp"));
	assert_null(strstr(px__algo_default(PX_ALGO_MACS), "sha2-256,"));
	px_config_free(&c);

	assert_int_equal(load(BASE "KexAlgorithms curve25519-sha256\nCiphers ^aes128-ctr\n"
	    "MACs -hmac-sha2-512-etm@openssh.com\nHostKeyAlgorithms ssh-ed25519\n", &c, err,
	    sizeof(err)), PX_OK);
	assert_string_equal(c.algos[PX_ALGO_KEX], "curve25519-sha256");
	assert_string_equal(c.algos[PX_ALGO_CIPHERS],
	    "aes128-ctr,chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr");
	assert_string_equal(c.algos[PX_ALGO_MACS], "hmac-sha2-256-etm@openssh.com");
	assert_string_equal(c.algos[PX_ALGO_HOSTKEYS], "ssh-ed25519");
	px_config_free(&c);

	assert_int_equal(load(BASE "Ciphers +aes256-gcm@openssh.com\n", &c, err, sizeof(err)), PX_OK);
	assert_string_equal(c.algos[PX_ALGO_CIPHERS],
	    "chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr,aes256-gcm@openssh.com");
	px_config_free(&c);

	assert_int_equal(load(BASE "KexAlgorithms curve25519-sha256,nope-kex\nCiphers aes*\n"
	    "MACs -hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com\n"
	    "HostKeyAlgorithms +ssh-ed25519\nKexAlgorithms curve25519-sha256\nCiphers a,,b\n",
	    &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, ":5: KexAlgorithms: \"nope-kex\" is not an algorithm"));
	assert_non_null(strstr(err, ":6: Ciphers: \"aes*\": patterns are not supported"));
	assert_non_null(strstr(err, ":7: MACs: \"-hmac-sha2-256-etm@openssh.com,"));
	assert_non_null(strstr(err, "leaves no algorithm"));
	assert_non_null(strstr(err, ":8: HostKeyAlgorithms: give the whole list"));
	assert_non_null(strstr(err, ":9: KexAlgorithms given twice"));
	assert_non_null(strstr(err, ":10: Ciphers"));
	px_config_free(&c);
}

/* Recorder: several addresses on a line, repeated lines, in order; the dump
 * keeps them; mistakes are named at their line. */
static void
test_recorders(void **state)
{
	struct px_config c, d;
	char err[1024] = "", *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(load("Listen 127.0.0.1:2222\nHostKey /k\nPolicy /p\n"
	    "Recorder unix:/r1.sock unix:/r2.sock\nRecorder unix:/r3.sock\n", &c, err, sizeof(err)), PX_OK);
	assert_int_equal(c.nrecorders, 3);
	assert_string_equal(c.recorders[0], "unix:/r1.sock");
	assert_string_equal(c.recorders[1], "unix:/r2.sock");
	assert_string_equal(c.recorders[2], "unix:/r3.sock");
	assert_non_null(c.recpick);
	assert_null(c.recorder_tls);
	assert_non_null(f = open_memstream(&text, &len));
	px_config_dump(&c, f);
	fclose(f);
	assert_int_equal(load(text, &d, err, sizeof(err)), PX_OK);
	assert_int_equal(d.nrecorders, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(d.recorders[i], c.recorders[i]);
	px_config_free(&c);
	px_config_free(&d);
	free(text);

	assert_int_equal(load(BASE "Recorder unix:/r.sock\n", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, ":5: Recorder: \"unix:/r.sock\" is listed twice"));
	px_config_free(&c);
	assert_int_equal(load(BASE "Recorder unix:/a unix:/b unix:/c unix:/d unix:/e unix:/f unix:/g\n"
	    "Recorder unix:/h\n", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, ":6: Recorder: at most 8 addresses"));
	px_config_free(&c);
	assert_int_equal(load(BASE "Recorder unix:/ok http://no\n", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, ":5: Recorder: \"http://no\" is neither"));
	px_config_free(&c);
	assert_int_equal(load(BASE "Recorder unix:\n", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, ":5: Recorder: \"unix:\": the socket path is empty or too long"));
	px_config_free(&c);
	/* a tls:// one among them needs the client files */
	assert_int_equal(load(BASE "Recorder tls://127.0.0.1:7447\n", &c, err, sizeof(err)), PX_ECONFIG);
	assert_non_null(strstr(err, "Recorder tls:// needs RecorderCA, RecorderCertificate and RecorderKey"));
	px_config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_defaults),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_keywords),
		cmocka_unit_test(test_every_error_in_one_run),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_recorders),
		cmocka_unit_test(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
