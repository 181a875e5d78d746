/*
 * audit_html: "escort-replay audit --html": the audit as one self-contained
 * HTML page (inline CSS, no script, nothing fetched from elsewhere): per
 * person (user name order), each session in time order with its target,
 * start, verdict of verification and how it ended, a timeline of its
 * commands (a bar with a mark per command, linked to its row), the table
 * of its commands (cmdlog.h: exec and typed in shells, decision, rule, approver,
 * exit status; under an exec request what it received on stdin, as text
 * when it is short text, else its size) and of its file transfers and
 * operations (xfers.h: type,
 * outcome, size, SHA-256, paths), then the person's totals; sessions
 * whose head cannot be read are listed apart.  Every recorded byte is
 * escaped (html.h).
 */
#ifndef REPLAY_AUDIT_HTML_H
#define REPLAY_AUDIT_HTML_H

#include <stdint.h>

/* Writes the page to stdout for the sessions of user (NULL: everyone)
 * whose user carried attribute attr ("K=V", NULL: any), to a target
 * matching the glob target (NULL: any), started at or after since and at
 * or before until (ns since the epoch).  Returns the exit status as audit's:
 * 0; 1 when a session does not verify or cannot be read; 2 for an I/O
 * error or a store that cannot be listed. */
int replay_audit_html(const char *store, const char *user, const char *attr,
    const char *target, uint64_t since, uint64_t until);

#endif
