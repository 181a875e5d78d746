/*
 * recd_session: one recorded session inside escort-recorder: its transcript
 * writer (tw_), the expected next seq, and the flush / sync / ack policy:
 *
 *	DATA appended -> flushed as one segment when RECD_FLUSH_BYTES are
 *	pending, RECD_FLUSH_MS after the first unflushed event, or on a sync
 *	request; then per Fsync: always -> fdatasync, then ACK; interval ->
 *	fdatasync on the interval (or after RECD_SYNC_BYTES), then ACK;
 *	never -> ACK after the write.  An ACK names the highest durable seq
 *	and the chain head after it.
 *
 * Syncs run on the libuv thread pool on a second descriptor of the file, so
 * the loop keeps reading while the disk works.  A write error breaks the
 * session: no more ACKs, the attached connection gets ABORT with the reason,
 * the writer is dropped; a later resume reopens the file (recovering the
 * torn tail) if the store works again.
 *
 * Sessions live in d->sessions.  Functions returning int return REC_OK or
 * a negative REC_E* code with a reason in err.
 */
#ifndef RECORDER_RECD_SESSION_H
#define RECORDER_RECD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/recd.h"

struct recd_conn;

/* Creates a new session file for the META records meta[0..len).  On
 * success *out is in d->sessions, attached to nobody. */
int	recd_sess_create(struct recd *d, const uint8_t *meta, size_t len,
	    struct recd_sess **out, char *err, size_t errlen);

/* Finds session id for a resume: in memory, else reopened from the store
 * (recovering its tail).  Makes everything written so far durable first.
 * Returns REC_ENOENT, REC_ECLOSED (finished), store errors. */
int	recd_sess_resume(struct recd *d, const char *id, struct recd_sess **out,
	    char *err, size_t errlen);

/* The in-memory session with id, or NULL. */
struct recd_sess *recd_sess_find(struct recd *d, const char *id);

/* Reopens session file id from the store (its unsigned tail cut, see
 * tw_recover) into the table, only when the journal shows it open.
 * Returns REC_ECLOSED (closed: never reopened), REC_ENOENT (no file, or
 * one the journal never named), REC_ETAMPER (the file lacks what the
 * journal recorded), or, for a damaged file, REC_ECRC/REC_EFORMAT/
 * REC_ECHAIN/REC_ESEQ/REC_ESIG with the offset in err.  The file is then
 * left as it is. */
int	recd_sess_reopen(struct recd *d, const char *id, struct recd_sess **out,
	    char *err, size_t errlen);

/* recd_recover.c: at startup, reopens every session the journal shows
 * open (unsigned tails cut and recorded), and logs session files the
 * journal never named (never adopted; a head-only one is set aside as
 * ID.est.orphan).  Returns the number of files left for verify to report
 * (each logged with the reason). */
int	recd_sess_recover_all(struct recd *d);

/* Marks s as reopened at startup (recd_recover.c): if no sender resumes
 * it, its END says that the recorder was away (recorder-lost). */
void	recd_sess_set_recovered(struct recd_sess *s);

/* Ends s in the recording itself: appends an END event written by the
 * recorder (ev_end.h: kind, reason, END_BY "recorder") with the next seq,
 * then closes it as recd_sess_close does (s is gone after).  Used when no
 * sender can write the END: no resume within ResumeTimeout (proxy-lost,
 * or recorder-lost for a session reopened at startup), recorder shutdown
 * (recorder-shutdown).  When the last record the sender gave is its own
 * END, only the close is done.  A failed END write is logged; the session
 * is closed anyway. */
void	recd_sess_end(struct recd_sess *s, int kind, const char *reason);

/* Attaches conn (detaching any previous connection, which gets ABORT). */
void	recd_sess_attach(struct recd_sess *s, struct recd_conn *c);

/* The connection went away; the session waits ResumeTimeout for a resume. */
void	recd_sess_detach(struct recd_sess *s);

/* Id, highest durable seq and its chain head. */
const char *recd_sess_id(const struct recd_sess *s);
uint64_t recd_sess_durable(const struct recd_sess *s);

/* Appends count records data[0..len) (validated here: whole records, seqs
 * continuing the session, no recorder-only types); leading records the
 * session already holds (seq below the next expected) are skipped.  sync: flush and make
 * durable now.  REC_ESEQ/REC_EFORMAT/...: the sender broke the protocol
 * (the connection should ABORT); the session itself is unchanged. */
int	recd_sess_data(struct recd_sess *s, const uint8_t *data, size_t len,
	    uint32_t count, int sync, char *err, size_t errlen);

/* Appends an event the recorder itself writes (a MARKER about the session)
 * with the next seq and the last event's time, and makes it durable like a
 * DATA with the sync flag.  seg_flags 0: with the records around it;
 * else (SEGF_RESUME_REFUSED) in a DATA segment of its own carrying those
 * flags (tw_append_alone).  Returns REC_OK or recd_sess_data's errors; a
 * write error breaks the session (s is freed). */
int	recd_sess_note(struct recd_sess *s, uint16_t type, uint16_t seg_flags,
	    const void *fields, size_t len, char *err, size_t errlen);

/* The sender asked to close: flush, write the signed FINAL record, send
 * CLOSED with the receipt, forget the session. */
void	recd_sess_close(struct recd_sess *s);

/* recd_recover.c: the signed FINAL record of finished session id (for a sender that lost
 * the CLOSED answer).  Returns REC_OK, file errors or REC_EFORMAT. */
struct seal_receipt;
int	recd_sess_final(struct recd *d, const char *id,
	    struct seal_receipt *rc, char *err, size_t errlen);

/* The CLOSED seal field of wire.h from a receipt; returns WIRE_SEAL_LEN. */
size_t	recd_seal_field(const struct seal_receipt *rc, uint8_t *out);

/* Tick: flush deadlines, interval syncs, resume timeouts (the session then
 * ends with recd_sess_end).  Returns 1 while
 * some session still needs ticks. */
int	recd_sess_tick(struct recd *d, uint64_t now_ms);

/* Shutdown: every session gets an END (recorder-shutdown) and a signed
 * FINAL record; the attached connections get ABORT.  Sessions are freed. */
void	recd_sess_close_all(struct recd *d);

#endif
