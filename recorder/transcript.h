/*
 * transcript.h: session transcript files: writer (tw_), reader (tr_) and
 * crash recovery.  Format: escort-transcript(5).
 *
 * Store layout: STORE/sessions/ID.est per session, STORE/journal.esj the
 * global journal (journal.h).  A session file is a sequence of segments
 * (segment.h): HEAD, then DATA / CHECKPOINT / RECOVERY segments, and a FINAL
 * segment once closed.
 *
 * The writer is single-threaded: one struct tw is used by one thread at a
 * time.  Different sessions may be written from different threads when they
 * share a journal only through journal.h's locked calls.
 */
#ifndef ESCORT_TRANSCRIPT_H
#define ESCORT_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/event.h"
#include "recorder/seal.h"

struct journal;

#define TR_SESSIONS_DIR	"sessions"
#define TR_SUFFIX	".est"

/* ---- writer ----------------------------------------------------------- */

struct tw;

struct tw_opts {
	size_t chunk_raw_max;	/* close the zstd frame after this many raw
				   bytes (default 4 MiB) */
	uint64_t chunk_ns_max;	/* ... or this age (default 5 s) */
	int zstd_level;		/* 1..19: that zstd level; 0 (default):
				   parameters tuned for terminal text
				   (see rec__tw_zstd_params: ~7.3% of raw) */
	uint64_t checkpoint_ns;	/* sign at least this often while data flows
				   (default 10 s; tw_flush adds one when due) */
	int no_sync;		/* 1: never fdatasync (Fsync never) */
};

/* What is on disk after a flush/checkpoint/close. */
struct tw_state {
	uint64_t last_seq;		/* highest seq written to the file */
	uint8_t head[SEAL_HASH_LEN];	/* chain head of the last segment */
	uint64_t size;			/* file size */
	uint32_t segments;		/* number of segments */
	size_t pending_raw;		/* raw bytes appended, not yet written */
	uint64_t last_t_ns;		/* t_ns of the last event appended */
};

/* Makes a fresh session id "YYYYMMDD-HHMMSS-xxxxxxxx" (UTC, random hex)
 * into out (size >= SEAL_ID_MAX + 1).  Returns REC_OK or REC_ECRYPTO. */
int tw_make_id(char *out, size_t outsz);

/* Returns 1 when id is a valid session id: 1..SEAL_ID_MAX bytes of
 * [A-Za-z0-9._-], not starting with '.', and not "journal" (sessid_valid). */
int tw_id_valid(const char *id);

/* Path of a session file into out: STORE/sessions/ID.est.
 * Returns REC_OK or REC_EINVAL (bad id, too long). */
int tw_path(const char *store, const char *id, char *out, size_t outsz);

/*
 * Creates STORE/sessions/ID.est (O_EXCL: REC_EEXIST if present) and writes
 * its HEAD segment holding meta[0..meta_len), whole event records (normally
 * one META event with seq 1), validated like tw_append.  signer is borrowed
 * and must outlive the writer; journal (borrowed, may be NULL) receives the
 * open/checkpoint/close entries.  opts may be NULL for defaults.
 * On success *out owns the open file; release with tw_close or tw_free.
 */
int tw_create(const char *store, const char *id, const uint8_t *meta,
    size_t meta_len, const struct seal_signer *signer, struct journal *journal,
    const struct tw_opts *opts, struct tw **out);

/*
 * Reopens an existing, unfinished session for appending (after a restart):
 * runs tw_recover() on it (with the journal, when given: only a session it
 * shows open), then positions after the last segment.  The next tw_append
 * must continue at state->last_seq + 1.  Returns REC_ECLOSED when the
 * session was already finished or closed, or tw_recover's errors.
 */
int tw_reopen(const char *store, const char *id,
    const struct seal_signer *signer, struct journal *journal,
    const struct tw_opts *opts, struct tw **out, struct tw_state *state);

/* After tw_reopen: 1 when its recovery cut a torn or unsigned tail (then
 * *cut_offset is the new end of the valid part, *lost_bytes what was
 * removed), else 0. */
int tw_reopened_cut(const struct tw *w, uint64_t *cut_offset,
    uint64_t *lost_bytes);

/*
 * Compresses whole event records p[0..n) (count records, or 0 if
 * unknown) into the current chunk; nothing is written to the file yet.  The
 * seqs must continue the session without gap (REC_ESEQ), records must be
 * whole (REC_ETRUNC/REC_EFORMAT/REC_ETOOBIG).  REC_EFULL when more than
 * SEG_RAW_MAX (32 MiB) raw bytes would be pending: tw_flush first.  On error
 * nothing is appended.
 */
