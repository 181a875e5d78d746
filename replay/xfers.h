/*
 * xfers: the file transfers and file operations of one session, as the
 * rows "files" prints and "extract" numbers.
 *
 * A row is one transfer or operation: its start record and end summary
 * (FILE events with the same FILE_ID on the same channel, see
 * escort-transcript(5)), or a summary alone (operations, refusals, and
 * recordings made before start records existed).  Rows are numbered from
 * 1 in the order of their first record.  A start record without an end is
 * a transfer the recording stopped during (the proxy was killed, the
 * session was cut): its outcome reads "incomplete" and ended is 0.
 * Content chunks add to content_len of the row with their FILE_ID.
 */
#ifndef REPLAY_XFERS_H
#define REPLAY_XFERS_H

#include <stddef.h>
#include <stdint.h>

struct tr;
struct ev;

struct replay_xfer {
	uint32_t chan;		/* the channel of its records */
	uint64_t file_id;	/* FILE_ID, or 0 when none was recorded */
	uint64_t t_ns;		/* time of its first record */
	int started;		/* a start record was seen */
	int ended;		/* an end summary was seen */
	size_t start_no;	/* started: 1-based among the start records
				 * of its channel */
	char *kind;		/* "sftp", "scp" or "" (all strings malloc'd) */
	char *op;		/* CH_ACTION: "file", "rename", ... */
	char *dir;		/* "upload", "download" or "" */
	char *outcome;		/* VERDICT of the end, or "incomplete" */
	char *path;
	char *path2;		/* second PATH (rename, symlink, link) or "" */
	char *message;		/* MESSAGE or "" */
	uint64_t size;
	int has_size;
	uint8_t sha[32];
	int has_sha;
	uint64_t content_len;	/* content bytes recorded from offset 0 on */
	int content_gap;	/* a chunk did not continue the previous one */
};

struct replay_xfers_chan {
	uint32_t chan;
	size_t starts;
};

/* Zero-initialise before replay_xfers_read. */
struct replay_xfers {
	struct replay_xfer *v;
	size_t n, cap;
	struct replay_xfers_chan *ch;	/* start records per channel */
	size_t nch;
};

/*
 * Reads the rest of r (from where it stands) into rows appended to *out.
 * Returns 0, REC_ENOMEM, or the negative REC_E* error tr_next met (rows
 * up to it are kept).
 */
int replay_xfers_read(struct tr *r, struct replay_xfers *out);

/* Adds one event (FILE events count, others are ignored) to the rows, for
 * readers that read the events themselves.  Returns 0 or REC_ENOMEM. */
int replay_xfers_add_event(struct replay_xfers *out, const struct ev *e);

/* 1 when e is a FILE start record (VERDICT "started"), else 0. */
int replay_xfer_is_start(const struct ev *e);

/* 1 when the row is a file transfer (operation "file", or none recorded,
 * with a direction), else 0. */
int replay_xfer_is_file(const struct replay_xfer *x);

/* What a row is: "upload" or "download" for a file, else the operation
 * ("rename", "remove", "mkdir", "setstat", "symlink", "listdir", ...). */
const char *replay_xfer_type(const struct replay_xfer *x);

/* The row's outcome: its end's VERDICT ("ok", "denied", "failed",
 * "incomplete"), or "incomplete" for a start without an end. */
const char *replay_xfer_outcome(const struct replay_xfer *x);

/* Frees every row; *x is empty afterwards. */
void replay_xfers_free(struct replay_xfers *x);

#endif
