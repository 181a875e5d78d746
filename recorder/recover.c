/* recover.c: cutting a torn tail off a session file (see tw_recover in
 * transcript.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/tw_internal.h"
#include "recorder/verify.h"

/* Appends the RECOVERY segment and the signed checkpoint after the cut. */
static int
recover_append(int fd, const struct verify_file_result *vr,
    const struct seal_signer *signer, uint64_t lost, struct seal_receipt *rc,
    uint64_t *new_size, uint8_t head[SEAL_HASH_LEN])
{
	struct buf out, fields, rec, m;
	size_t start, off;
	ssize_t w;
	int r;

	buf_init(&out, 0);
	buf_init(&fields, 0);
	buf_init(&rec, 0);
	buf_init(&m, 0);
	memcpy(head, vr->head, SEAL_HASH_LEN);
	if ((r = ev_fields_put_u64(&fields, EVF_CUT_OFFSET, vr->valid_end)) != REC_OK ||
	    (r = ev_fields_put_u64(&fields, EVF_LOST_BYTES, lost)) != REC_OK ||
	    (r = ev_fields_put_str(&fields, EVF_REASON,
	    "torn tail after a crash")) != REC_OK ||
	    (r = ev_encode_parts(&rec, 0, vr->last_t_ns, EV_RECOVERY, 0,
	    buf_ptr(&fields), buf_len(&fields))) != REC_OK ||
	    (r = seg_encode(&out, SEG_RECOVERY, 0, vr->segments, buf_ptr(&rec),
	    buf_len(&rec))) != REC_OK)
		goto out;
	seal_chain_step(head, buf_ptr(&out), buf_len(&out));
	memset(rc, 0, sizeof(*rc));
	rc->cp.kind = SEAL_RECOVERED;
	snprintf(rc->cp.id, sizeof(rc->cp.id), "%s", vr->id);
	rc->cp.seg_index = vr->segments + 1;
	rc->cp.last_seq = vr->last_seq;
	memcpy(rc->cp.head, head, SEAL_HASH_LEN);
	rc->cp.wall_ns = tw_now_wall();
	rc->cp.offset = vr->valid_end + buf_len(&out);
	memcpy(rc->keyid, seal_signer_keyid(signer), SEAL_KEYID_LEN);
	if ((r = seal_checkpoint_message(&rc->cp, &m)) != REC_OK ||
	    (r = seal_sign(signer, buf_ptr(&m), buf_len(&m), rc->sig)) != REC_OK)
		goto out;
	off = buf_len(&out);
	if ((r = seg_begin(&out, SEG_CHECKPOINT, 0, vr->segments + 1, &start)) != REC_OK ||
	    (r = seg_seal_put(&out, rc)) != REC_OK ||
	    (r = seg_end(&out, start)) != REC_OK)
		goto out;
	seal_chain_step(head, buf_ptr(&out) + off, buf_len(&out) - off);
	for (off = 0; off < buf_len(&out); off += (size_t)w) {
		w = pwrite(fd, buf_ptr(&out) + off, buf_len(&out) - off,
		    (off_t)(vr->valid_end + off));
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			r = rec_from_errno(errno);
			goto out;
		}
	}
	*new_size = vr->valid_end + buf_len(&out);
	r = REC_OK;
out:
	buf_free(&out);
	buf_free(&fields);
	buf_free(&rec);
	buf_free(&m);
	return r;
}

static int
recover_journal(struct journal *j, uint8_t kind, const char *id,
    uint32_t index, uint64_t offset, uint64_t last_seq, const uint8_t *head)
{
	struct journal_entry e;

	if (j == NULL)
		return REC_OK;
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	snprintf(e.id, sizeof(e.id), "%s", id);
	e.seg_index = index;
	e.offset = offset;
	e.last_seq = last_seq;
	memcpy(e.head, head, SEAL_HASH_LEN);
	e.wall_ns = tw_now_wall();
	return journal_append(j, &e);
}

int
tw_recover(const char *path, const struct seal_signer *signer,
    struct journal *journal, struct tw_recovery *res, uint64_t *bad_offset)
{
	struct verify_file_result vr;
	struct tw_recovery out;
	struct seal_receipt rc;
	uint8_t head[SEAL_HASH_LEN];
	uint64_t size = 0;
	int fd, r;

	memset(&out, 0, sizeof(out));
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return rec_from_errno(errno);
	if ((r = verify_file(fd, NULL, NULL, 0, &vr)) != REC_OK)
		goto out;
	if (vr.err != REC_OK) {
		if (bad_offset != NULL)
			*bad_offset = vr.err_offset;
		r = vr.err;
		goto out;
	}
	if (vr.segments == 0) {
		/* Not even the head survived: nothing to recover. */
		if (bad_offset != NULL)
			*bad_offset = 0;
		r = REC_ETRUNC;
		goto out;
	}
	if (vr.finished && vr.file_size != vr.valid_end) {
		/* Nothing is ever written after FINAL. */
		if (bad_offset != NULL)
			*bad_offset = vr.valid_end;
		r = REC_ETAMPER;
		goto out;
	}
	out.finished = vr.finished;
	out.last_seq = vr.last_seq;
	out.last_t_ns = vr.last_t_ns;
	out.segments = vr.segments;
	out.size = vr.valid_end;
	memcpy(out.head, vr.head, SEAL_HASH_LEN);
	if (vr.tail_torn || vr.file_size != vr.valid_end) {
		out.cut = 1;
		out.cut_offset = vr.valid_end;
		out.lost_bytes = vr.file_size - vr.valid_end;
		if (ftruncate(fd, (off_t)vr.valid_end) != 0) {
			r = rec_from_errno(errno);
			goto out;
		}
		if ((r = recover_append(fd, &vr, signer, out.lost_bytes, &rc,
		    &size, head)) != REC_OK)
			goto out;
		if (fdatasync(fd) != 0) {
			r = REC_EIO;
			goto out;
		}
		out.segments = vr.segments + 2;
		out.size = size;
		memcpy(out.head, head, SEAL_HASH_LEN);
		if ((r = recover_journal(journal, JOURNAL_RECOVER, vr.id,
		    vr.segments, vr.valid_end, vr.last_seq, vr.head)) != REC_OK ||
		    (r = recover_journal(journal, JOURNAL_CHECKPOINT, vr.id,
		    rc.cp.seg_index, rc.cp.offset, rc.cp.last_seq, rc.cp.head)) != REC_OK)
			goto out;
	}
	r = REC_OK;
	if (res != NULL)
		*res = out;
out:
	verify_file_result_free(&vr);
	close(fd);
	return r;
}