int tw_append(struct tw *w, const uint8_t *p, size_t n);

/*
 * Writes whole event records p[0..n) (validated as by tw_append) as one
 * DATA segment of its own that also carries flags (SEGF_RESUME_REFUSED;
 * other bits are ignored): the open frame is ended first (tw_flush, any
 * pending records in their own segment), then the records make a frame of
 * their own, CHUNK_START and CHUNK_END, so that a reader finds them by the
 * segment header and decodes that segment alone.  Written like tw_flush
 * (a CHECKPOINT when due; not signed, not synced).  Fills *st (may be
 * NULL).  Returns tw_append's or tw_flush's errors.
 */
int tw_append_alone(struct tw *w, const uint8_t *p, size_t n, uint16_t flags,
    struct tw_state *st);

/*
 * Writes one DATA segment with everything appended since the last flush
 * (a zstd flush boundary, or the frame end when the chunk is full or old),
 * plus a CHECKPOINT when one is due, in one write(2).  Nothing pending and
 * no checkpoint due: writes nothing.  Fills *st (may be NULL).
 * Returns REC_OK or REC_EIO/REC_ENOSPC/REC_EPERM/REC_EZSTD; after a write
 * error the writer refuses further writes (REC_ESTATE).  Before each write
 * the file's size is checked against what the writer wrote: a file cut or
 * extended by another process gives REC_ETAMPER, stops the writer and
 * journals an ALTERED entry.
 */
int tw_flush(struct tw *w, struct tw_state *st);

/*
 * Like tw_flush, then signs everything written with a CHECKPOINT segment
 * when anything is unsigned (no sync: the caller syncs before it
 * acknowledges).  The journal gets the checkpoint when none was journaled
 * for opts.checkpoint_ns.  An acknowledgement only ever covers signed data,
 * so a restart that cuts the unsigned tail (tw_recover) never loses an
 * acknowledged byte.  Fills *st (may be NULL).
 */
int tw_seal(struct tw *w, struct tw_state *st);

/* fdatasync(2) of the session file (a no-op with opts.no_sync).  Returns
 * REC_OK or REC_EIO. */
int tw_sync(struct tw *w);

/* Flushes, then writes a signed CHECKPOINT segment and its journal entry.
 * The session file is synced first (unless no_sync).  Fills *st. */
int rec__tw_checkpoint(struct tw *w, struct tw_state *st);

/* Returns 1 when data written since the last checkpoint is older than
 * opts.checkpoint_ns at monotonic time now_ns (CLOCK_MONOTONIC), else 0. */
int tw_checkpoint_due(const struct tw *w, uint64_t now_ns);

/*
 * Ends the session: flushes (closing the zstd frame), writes the signed
 * FINAL segment, syncs (unless no_sync), appends the journal close entry,
 * closes the file and frees w.  On success fills *receipt (may be NULL)
 * with the signed final record.  On error w is freed anyway; the file stays
 * unfinished (recoverable).  The caller appends an END event before, if the
 * session ended normally.
 */
int tw_close(struct tw *w, struct tw_state *st, struct seal_receipt *receipt);

/* Closes the file and frees w without writing anything more (abort, or
 * after an error).  NULL is accepted. */
void tw_free(struct tw *w);

/* Current state without writing. */
void tw_get_state(const struct tw *w, struct tw_state *st);

/* Path of the file (valid while w lives). */
const char *tw_file(const struct tw *w);

/* ---- recovery ----------------------------------------------------------- */

struct tw_recovery {
	int cut;		/* 1 when a torn tail was removed */
	uint64_t cut_offset;	/* new end of the valid part */
	uint64_t lost_bytes;	/* bytes removed */
	int finished;		/* 1 when the file ends with FINAL */
	uint64_t last_seq;
	uint64_t last_t_ns;
	uint8_t head[SEAL_HASH_LEN];
	uint32_t segments;
	uint64_t size;
};

