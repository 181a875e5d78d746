/*
 * journal.h: the store's global journal, STORE/journal.esj.
 *
 * An append-only file of JOURNAL segments (segment.h) chained like a
 * session (seal.h, chain id "journal"); each entry is signed on its own:
 *
 *   payload = u8 kind | u8 idlen | id | u32 seg_index | u64 offset
 *             | u64 last_seq | head[32] | u64 wall_ns
 *             [ | u16 textlen | text ]      (kinds RECOVER and up only)
 *             | keyid[32] | sig[64]
 *   sig = Ed25519("escort-journal-v1" 0x00 | prev journal head[32]
 *                 | payload up to keyid)
 *
 * kind OPEN names the HEAD segment (index 0, offset = its end, head_0),
 * CHECKPOINT / CLOSE a checkpoint / FINAL segment of a session (index,
 * offset of that segment, head before it), RECOVER a cut (offset = cut
 * offset, index = segments kept, head = head of the last kept segment,
 * text = what was cut and why), CREATE the creation of the store (id
 * "journal", first entry), REBUILD an administrator's rebuild (id
 * "journal", text = the reason), ALTERED a session file found changed
 * under the running recorder (offset = size found, text = what), PRUNE
 * the removal of a sealed session's file that the object store holds
 * (index = its FINAL segment's, offset = the file's size, last_seq = the
 * close entry's, head = SHA-256 of the whole file, text = the object's
 * s3:// address, then the session's user and target; journal_prune.h,
 * prune.h).
 *
 * The journal's entries are also the leaves of a Merkle tree (merkle.h);
 * signed tree heads of it go to STORE/heads.esh (treehead.h).
 *
 * A struct journal may be shared by the writers of several sessions, on
 * several threads (escort-recorder's workers): every call takes its
 * internal mutex, and an entry (and the tree head a CLOSE entry issues) is
 * signed, written and synced while it is held, so entries and heads have
 * one order whichever thread appends.  The head callback (journal_set_heads)
 * runs with the mutex held, on the appending thread: it must not call into
 * the journal, and should only hand the line on.
 */
#ifndef ESCORT_JOURNAL_H
#define ESCORT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/seal.h"
#include "recorder/treehead.h"

#define JOURNAL_FILE "journal.esj"
#define JOURNAL_ORPHAN_SUFFIX ".orphan"
#define JOURNAL_TEXT_MAX 1024

enum journal_kind {
	JOURNAL_OPEN = 1,
	JOURNAL_CHECKPOINT = 2,
	JOURNAL_CLOSE = 3,
	JOURNAL_RECOVER = 4,
	JOURNAL_CREATE = 5,
	JOURNAL_REBUILD = 6,
	JOURNAL_ALTERED = 7,
	JOURNAL_PRUNE = 8
};

/* 1 when entries of kind k carry a text. */
#define JOURNAL_HAS_TEXT(k) ((k) >= JOURNAL_RECOVER)

struct journal_entry {
	uint8_t kind;
	char id[SEAL_ID_MAX + 1];
	uint32_t seg_index;
	uint64_t offset;
	uint64_t last_seq;
	uint8_t head[SEAL_HASH_LEN];
	uint64_t wall_ns;
	/* Borrowed: set by journal_read for its callback only (valid during
	 * the call), and read by rec__journal_append (may be NULL). */
	const char *text;		/* NUL-terminated, JOURNAL_HAS_TEXT */
	const uint8_t *raw;		/* the whole segment (journal_read) */
	size_t rawlen;
};

/* What the journal says of one session. */
enum journal_sess_state { JOURNAL_SESS_OPEN = 1, JOURNAL_SESS_CLOSED = 2 };

struct journal_session {
	int state;			/* enum journal_sess_state */
	uint64_t open_end;		/* end of the HEAD segment */
	uint8_t open_head[SEAL_HASH_LEN];
	int has_cp;			/* a checkpoint was journaled */
	uint32_t cp_index;		/* the last journaled checkpoint */
	uint64_t cp_offset;
	uint8_t cp_head[SEAL_HASH_LEN];
	/* The session's last entry is a RECOVER (cleared by any later entry
	 * of it): a restart between that entry and its record in the file
	 * finishes the recovery (tw_recover). */
	int recover_last;
	uint32_t rec_index;		/* that RECOVER's segment index */
	uint64_t rec_offset;		/* and offset: where its record goes */
	uint8_t rec_head[SEAL_HASH_LEN];
	uint64_t rec_lost;		/* bytes it says were cut */
};

struct journal;

/*
 * Opens STORE/journal.esj for appending, validating it and cutting a torn
 * tail (a RECOVER entry with id "journal" records the cut).  The journal is
 * created (with a CREATE entry) only for a new store: STORE absent, or
 * holding nothing but an empty sessions directory.  A store with anything
 * else in it and no journal gives REC_ENOENT; corruption before the tail
 * REC_ECRC/REC_ECHAIN/REC_EFORMAT with *bad_offset set (may be NULL); a
 * journal held by another process (flock) REC_ESTATE.  Nothing else is
 * read: session files the journal does not name are never added to it.
 * signer is borrowed and must outlive the journal.  no_sync: never
 * fdatasync.
 */
