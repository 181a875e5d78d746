/*
 * scp_watch: the legacy scp protocol (`scp -O`, remote `scp -t` / `scp -f`)
 * parsed in passing on one exec channel, recording every file it carries.
 *
 * Two parts:
 *
 * 1. scp_cmd_parse() classifies an exec command line: is it the remote end
 *    of an scp upload (`scp -t PATH`: the technician sends files to PATH) or
 *    download (`scp -f PATH`), with which options.  Only the program word
 *    exactly "scp" (after quote removal; not /usr/bin/scp) with an option
 *    word holding t or f is a transfer; anything else is SCP_CMD_NONE, a
 *    command for the exec policy.  The line is split into words by the
 *    policy's command-line parser (policy/cmdline.h: quotes, backslashes;
 *    '#' is no comment); the options -t -f -r -d -p -v -q may come in any
 *    order and bundles (`scp -v -r -pt -- /tmp`).  Anything a shell would
 *    run or expand outside quotes (; & | < > ( ) $ ` newline), a carriage
 *    return, or a line the parser cannot read makes the line
 *    SCP_CMD_INVALID, as do other options, both -t and -f, no
 *    path, more than one path, an empty path or one starting with '-': the
 *    relay refuses those.
 *
 * 2. scp_watch follows the protocol on the channel's data streams.  The
 *    source (the side sending files: the client for -t, the server for -f)
 *    sends control lines (C mode size name, D mode 0 name, E, T times,
 *    \1/\2 messages) and file bytes; the sink answers each line and each
 *    file with \0 (ok), \1 message (error) or \2 message (fatal).  The
 *    watcher pairs each answer with what it answers, so a refused file's
 *    bytes are never mistaken for data.  Passive (the default), it never
 *    changes or holds back bytes: feed each fragment before forwarding it.
 *    In filter mode (scp_watch_set_check, what the relay uses) it is the
 *    only way bytes pass, and each file and directory is decided by the
 *    transfer rules before it reaches the sink.
 *
 * Records (xfer_record.h): with scp_watch_set_ids, a start record for each
 * file (and each directory an upload creates) before its C (D) line passes;
 * one XFER_OP_FILE per file (direction, path,
 * size, SHA-256, file_mode, name, and for uploads the first content_limit
 * bytes), outcome OK when the sink acknowledged the bytes, FAILED with the
 * sink's or source's message otherwise; XFER_OP_MKDIR for each directory an
 * upload creates; at scp_watch_finish() a file cut short is INCOMPLETE.
 *
 * Paths: downloads: the directory of the -f path joined with the names the
 * source sends.  Uploads: the target joined with the name when the target
 * is known to be a directory (-d, -r, a trailing '/', ".", "~"); otherwise
 * the target itself (the remote scp writes there unless the target is an
 * existing directory, which the proxy cannot see); the name field always
 * carries the name the source sent.  A file refused by the transfer rules
 * is recorded with the path that was refused.
 *
 * Errors: PX_OK, PX_ENOMEM, PX_EINVAL (a stream the sink itself would
 * reject, or a peer that does not wait for acknowledgements and sends more
 * than 64 KiB ahead).  scp_watch_error() says what.  After an error the
 * watcher refuses further input with the same code; the relay should end
 * the channel, since what follows cannot be recorded faithfully.
 *
 * Integration (how the relay calls it, chan_decide.c and xfer_chan.c):
 *   on an exec request: scp_cmd_parse(command, &cmd); NONE is an ordinary
 *     command for the exec policy; refuse INVALID; UPLOAD needs the
 *     policy's sftp upload (or both), DOWNLOAD download (or both), and the
 *     transfer rules decide the -f path or a -t target that is a file; the
 *     target runs scp_cmd_render(&cmd), not the technician's line;
 *   when it runs: w = scp_watch_new(&cmd, limit), scp_watch_set_check(w,
 *     &check);
 *   on client data: scp_watch_client(w, d, n); on target stdout:
 *     scp_watch_server(w, d, n); then write scp_watch_output() of each
 *     side, consuming what was written; take records after each call; on
 *     an error log scp_watch_error(w) and close the channel;
 *   on channel close: scp_watch_finish(w), take the remaining records,
 *     scp_watch_free(w), scp_cmd_free(&cmd).
 * The watcher buffers at most 64 KiB per direction plus one control line.
 */
#ifndef XFER_SCP_H
#define XFER_SCP_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/xfer_check.h"
#include "proxy/xfer_record.h"
#include "proxy/xfer_stream.h"

enum scp_cmd_kind {
	SCP_CMD_NONE = 0,	/* not an scp command */
	SCP_CMD_UPLOAD,		/* scp -t: files go to the target */
	SCP_CMD_DOWNLOAD,	/* scp -f: files come from the target */
	SCP_CMD_INVALID		/* scp, but not something to let through */
};

