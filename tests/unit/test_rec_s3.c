/* Unit tests for recorder/s3: s3://BUCKET/PREFIX addresses, the AWS
 * environment, credentials files and the defaults (no network: requests
 * are tested against Ceph RGW in tests/integration/test_recorder_s3.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "recorder/rec_error.h"
#include "recorder/s3.h"
#include "recorder/s3_layout.h"

static void
test_url(void **state)
{
	static const struct {
		const char *url, *bucket, *prefix;
	} ok[] = {
		{ "s3://b1/site-a", "b1", "site-a" },
		{ "s3://escort.rec", "escort.rec", "" },
		{ "s3://bkt/", "bkt", "" },
		{ "s3://bkt//a/b//", "bkt", "a/b" },
	};
	static const char *const bad[] = { "s3://", "s3:///p", "http://b/p",
	    "s3://b$d/p", "/srv/store" };
	struct s3_cfg c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(s3_url_parse(ok[i].url, &c, err, sizeof(err)),
		    REC_OK);
		assert_string_equal(c.bucket, ok[i].bucket);
		assert_string_equal(c.prefix, ok[i].prefix);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(s3_url_parse(bad[i], &c, err, sizeof(err)),
		    REC_EINVAL);
		assert_non_null(strstr(err, bad[i]));
	}
	assert_true(s3_is_url("s3://x"));
	assert_false(s3_is_url("/var/lib/escort"));
	assert_false(s3_is_url(NULL));
}

static void
test_env_and_defaults(void **state)
{
	struct s3_cfg c;
	char err[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_REGION");
	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7480/", 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	s3_cfg_env(&c);
	assert_int_equal(s3_cfg_finish(&c, err, sizeof(err)), REC_OK);
	assert_string_equal(c.access_key, "AKID");
	assert_string_equal(c.secret_key, "SECRET");
	assert_string_equal(c.endpoint, "http://127.0.0.1:7480");
	assert_string_equal(c.region, "eu-west-1");
	/* the S3-specific endpoint and AWS_REGION win */
	setenv("AWS_ENDPOINT_URL_S3", "https://s3.example", 1);
	setenv("AWS_REGION", "us-west-2", 1);
	s3_cfg_env(&c);
	assert_string_equal(c.endpoint, "https://s3.example");
	assert_string_equal(c.region, "us-west-2");
	/* AWS's endpoint for the region when none is given */
	memset(&c, 0, sizeof(c));
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	s3_cfg_env(&c);
	assert_int_equal(s3_cfg_finish(&c, err, sizeof(err)), REC_OK);
	assert_string_equal(c.region, "us-east-1");
	assert_string_equal(c.endpoint, "https://s3.us-east-1.amazonaws.com");
	/* no credentials, or an endpoint that is not http(s) */
	memset(&c, 0, sizeof(c));
	unsetenv("AWS_ACCESS_KEY_ID");
	s3_cfg_env(&c);
	assert_int_equal(s3_cfg_finish(&c, err, sizeof(err)), REC_EINVAL);
	assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID"));
	memset(&c, 0, sizeof(c));
	strcpy(c.access_key, "a");
	strcpy(c.secret_key, "b");
	strcpy(c.endpoint, "ftp://host");
	assert_int_equal(s3_cfg_finish(&c, err, sizeof(err)), REC_EINVAL);
	assert_non_null(strstr(err, "ftp://host"));
}

