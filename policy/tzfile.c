/*
 * tzfile.c: IANA time zones for `when` windows, read once at policy load.
 *
 * The zone's TZif file (tzfile(5), version 2 or later: 64-bit transition
 * times) is read from $TZDIR or /usr/share/zoneinfo into the policy arena:
 * its transitions and their UTC offsets, and the POSIX TZ rule of its footer
 * (e.g. "EST5EDT,M3.2.0,M11.1.0") for times after the last transition.
 * Lookups use only that copy: no TZ variable, no tzset(), no locks, so any
 * number of threads may evaluate `when` at once.  Leap seconds are ignored
 * (as POSIX time does).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

#define TZ_FILE_MAX (1 << 20)		/* no real zone file comes close */
#define TZ_OFF_MIN (-89999)		/* UTC offsets of RFC 8536 */
#define TZ_OFF_MAX 93599

/* A POSIX TZ rule date: M<month>.<week>.<wday> and the local time. */
struct tzdate {
	int month, week, wday;		/* 1-12, 1-5, 0-6 */
	long secs;			/* local time of the change, seconds */
};

struct pol_tz {
	const char *name;
	int64_t *t;			/* transition times, ascending */
	int32_t *off;			/* offset (s east) from t[i] on */
	size_t n;
	int32_t off0;			/* before the first transition */
	bool rule;			/* footer rule parsed */
	bool dst;			/* the rule has daylight saving time */
	long std_off, dst_off;		/* seconds east of UTC */
	struct tzdate start, end;	/* DST starts (std time) / ends (dst time) */
};

/* True when `s` looks like an IANA zone name (Area/Location, letters,
 * digits, _ - + /, no "..", no leading '/'). */
static bool
tz_name_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '/' || strstr(s, "..") != NULL || strlen(s) > 64)
		return false;
	if (strchr(s, '/') == NULL)
		return false;	/* "EST", "CET": legacy names; ask for Area/Location */
	for (const char *c = s; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '+' || *c == '/'))
			return false;
	return true;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- POSIX TZ rule (the footer) ------------------------------------------- */

static const char *
rule_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');
		return e ? e + 1 : NULL;
	}
	const char *b = s;
	while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
		s++;
	return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds; NULL on error. */
static const char *
rule_hms(const char *s, long *out)
{
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	long v[3] = { 0, 0, 0 };
	for (int k = 0; k < 3; k++) {
		if (k > 0) {
			if (*s != ':')
				break;
			s++;
		}
		if (*s < '0' || *s > '9')
			return NULL;
		long x = 0;
		while (*s >= '0' && *s <= '9' && x < 1000)
			x = x * 10 + (*s++ - '0');
		v[k] = x;
	}
	if (v[0] > 167 || v[1] > 59 || v[2] > 59)
		return NULL;
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	return s;
}

static const char *
rule_date(const char *s, struct tzdate *d)
{
	if (*s != 'M')
		return NULL;	/* Jn and n forms: no zone in use has them */
	char *e;
	d->month = (int)strtol(s + 1, &e, 10);
	if (*e != '.')
		return NULL;
	d->week = (int)strtol(e + 1, &e, 10);
	if (*e != '.')
		return NULL;
	d->wday = (int)strtol(e + 1, &e, 10);
	if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->wday < 0 || d->wday > 6)
		return NULL;
	d->secs = 7200;
	s = e;
	if (*s == '/')
		s = rule_hms(s + 1, &d->secs);
	return s;
}

/* Parses "STDoff[DST[off][,start[/time],end[/time]]]".  Returns 0 or -1. */
static int
rule_parse(struct pol_tz *z, const char *s)
{
	long off;
	if ((s = rule_name(s)) == NULL || (s = rule_hms(s, &off)) == NULL)
		return -1;
	if (-off < TZ_OFF_MIN || -off > TZ_OFF_MAX)
		return -1;
	z->std_off = -off;	/* POSIX counts west of UTC */
	if (*s == '\0') {
		z->rule = true;
		return 0;
	}
	if ((s = rule_name(s)) == NULL)
		return -1;
	z->dst_off = z->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = rule_hms(s, &off)) == NULL || -off < TZ_OFF_MIN || -off > TZ_OFF_MAX)
			return -1;
		z->dst_off = -off;
	}
	if (*s != ',' || (s = rule_date(s + 1, &z->start)) == NULL || *s != ',' ||
	    (s = rule_date(s + 1, &z->end)) == NULL || *s != '\0')
		return -1;
	z->rule = z->dst = true;
	return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t
year_of(int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t y = 1970 + days / 366;
	while (days_from_civil(y + 1, 1, 1) <= days)
		y++;
	while (days_from_civil(y, 1, 1) > days)
		y--;
	return y;
}

/* UTC time at which local date d happens in year y, local offset `off`. */
static int64_t
rule_when(const struct tzdate *d, int64_t y, long off)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t first = days_from_civil(y, d->month, 1);
	int wd_first = (int)(((first % 7) + 7 + 4) % 7);	/* 1970-01-01: Thursday */
	int day = 1 + (d->wday - wd_first + 7) % 7 + (d->week - 1) * 7;
	int len = mdays[d->month - 1] + (d->month == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
	while (day > len)
		day -= 7;
	return (first + day - 1) * 86400 + d->secs - off;
}

