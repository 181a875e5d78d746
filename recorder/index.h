/*
 * index.h: the seek index of a session file: for every DATA segment its
 * offset, the offset of the segment that starts its zstd frame, and its
 * seq and time ranges.  Built from the segment headers and DATA prefixes
 * alone (no decompression), so it is always rebuildable from the file; it
 * grows incrementally as a live file grows.
 */
#ifndef ESCORT_INDEX_H
#define ESCORT_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct index_entry {
	uint64_t offset;	/* the DATA segment */
	uint64_t chunk_offset;	/* the DATA segment starting its frame */
	uint64_t first_seq, last_seq;
	uint64_t first_t_ns, last_t_ns;
	uint32_t raw_len;
};

struct index {
	struct index_entry *e;	/* owned, n entries */
	size_t n, cap;
	uint64_t end;		/* file offset scanned so far */
	uint64_t chunk_offset;	/* current frame start */
};

/* Empty index starting at offset 0. */
void rec__index_init(struct index *ix);
void rec__index_free(struct index *ix);

/* Adds the segments of fd from ix->end to the last complete one.
 * Returns REC_OK, REC_ENOMEM, REC_EIO or a format error at ix->end. */
int rec__index_update(struct index *ix, int fd);

/* First entry holding events with seq >= seq (resp. t_ns >= t), or NULL. */
const struct index_entry *rec__index_find_seq(const struct index *ix, uint64_t seq);
const struct index_entry *rec__index_find_time(const struct index *ix, uint64_t t);

#endif
