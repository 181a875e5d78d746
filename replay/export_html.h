/*
 * export_html: "escort-replay export ID --format html": one self-contained
 * HTML page of a session that plays it in the browser: its metadata, the
 * verdict of verification, the asciinema-player (export_html_player.h,
 * its script and style sheet inlined) playing the session's asciicast
 * recording (export_cast.h, inlined too), a timeline and a list of its
 * commands (cmdlog.h) where a click seeks the player to the command, the
 * table of the commands with decisions, rules, approvers and exit
 * statuses, its file transfers (xfers.h), its markers, the final screen
 * (libvterm, the recorded window size) and the output text (escape
 * sequences and carriage returns removed, a backspace deleting the
 * character before it), with an anchor where each command was decided.
 * Nothing is fetched to view it.  Every byte taken from the recording is
 * escaped for HTML, or for JSON inside a <script> element (no "<"): a
 * recording is the technician's and the target's input, not trusted
 * markup.
 */
#ifndef REPLAY_EXPORT_HTML_H
#define REPLAY_EXPORT_HTML_H

#include <stdio.h>

struct tr;
struct replay_player;

/*
 * Writes the page of session id (r open at its first event) to f with the
 * player pl (loaded); cast_flags (enum replay_cast_flags) as for the
 * asciicast export, REPLAY_CAST_NO_INPUT leaving the keystrokes out of the
 * page.  Reads r three times (tr_seek_seq back to the start in between).
 * Returns 0, REC_ENOMEM, or the negative REC_E* error reading met (the
 * page is then ended with a note saying where the reading stopped).
 */
int replay_export_html(FILE *f, struct tr *r, const char *id,
    const struct replay_player *pl, unsigned cast_flags);

#endif
