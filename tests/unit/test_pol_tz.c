/*
 * test_pol_tz: the policy's own TZif reader (tzfile.c) against the C
 * library: for real zones of the system database (both hemispheres, half
 * and quarter hours, negative daylight saving time, hour 24 transitions) and
 * for a zone compiled by zic(8) in its "slim" form (no transitions after
 * 2007, everything later from the footer rule), pol__tz_offset must give the
 * UTC offset localtime_r gives, at many instants from 1901 to 2100.  (The
 * test alone sets TZ; the policy code never does.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/pol_int.h"

static long
libc_offset(time_t at)
{
	struct tm tm;
	return localtime_r(&at, &tm) != NULL ? tm.tm_gmtoff : 0;
}

/* Compares every ~10 days and 7 hours, and both sides of each change found. */
static void
compare(const struct pol_tz *z, const char *tzvalue, const char *label)
{
	setenv("TZ", tzvalue, 1);
	tzset();
	size_t n = 0, bad = 0, changes = 0;
	long prev = 0;
	time_t prev_at = 0;
	for (int64_t t = -2145916800LL; t < 4102444800LL; t += 10 * 86400 + 7 * 3600 + 17) {
		time_t at = (time_t)t;
		long want = libc_offset(at), got = pol__tz_offset(z, at);
		n++;
		if (got != want && bad++ < 5)
			fprintf(stderr, "%s at %lld: got %ld, libc %ld\n", label, (long long)at, got, want);
		if (n > 1 && want != prev) {
			/* a change between two samples: find its second in libc and
			 * compare both sides of it */
			time_t lo = prev_at, hi = at;	/* offset(lo) = prev, offset(hi) != prev */
			while (hi - lo > 1) {
				time_t mid = lo + (hi - lo) / 2;
				if (libc_offset(mid) == prev)
					lo = mid;
				else
					hi = mid;
			}
			changes++;
			if ((pol__tz_offset(z, lo) != libc_offset(lo) ||
			    pol__tz_offset(z, hi) != libc_offset(hi)) && bad++ < 5)
				fprintf(stderr, "%s at the change %lld: got %ld/%ld, libc %ld/%ld\n", label,
				    (long long)hi, pol__tz_offset(z, lo), pol__tz_offset(z, hi),
				    libc_offset(lo), libc_offset(hi));
		}
		prev = want;
		prev_at = at;
	}
	unsetenv("TZ");
	tzset();
	assert_true(n > 6000);
	assert_int_equal(bad, 0);
	(void)changes;
}

static void
test_real_zones(void **state)
{
	(void)state;
	static const char *const zones[] = {
		"America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Kolkata",
		"America/Sao_Paulo", "Pacific/Chatham", "Europe/Dublin", "America/Santiago",
		"Asia/Tehran", "Pacific/Apia", "Antarctica/Troll", "America/St_Johns",
	};
	size_t tested = 0;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zones[i]);
		if (access(path, R_OK) != 0)
			continue;
		struct arena a = { 0 };
		const char *why = NULL;
		const struct pol_tz *z = pol__tz_load(&a, zones[i], &why);
		if (z == NULL)
			fprintf(stderr, "%s: %s\n", zones[i], why);
		assert_non_null(z);
		assert_string_equal(pol__tz_name(z), zones[i]);
		compare(z, zones[i], zones[i]);
		pol__arena_free(&a);
		tested++;
	}
	assert_true(tested >= 8);	/* the system database is installed */
}

/* A zone in zic's slim form: transitions end in 2007, the footer rule
 * ("XST5XDT,M3.2.0,M11.1.0") decides every later instant. */
static void
test_slim_zone_footer(void **state)
{
	(void)state;
	if (access("/usr/sbin/zic", X_OK) != 0 && access("/usr/bin/zic", X_OK) != 0) {
		skip();
		return;
	}
	char dir[] = "/tmp/test_pol_tz.XXXXXX", src[128], cmd[512];
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/src", dir);
	FILE *f = fopen(src, "w");
	assert_non_null(f);
	fputs("Rule X 1967 2006 - Oct lastSun 2:00 0 S\n"
	    "Rule X 1987 2006 - Apr Sun>=1 2:00 1:00 D\n"
	    "Rule X 2007 max - Mar Sun>=8 2:00 1:00 D\n"
	    "Rule X 2007 max - Nov Sun>=1 2:00 0 S\n"
	    "Zone Test/Slim -5:00 X X%sT\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "zic -b slim -d %s %s 2>/dev/null", dir, src);
	int rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
	setenv("TZDIR", dir, 1);
	struct arena a = { 0 };
	const char *why = NULL;
	const struct pol_tz *z = pol__tz_load(&a, "Test/Slim", &why);
	unsetenv("TZDIR");
	if (z == NULL)
		fprintf(stderr, "Test/Slim: %s\n", why);
	assert_non_null(z);
	char tzv[200];
	snprintf(tzv, sizeof(tzv), "%s/Test/Slim", dir);
	compare(z, tzv, "Test/Slim");
	/* 2050-07-01T12:00Z, far past the file's last transition: daylight time */
	assert_int_equal(pol__tz_offset(z, (time_t)2540462400LL), -4 * 3600);
	assert_int_equal(pol__tz_offset(z, (time_t)2524651200LL), -5 * 3600);	/* 2050-01-01 */
	pol__arena_free(&a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_zones),
		cmocka_unit_test(test_slim_zone_footer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
