/* evidence_session.c: one session's part of an evidence bundle
 * (evidence.h): its file as stored, every seal (CHECKPOINT or FINAL) as
 * the exact signed message and its signature, the journal entries about
 * it with their inclusion proofs, and its block of the index.  Layouts:
 * replay/evidence/README.txt. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/segfile.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/treehead.h"
#include "recorder/verify.h"
#include "replay/evidence.h"
#include "replay/replay.h"

/* What the HEAD segment's META says. */
struct evidence_meta {
	char user[128], target[128], login[128];
	uint64_t start_ns;
};

static void
evidence_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* Control bytes as '?': index lines stay lines. */
static void
evidence_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Reads the segment seg of fd whole (header and payload) into b. */
static int
evidence_seg_read(int fd, const struct verify_seg *seg, struct buf *b,
    struct seg *out)
{
	uint8_t *p;
	size_t n = (size_t)(seg->end - seg->offset), used;

	buf_reset(b);
	if (buf_reserve(b, n, &p) != REC_OK)
		return REC_ENOMEM;
	if (segf_pread(fd, p, n, seg->offset) != REC_OK)
		return REC_EIO;
	return seg_decode(p, n, out, &used);
}

static void
evidence_meta_read(int fd, const struct verify_file_result *res,
    struct evidence_meta *m)
{
	struct buf b;
	struct seg s;
	struct ev e;
	char id[SEAL_ID_MAX + 1];
	const uint8_t *meta;
	size_t mlen, used;

	memset(m, 0, sizeof(*m));
	m->start_ns = res->start_wall_ns;
	if (res->nseg == 0)
		return;
	buf_init(&b, 0);
	if (evidence_seg_read(fd, &res->seg[0], &b, &s) == REC_OK &&
	    seg_head_get(&s, id, &m->start_ns, &meta, &mlen) == REC_OK &&
	    ev_decode(meta, mlen, &e, &used) == REC_OK && e.type == EV_META) {
		ev_fields_get_str(e.data, e.len, EVF_USER, m->user,
		    sizeof(m->user));
		ev_fields_get_str(e.data, e.len, EVF_TARGET, m->target,
		    sizeof(m->target));
		ev_fields_get_str(e.data, e.len, EVF_LOGIN, m->login,
		    sizeof(m->login));
	}
	buf_free(&b);
	evidence_clean(m->user);
	evidence_clean(m->target);
	evidence_clean(m->login);
}

/* Writes seals/ID/NNNNNN.msg and .sig (NNNNNN: the segment index) for
 * every CHECKPOINT and FINAL segment within the first len bytes; *count
 * gets how many.  Returns 0, 1 when a seal cannot be read back, or -1 on
 * a write error (errno set). */
static int
evidence_seals(struct evidence_ctx *c, struct evidence_sess *s, int fd,
    const struct verify_file_result *res, uint64_t len, unsigned *count)
{
	struct seal_receipt rc;
	struct buf b, m;
	struct seg sg;
	char rel[256];
	int ret = 0;

	*count = 0;
	buf_init(&b, 0);
	buf_init(&m, 0);
	for (size_t i = 0; i < res->nseg && ret == 0; i++) {
		if ((res->seg[i].type != SEG_CHECKPOINT &&
		    res->seg[i].type != SEG_FINAL) || res->seg[i].end > len)
			continue;
		buf_reset(&m);
		if (evidence_seg_read(fd, &res->seg[i], &b, &sg) != REC_OK ||
		    seg_seal_get(&sg, &rc) != REC_OK) {
			ret = 1;
			break;
		}
		memcpy(rc.cp.id, s->id, strlen(s->id) + 1);
		if (seal_checkpoint_message(&rc.cp, &m) != REC_OK) {
			ret = 1;
			break;
		}
		snprintf(rel, sizeof(rel), "seals/%s/%06zu.msg", s->id, i);
		if (evidence_sink_put(c->sink, rel, buf_ptr(&m), buf_len(&m))
		    != 0) {
			ret = -1;
			break;
		}
		snprintf(rel, sizeof(rel), "seals/%s/%06zu.sig", s->id, i);
		if (evidence_sink_put(c->sink, rel, rc.sig, SEAL_SIG_LEN) != 0)
			ret = -1;
		else
			(*count)++;
	}
	buf_free(&b);
	buf_free(&m);
	return ret;
}

