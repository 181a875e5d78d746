/*
 * recd_audit: escort-recorder's audit-event stream (escort-audit(5)): one
 * JSON object per line for each session start and end, policy decision,
 * escort action, file transfer and integrity finding, to the file named by
 * AuditLog and/or to syslog (AuditSyslog: facility AUTH, ident
 * escort-recorder-audit, one object per message).
 *
 * Events are emitted from what the recorder stores, after it was appended
 * to the session's writer (so the stream never holds an event the store
 * refused).  The stream is best-effort: one write(2) to the file (never
 * synced) and one non-blocking datagram to /dev/log per event; a line that
 * cannot be written is dropped and logged (once a minute at most), and
 * recording goes on.  Only META, DECISION, ESCORT, FILE (summaries), MARKER
 * (resume refused, policy reload) and END payloads are decoded; INPUT,
 * OUTPUT and the rest are passed over by their record header.
 *
 * Nothing here returns an error to the recorder except recd_audit_open at
 * start (a file that cannot be opened is a configuration error).
 */
#ifndef RECORDER_RECD_AUDIT_H
#define RECORDER_RECD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct recd;

/* What every event of a session carries, from its META (empty: unknown). */
struct recd_audit_sess {
	char	 user[128];
	char	 target[256];
	char	 proxy[256];
	char	 client_addr[128];
	uint64_t start_wall;	/* ns since the epoch; t_ns counts from it */
};

/* An integrity finding; fields not set are 0 / NULL and left out. */
struct recd_audit_finding {
	const char *finding;	/* "recovery-cut" "resume-refused" "damaged"
				   "tampered" "not-adopted" */
	const char *detail;	/* a sentence */
	uint64_t offset, lost_bytes, acked_seq, stored_seq;
	unsigned has_offset : 1, has_lost : 1, has_seqs : 1;
};

/* Opens the sinks d->cfg names (none: nothing to do).  Returns 0, or -1
 * with the reason in err (AuditLog cannot be opened). */
int	recd_audit_open(struct recd *d, char *err, size_t errlen);

/* SIGHUP: closes and reopens the sinks d->cfg names now (logrotate); a
 * failure is logged and the stream is off until the next reopen. */
void	recd_audit_reopen(struct recd *d);

/* Closes the sinks. */
void	recd_audit_close(struct recd *d);

/* 1 when any sink is configured (callers skip all work otherwise). */
int	recd_audit_on(const struct recd *d);

/* Fills *as from the META records meta[0..len) (whole event records). */
void	recd_audit_sess_init(struct recd_audit_sess *as, const uint8_t *meta,
	    size_t len, uint64_t fallback_wall);

/* Emits the events of the whole records data[0..len) of session id:
 * session.start for META, decision, escort, transfer / transfer.start,
 * session.end, and integrity / policy.reload for the MARKERs that say so. */
void	recd_audit_records(struct recd *d, const struct recd_audit_sess *as,
	    const char *id, const uint8_t *data, size_t len);

/* Emits an integrity event about session id (as may be NULL) at wall_ns
 * (0: now). */
void	recd_audit_integrity(struct recd *d, const struct recd_audit_sess *as,
	    const char *id, uint64_t wall_ns,
	    const struct recd_audit_finding *f);

#endif
