/* chan_xfer: the file-transfer side of a channel pair.  An "sftp" subsystem
 * channel runs through the SFTP filter (xfer_sftp_filter.h), which may answer
 * refused requests itself, so its bytes go through the filter's buffers; an
 * exec channel running `scp -t` / `scp -f` is watched in passing
 * (xfer_scp.h) and its bytes are forwarded unchanged.  Both produce
 * transfer records, which become FILE events of the recording:
 *
 *   summary: KIND "sftp"|"scp", CH_ACTION op ("file", "remove", "rename",
 *            "mkdir", ...), VERDICT outcome ("ok", "denied", "failed",
 *            "incomplete"), PATH (a second PATH: rename/link target),
 *            DIRECTION "upload"|"download" (files), SIZE, SHA256 (32 bytes,
 *            when the bytes covered the file in order), MESSAGE (peer's or
 *            policy's text), FILE_ID;
 *   content: FILE_ID, OFFSET, CONTENT (uploads, up to FileContentLimit
 *            bytes in 64 KiB events), after the summary;
 *   start:   KIND, CH_ACTION "file", VERDICT "started", PATH, DIRECTION,
 *            FILE_ID: when a file transfer opens (SFTP OPEN, scp C line),
 *            before its first byte; its summary reuses the FILE_ID.  File
 *            ids come from the session's counter (px_conn next_file_id).
 *
 * A record the recorder's spool cannot take now waits in the channel's
 * queue; while anything waits the channel consumes no more input and
 * releases no byte either way, so no transfer outruns its record.  A record
 * the recorder refuses for another reason ends the session with a message
 * (px__conn_end); nothing goes on unrecorded.  All functions run from
 * px__chan_step or the channel callbacks on the connection's loop. */
#ifndef PX_XFER_CHAN_H
#define PX_XFER_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/xfer_check.h"
#include "proxy/xfer_record.h"

struct px_chan;
struct scp_cmd;

/* The xfer_check of a channel (ctx: the struct px_chan): the session's
 * policy_decide_transfer at the current time; a refusal is logged and its
 * message is "escort: " and the decision's reason (naming rule and line). */
int px__xfer_check(void *ctx, enum pol_xfer_op op, const char *path, const char *path2,
    char *msg, size_t cap);

/* Starts the SFTP filter on ch with the policy's mode, every path
 * operation decided by px__xfer_check.  Returns PX_OK or
 * PX_ENOMEM. */
int px__xfer_start_sftp(struct px_chan *ch, enum xfer_mode mode, size_t content_limit);

/* Starts the scp watcher on ch for cmd (UPLOAD or DOWNLOAD; copied).
 * Returns PX_OK or PX_ENOMEM. */
int px__xfer_start_scp(struct px_chan *ch, const struct scp_cmd *cmd, size_t content_limit);

/* SFTP and scp (both filter the bytes): takes up to n bytes the
 * technician (from_tech) or the target sent into the filter, as far as its
 * buffers have room, and writes out what it can.  Returns the bytes taken (the rest stays in libssh's buffer). */
size_t px__xfer_sftp_take(struct px_chan *ch, int from_tech, const uint8_t *d, size_t n);

/* SFTP and scp: bytes the filter would take now from that side. */
size_t px__xfer_sftp_room(const struct px_chan *ch, int from_tech);

/* scp: the n bytes about to be forwarded (stdout or technician data).
 * Returns 0, or -1 after the watcher failed (the channel was aborted). */
int px__xfer_scp_feed(struct px_chan *ch, int from_tech, const uint8_t *d, size_t n);

/* Writes out buffered SFTP bytes and queued records as far as possible. */
void px__xfer_drain(struct px_chan *ch);

/* True while records wait for the recorder (input must pause). */
int px__xfer_blocked(const struct px_chan *ch);

/* Bytes held in the filter's buffers toward the technician (to_tech) or
 * the target. */
size_t px__xfer_held(const struct px_chan *ch, int to_tech);

/* The channel ends: unfinished transfers become INCOMPLETE records, which
 * are recorded with the rest as the spool takes them.  Idempotent. */
void px__xfer_finish(struct px_chan *ch);

/* Frees the filter or watcher and any records left. */
void px__xfer_free(struct px_chan *ch);

#endif
