/*
 * html: what the HTML pages of escort-replay share (export --format html,
 * audit --html): the style sheet and the escaping of recorded bytes.
 * A recording is the technician's and the target's input: every byte of it
 * goes through html_bytes, never straight into a page.
 */
#ifndef REPLAY_HTML_H
#define REPLAY_HTML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The inline style sheet (the contents of <style>). */
extern const char html_css[];

/* Writes p[0..n) to f as HTML text, safe in an element or a quoted
 * attribute: & < > " ' as entities, valid UTF-8 kept (C1 controls left
 * out), other bytes as U+FFFD, control bytes but newline and tab left
 * out. */
void html_bytes(FILE *f, const uint8_t *p, size_t n);

/* The same for the C string s. */
void html_str(FILE *f, const char *s);

/* A verdict as a CSS class: "allow", "deny", "approve", or "". */
const char *html_verdict_class(const char *v);

struct replay_cmdlog;
struct replay_xfers;

/* The table of a session's commands (cmdlog.h), times from start (ns
 * since the epoch).  Row N has id "<idp>row-N" when idp is not NULL; with
 * links, its number links to "#cmd-N" (the mark in export's output text)
 * and carries data-t (its offset in seconds, for export's player).  When
 * the log kept stdin (want_stdin), an exec request's stdin is shown under
 * its command: as text (class "stdin") when it is short text, else its
 * size. */
void html_cmd_table(FILE *f, uint64_t start, const struct replay_cmdlog *log,
    const char *idp, int links);

/* A timeline of a session's commands: a bar dur_ns long with a mark per
 * command (coloured by decision, titled with offset, decision and
 * command) linking to "#<href>N", and its scale.  With seek, each mark
 * also carries data-t (offset in seconds) and data-label (what its title
 * says), and an ordered list of the commands follows the bar with the same
 * links (export's page seeks its player there). */
void html_timeline(FILE *f, const struct replay_cmdlog *log, uint64_t dur_ns,
    const char *href, int seek);

/* The table of a session's file transfers and operations (xfers.h). */
void html_xfer_table(FILE *f, uint64_t start, const struct replay_xfers *xs);

#endif