/*
 * Recovery of an open session after a restart.  Checks the file (framing,
 * chain, every signature with signer's key): corruption, a foreign
 * signature or a broken chain is not repaired (REC_ECRC/REC_EFORMAT/
 * REC_ECHAIN/REC_ESEQ/REC_ESIG, *bad_offset names the place) and the file
 * stays as it is.  With a journal, the session must be one the journal
 * shows open (REC_ENOENT: never named, not adopted; REC_ECLOSED: closed,
 * never reopened) and the file must hold the head and the last checkpoint
 * the journal recorded (else REC_ETAMPER).  Then everything after the last
 * signed checkpoint (or after the head) is cut: a write torn by the crash,
 * and unsigned data, which nobody can tell from a forgery.  A cut is
 * written down three times: a journal RECOVER entry ("cut N bytes at
 * offset O"), a RECOVERY segment (EV_RECOVERY, seq 0, EVF_CUT_OFFSET,
 * EVF_LOST_BYTES, EVF_REASON) and a signed CHECKPOINT (kind SEAL_RECOVERED)
 * after it, journaled too.  A file ending in a valid FINAL whose close the
 * journal lacks (a crash between the two) gets its CLOSE entry.  A file
 * already signed to its end is left untouched.  Fills *res (may be NULL).
 */
int tw_recover(const char *path, const struct seal_signer *signer,
    struct journal *journal, struct tw_recovery *res, uint64_t *bad_offset);

/* ---- reader ------------------------------------------------------------ */

struct tr;

/* Opens a session file for reading and parses its HEAD segment.
 * Returns REC_OK, REC_ENOENT/REC_EPERM/REC_EIO, REC_EAGAIN (the HEAD is not
 * complete yet), or a format error (REC_EFORMAT, REC_ECRC, REC_EVERSION).
 * The reader holds the file open; release with tr_free. */
int tr_open(const char *path, struct tr **out);

/* Same on an open descriptor (the reader takes ownership of fd). */
int rec__tr_open_fd(int fd, struct tr **out);

void tr_free(struct tr *r);

/* The session id and the wall-clock start (ns since the epoch). */
const char *tr_id(const struct tr *r);
uint64_t tr_start_wall_ns(const struct tr *r);

/* META records of the HEAD segment (valid while r lives). */
void tr_meta(const struct tr *r, const uint8_t **p, size_t *n);

/*
 * Returns the next event: 1 with *e filled (e->data valid until the next
 * call on r), 0 when no complete segment follows yet (end of a finished
 * file: tr_finished() is then 1; on a live file call again later to
 * follow), or a negative error (tr_error_offset() names the segment).
 * Events come in file order: HEAD META records, then DATA records and
 * RECOVERY events.
 */
int tr_next(struct tr *r, struct ev *e);

/* 1 when the FINAL segment has been read. */
int tr_finished(const struct tr *r);

/* File offset of the segment where the last error was found. */
uint64_t tr_error_offset(const struct tr *r);

/* Positions the reader so that tr_next returns the first event with
 * seq >= seq (resp. t_ns >= t_ns).  Uses the index (index.h), built from
 * the segment headers on first use.  Returns REC_OK or a read error. */
int tr_seek_seq(struct tr *r, uint64_t seq);
int tr_seek_time(struct tr *r, uint64_t t_ns);

/* The file offset of the DATA segment that starts the zstd frame of the
 * last event tr_next returned (0 before any).  tr_seek_frame goes back
 * there without the index (whose first build reads every segment header):
 * tr_next then returns the first event with seq >= seq read from that
 * segment on.  An offset that is not such a segment makes tr_next fail
 * (REC_EFORMAT, REC_ECRC, REC_EZSTD); a later frame returns later events,
 * so the caller checks the seq it gets.  Returns REC_OK or REC_EINVAL (an
 * offset inside the HEAD). */
uint64_t tr_frame_offset(const struct tr *r);
int tr_seek_frame(struct tr *r, uint64_t off, uint64_t seq);

/* Summary of a whole file, for listings: reads the segment headers and
 * the fixed parts of DATA and seal payloads only (no CRC, chain or
 * signature checks: that is verify.h's job).  damaged: the scan met an
 * invalid header before the end of the file. */
struct tr_summary {
	char id[SEAL_ID_MAX + 1];
	uint64_t start_wall_ns;
	uint64_t end_wall_ns;	/* FINAL time, 0 while unfinished */
	uint64_t last_wall_ns;	/* last DATA/CHECKPOINT time */
	uint64_t last_seq;
	uint64_t last_t_ns;
	uint64_t size;
	uint64_t raw_bytes;
	uint32_t segments;
	int finished;
	int recovered;		/* RECOVERY segments present */
	int damaged;		/* the scan stopped at an invalid segment */
	uint32_t resumes_refused; /* DATA segments flagged RESUME_REFUSED:
				   resumes the recorder refused (its MARKER;
				   not counted for recorders before the flag) */
};
int tr_summarize(struct tr *r, struct tr_summary *s);

#endif
