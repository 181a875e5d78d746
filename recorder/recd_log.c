/* recd_log: stderr or syslog lines for escort-recorder, in the proxy's
 * format (proxy/log.c). */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "recorder/recd_log.h"

static int log_fg = 1;
static int log_verbose;
static int log_starting = 1;	/* errors also to stderr */

void
recd_log_init(int foreground, int verbose)
{
	log_fg = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog("escort-recorder", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
recd_log_started(void)
{
	log_starting = 0;
}

void
recd_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit",
	    "error", "warning", "notice", "info", "debug" };
	char msg[2048];
	va_list ap;

	if (level == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one fprintf a line: stdio locks the stream */
	if (log_fg || (level <= LOG_ERR && log_starting))
		fprintf(stderr, "escort-recorder[%d]: %s %s\n", (int)getpid(),
		    names[level & 7], msg);
	if (!log_fg)
		syslog(level, "%s", msg);
}
