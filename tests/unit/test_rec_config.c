/* Unit tests for recorder/recd_config: escort-recorder.conf(5) parsing and
 * its FILE:LINE error messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "recorder/recd_config.h"

static char path[64];

static int
load(const char *text, struct recd_config *c, char *err, size_t errlen)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_rec_config.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	fd = recd_config_load(path, c, err, errlen);
	unlink(path);
	return fd;
}

#define BASE "Store /var/lib/escort\nSigningKey /etc/k.pem\n"

static void
test_valid(void **state)
{
	(void)state;
	struct recd_config c;
	char err[512] = "";

	assert_int_equal(load("# recorder\n"
	    "listen unix:/run/escort/rec.sock   # trailing comment\n"
	    "Listen tls://127.0.0.1:7447\n"
	    "Listen tls://[::1]:7448\n"
	    BASE
	    "Fsync interval 250\n"
	    "TLSCertificate \"/etc/escort/my cert.pem\"\n"
	    "TLSKey /k\nTLSClientCA /ca\nUser escort-rec\nMaxSessions 10\n"
	    "ResumeTimeout 30\nCompression 3\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.compression, 3);
	assert_int_equal(c.nlisten, 3);
	assert_int_equal(c.listen[0].kind, RECD_LISTEN_UNIX);
	assert_string_equal(c.listen[0].path, "/run/escort/rec.sock");
	assert_string_equal(c.listen[1].host, "127.0.0.1");
	assert_string_equal(c.listen[1].port, "7447");
	assert_string_equal(c.listen[2].host, "::1");
	assert_int_equal(c.listen[2].line, 4);
	assert_int_equal(c.fsync, RECD_FSYNC_INTERVAL);
	assert_int_equal(c.fsync_ms, 250);
	assert_string_equal(c.tls_cert, "/etc/escort/my cert.pem");
	assert_string_equal(c.user, "escort-rec");
	assert_int_equal(c.max_sessions, 10);
	assert_int_equal(c.resume_timeout, 30);

	assert_int_equal(load("Listen unix:/s\n" BASE, &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.fsync, RECD_FSYNC_INTERVAL);	/* default */
	assert_int_equal(c.fsync_ms, 1000);
	assert_int_equal(c.max_sessions, 1024);
	assert_int_equal(load("Listen unix:/s\n" BASE "Fsync ALWAYS\n", &c,
	    err, sizeof(err)), 0);
	assert_int_equal(c.fsync, RECD_FSYNC_ALWAYS);
	assert_int_equal(c.head_interval, 60);	/* default */
	assert_string_equal(c.witness, "");
	assert_int_equal(load("Listen unix:/s\n" BASE "TreeHeadInterval 15s\n"
	    "Witness \"/usr/bin/logger -t escort-head\"\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.head_interval, 15);
	assert_string_equal(c.witness, "/usr/bin/logger -t escort-head");
	assert_int_equal(load("Listen unix:/s\n" BASE "TreeHeadInterval 0\n",
	    &c, err, sizeof(err)), 0);
	assert_int_equal(c.head_interval, 0);
	assert_string_equal(c.audit_log, "");
	assert_int_equal(c.audit_syslog, 0);
	assert_int_equal(load("Listen unix:/s\n" BASE "AuditLog /var/log/a.jsonl\n"
	    "AuditSyslog YES\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.audit_log, "/var/log/a.jsonl");
	assert_int_equal(c.audit_syslog, 1);
	assert_string_equal(c.objstore, "");
	assert_int_equal(load("Listen unix:/s\n" BASE
	    "ObjectStore s3://escort-rec/site-a\n"
	    "ObjectStoreEndpoint http://127.0.0.1:7480\n"
	    "ObjectStoreRegion eu-west-1\n"
	    "ObjectStoreCredentials /etc/escort/s3.credentials\n"
	    "ObjectStoreRetention 2555\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.objstore, "s3://escort-rec/site-a");
	assert_string_equal(c.objstore_endpoint, "http://127.0.0.1:7480");
	assert_string_equal(c.objstore_region, "eu-west-1");
	assert_string_equal(c.objstore_credentials,
	    "/etc/escort/s3.credentials");
	assert_int_equal(c.objstore_retention, 2555);
	assert_int_equal(c.objstore_part_interval, 60);	/* defaults */
	assert_int_equal(c.objstore_part_size, 16u << 20);
	assert_int_equal(load("Listen unix:/s\n" BASE "ObjectStore s3://b/p\n"
	    "ObjectStoreRetention 1\nObjectStorePartInterval 5s\n"
	    "ObjectStorePartSize 512k\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.objstore_part_interval, 5);
	assert_int_equal(c.objstore_part_size, 512u << 10);
	assert_int_equal(load("Listen unix:/s\n" BASE "ObjectStore s3://b/p\n"
	    "ObjectStoreRetention 1\nObjectStorePartSize 1G\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.objstore_part_size, 1u << 30);
	assert_int_equal(c.objstore_prune_after, 0);	/* not given: off */
	assert_int_equal(load("Listen unix:/s\n" BASE "ObjectStore s3://b\n"
	    "ObjectStoreRetention 7\nObjectStorePruneAfter 30\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.objstore_prune_after, 30 * 86400);
	assert_int_equal(load("Listen unix:/s\n" BASE "ObjectStore s3://b\n"
	    "ObjectStoreRetention 7\nObjectStorePruneAfter 2s\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.objstore_prune_after, 2);
	assert_int_equal(load("Listen unix:/s\n" BASE "ObjectStore s3://b\n"
	    "ObjectStoreRetention 7\nObjectStorePruneAfter 12h\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.objstore_prune_after, 12 * 3600);
	assert_int_equal(c.workers, 0);		/* not given: the CPUs */
	assert_true(recd_config_workers(&c) >= 1);
	assert_int_equal(load("Listen unix:/s\n" BASE "Workers 3\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(recd_config_workers(&c), 3);
}

static void
test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "Listen unix:/s\n" BASE "Bogus 1\n",
		  ":4: unknown keyword \"Bogus\"" },
		{ "Listen unix:/s\n" BASE "Fsync sometimes\n",
		  ":4: Fsync takes always, interval MS or never" },
		{ "Listen unix:/s\n" BASE "Fsync interval 0\n",
		  ":4: Fsync interval (ms) must be a number from 1 to 60000" },
		{ "Listen unix:/s\n" BASE "Store /x\n",
		  ":4: Store given twice (first at line 2)" },
		{ "Listen unix:relative\n" BASE,
		  ":1: Listen unix: needs an absolute path" },
		{ "Listen tcp://h:1\n" BASE, ":1: unknown Listen address" },
		{ "Listen tls://host\n" BASE, ":1: bad address" },
		{ "Listen tls://h:99999\n" BASE,
		  ":1: port must be a number from 1 to 65535" },
		{ "Listen tls://h:1\n" BASE,
		  ":1: a tls listener needs TLSCertificate, TLSKey and "
		  "TLSClientCA" },
		{ BASE, ": no Listen line" },
		{ "Listen unix:/s\nSigningKey /k\n", ": no Store line" },
		{ "Listen unix:/s\nStore /s\n", ": no SigningKey line" },
		{ "Listen unix:/s\nStore relative\n",
		  ":2: Store needs an absolute path" },
		{ "Listen unix:/s\n" BASE "User \"abc\n",
		  ":4: unterminated quote" },
		{ "Listen unix:/s\n" BASE "MaxSessions -1\n",
		  ":4: MaxSessions must be a number" },
		{ "Listen unix:/s\n" BASE "Store\n",
		  ":4: Store takes one argument" },
		{ "Listen unix:/s\n" BASE "Witness logger\n",
		  ":4: Witness needs an absolute path" },
		{ "Listen unix:/s\n" BASE "TreeHeadInterval soon\n",
		  ":4: TreeHeadInterval (seconds, 0: only at session closes) "
		  "must be a number" },
		{ "Listen unix:/s\n" BASE "AuditLog audit.log\n",
		  ":4: AuditLog needs an absolute path" },
		{ "Listen unix:/s\n" BASE "AuditSyslog maybe\n",
		  ":4: AuditSyslog takes yes or no, not \"maybe\"" },
		{ "Listen unix:/s\n" BASE "ObjectStore /srv/bucket\n"
		  "ObjectStoreRetention 1\n",
		  ":4: ObjectStore takes s3://BUCKET/PREFIX, not \"/srv/bucket\"" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b/p\n",
		  ": ObjectStore needs ObjectStoreRetention DAYS" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 0\n",
		  ":5: ObjectStoreRetention (days) must be a number from 1 to "
		  "36500" },
		{ "Listen unix:/s\n" BASE "ObjectStoreRetention 7\n",
		  ": ObjectStore* settings without an ObjectStore line" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 7\nObjectStoreEndpoint 127.0.0.1:80\n",
		  ":6: ObjectStoreEndpoint takes an http:// or https:// URL" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 7\nObjectStoreCredentials creds\n",
		  ":6: ObjectStoreCredentials needs an absolute path" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 7\nObjectStorePartInterval 0\n",
		  ":6: ObjectStorePartInterval (seconds) must be a number from "
		  "1 to 86400" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 7\nObjectStorePartSize 2G\n",
		  ":6: ObjectStorePartSize takes 64K to 1G (bytes, or with K, M "
		  "or G), not \"2G\"" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 7\nObjectStorePartSize 4096\n",
		  ":6: ObjectStorePartSize takes 64K to 1G" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 7\nObjectStorePartSize 16MB\n",
		  ":6: ObjectStorePartSize takes 64K to 1G" },
		{ "Listen unix:/s\n" BASE "ObjectStorePartSize 1M\n",
		  ": ObjectStore* settings without an ObjectStore line" },
		{ "Listen unix:/s\n" BASE "ObjectStore s3://b\n"
		  "ObjectStoreRetention 7\nObjectStorePruneAfter 3w\n",
		  ":6: ObjectStorePruneAfter (days, or a number with d, h, m or "
		  "s) must be a number from 1 to 36500, not \"3w\"" },
		{ "Listen unix:/s\n" BASE "ObjectStorePruneAfter 1d\n",
		  ": ObjectStore* settings without an ObjectStore line" },
		{ "Listen unix:/s\n" BASE "Workers 0\n",
		  ":4: Workers must be a number from 1 to 64" },
		{ "Listen unix:/s\n" BASE "Workers 2\nWorkers 3\n",
		  ":5: Workers given twice (first at line 4)" },
		{ "Listen unix:/s\n" BASE "Compression 22\n",
		  ":4: Compression (default or a zstd level) must be a number "
		  "from 1 to 19" },
	};
	struct recd_config c;
	char err[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (load(t[i].text, &c, err, sizeof(err)) != -1 ||
		    strncmp(err, path, strlen(path)) != 0 ||
		    strstr(err, t[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
			    t[i].want);
	}
	/* every problem in one run, one FILE:LINE: message a line, in order */
	{
		static const char *const want[] = { ":1: unknown Listen address",
		    ":5: Fsync takes always, interval MS or never",
		    ":6: unknown keyword \"Colour\"",
		    ":7: MaxSessions given twice (first at line 4)",
		    ": no SigningKey line" };
		char *line = err, *next;

		/* a Listen given wrongly is not also "missing"; SigningKey is */
		assert_int_equal(load("Listen tcp://h:1\nStore /s\n"
		    "#\nMaxSessions 2\nFsync\nColour red\nMaxSessions 3\n", &c,
		    err, sizeof(err)), -1);
		assert_int_equal(c.max_sessions, 2);
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			assert_non_null(line);
			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			if (strncmp(line, path, strlen(path)) != 0 ||
			    strncmp(line + strlen(path), want[i],
			    strlen(want[i])) != 0)
				fail_msg("line %zu: got \"%s\", want \"%s\"",
				    i, line, want[i]);
			line = next;
		}
		assert_null(line);
	}
	assert_int_equal(recd_config_load("/nonexistent/rec.conf", &c, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/rec.conf: No such file or "
	    "directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
