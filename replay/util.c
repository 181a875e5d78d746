/* util.c: time, JSON and message helpers of escort-replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "replay/replay.h"

void
replay_time(uint64_t wall_ns, char *out, size_t outsz)
{
	time_t t = clock_ns_sec(wall_ns);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
replay_parse_time(const char *s, uint64_t *ns)
{
	struct tm tm;
	char *end;
	unsigned long long v;
	time_t t;
	int n = 0;

	if (s[0] == '@') {
		v = strtoull(s + 1, &end, 10);
		if (end == s + 1 || *end != '\0')
			return -1;
		*ns = clock_sec_ns(v);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
		return -1;
	s += n;
	if (*s == 'T' || *s == ' ') {
		n = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2)
			return -1;
		s += 1 + n;
		if (*s == ':') {
			n = 0;
			if (sscanf(s + 1, "%2d%n", &tm.tm_sec, &n) != 1)
				return -1;
			s += 1 + n;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ns = clock_sec_ns((uint64_t)t);
	return 0;
}

void
replay_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

const char *
replay_esc(const char *s)
{
	static _Thread_local char bufs[4][1024];
	static _Thread_local unsigned next;
	char *b = bufs[next++ % 4];
	size_t n = 0, room = sizeof(bufs[0]) - 4;	/* "..." and NUL */
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		char e[5];
		int k;

		if (c == '\n' || c == '\r' || c == '\t' || c == '\\')
			k = snprintf(e, sizeof(e), "\\%c", c == '\n' ? 'n' :
			    c == '\r' ? 'r' : c == '\t' ? 't' : '\\');
		else if (c < 0x20 || c == 0x7f)
			k = snprintf(e, sizeof(e), "\\x%02x", c);
		else
			k = snprintf(e, sizeof(e), "%c", c);
		if (n + (size_t)k > room) {
			memcpy(b + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(b + n, e, (size_t)k);
		n += (size_t)k;
	}
	b[n] = '\0';
	return b;
}
