/* log: the proxy's log lines, thread-safe.
 * Each line is "escort-proxy[PID]: LEVEL [ID] message" on stderr when running
 * in the foreground (-d), else to syslog (facility AUTH).  ID is a session or
 * connection id, or omitted when NULL.  Until px_log_started() is called,
 * errors logged to syslog are also written to stderr: a daemon that cannot
 * start says why where it was started, even without a syslog daemon. */
#ifndef PX_LOG_H
#define PX_LOG_H

enum px_log_level { PX_LOG_ERR, PX_LOG_WARN, PX_LOG_INFO, PX_LOG_DEBUG };

/* Chooses stderr (foreground != 0) or syslog, and the most verbose level
 * written.  Call once from main before threads start. */
void px_log_init(int foreground, enum px_log_level max);

/* The service runs: from now on syslog alone (when not in the foreground). */
void px_log_started(void);

/* Writes one log line; id may be NULL. */
void px_log(enum px_log_level lvl, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Replaces, in place, every control byte but tab (and but newline when
 * keep_lines) and DEL by '?': text quoting a peer (user name, target name,
 * command words) made safe for the log or for a technician's terminal, so
 * that no peer sends escape sequences through the proxy's own messages. */
void px__log_scrub(char *s, int keep_lines);

#endif
