/*
 * screen_cache: seek points for "screen ID --at": snapshots of the screen
 * model (vtmodel.h) every SCACHE_EVERY bytes of output of a closed
 * session, kept in a cache file OUTSIDE the store, so that a screen
 * anywhere in a long session is rebuilt from the nearest snapshot before
 * it instead of from the session's start.
 *
 * The cache is not evidence.  It lives in $ESCORT_REPLAY_CACHE, else
 * $XDG_CACHE_HOME/escort-replay, else ~/.cache/escort-replay (directory
 * made with mode 0700), one file per session: ID-HASH.screen, HASH naming
 * the store's real path.  A cache file is used only when it is a regular
 * file owned by the user running escort-replay, writable by nobody else,
 * its CRC-32C verifies, and it names the same session file: its id, size,
 * last seq and a CRC-32C of its last 512 bytes (the signed FINAL record).
 * Anything else is ignored and the file rebuilt; it can always be deleted.
 * Each snapshot was checked when it was taken (vtm_snapshot).
 *
 * File: "ESCRSCR1", u16 id length, id, u64 file size, u64 last seq, u64
 * last event time (ns), u32 tail CRC, u32 count, then per snapshot u64 seq
 * of the next event, u64 offset of the frame holding it, u64 time of the last event applied, u16 rows, u16
 * cols, u32 length, the snapshot; then u32 CRC-32C of everything before
 * (integers big-endian).
 */
#ifndef REPLAY_SCREEN_CACHE_H
#define REPLAY_SCREEN_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define SCACHE_EVERY (4u << 20)

struct scache_snap {
	uint64_t seq;		/* the first event not applied */
	uint64_t frame_off;	/* where to read it from (tr_seek_frame) */
	uint64_t t_ns;		/* time of the last event applied */
	int rows, cols;
	size_t off, len;	/* the bytes, in the cache's data */
};

/* What ties a cache to one session file. */
struct scache_key {
	char id[128];
	uint64_t size, last_seq, last_t_ns;
	uint32_t tail_crc;
};

struct scache {
	struct scache_key key;
	struct scache_snap *v;
	size_t n, cap;
	struct buf data;	/* the file's bytes, or the snapshots built */
};

/* Fills *k for session file path of size bytes (a closed session: the
 * last seq and time from the reader's summary, or 0 when the cache is only
 * looked up).  Returns 0 or -1 (I/O error). */
int scache_key_make(const char *path, const char *id, uint64_t size,
    uint64_t last_seq, uint64_t last_t_ns, struct scache_key *k);

/* The cache file's path for session id of store into out.  Returns 0, or
 * -1 when no cache directory can be named (no HOME). */
int scache_path(const char *store, const char *id, char *out, size_t outsz);

/* Loads the cache at path into c when it is trusted and names the same
 * file as k (id, size, tail CRC); c->key then holds the last seq and time
 * the cache recorded.  Returns 1 loaded, 0 absent or not usable (c empty,
 * its key k). */
int scache_load(struct scache *c, const char *path, const struct scache_key *k);

/* Adds a snapshot (copied).  Returns 0 or -1 (out of memory). */
int scache_add(struct scache *c, uint64_t seq, uint64_t frame_off,
    uint64_t t_ns, int rows,
    int cols, const uint8_t *p, size_t n);

/* Writes c to path atomically (a temporary file renamed), making the
 * directory.  Returns 0 or -1 (errno set); a cache that cannot be
 * written only costs time. */
int scache_save(const struct scache *c, const char *path);

/* The last snapshot usable for a stop: the last with t_ns <= at_ns (when
 * stop_seq is 0) or with seq <= stop_seq.  NULL when none. */
const struct scache_snap *scache_find(const struct scache *c, uint64_t at_ns,
    uint64_t stop_seq);

/* The bytes of snapshot s of c (valid until c changes). */
const uint8_t *scache_bytes(const struct scache *c, const struct scache_snap *s);

void scache_free(struct scache *c);

#endif
