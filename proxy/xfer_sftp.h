/*
 * xfer_sftp: the inside of the SFTP filter (xfer_sftp_filter.h), shared by its
 * files and by nothing else:
 *   xfer_sftp_filter.c  the public API and the byte pump (framing)
 *   xfer_sftp_state.c   request and handle tables, records, replies, decoding
 *   xfer_sftp_client.c  client requests: the policy decision, tracking
 *   xfer_sftp_server.c  server replies: handles, digests, outcomes
 * Functions here follow the filter's rules: an int result is PX_OK or the
 * filter's sticky error (set through sftp__fail, which also writes the
 * message); after an error every caller unwinds at once.
 */
#ifndef XFER_SFTP_H
#define XFER_SFTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proxy/xfer_sftp_filter.h"
#include "proxy/xfer_record.h"
#include "proxy/xfer_stream.h"

/* SFTP v3 message types (draft-ietf-secsh-filexfer-02). */
enum {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4,
	FXP_READ = 5, FXP_WRITE = 6, FXP_LSTAT = 7, FXP_FSTAT = 8,
	FXP_SETSTAT = 9, FXP_FSETSTAT = 10, FXP_OPENDIR = 11,
	FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14, FXP_RMDIR = 15,
	FXP_REALPATH = 16, FXP_STAT = 17, FXP_RENAME = 18, FXP_READLINK = 19,
	FXP_SYMLINK = 20,
	FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104,
	FXP_ATTRS = 105, FXP_EXTENDED = 200, FXP_EXTENDED_REPLY = 201
};

/* Status codes. */
enum {
	FX_OK = 0, FX_EOF = 1, FX_PERMISSION_DENIED = 3, FX_BAD_MESSAGE = 5,
	FX_OP_UNSUPPORTED = 8
};

/* OPEN pflags. */
enum {
	FXF_READ = 0x01, FXF_WRITE = 0x02, FXF_APPEND = 0x04,
	FXF_CREAT = 0x08, FXF_TRUNC = 0x10, FXF_EXCL = 0x20
};
#define FXF_UPLOAD (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC | FXF_EXCL)

#define SF_HANDLE_MAX	256	/* longest handle string tracked */
#define SF_BUCKETS	1024	/* request table buckets */
#define SF_PENDING_MAX	(1u << 20)	/* refusals held for a frame end */

struct sf_handle {
	struct sf_handle *next;		/* open-handle list */
	int refs;			/* list + requests + parser */
	int listed;			/* still in the open-handle list */
	uint8_t h[SF_HANDLE_MAX];
	uint32_t hlen;
	uint8_t *path;
	size_t pathlen;
	uint32_t pflags;
	int is_dir;
	int rd, wr;			/* opened for reading / writing */
	struct xfer_stream down, up;
	uint64_t entries;
	uint32_t write_status;		/* first failed WRITE, or 0 */
	char *write_msg;
	uint64_t fid_up, fid_down;	/* file ids of its start records, or 0 */
};

struct sf_req {
	struct sf_req *next;		/* bucket chain */
	uint32_t id;
	uint8_t type;
	enum xfer_op op;		/* for path operations */
	uint8_t *path;
	size_t pathlen;
	uint8_t *target;
	size_t targetlen;
	uint32_t pflags;
	struct sf_handle *h;		/* referenced handle, or NULL */
	uint64_t off;			/* READ offset */
	uint64_t fid_up, fid_down;	/* OPEN: file ids of its start records */
};

enum sf_pstate { P_HDR, P_BODY, P_PREFIX, P_STREAM, P_SKIP };

struct sf_parser {
	enum sf_pstate st;
	uint8_t hdr[5];
	size_t hdr_have;
	uint32_t len;			/* frame length after the u32 */
	uint8_t type;
	struct buf body;		/* collected bytes after the type */
	uint32_t want;			/* P_BODY: body bytes wanted */
	uint64_t left;			/* P_STREAM/P_SKIP: frame bytes left */
	uint64_t data_left;		/* P_STREAM: data bytes left */
	struct sf_handle *sh;		/* P_STREAM: file fed, or NULL */
	uint64_t data_off;
	uint64_t pos;			/* bytes consumed so far */
	uint64_t frame_pos;		/* stream offset of the current frame */
};

enum sf_cstate { C_INIT, C_READY };
enum sf_sstate { S_VERSION, S_READY };

struct sftp_filter {
	struct sftp_filter_config cfg;
	struct sf_parser cp, sp;
	enum sf_cstate cstate;
	enum sf_sstate sstate;
	struct buf up;		/* to the server */
	struct buf down;		/* to the client */
	struct buf pending;	/* replies held for a frame end */
	struct sf_handle *handles;
	size_t nhandles;
	struct sf_req *reqs[SF_BUCKETS];
	size_t nreqs;
	struct xfer_queue records;
	int err;			/* sticky error, or PX_OK */
	int finished;
	char errmsg[256];
};

