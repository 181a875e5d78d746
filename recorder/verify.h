/*
 * verify.h: integrity verification of session files and of a whole store.
 *
 * verify_file() checks one session file: every segment's framing and
 * CRC32C, the segment indexes, the hash chain, sequence continuity, every
 * CHECKPOINT and FINAL record (fields against the chain, key id, Ed25519
 * signature when a verifier is given), and, with VERIFY_DEEP, decodes every
 * event.  With a verifier it reads the file once without the CRCs of the
 * segments a verified seal covers, and a file of 16 MiB or more on two
 * threads; it reads it again checking every CRC in order when anything
 * does not verify, so its report is the full check's (verify_file.c,
 * escort-transcript(5)).  verify_store() adds the journal: its own chain
 * and signatures, every journal entry against the session files, and the
 * set of sessions.
 */
#ifndef ESCORT_VERIFY_H
#define ESCORT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/seal.h"

enum verify_flags {
	VERIFY_DEEP = 1,	/* decompress and check every event record */
	VERIFY_WAIT_LIVE = 2,	/* an incomplete tail (journal, or a live
				   session) may be a write in progress: look
				   again once after 200 ms before reporting */
	VERIFY_READER = 4	/* for a reader of the sessions named: the
				   journal entries covered by the newest tree
				   head of heads.esh are authenticated by that
				   head (one signature, the Merkle root
				   recomputed), except the entries of the
				   sessions named and of the journal itself,
				   which keep their own signature checks, as do
				   the entries after the head; the other heads
				   are checked against the journal, and their
				   signatures only when they contradict it.
				   In a session file, only the last seal's
				   signature is checked, when it verifies (it
				   signs the chain over the earlier ones; else
				   every one is, in order: verify_file.c).
				   Equally strong: escort-transcript(5), WHAT
				   VERIFICATION PROVES */,
	VERIFY_NO_SESSIONS = 8	/* with nids 0: the journal and the tree
				   heads only, no session (a reader whose
				   filters selected none still checks the
				   journal) */
};

/* One segment as found in a file. */
struct verify_seg {
	uint64_t offset;
	uint64_t end;
	uint8_t type;
	uint8_t head_before[SEAL_HASH_LEN];
	uint8_t head_after[SEAL_HASH_LEN];
};

struct verify_file_result {
	char id[SEAL_ID_MAX + 1];	/* from the HEAD segment */
	uint64_t start_wall_ns;
	uint64_t end_wall_ns;		/* FINAL time, 0 if unfinished */
	uint64_t last_wall_ns;
	uint32_t segments;		/* valid segments */
	uint64_t valid_end;		/* offset after the last valid segment */
	uint64_t file_size;
	uint8_t head[SEAL_HASH_LEN];	/* head after the last valid segment */
	uint64_t last_seq;
	uint64_t last_t_ns;
	uint64_t raw_bytes;		/* uncompressed event bytes (DATA) */
	int finished;			/* ends with FINAL */
	int recovered;			/* holds RECOVERY segments */
	uint64_t cut_offset;		/* of the last RECOVERY record: */
	uint64_t cut_bytes;		/* where, and how many bytes cut */
	uint64_t signed_end;		/* end of the last CHECKPOINT/FINAL */
	int tail_torn;			/* file ends in an incomplete or
					   unreadable last segment */
	/* Resumes the recorder refused, recorded as its MARKER with
	 * ACKED_SEQ and STORED_SEQ (escort-transcript(5)); the fields of the
	 * last one.  Found by the DATA segments flagged RESUME_REFUSED
	 * (decoded alone); with VERIFY_DEEP, every event is decoded and such
	 * a MARKER counts wherever it is (also as older recorders wrote it,
	 * among other records, without the flag). */
	uint32_t resumes_refused;
	uint64_t refused_acked;
	uint64_t refused_stored;
	/* First problem found (err < 0), else err == REC_OK. */
	int err;
	uint32_t err_index;
	uint64_t err_offset;
	char msg[200];
	/* Every valid segment (malloc'd, nseg entries; verify_file_result_free). */
	struct verify_seg *seg;
	size_t nseg;
};

/*
 * Checks the session file open at fd.  expect_id (may be NULL) must equal
 * the HEAD's id; v (may be NULL: no signature checks) must have signed
 * every CHECKPOINT and FINAL.  Returns REC_OK when the scan completed (then
 * res->err says whether a problem was found and where), or REC_ENOMEM /
 * REC_EIO.  A torn tail is not an error here: res->tail_torn is set and the
 * scan ends at res->valid_end.
 */
int verify_file(int fd, const char *expect_id, const struct seal_verifier *v,
    int flags, struct verify_file_result *res);
void verify_file_result_free(struct verify_file_result *res);

/* What a report line is (the ok argument of verify_report_cb). */
enum verify_report_kind {
	VERIFY_PROBLEM = 0,	/* tampering, damage, a contradicted head */
	VERIFY_INTACT = 1,	/* a session (or the anchor) verified */
	VERIFY_NOTICE = 2,	/* verified but worth seeing: a session
				   "recovered, N bytes cut at OFFSET" after
				   a restart, a journal rebuilt by the
				   administrator or recovered after a crash */
	VERIFY_IOERR = 3	/* a file could not be read (open, stat or
				   read failed): no finding about its
				   content; msg is "FILE: REASON" */
};

/*
 * Reports one problem or one result line.  session is the session id (or
 * "journal", "heads", "anchor"); index/offset name the segment (index
 * UINT32_MAX and offset UINT64_MAX when not about a place).  ok is an enum
 * verify_report_kind.  Every session checked gets exactly one VERIFY_INTACT
 * or VERIFY_NOTICE line, or one or more VERIFY_PROBLEM lines: a listing
 * can show its status from these (intact / recovered / tampered).
 */
typedef void (*verify_report_cb)(void *arg, int ok, const char *session,
    uint32_t index, uint64_t offset, const char *msg);

/*
 * Verifies sessions of the store against v: ids[0..nids) or, with nids 0,
 * every session known to the journal or present in STORE/sessions (and the
 * set of them must match).  The journal is always checked.  Calls cb for
 * every problem and every session verified.  Returns the number of problems
 * (0: all intact) or a negative REC_E* code when verification could not run.
 */
int verify_store(const char *store, const struct seal_verifier *v,
    const char *const *ids, size_t nids, int flags, verify_report_cb cb,
    void *arg);

/*
 * verify_store, plus the tree heads: every head in STORE/heads.esh and, when
 * anchor is not NULL, every head in the file anchor (kept outside the store)
 * must be signed by v and have the Merkle root of the journal's first SIZE
 * entries (treehead.h): the store's journal extends every head, so nothing
 * the journal held at that time was deleted or rewritten, and every session
 * it named is checked.  The first head contradicted is reported
 * (VERIFY_PROBLEM, naming the file and line); an anchor whose heads all
 * hold gets one VERIFY_INTACT line.
 */
int verify_store_anchored(const char *store, const struct seal_verifier *v,
    const char *const *ids, size_t nids, int flags, const char *anchor,
    verify_report_cb cb, void *arg);

#endif