int rec__journal_open(const char *store, const struct seal_signer *signer,
    int no_sync, struct journal **out);
int journal_open2(const char *store, const struct seal_signer *signer,
    int no_sync, struct journal **out, uint64_t *bad_offset);
void journal_close(struct journal *j);

/* Appends and (unless no_sync) syncs one signed entry (e->text used for
 * the kinds that carry one).  A CLOSE entry is followed by a tree head.
 * Returns REC_OK, an I/O error, or REC_ETAMPER when the journal file is no
 * longer as long as what was appended (another process cut or extended
 * it): the journal then refuses every further append (REC_ESTATE). */
int rec__journal_append(struct journal *j, const struct journal_entry *e);

/* What the journal says of session id: REC_OK with *out filled, or
 * REC_ENOENT when it never named it. */
int journal_session_get(struct journal *j, const char *id,
    struct journal_session *out);

/* Calls cb(arg, id) for every session the journal shows open (no CLOSE
 * entry), in journal order of their OPEN.  Stops at a non-zero return. */
int journal_each_open(struct journal *j, int (*cb)(void *arg, const char *id),
    void *arg);

/* Tree heads: every interval_ns (0: only at closes) rec__journal_head_tick
 * issues a head when the journal grew since the last one; each issued head
 * is appended to STORE/heads.esh and handed to cb (may be NULL) as its
 * text line. */
typedef void (*journal_head_cb)(void *arg, const char *line);
void journal_set_heads(struct journal *j, uint64_t interval_ns,
    journal_head_cb cb, void *arg);
int rec__journal_head_tick(struct journal *j, uint64_t now_mono_ns);

/* Issues a head now (when the journal grew since the last one, or force)
 * and fills *h (may be NULL).  Returns REC_OK or an error. */
int journal_head_issue(struct journal *j, int force, struct tree_head *h);

/* The signed head of the whole journal as it is now into *h: the last one
 * issued when it covers every entry, else a new one (issued like
 * journal_head_issue).  What a CLOSED answer carries.  Returns REC_OK or an
 * error. */
int journal_head_last(struct journal *j, struct tree_head *h);

/*
 * Reading, for verification: calls cb for every entry in order with its
 * segment index and offset in the journal; stops at the first invalid
 * segment and returns its error with *bad_offset set, or at a callback
 * returning non-zero (returned).  When v is non-NULL every signature is
 * checked (REC_ESIG).  Returns REC_OK at a clean end; REC_ENOENT without
 * journal.  *tail_torn is set when the file ends in an incomplete segment.
 */
typedef int (*journal_cb)(void *arg, const struct journal_entry *e,
    uint32_t index, uint64_t offset);
int journal_read(const char *store, const struct seal_verifier *v,
    journal_cb cb, void *arg, uint64_t *bad_offset, int *tail_torn);

/*
 * A tree head standing for the signatures of the entries it covers (see
 * escort-transcript(5), WHAT VERIFICATION PROVES).  head's signature must
 * have been checked by the caller (journal_newest_head).  Entries
 * [0, head->size) are then not checked one by one, except those for which
 * must_sign (may be NULL) returns 1; their Merkle root must be head->root.
 * Every entry's key id is still compared, and every entry after the head
 * keeps its own signature check.
 */
struct journal_cover {
	const struct tree_head *head;
	int (*must_sign)(void *arg, const char *id);
	void *must_sign_arg;
	int held;	/* out: 1 when the journal's first head->size entries
			   have head->root.  When 0, what the scan reported is
			   not authenticated: read again without the cover. */
};

/* journal_read with cover (may be NULL: journal_read). */
int rec__journal_read_cover(const char *store, const struct seal_verifier *v,
    struct journal_cover *cover, journal_cb cb, void *arg,
    uint64_t *bad_offset, int *tail_torn);

/*
 * The head of STORE/heads.esh with the largest size, into *h, once its
 * signature verified with v.  Returns REC_OK; REC_ENOENT when the file is
 * absent or holds no head; REC_ESIG when that head's signature does not
 * verify (no head is then trusted); REC_EFORMAT for a line that is not a
 * head; another read error.  One signature check whatever the file holds.
 */
int journal_newest_head(const char *store, const struct seal_verifier *v,
    struct tree_head *h);

/*
 * The administrator's rebuild (escort-recorder --rebuild-journal): keeps
 * an existing journal and heads file as journal.esj.replaced-TIME /
 * heads.esh.replaced-TIME, writes a new journal whose first entry is a
 * REBUILD entry holding reason, then an OPEN (and CLOSE, or the last
 * CHECKPOINT) entry for every session file that verifies with signer's
 * key.  cb (may be NULL) is told of every file taken or left out.
 * Refuses while a recorder holds the journal (REC_ESTATE).
 */
int journal_rebuild(const char *store, const struct seal_signer *signer,
    const char *reason, void (*cb)(void *arg, const char *id, int taken,
    const char *why), void *arg);

#endif