struct scp_cmd {
	enum scp_cmd_kind kind;
	int recursive;		/* -r */
	int dir_target;		/* -d: target must be a directory */
	int preserve;		/* -p */
	int verbose;		/* -v */
	int quiet;		/* -q */
	char *path;		/* first path operand (owned), or NULL */
	char **paths;		/* every path operand (owned; npaths) */
	size_t npaths;		/* number of path operands */
	const char *reason;	/* SCP_CMD_INVALID: static explanation */
};

/* Classifies an exec command line.  Fills *out (free it with
 * scp_cmd_free) and returns PX_OK, or PX_ENOMEM. */
int scp_cmd_parse(const char *line, struct scp_cmd *out);

/* The command the proxy sends in place of the technician's line for an
 * UPLOAD or DOWNLOAD: "scp [-v] [-q] [-r] [-p] [-d] -t|-f -- 'PATH'...",
 * every path single-quoted (a leading "~/" or a lone "~" becomes a path
 * relative to the home, where the command starts), so that the target's
 * shell expands nothing.  Returns PX_OK with a malloc'd string in *out,
 * PX_EINVAL for another kind, or PX_ENOMEM. */
int scp_cmd_render(const struct scp_cmd *c, char **out);

/* Whether an upload's target is known to be a directory: -d, -r, a
 * trailing '/', ".", "~" (else it may be a file or an existing directory). */
int scp_cmd_target_is_dir(const struct scp_cmd *c);

/* Frees what scp_cmd_parse allocated; *c is zeroed. */
void scp_cmd_free(struct scp_cmd *c);

#define SCP_WATCH_CONTENT_LIMIT	((size_t)1 << 20)

struct scp_watch;

/* Creates a watcher for a channel running cmd (kind UPLOAD or DOWNLOAD;
 * cmd is copied).  Returns NULL on no memory or another kind. */
struct scp_watch *scp_watch_new(const struct scp_cmd *cmd,
    size_t content_limit);

/* Frees the watcher and any records not taken (NULL is fine). */
void scp_watch_free(struct scp_watch *w);

/* Feeds bytes the client sent (channel data) / the server sent (stdout;
 * not stderr).  Return PX_OK, PX_EINVAL, PX_ENOMEM. */
int scp_watch_client(struct scp_watch *w, const void *data, size_t n);
int scp_watch_server(struct scp_watch *w, const void *data, size_t n);

/* Removes and returns the oldest finished record (caller frees it), or
 * NULL. */
struct xfer_record *scp_watch_take_record(struct scp_watch *w);

/* The channel has ended: a file in progress becomes INCOMPLETE. */
void scp_watch_finish(struct scp_watch *w);

/* A sentence describing the last error, or "". */
const char *scp_watch_error(const struct scp_watch *w);

/*
 * Filter mode (the relay uses it): from now on nothing passes unless the
 * watcher releases it.  Fed bytes are consumed whole (as before); what may
 * go on is queued for scp_watch_output(): source bytes once the watcher has
 * read them (a control line when it is complete and allowed, file bytes as
 * they come; bytes a source sends ahead of an answer wait for it; after
 * the transfer ended, none), sink bytes at once.  With check->fn set, every
 * C and D line is asked about first (uploads: put and mkdir on the path,
 * and at the top level on the target joined with the name too, since the
 * target may be a directory; downloads: get and ls): a refused one never
 * reaches the sink; the source gets "\1escort: ...\n" as the sink's
 * answer (it skips that file and goes on, printing the message when it is
 * the technician's client), a download's technician gets the same line
 * as a message, and a DENIED record is made.  check (may be NULL) is
 * copied.
 */
void scp_watch_set_check(struct scp_watch *w, const struct xfer_check *check);

/* Start records: with ids set (copied), each C line that may pass (and
 * each D line of an upload: op XFER_OP_MKDIR) is preceded in the record
 * queue by a start record (outcome STARTED, path, direction, name, a new
 * file id from ids); the end record carries the same id.  Call before the
 * first byte. */
void scp_watch_set_ids(struct scp_watch *w, const struct xfer_ids *ids);

/* Each file's bytes in offset order go to tap (copied), with the file's id
 * (0 without ids).  Call before the first byte. */
void scp_watch_set_tap(struct scp_watch *w, const struct xfer_tap *tap);

/* Filter mode: bytes released toward the target (to_target) or the
 * technician; valid until the next call on w.  Consume what was written. */
const uint8_t *scp_watch_output(struct scp_watch *w, int to_target, size_t *len);
void scp_watch_output_consume(struct scp_watch *w, int to_target, size_t n);

#endif
