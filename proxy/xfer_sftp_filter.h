/*
 * sftp_filter: SFTP version 3 parsed in passing on one relayed channel,
 * recording every file transfer and enforcing the policy's sftp mode.
 *
 * The filter does no I/O.  The relay hands it each fragment read from the
 * channel, in order and of any size, and writes out what the filter says:
 *
 *   client bytes -> sftp_filter_client() -> sftp_filter_upstream()   (to server)
 *                                         + sftp_filter_downstream() (replies
 *                                           synthesized for refused requests)
 *   server bytes -> sftp_filter_server() -> sftp_filter_downstream() (to client)
 *   both         -> sftp_filter_take_record() (finished operations)
 *
 * Framing: u32 length, byte type, then (all but INIT/VERSION) u32 request
 * id.  A frame longer than the configured max_frame (256 KiB) in either
 * direction is an error.  The server must answer VERSION 3.
 *
 * What passes: server bytes are passed on unchanged and at once, except that
 * a synthesized reply is only inserted between two server frames, never
 * inside one.  Client requests are passed unchanged, each released when its
 * whole frame has arrived (WRITE frames: once the handle, offset and length
 * are known; their data then streams through).  SFTP replies are matched by
 * request id, so a synthesized reply may reach the client before replies to
 * earlier requests; the order of the bytes the server sends is never
 * changed.
 *
 * What is refused (not forwarded; the client gets SSH_FXP_STATUS
 * SSH_FX_PERMISSION_DENIED with a message, and a DENIED record is made):
 *   - with a policy check (cfg.check.fn, xfer_check.h; what the relay
 *     uses): every request that names a path, as the transfer rules decide
 *     it (escort-policy(5), TRANSFER PATHS): OPEN (READ as get, WRITE,
 *     APPEND, CREAT, TRUNC or EXCL as put; no access flag is a read),
 *     OPENDIR (ls), STAT and LSTAT (stat), REALPATH, READLINK, REMOVE,
 *     RENAME (both paths), MKDIR, RMDIR, SETSTAT and FSETSTAT (chmod, on the
 *     handle's path; an unknown handle is refused), SYMLINK (both ends), and
 *     the extensions posix-rename, hardlink, lsetstat, statvfs (stat) and
 *     expand-path (realpath).  A path with a NUL byte is refused.  The
 *     extensions fstatvfs, limits, home-directory, users-groups-by-id and
 *     fsync pass; every other extension is refused.  The message is the
 *     check's, naming the rule.
 *   - without one, by the mode alone: without UPLOAD: OPEN with WRITE,
 *     APPEND, CREAT, TRUNC or EXCL; REMOVE, RENAME, MKDIR, RMDIR, SETSTAT,
 *     FSETSTAT, SYMLINK, and every EXTENDED request but the read-only ones
 *     (statvfs, fstatvfs, limits, expand-path, home-directory,
 *     users-groups-by-id, fsync); without DOWNLOAD: OPEN for reading (READ,
 *     or no access flag at all).  Listing and stat requests pass in every
 *     mode (XFER_MODE_NONE still lets a client browse; a relay that wants no
 *     SFTP at all should refuse the subsystem).
 * A client request the filter cannot decode is answered with
 * SSH_FX_BAD_MESSAGE and not forwarded; a request of an unknown type with
 * SSH_FX_OP_UNSUPPORTED.
 *
 * What is recorded (struct xfer_record, see xfer_record.h): with cfg.ids, a
 * start record (outcome STARTED, direction, path, a new file id) for each
 * direction an OPEN opens, queued when the OPEN is forwarded, before its
 * bytes; the end records of that OPEN carry the same file id.  Each file handle
 * at CLOSE (one record per direction opened: path, size, SHA-256 of the
 * bytes in offset order, upload content up to content_limit), each failed
 * OPEN, each directory listing at CLOSE, each REMOVE, RENAME, MKDIR, RMDIR,
 * SETSTAT, FSETSTAT, SYMLINK and modifying extension when its status comes
 * back, each refusal at once, and at sftp_filter_finish() everything still
 * open as INCOMPLETE.
 *
 * Errors: every int function returns PX_OK or a negative PX_* code
 * (px_error.h): PX_EINVAL for a protocol violation the channel cannot
 * survive (frame too long or too short, no INIT first, server version not 3,
 * malformed server reply, too many outstanding requests or open handles,
 * more than 1 MiB of refusals held behind one unfinished server frame),
 * PX_ENOMEM.  sftp_filter_error() then says what and where, naming the peer.
 * After an error the filter refuses all further input with the same code:
 * the relay should end the channel (after writing what is already queued,
 * if it likes).
 *
 * Integration (how the relay calls it):
 *   on "subsystem sftp" accepted: f = sftp_filter_new(&cfg) with cfg.mode
 *     from the session's policy and cfg.check asking its transfer rules;
 *   on client data d,n: r = sftp_filter_client(f, d, n); then write
 *     sftp_filter_upstream() to the target and sftp_filter_downstream() to
 *     the technician, consuming what was written; take records; on r < 0
 *     log sftp_filter_error(f) and close the channel;
 *   on target data: the same with sftp_filter_server();
 *   flow control: stop reading the client while upstream or downstream
 *     hold more than the relay's window; stop reading the target while
 *     downstream does.  The filter itself holds at most one partial frame
 *     per direction (max_frame bytes) beyond what it was fed;
 *   on channel close: sftp_filter_finish(f), take the remaining records,
 *     sftp_filter_free(f).
 * Feed bytes before forwarding anything else of the same channel: the
 * filter's output is the only thing to forward.
 */
