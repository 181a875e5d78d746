/*
 * recd_log: escort-recorder's log.  To stderr in the foreground (-d), else
 * to syslog (facility DAEMON, ident "escort-recorder").  Lines name the
 * peer or session they concern: "session ID: ...", "conn unix#3: ...".
 */
#ifndef RECORDER_RECD_LOG_H
#define RECORDER_RECD_LOG_H

#include <syslog.h>

/* Chooses stderr (foreground != 0) or syslog; verbose != 0 adds LOG_DEBUG. */
void	recd_log_init(int foreground, int verbose);

/* Logs one line at a syslog level (LOG_ERR, LOG_WARNING, LOG_INFO,
 * LOG_DEBUG). */
void	recd_log(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
