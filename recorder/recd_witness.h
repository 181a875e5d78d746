/*
 * recd_witness: hands every signed tree head of the journal to the
 * configured Witness command (escort-recorder.conf(5)), which keeps it
 * where the store's owner cannot rewrite it (a remote syslog, a write-once
 * store).  The command runs as "/bin/sh -c COMMAND" with the head line
 * (treehead.h text form) and a newline on stdin; the recorder never waits
 * for it, and logs a failure to start it or a non-zero exit.
 */
#ifndef RECORDER_RECD_WITNESS_H
#define RECORDER_RECD_WITNESS_H

/* A journal_head_cb: arg is the struct recd. */
void	recd_witness_head(void *arg, const char *line);

#endif