#ifndef XFER_SFTP_FILTER_H
#define XFER_SFTP_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/xfer_check.h"
#include "proxy/xfer_record.h"
#include "proxy/xfer_stream.h"

#define SFTP_FILTER_MAX_FRAME		(256u * 1024)
#define SFTP_FILTER_CONTENT_LIMIT	((size_t)1 << 20)

struct sftp_filter_config {
	enum xfer_mode mode;	/* default XFER_MODE_NONE */
	size_t content_limit;	/* upload bytes kept per file (1 MiB) */
	uint32_t max_frame;	/* longest frame accepted (256 KiB) */
	size_t max_requests;	/* outstanding requests tracked (16384) */
	size_t max_handles;	/* open handles tracked (1024) */
	struct xfer_check check;	/* the policy per path operation (none) */
	struct xfer_ids ids;	/* file ids for start records (none: no
				 * start records) */
	struct xfer_tap tap;	/* file bytes in offset order (none) */
};

struct sftp_filter;

/* Fills c with the defaults above. */
void sftp_filter_config_init(struct sftp_filter_config *c);

/* Creates a filter for one channel (cfg is copied).  Returns NULL on no
 * memory. */
struct sftp_filter *sftp_filter_new(const struct sftp_filter_config *cfg);

/* Frees the filter, its buffers and any records not taken (NULL is fine). */
void sftp_filter_free(struct sftp_filter *f);

/* Feeds n bytes the client sent.  Returns PX_OK, PX_EINVAL, PX_ENOMEM. */
int sftp_filter_client(struct sftp_filter *f, const void *data, size_t n);

/* Feeds n bytes the server sent.  Returns PX_OK, PX_EINVAL, PX_ENOMEM. */
int sftp_filter_server(struct sftp_filter *f, const void *data, size_t n);

/* Bytes waiting to go to the server / to the client.  The pointer is valid
 * until the next feed or consume call; consume what was written. */
const uint8_t *sftp_filter_upstream(struct sftp_filter *f, size_t *len);
void sftp_filter_upstream_consume(struct sftp_filter *f, size_t n);
const uint8_t *sftp_filter_downstream(struct sftp_filter *f, size_t *len);
void sftp_filter_downstream_consume(struct sftp_filter *f, size_t n);

/* Removes and returns the oldest finished record (caller frees it with
 * xfer_record_free), or NULL when there is none. */
struct xfer_record *sftp_filter_take_record(struct sftp_filter *f);

/* The channel has ended: open handles and unanswered requests become
 * INCOMPLETE records.  Further feeding is refused. */
void sftp_filter_finish(struct sftp_filter *f);

/* A sentence describing the last error ("" if none); valid until the next
 * call on f. */
const char *sftp_filter_error(const struct sftp_filter *f);

#endif
