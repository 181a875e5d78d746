/* index.c: seek index built from segment headers (see index.h). */
#include <stdlib.h>
#include <string.h>

#include "recorder/index.h"
#include "recorder/rec_error.h"
#include "recorder/segfile.h"

void
rec__index_init(struct index *ix)
{
	memset(ix, 0, sizeof(*ix));
}

void
rec__index_free(struct index *ix)
{
	free(ix->e);
	rec__index_init(ix);
}

int
rec__index_update(struct index *ix, int fd)
{
	struct segf sf;
	struct seg s;
	struct index_entry *ne;
	uint8_t pre[SEG_DATA_PREFIX];
	uint64_t off;
	int r;

	rec__segf_init(&sf, fd, ix->end);
	for (;;) {
		r = rec__segf_skip(&sf, &s, &off);
		if (r == 0 || r == REC_ETRUNC) {
			r = REC_OK;
			break;
		}
		if (r < 0)
			break;
		if (s.type == SEG_DATA) {
			if (s.len < SEG_DATA_PREFIX) {
				r = REC_EFORMAT;
				break;
			}
			if ((r = segf_pread(fd, pre, sizeof(pre), off + SEG_HDR_LEN)) != REC_OK)
				break;
			if (s.flags & SEGF_CHUNK_START)
				ix->chunk_offset = off;
			if (ix->n == ix->cap) {
				ix->cap = ix->cap ? ix->cap * 2 : 64;
				if ((ne = realloc(ix->e, ix->cap * sizeof(*ne))) == NULL) {
					r = REC_ENOMEM;
					break;
				}
				ix->e = ne;
			}
			ne = &ix->e[ix->n++];
			ne->offset = off;
			ne->chunk_offset = ix->chunk_offset;
			ne->first_seq = buf_ld64(pre);
			ne->last_seq = buf_ld64(pre + 8);
			ne->first_t_ns = buf_ld64(pre + 16);
			ne->last_t_ns = buf_ld64(pre + 24);
			ne->raw_len = buf_ld32(pre + 40);
		}
		ix->end = sf.off;
	}
	rec__segf_free(&sf);
	return r;
}

const struct index_entry *
rec__index_find_seq(const struct index *ix, uint64_t seq)
{
	size_t lo = 0, hi = ix->n, mid;

	/* Entries are in seq order: binary search on last_seq. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ix->e[mid].raw_len > 0 && ix->e[mid].last_seq >= seq)
			hi = mid;
		else if (ix->e[mid].raw_len == 0 && ix->e[mid].last_seq >= seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	while (lo < ix->n && ix->e[lo].raw_len == 0)
		lo++;
	return lo < ix->n ? &ix->e[lo] : NULL;
}

const struct index_entry *
rec__index_find_time(const struct index *ix, uint64_t t)
{
	size_t lo = 0, hi = ix->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ix->e[mid].last_t_ns >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	while (lo < ix->n && ix->e[lo].raw_len == 0)
		lo++;
	return lo < ix->n ? &ix->e[lo] : NULL;
}
