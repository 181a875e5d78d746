/*
 * xfer_record: what the SFTP filter and the scp watcher report about file
 * activity on one channel, and the FIFO queue that hands records over.
 *
 * A record describes one finished thing: a file transfer (op XFER_OP_FILE,
 * with direction, size, SHA-256 and, for uploads, the first bytes of the
 * content), a directory listing, or a change to the file system (remove,
 * rename, mkdir, ...).  Its outcome says whether the server did it (ok), the
 * policy stopped it (denied, nothing reached the server), the server refused
 * it (failed, with the status code and message) or the channel ended first
 * (incomplete).
 *
 * A file transfer also has a start record (outcome XFER_OUT_STARTED), made
 * when the transfer opens (SFTP OPEN forwarded, scp C line passed on),
 * before any of its bytes move: op XFER_OP_FILE, direction, path and
 * file_id (an scp upload's D line has one too, op XFER_OP_MKDIR).  Its end record carries the same file_id, so a recording cut
 * short still names the transfer that was under way.
 *
 * Records are plain heap objects: whoever takes one from a queue owns it and
 * releases it with xfer_record_free().
 */
#ifndef XFER_RECORD_H
#define XFER_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* The sftp/scp part of a policy: which directions may pass. */
enum xfer_mode {
	XFER_MODE_NONE = 0,
	XFER_MODE_DOWNLOAD = 1,
	XFER_MODE_UPLOAD = 2,
	XFER_MODE_BOTH = 3	/* DOWNLOAD | UPLOAD */
};

enum xfer_op {
	XFER_OP_FILE = 1,	/* a file opened, read and/or written, closed */
	XFER_OP_LISTDIR,	/* a directory read (size = entries listed) */
	XFER_OP_REMOVE,
	XFER_OP_RENAME,		/* path -> target */
	XFER_OP_MKDIR,
	XFER_OP_RMDIR,
	XFER_OP_SETSTAT,	/* attributes changed (also fsetstat, lsetstat) */
	XFER_OP_SYMLINK,	/* path and target as the client sent them */
	XFER_OP_LINK,		/* hard link: path -> target */
	XFER_OP_EXTENDED,	/* other modifying extension; path = its name */
	XFER_OP_STAT,		/* stat, lstat, statvfs (recorded when refused) */
	XFER_OP_READLINK,	/* (recorded when refused) */
	XFER_OP_REALPATH	/* realpath, expand-path (recorded when refused) */
};

enum xfer_dir {
	XFER_DIR_NONE = 0,
	XFER_DIR_DOWNLOAD = 1,	/* target -> technician */
	XFER_DIR_UPLOAD = 2	/* technician -> target */
};

enum xfer_outcome {
	XFER_OUT_OK = 0,
	XFER_OUT_DENIED,	/* refused by policy; never reached the server */
	XFER_OUT_FAILED,	/* the server (or scp peer) reported an error */
	XFER_OUT_INCOMPLETE,	/* channel ended before the operation finished */
	XFER_OUT_STARTED	/* a start record: the transfer opened */
};

struct xfer_record {
	struct xfer_record *next;	/* queue link; NULL once taken */
	enum xfer_op op;
	enum xfer_dir dir;
	enum xfer_outcome outcome;
	uint32_t status;	/* FAILED: SFTP status code (SSH_FX_*), or the
				 * scp error byte (1 or 2); else 0 */
	char *message;		/* FAILED/DENIED: peer's or policy's text; or NULL */
	char *path;		/* NUL-terminated (embedded NULs become '?') */
	char *target;		/* RENAME/SYMLINK/LINK second path, else NULL */
	uint64_t size;		/* FILE: bytes transferred (see sequential);
				 * LISTDIR: entries; else 0 */
	int sequential;		/* FILE: 1 if the bytes covered offsets 0..size
				 * with no gap or overlap, so sha256 is the
				 * digest of the file as transferred; 0 if the
				 * client or server skipped around (size is then
				 * the highest offset reached, sha256 all zero) */
	uint8_t sha256[32];
	char sha256_hex[65];	/* lower-case hex of sha256, or "" */
	uint8_t *content;	/* FILE uploads: first content_len bytes */
	size_t content_len;
	int content_truncated;	/* 1 if the file was longer than the limit */
	uint32_t file_mode;	/* scp: permission bits from the C line */
	char *name;		/* scp: the name the source sent, else NULL */
	uint64_t file_id;	/* a transfer with a start record: the id its
				 * start and end records share (from the
				 * filter's xfer_ids); else 0 */
};

/* Where a filter takes file ids for transfers with a start record: *next
 * is incremented and its new value used.  One counter per session, shared
 * with whoever numbers the session's other transfer records, keeps ids
 * unique.  next NULL: no start records (and file_id stays 0). */
struct xfer_ids {
	uint64_t *next;
};

/* The next id from ids, or 0 when ids has no counter. */
uint64_t xfer_ids_take(const struct xfer_ids *ids);

/* A start record (outcome STARTED) of op (XFER_OP_FILE; XFER_OP_MKDIR for
 * an scp upload's D line) with copies of path (sanitised) and file_id.
 * Returns NULL on no memory. */
struct xfer_record *xfer_record_start(enum xfer_op op, enum xfer_dir dir,
    const void *path, size_t pathlen, uint64_t file_id);

/* Allocates a zeroed record with op/dir/outcome set and a copy of path
 * (pathlen bytes, NULs replaced by '?').  Returns NULL on no memory. */
struct xfer_record *xfer_record_new(enum xfer_op op, enum xfer_dir dir,
    enum xfer_outcome outcome, const void *path, size_t pathlen);

/* Sets a copy of a byte string into *dst (sanitised like paths).
 * Returns PX_OK or PX_ENOMEM. */
int xfer_record_set_str(char **dst, const void *p, size_t n);

/* Frees a record and everything it holds (NULL is fine). */
void xfer_record_free(struct xfer_record *r);

/* Static lower-case names: "file", "download", "ok", ... */
const char *xfer_op_name(enum xfer_op op);
const char *xfer_dir_name(enum xfer_dir dir);
const char *xfer_outcome_name(enum xfer_outcome o);
const char *xfer_mode_name(enum xfer_mode m);

/* Parses "none" | "download" | "upload" | "both".  Returns PX_OK or
 * PX_EINVAL. */
int xfer_mode_parse(const char *s, enum xfer_mode *out);

/* A FIFO of records.  Zero-initialise it (or call xfer_queue_init). */
struct xfer_queue {
	struct xfer_record *head;
	struct xfer_record *tail;
	size_t count;
};

void xfer_queue_init(struct xfer_queue *q);
/* Appends r; the queue owns it until taken. */
void xfer_queue_push(struct xfer_queue *q, struct xfer_record *r);
/* Removes and returns the oldest record (caller owns it), or NULL. */
struct xfer_record *xfer_queue_take(struct xfer_queue *q);
/* Frees every record still queued. */
void xfer_queue_clear(struct xfer_queue *q);

#endif