/* Writes log/ID.proof: one line per journal entry about the session. */
static int
evidence_proof(struct evidence_ctx *c, struct evidence_sess *s,
    unsigned *covered)
{
	uint8_t path[64][32];
	char rel[256], *text = NULL;
	size_t tlen = 0, np;
	FILE *f;
	int r;

	*covered = 0;
	if ((f = open_memstream(&text, &tlen)) == NULL)
		return -1;
	fprintf(f, "# escort-replay evidence: the journal entries about "
	    "session %s, in journal order;\n# see README.txt, \"log/ID.proof\"\n"
	    "escort-inclusion v1 %s ", s->id, s->id);
	if (c->head != NULL)
		fprintf(f, "%" PRIu64 "\n", c->head->size);
	else
		fprintf(f, "none\n");
	for (size_t i = 0; i < s->nent; i++) {
		const struct evidence_jent *e = &s->ent[i];

		fprintf(f, "entry %" PRIu64 " ", e->leaf);
		evidence_hex(f, e->prev, 32);
		fputc(' ', f);
		evidence_hex(f, e->raw, e->rawlen);
		if (c->head == NULL || e->leaf >= c->head->size) {
			fprintf(f, " uncovered\n");
			continue;
		}
		(*covered)++;
		np = evidence_tree_path(&c->tree, e->leaf, path);
		for (size_t k = 0; k < np; k++) {
			fputc(' ', f);
			evidence_hex(f, path[k], 32);
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	snprintf(rel, sizeof(rel), "log/%s.proof", s->id);
	r = evidence_sink_put(c->sink, rel, text, tlen);
	free(text);
	return r;
}

int
evidence_session_write(struct evidence_ctx *c, struct evidence_sess *s,
    FILE *idx)
{
	struct verify_file_result res;
	struct evidence_meta m;
	struct stat st;
	char path[4096], rel[256], t[32];
	uint8_t hash[32];
	const struct evidence_file *files;
	size_t nf;
	uint64_t len;
	unsigned seals = 0, covered = 0;
	int fd, r, ret = 1;

	memset(&res, 0, sizeof(res));
	if (tw_path(c->store, s->id, path, sizeof(path)) != REC_OK ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		replay_err("evidence: %s: %s", path, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) != 0) {
		replay_err("evidence: %s: %s", path, strerror(errno));
		goto out;
	}
	if ((r = verify_file(fd, s->id, c->v, 0, &res)) != REC_OK) {
		replay_err("evidence: %s: %s", path, rec_strerror(r));
		goto out;
	}
	/* As stored: the whole file once closed, or when it does not verify
	 * (the damage is the evidence); a live session up to its last whole
	 * segment (the recorder may be writing the next). */
	len = res.finished || res.err != REC_OK ? (uint64_t)st.st_size :
	    res.valid_end;
	evidence_meta_read(fd, &res, &m);
	snprintf(rel, sizeof(rel), "%s/%s%s", TR_SESSIONS_DIR, s->id,
	    TR_SUFFIX);
	ret = -1;
	if (evidence_sink_copy(c->sink, rel, fd, len) != 0)
		goto out;
	files = evidence_sink_files(c->sink, &nf);
	memcpy(hash, files[nf - 1].sha256, sizeof(hash));
	if ((r = evidence_seals(c, s, fd, &res, len, &seals)) != 0) {
		if (r > 0)
			replay_err("evidence: %s: a seal cannot be read", path);
		ret = r;
		goto out;
	}
	if (evidence_proof(c, s, &covered) != 0)
		goto out;
	fprintf(idx, "\nsession %s\nuser %s\ntarget %s\nlogin %s\n", s->id,
	    m.user[0] ? m.user : "-", m.target[0] ? m.target : "-",
	    m.login[0] ? m.login : "-");
	replay_time(m.start_ns, t, sizeof(t));
	fprintf(idx, "start %s\n", t);
	if (res.finished) {
		replay_time(res.end_wall_ns, t, sizeof(t));
		fprintf(idx, "end %s\nstatus closed\n", t);
	} else {
		fprintf(idx, "end -\nstatus live\n");
	}
	if (res.recovered)
		fprintf(idx, "recovered %" PRIu64 " bytes cut at offset %"
		    PRIu64 "\n", res.cut_bytes, res.cut_offset);
	fprintf(idx, "store-check %s%s\n", s->problem[0] ? "FAILED: " : "ok",
	    s->problem);
	fprintf(idx, "size %" PRIu64 "\nseals %u\njournal-entries %zu\n"
	    "covered-by-tree-head %u\n", len, seals, s->nent, covered);
	/* the session file's line: its hash as written */
	fprintf(idx, "file ");
	evidence_hex(idx, hash, sizeof(hash));
	fprintf(idx, "  %s\n", rel);
	ret = 0;
out:
	verify_file_result_free(&res);
	close(fd);
	return ret;
}
