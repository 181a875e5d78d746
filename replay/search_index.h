/*
 * search_index: the search index of a store, a summary of every sealed
 * session that lets "search" and "audit" skip the sessions that cannot
 * match.  It is never evidence: what it says a session may hold is read
 * again from the verified session before anything is shown, and what it
 * rules out it rules out only for a session whose file has the size it
 * had when indexed (a sealed file never changes; one that did is read
 * directly).  Missing, stale or damaged, it is rebuilt, never believed.
 *
 * File: STORE/.index/search-v1 (SEARCH_INDEX_FILE), text, written whole
 * to a temporary file and renamed into place:
 *
 *   escort-replay-index 1
 *   @ID SIZE CTIME_NS START_NS  one record per session, sorted by id
 *   u USER / t TARGET / l LOGIN / a K=V / c COMMAND / v VERDICT /
 *   m MODE / f PATH / h SHA256-HEX   one line per fact (repeatable)
 *   i  WORD WORD ...           the words of the typed input (i) and
 *   o  WORD WORD ...           the output (o), sorted, blank around each
 *   I / O                      that word list is incomplete (a run of
 *                              256 or more word bytes, or too many words)
 *   .                          end of the record
 *   # sha256 HEX               of every byte before this line
 *
 * Values escape bytes below 0x20, 0x7f and '%' as %XX.  Words are the
 * runs of word bytes (search_text_is_word) in the text search_text
 * rebuilds (search_text_set_line), so a pattern's words can be checked
 * against them: a word inside the pattern must be a word of the text, the
 * first a word's end, the last a word's start, a lone one part of a word.
 */
#ifndef REPLAY_SEARCH_INDEX_H
#define REPLAY_SEARCH_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define SEARCH_INDEX_DIR ".index"
#define SEARCH_INDEX_FILE ".index/search-v1"
#define SEARCH_INDEX_WORDS_MAX 65536	/* distinct words per kind and session */

struct search_index;
struct tr;
struct ev;

/* One session's record; strings point into the index (valid until it is
 * freed or a record is added). */
struct search_index_rec {
	const char *id;		/* NUL-terminated */
	uint64_t size;		/* the session file's size and status */
	uint64_t ctime_ns;	/* change time when indexed */
	uint64_t start;		/* wall ns */
	const char *body;	/* the fact lines, "u ...\n" up to "." */
	size_t blen;
};

/*
 * Loads the index of store.  A missing index is an empty one; a damaged
 * one (bad checksum, bad syntax, unknown version) is an empty one too,
 * with *note set to why (else note[0] is '\0').  Returns 0, or REC_ENOMEM
 * / REC_EIO (then *out is NULL).  Free with search_index_free.
 */
int search_index_open(const char *store, struct search_index **out,
    char *note, size_t notesz);
void search_index_free(struct search_index *x);

/* The record of session id whose file still has size bytes and status
 * change time ctime_ns, or NULL (none, or the file changed: the session is
 * then read directly). */
const struct search_index_rec *search_index_find(const struct search_index *x,
    const char *id, uint64_t size, uint64_t ctime_ns);

/*
 * Calls fn(arg, value) for each fact line of kind key ('u', 't', 'l',
 * 'a', 'c', 'v', 'm', 'f', 'h') of r, value unescaped (at most 4095
 * bytes, longer ones cut) and valid during the call.  Stops at the first
 * call returning non-zero and returns that value; else 0.
 */
int search_index_each(const struct search_index_rec *r, char key,
    int (*fn)(void *arg, const char *value), void *arg);

/* The first fact of kind key of r into out ("" when none). */
void search_index_get(const struct search_index_rec *r, char key, char *out,
    size_t outsz);

/*
 * Whether text pat[0..n) may occur in the input ('i') or output ('o') of
 * r as search matches it: 0 when it cannot, 1 when it may.
 */
int search_index_text_may(const struct search_index_rec *r, char kind,
    const char *pat, size_t n);

/* Drops the records of sessions not in ids[0..n) (sorted).  */
void search_index_keep(struct search_index *x, char *const *ids, size_t n);

/* Adds the record of session id to x (in place of one with the same id):
 * its file's size and ctime_ns, its start, and body[0..blen), its fact
 * lines as in the file (malloc'd, owned by x from now on, freed on
 * failure too).  Returns 0 or REC_ENOMEM. */
int search_index_add(struct search_index *x, const char *id, uint64_t size,
    uint64_t ctime_ns, uint64_t start, char *body, size_t blen);

/* ---- building a record while a session is read (search_index_build.c) -- */

struct search_index_build;

/* A builder for the session r (its META is read now).  NULL when out of
 * memory.  Feed it every event with search_index_build_event. */
struct search_index_build *search_index_build_new(struct tr *r);

/* Returns 0 or REC_ENOMEM. */
int search_index_build_event(struct search_index_build *b, const struct ev *e);

/* Adds the record of session id (its file's size and ctime_ns as they
 * were before it was read, its last event at last_t) to x.  Returns 0 or
 * REC_ENOMEM.  b is freed either way. */
int search_index_build_add(struct search_index *x,
    struct search_index_build *b, const char *id, uint64_t size,
    uint64_t ctime_ns, uint64_t last_t);

void search_index_build_free(struct search_index_build *b);

/* The number of records of x. */
size_t search_index_count(const struct search_index *x);

/*
 * Writes x to STORE/.index/search-v1 when it changed (and has a record).
 * Returns 0, or -1 with *note saying why it could not (the store is
 * read-only to this user, ...): the index is then kept in memory only.
 */
int search_index_save(const char *store, struct search_index *x, char *note,
    size_t notesz);

#endif