/* A bounds-checked reader over one frame body; bad is set by the first
 * read past the end, after which every read returns 0/NULL. */
struct rd {
	const uint8_t *p;
	size_t n;
	size_t off;
	int bad;
};

/* ---- xfer_sftp_state.c ------------------------------------------------ */

/* Records the first error (printf-style message) and returns its code. */
int sftp__fail(struct sftp_filter *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sftp__nomem(struct sftp_filter *f);

/* Handles are reference counted: the open-handle list, each request naming
 * the handle and a parser streaming into it hold one each. */
struct sf_handle *sftp__handle_ref(struct sf_handle *h);
void sftp__handle_unref(struct sf_handle *h);
/* The open handle with this handle string, or NULL (no reference taken). */
struct sf_handle *sftp__handle_find(struct sftp_filter *f, const uint8_t *p,
    size_t n);
/* Removes h from the open-handle list and drops the list's reference. */
void sftp__handle_unlist(struct sftp_filter *f, struct sf_handle *h);

/* A zeroed request (NULL on no memory); freed with sftp__req_free, which
 * also drops its handle reference. */
struct sf_req *sftp__req_new(uint32_t id, uint8_t type);
void sftp__req_free(struct sf_req *q);
/* Tracks q until its reply (the table owns it; an older request with the
 * same id is dropped).  Fails past max_requests (q is freed). */
int sftp__req_add(struct sftp_filter *f, struct sf_req *q);
/* Removes and returns the request with this id (caller owns it), or NULL. */
struct sf_req *sftp__req_take(struct sftp_filter *f, uint32_t id);
/* Copies n bytes into a new allocation.  Returns PX_OK or PX_ENOMEM. */
int sftp__dup_bytes(uint8_t **dst, size_t *dlen, const uint8_t *p, size_t n);

/* Queues r (NULL means allocation failed: sets the error). */
int sftp__push_record(struct sftp_filter *f, struct xfer_record *r);
/* Sets r's outcome, status and message from an SSH_FXP_STATUS. */
int sftp__set_status(struct xfer_record *r, uint32_t code, const uint8_t *msg,
    size_t msglen);
/* Emits the end records of an OPEN request that got no handle (the server
 * refused it, or the channel ended first): one per direction it opened,
 * with the file ids of its start records. */
int sftp__open_records(struct sftp_filter *f, const struct sf_req *q,
    enum xfer_outcome out, uint32_t code, const uint8_t *msg, size_t msglen);
/* Emits the records of a handle that closed (or never will). */
int sftp__handle_records(struct sftp_filter *f, struct sf_handle *h,
    enum xfer_outcome out, uint32_t code, const uint8_t *msg, size_t msglen);

/* Appends to an output buffer. */
int sftp__out_put(struct sftp_filter *f, struct buf *b, const void *p,
    size_t n);
/* True when a reply may be inserted into the client stream now. */
int sftp__server_at_boundary(const struct sftp_filter *f);
/* Sends (or holds until the server stream is between frames) an
 * SSH_FXP_STATUS reply to the client. */
int sftp__reply_status(struct sftp_filter *f, uint32_t id, uint32_t code,
    const char *msg);
/* Releases held replies if the server stream is between frames. */
int sftp__flush_pending(struct sftp_filter *f);

uint32_t sftp__rd_u32(struct rd *r);
uint64_t sftp__rd_u64(struct rd *r);
/* A string's bytes (pointing into the frame) and length. */
const uint8_t *sftp__rd_str(struct rd *r, size_t *len);

/* ---- xfer_sftp_client.c ----------------------------------------------- */

/* Decides, tracks and forwards (or answers) the whole client frame held in
 * f->cp (any type but WRITE with a sane prefix). */
int sftp__client_frame(struct sftp_filter *f);
/* The WRITE prefix in f->cp is complete: track, forward, start streaming. */
int sftp__client_write_prefix(struct sftp_filter *f);
/* Bytes of WRITE prefix wanted so far; 0 if it cannot fit the frame. */
size_t sftp__write_prefix_want(const struct sf_parser *cp);

/* ---- xfer_sftp_server.c ----------------------------------------------- */

/* Interprets the whole server frame held in f->sp (any type but DATA). */
int sftp__server_frame(struct sftp_filter *f);
/* The DATA prefix in f->sp is complete: find the READ, start streaming. */
int sftp__server_data_prefix(struct sftp_filter *f);

#endif
