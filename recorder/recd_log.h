/*
 * recd_log: escort-recorder's log.  Each line is
 * "escort-recorder[PID]: LEVEL message" on stderr in the foreground (-d),
 * the format of escort-proxy's lines, else to syslog (facility DAEMON,
 * ident "escort-recorder").  Until recd_log_started() is called, errors
 * logged to syslog are also written to stderr: a recorder that cannot
 * start says why where it was started.  Lines name the peer or session
 * they concern: "session ID: ...", "conn unix#3: ...".
 */
#ifndef RECORDER_RECD_LOG_H
#define RECORDER_RECD_LOG_H

#include <syslog.h>

/* Chooses stderr (foreground != 0) or syslog; verbose != 0 adds LOG_DEBUG. */
void	recd_log_init(int foreground, int verbose);

/* The service runs: from now on syslog alone (when not in the foreground). */
void	recd_log_started(void);

/* Logs one line at a syslog level (LOG_ERR, LOG_WARNING, LOG_INFO,
 * LOG_DEBUG). */
void	recd_log(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
