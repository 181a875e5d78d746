/*
 * export_html: "escort-replay export ID --format html": one self-contained
 * HTML page of a session (inline CSS, no script, no external resource):
 * its metadata, the verdict of verification, a timeline and the table of
 * its commands (cmdlog.h) with decisions, rules, approvers and exit
 * statuses, its file transfers (xfers.h), its markers, the final screen
 * (libvterm, the recorded window size) and the output text (escape
 * sequences and carriage returns removed, a backspace deleting the
 * character before it), with an anchor where each command was decided.
 * Every byte taken from the recording is escaped for HTML: a recording is
 * the technician's and the target's input, not trusted markup.
 */
#ifndef REPLAY_EXPORT_HTML_H
#define REPLAY_EXPORT_HTML_H

#include <stdio.h>

struct tr;

/*
 * Writes the page of session id (r open at its first event) to f; reads r
 * twice (tr_seek_seq back to the start in between).  Returns 0, REC_ENOMEM,
 * or the negative REC_E* error reading met (the page is then ended with a
 * note saying where the reading stopped).
 */
int replay_export_html(FILE *f, struct tr *r, const char *id);

#endif