static long
rule_offset(const struct pol_tz *z, int64_t t)
{
	if (!z->dst)
		return z->std_off;
	int64_t y = year_of(t + z->std_off);
	int64_t a = rule_when(&z->start, y, z->std_off), b = rule_when(&z->end, y, z->dst_off);
	bool in = a < b ? (t >= a && t < b) : (t < b || t >= a);
	return in ? z->dst_off : z->std_off;
}

const char *
pol__tz_name(const struct pol_tz *z)
{
	return z->name;
}

long
pol__tz_offset(const struct pol_tz *z, time_t now)
{
	int64_t t = (int64_t)now;
	if (z->n == 0 || t >= z->t[z->n - 1]) {
		if (z->rule && (z->n == 0 || t > z->t[z->n - 1]))
			return rule_offset(z, t);
		return z->n ? z->off[z->n - 1] : z->off0;
	}
	if (t < z->t[0])
		return z->off0;
	size_t lo = 0, hi = z->n - 1;	/* t[lo] <= t < t[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->t[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[lo];
}

/* ---- the file ------------------------------------------------------------------ */

static unsigned char *
read_all(const char *path, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*why = errno == ENOENT ? "no such zone in the system tz database" :
		    "the zone file cannot be read";
		return NULL;
	}
	unsigned char *buf = malloc(TZ_FILE_MAX);
	size_t n = buf ? fread(buf, 1, TZ_FILE_MAX, f) : 0;
	fclose(f);
	if (buf == NULL) {
		*why = "out of memory";
		return NULL;
	}
	*len = n;
	return buf;
}

/* Parses the version 2+ part of a TZif file into z.  Returns 0 or -1. */
static int
parse_tzif(struct arena *A, const unsigned char *b, size_t len, struct pol_tz *z)
{
	if (len < 44 || memcmp(b, "TZif", 4) != 0 || b[4] < '2')
		return -1;
	/* skip the version 1 block */
	uint32_t c[6];
	for (int k = 0; k < 6; k++)
		c[k] = be32(b + 20 + 4 * k);
	size_t v1 = 44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
	if (v1 + 44 > len || memcmp(b + v1, "TZif", 4) != 0)
		return -1;
	const unsigned char *h = b + v1;
	for (int k = 0; k < 6; k++)
		c[k] = be32(h + 20 + 4 * k);
	uint32_t isut = c[0], isstd = c[1], leap = c[2], timecnt = c[3], typecnt = c[4], chars = c[5];
	if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leap > 1000 || chars > 4096)
		return -1;
	size_t need = 44 + (size_t)timecnt * 9 + (size_t)typecnt * 6 + chars + (size_t)leap * 12 +
	    isstd + isut;
	if (v1 + need > len)
		return -1;
	const unsigned char *tt = h + 44, *idx = tt + (size_t)timecnt * 8, *types = idx + timecnt;
	z->n = timecnt;
	z->t = pol__arena_alloc(A, (timecnt ? timecnt : 1) * sizeof(*z->t));
	z->off = pol__arena_alloc(A, (timecnt ? timecnt : 1) * sizeof(*z->off));
	if (z->t == NULL || z->off == NULL)
		return -1;
	for (uint32_t i = 0; i < timecnt; i++) {
		if (idx[i] >= typecnt)
			return -1;
		z->t[i] = be64(tt + 8 * (size_t)i);
		if (i > 0 && z->t[i] <= z->t[i - 1])
			return -1;
		z->off[i] = (int32_t)be32(types + 6 * (size_t)idx[i]);
	}
	for (uint32_t i = 0; i < typecnt; i++) {
		int32_t off = (int32_t)be32(types + 6 * (size_t)i);
		if (off < TZ_OFF_MIN || off > TZ_OFF_MAX)
			return -1;	/* RFC 8536: -25 to +26 hours */
	}
	z->off0 = (int32_t)be32(types);	/* type 0: time before the first transition */
	/* the footer: "\nRULE\n" */
	const char *f = (const char *)(h + need);
	size_t flen = len - v1 - need;
	if (flen >= 2 && f[0] == '\n') {
		const char *e = memchr(f + 1, '\n', flen - 1);
		if (e != NULL && e - f - 1 < 128 && e > f + 1) {
			char rule[128];
			memcpy(rule, f + 1, (size_t)(e - f - 1));
			rule[e - f - 1] = '\0';
			if (rule_parse(z, rule) != 0)
				z->rule = false;	/* the last transition's offset then holds */
		}
	}
	return 0;
}

const struct pol_tz *
pol__tz_parse(struct arena *A, const char *name, const unsigned char *buf, size_t len,
    const char **why)
{
	struct pol_tz *z = pol__arena_alloc(A, sizeof(*z));
	if (z == NULL || parse_tzif(A, buf, len, z) != 0) {
		*why = z ? "not a TZif file of version 2 or later" : "out of memory";
		return NULL;
	}
	z->name = pol__arena_strdup(A, name);
	return z;
}

const struct pol_tz *
pol__tz_load(struct arena *A, const char *name, const char **why)
{
	if (!tz_name_ok(name)) {
		*why = "not a zone name of the form Area/Location";
		return NULL;
	}
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	size_t len = 0;
	unsigned char *buf = read_all(path, &len, why);
	if (buf == NULL)
		return NULL;
	const struct pol_tz *z = pol__tz_parse(A, name, buf, len, why);
	free(buf);
	return z;
}
