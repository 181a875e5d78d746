/* recd_log: stderr or syslog lines for escort-recorder. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "common/clock.h"
#include "recorder/recd_log.h"

static int log_fg = 1;
static int log_verbose;

void
recd_log_init(int foreground, int verbose)
{
	log_fg = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog("escort-recorder", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
recd_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit",
	    "error", "warning", "notice", "info", "debug" };
	va_list ap;

	if (level == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	if (log_fg) {
		uint64_t now = clock_wall_ns();
		time_t sec = clock_ns_sec(now);
		struct tm tm;
		char when[32];

		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "escort-recorder %s.%03u %s: ", when,
		    (unsigned)(now % CLOCK_NS_PER_SEC / CLOCK_NS_PER_MS),
		    names[level & 7]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else
		vsyslog(level, fmt, ap);
	va_end(ap);
}
