/* recover.c: cutting the unsigned tail off an open session file after a
 * restart (see tw_recover in transcript.h). */
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
	    (r = ev_fields_put_str(&fields, EVF_REASON, "unsigned or torn "
	    "tail after the last checkpoint, cut at a restart")) != REC_OK ||
	    (r = ev_encode_parts(&rec, 0, vr->last_t_ns, EV_RECOVERY, 0,
	    buf_ptr(&fields), buf_len(&fields))) != REC_OK ||
	    (r = rec__seg_encode(&out, SEG_RECOVERY, 0, vr->segments, buf_ptr(&rec),
	    buf_len(&rec))) != REC_OK)
		goto out;
	seal_chain_step(head, buf_ptr(&out), buf_len(&out));
	memset(rc, 0, sizeof(*rc));
	rc->cp.kind = SEAL_RECOVERED;
	snprintf(rc->cp.id, sizeof(rc->cp.id), "%s", vr->id);
	rc->cp.seg_index = vr->segments + 1;
	rc->cp.last_seq = vr->last_seq;
	memcpy(rc->cp.head, head, SEAL_HASH_LEN);
	rc->cp.wall_ns = rec__tw_now_wall();
	rc->cp.offset = vr->valid_end + buf_len(&out);
	memcpy(rc->keyid, rec__seal_signer_keyid(signer), SEAL_KEYID_LEN);
	if ((r = seal_checkpoint_message(&rc->cp, &m)) != REC_OK ||
	    (r = seal_sign(signer, buf_ptr(&m), buf_len(&m), rc->sig)) != REC_OK)
		goto out;
	off = buf_len(&out);
	if ((r = rec__seg_begin(&out, SEG_CHECKPOINT, 0, vr->segments + 1, &start)) != REC_OK ||
	    (r = rec__seg_seal_put(&out, rc)) != REC_OK ||
	    (r = rec__seg_end(&out, start)) != REC_OK)
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
    uint32_t index, uint64_t offset, uint64_t last_seq, const uint8_t *head,
    const char *text)
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
	e.wall_ns = rec__tw_now_wall();
	e.text = text;
	return rec__journal_append(j, &e);
}

/* Appends the recovery record of a file cut at vr->valid_end (whose
 * RECOVER entry is in the journal), syncs it and journals its checkpoint;
 * sets out's segments, size and head. */
static int
recover_record(int fd, const struct verify_file_result *vr,
    const struct seal_signer *signer, struct journal *journal, uint64_t lost,
    struct tw_recovery *out)
{
	struct seal_receipt rc;
	uint8_t head[SEAL_HASH_LEN];
	uint64_t size = 0;
	int r;

	if ((r = recover_append(fd, vr, signer, lost, &rc, &size, head)) != REC_OK)
		return r;
	if (fdatasync(fd) != 0)
		return REC_EIO;
	if ((r = recover_journal(journal, JOURNAL_CHECKPOINT, vr->id,
	    rc.cp.seg_index, rc.cp.offset, rc.cp.last_seq, rc.cp.head,
	    NULL)) != REC_OK)
		return r;
	out->segments = vr->segments + 2;
	out->size = size;
	memcpy(out->head, head, SEAL_HASH_LEN);
	return REC_OK;
}

/* Does the file agree with what the journal recorded of it? */
static int
recover_matches_journal(const struct verify_file_result *vr,
    const struct journal_session *js)
{
	const struct verify_seg *g;

	if (vr->nseg == 0 || vr->seg[0].end != js->open_end ||
	    memcmp(vr->seg[0].head_after, js->open_head, SEAL_HASH_LEN) != 0)
		return 0;
	if (!js->has_cp)
		return 1;
	if (js->cp_index >= vr->nseg)
		return 0;
	g = &vr->seg[js->cp_index];
	return g->offset == js->cp_offset && g->type == SEG_CHECKPOINT &&
	    memcmp(g->head_before, js->cp_head, SEAL_HASH_LEN) == 0;
}

int
tw_recover(const char *path, const struct seal_signer *signer,
    struct journal *journal, struct tw_recovery *res, uint64_t *bad_offset)
{
	struct verify_file_result vr;
	struct tw_recovery out;
	struct seal_verifier *v = NULL;
	struct journal_session js;
	char text[200];
	uint64_t keep, bad = 0;
	int fd, r, have_vr = 0;