/* Writes text to a temp file; its path into path. */
static void
temp_file(const char *text, char *path, size_t n)
{
	FILE *f;
	int fd;

	snprintf(path, n, "/tmp/test_rec_s3.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_credentials_file(void **state)
{
	struct s3_cfg c;
	char path[64], err[256];

	(void)state;
	/* systemd EnvironmentFile style */
	memset(&c, 0, sizeof(c));
	temp_file("# escort-recorder\nAWS_ACCESS_KEY_ID=AK1\n"
	    "export AWS_SECRET_ACCESS_KEY = S1 \nOTHER=x\n", path, sizeof(path));
	assert_int_equal(s3_cfg_credentials(path, &c, err, sizeof(err)), REC_OK);
	unlink(path);
	assert_string_equal(c.access_key, "AK1");
	assert_string_equal(c.secret_key, "S1");
	/* an AWS credentials file */
	memset(&c, 0, sizeof(c));
	temp_file("[default]\naws_access_key_id = AK2\n"
	    "aws_secret_access_key = S2\naws_session_token = T2\n", path,
	    sizeof(path));
	assert_int_equal(s3_cfg_credentials(path, &c, err, sizeof(err)), REC_OK);
	unlink(path);
	assert_string_equal(c.access_key, "AK2");
	assert_string_equal(c.session_token, "T2");
	/* errors name the file and line */
	memset(&c, 0, sizeof(c));
	temp_file("AWS_ACCESS_KEY_ID=AK\nnot a setting\n", path, sizeof(path));
	assert_int_equal(s3_cfg_credentials(path, &c, err, sizeof(err)),
	    REC_EFORMAT);
	unlink(path);
	assert_non_null(strstr(err, ":2: not NAME=VALUE"));
	memset(&c, 0, sizeof(c));
	temp_file("AWS_ACCESS_KEY_ID=AK\n", path, sizeof(path));
	assert_int_equal(s3_cfg_credentials(path, &c, err, sizeof(err)),
	    REC_EINVAL);
	unlink(path);
	assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
	assert_int_equal(s3_cfg_credentials("/nonexistent/creds", &c, err,
	    sizeof(err)), REC_ENOENT);
	assert_non_null(strstr(err, "/nonexistent/creds"));
}

/* The object names of a Store's sessions: whole, and parts. */
static void
test_session_names(void **state)
{
	static const struct {
		const char *name, *id;
		int kind;
		uint64_t off;
	} t[] = {
		{ "sessions/20261205-230000-0a1b2c3d.est",
		  "20261205-230000-0a1b2c3d", S3_SESSION_WHOLE, 0 },
		{ "sessions/s1.est.part-00000000000000004096", "s1",
		  S3_SESSION_PART, 4096 },
		{ "sessions/s1.est.part-18446744073709551610", "s1",
		  S3_SESSION_PART, 18446744073709551610ull },
		/* an id may hold ".est.part-": the suffix decides */
		{ "sessions/a.est.part-00000000000000000000.est",
		  "a.est.part-00000000000000000000", S3_SESSION_WHOLE, 0 },
		{ "sessions/a.est.part-00000000000000000000.est.part-"
		  "00000000000000000007", "a.est.part-00000000000000000000",
		  S3_SESSION_PART, 7 },
		{ "sessions/s1.est.part-0000000000000000409", "",
		  S3_SESSION_NONE, 0 },		/* 19 digits */
		{ "sessions/s1.est.part-0000000000000000409x", "",
		  S3_SESSION_NONE, 0 },
		{ "sessions/s1.est.part-99999999999999999999", "",
		  S3_SESSION_NONE, 0 },		/* over 2^64 */
		{ "sessions/.est", "", S3_SESSION_NONE, 0 },
		{ "sessions/.hidden.est", "", S3_SESSION_NONE, 0 },
		{ "sessions/a/b.est", "", S3_SESSION_NONE, 0 },
		{ "sessions/journal.est", "", S3_SESSION_NONE, 0 },
		{ "sessions/s1.txt", "", S3_SESSION_NONE, 0 },
		{ "journal/00000000000000000000.esj", "", S3_SESSION_NONE, 0 },
	};
	char id[SEAL_ID_MAX + 1], name[200];
	uint64_t off;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int kind = (int)s3_session_parse(t[i].name, id, &off);

		if (kind != t[i].kind || strcmp(id, t[i].id) != 0 ||
		    off != t[i].off)
			fail_msg("%s: got %d \"%s\" %llu", t[i].name, kind, id,
			    (unsigned long long)off);
	}
	assert_int_equal(s3_part_name("s1", 4096, name, sizeof(name)), 0);
	assert_string_equal(name, "sessions/s1.est.part-00000000000000004096");
	assert_int_equal((int)s3_session_parse(name, id, &off),
	    S3_SESSION_PART);
	assert_string_equal(id, "s1");
	assert_int_equal(off, 4096);
	assert_int_equal(s3_part_name("s1", 1, name, 20), -1);
	assert_string_equal(name, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_env_and_defaults),
		cmocka_unit_test(test_credentials_file),
		cmocka_unit_test(test_session_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
