/* log: one formatted line per call, to stderr or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "proxy/log.h"

static int log_fg = 1;
static enum px_log_level log_max = PX_LOG_INFO;
static _Atomic int log_starting = 1;	/* errors also to stderr */

void
px_log_init(int foreground, enum px_log_level max)
{
	log_fg = foreground;
	log_max = max;
	if (!foreground)
		openlog("escort-proxy", LOG_PID, LOG_AUTH);
}

void
px_log_started(void)
{
	log_starting = 0;
}

/* A message is one line whatever it quotes: line ends at its end go, and
 * every other control character (a client's user name, a target name or a
 * command may hold any byte) becomes '?', so that no peer can add a line
 * of its own to the log or send escape sequences to whoever reads it. */
void
px__log_scrub(char *s, int keep_lines)
{
	for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t' && !(keep_lines && *p == '\n')) || *p == 0x7f)
			*p = '?';
}

static void
one_line(char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	px__log_scrub(msg, 0);
}

void
px_log(enum px_log_level lvl, const char *id, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024];
	va_list ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	one_line(msg);
	if (log_fg || (lvl == PX_LOG_ERR && log_starting)) {
		/* One fprintf per line: stdio locks the stream, lines never interleave. */
		if (id != NULL)
			fprintf(stderr, "escort-proxy[%d]: %s [%s] %s\n", (int)getpid(), names[lvl], id, msg);
		else
			fprintf(stderr, "escort-proxy[%d]: %s %s\n", (int)getpid(), names[lvl], msg);
	}
	if (log_fg)
		return;
	if (id != NULL) {
		syslog(prio[lvl], "[%s] %s", id, msg);
	} else {
		syslog(prio[lvl], "%s", msg);
	}
}