	memset(&out, 0, sizeof(out));
	memset(&vr, 0, sizeof(vr));
	memset(&js, 0, sizeof(js));
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return rec_from_errno(errno);
	if ((r = rec__seal_signer_verifier(signer, &v)) != REC_OK)
		goto out;
	if ((r = verify_file(fd, NULL, v, 0, &vr)) != REC_OK)
		goto out;
	have_vr = 1;
	if (vr.err != REC_OK) {
		/* Corruption, a foreign signature or a broken chain: not a
		 * torn write.  It stays as it is, for verify to report. */
		bad = vr.err_offset;
		r = vr.err;
		goto out;
	}
	if (vr.segments == 0) {
		/* Not even the head survived: nothing to recover. */
		r = REC_ETRUNC;
		goto out;
	}
	if (journal != NULL) {
		if (journal_session_get(journal, vr.id, &js) != REC_OK) {
			r = REC_ENOENT;		/* not ours: never adopted */
			goto out;
		}
		if (js.state == JOURNAL_SESS_CLOSED) {
			r = REC_ECLOSED;	/* closed: never reopened */
			goto out;
		}
		if (!recover_matches_journal(&vr, &js)) {
			bad = js.has_cp ? js.cp_offset : 0;
			r = REC_ETAMPER;
			goto out;
		}
	}
	if (vr.finished) {
		if (vr.file_size != vr.valid_end) {
			/* Nothing is ever written after FINAL. */
			bad = vr.valid_end;
			r = REC_ETAMPER;
			goto out;
		}
		/* The crash came between the signed FINAL and its journal
		 * entry: the journal shows the session open, the file is
		 * closed by this key. */
		if (journal != NULL && (r = recover_journal(journal,
		    JOURNAL_CLOSE, vr.id, vr.segments - 1,
		    vr.seg[vr.nseg - 1].offset, vr.last_seq,
		    vr.seg[vr.nseg - 1].head_before, NULL)) != REC_OK)
			goto out;
	}
	/* Keep what is signed: up to the last checkpoint, or the head. */
	keep = vr.signed_end > 0 ? vr.signed_end : vr.seg[0].end;
	if (!vr.finished && vr.file_size > keep) {
		out.cut = 1;
		out.cut_offset = keep;
		out.lost_bytes = vr.file_size - keep;
		snprintf(text, sizeof(text), "cut %llu bytes at offset %llu: "
		    "%s after the last checkpoint",
		    (unsigned long long)out.lost_bytes,
		    (unsigned long long)keep, vr.tail_torn ?
		    "unsigned data and a torn write" : "unsigned data");
		if (ftruncate(fd, (off_t)keep) != 0) {
			r = rec_from_errno(errno);
			goto out;
		}
		verify_file_result_free(&vr);
		if ((r = verify_file(fd, NULL, v, 0, &vr)) != REC_OK)
			goto out;
		if (vr.err != REC_OK || vr.valid_end != keep) {
			bad = vr.err_offset;
			r = vr.err != REC_OK ? vr.err : REC_ESTATE;
			goto out;
		}
		if ((r = recover_journal(journal, JOURNAL_RECOVER, vr.id,
		    vr.segments, keep, vr.last_seq, vr.head, text)) != REC_OK)
			goto out;
		if ((r = recover_record(fd, &vr, signer, journal, out.lost_bytes,
		    &out)) != REC_OK)
			goto out;
	} else if (!vr.finished && journal != NULL && js.recover_last &&
	    js.rec_offset == vr.valid_end && js.rec_index == vr.segments &&
	    vr.file_size == vr.valid_end &&
	    memcmp(js.rec_head, vr.head, SEAL_HASH_LEN) == 0) {
		/* The crash came between a recovery's journal entry and its
		 * record: the file was cut as that entry says, the record
		 * not written.  Finish it, with that entry's figures. */
		out.cut = 1;
		out.cut_offset = vr.valid_end;
		out.lost_bytes = js.rec_lost;
		if ((r = recover_record(fd, &vr, signer, journal, js.rec_lost,
		    &out)) != REC_OK)
			goto out;
	} else {
		out.segments = vr.segments;
		out.size = vr.valid_end;
		memcpy(out.head, vr.head, SEAL_HASH_LEN);
	}
	out.finished = vr.finished;
	out.last_seq = vr.last_seq;
	out.last_t_ns = vr.last_t_ns;
	r = REC_OK;
	if (res != NULL)
		*res = out;
out:
	if (r != REC_OK && bad_offset != NULL)
		*bad_offset = bad;
	if (have_vr)
		verify_file_result_free(&vr);
	seal_verifier_free(v);
	close(fd);
	return r;
}
