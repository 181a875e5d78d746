/* extract.c: "escort-replay extract ID N": the content of the session's
 * N-th file transfer (as numbered by "files ID", xfers.h), to stdout.
 *
 * The content comes from the FILE content chunks when they hold the whole
 * file (uploads up to the proxy's FileContentLimit).  Otherwise the file is
 * rebuilt from the raw bytes of its channel (INPUT to the target, OUTPUT
 * from it), which the recording holds whole: the proxy's own transfer
 * parsers (xfer_sftp_filter.h, xfer_scp.h, built into libescort-xfer) follow
 * the stream again, and their tap hands over the transfer's bytes in offset
 * order.  The transfer is found as the K-th start record of its channel,
 * since the parsers number starts in the same order the proxy did.  Either
 * way the bytes are checked against the recorded size and SHA-256; every
 * case where that cannot be done is said, with exit 1. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "proxy/px_error.h"
#include "proxy/xfer_scp.h"
#include "proxy/xfer_sftp_filter.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"
#include "replay/xfers.h"

/* The bytes written out: where the next one goes, their digest. */
struct extract_out {
	EVP_MD_CTX *md;
	uint64_t want_id;	/* the file id the parser gave the transfer */
	uint64_t written;
	int werr;		/* errno of a failed write, or 0 */
};

static int
extract_put(struct extract_out *o, const uint8_t *p, size_t n)
{
	if (o->werr != 0)
		return -1;
	if (replay_write_all(p, n) != 0) {
		o->werr = errno ? errno : EIO;
		return -1;
	}
	EVP_DigestUpdate(o->md, p, n);
	o->written += n;
	return 0;
}

/* The parsers' tap: the bytes of one transfer in offset order. */
static void
extract_tap(void *ctx, uint64_t file_id, const uint8_t *p, size_t n)
{
	struct extract_out *o = ctx;

	if (file_id == o->want_id)
		(void)extract_put(o, p, n);
}

/* Writes the content chunks of file id fid, which hold the whole file.
 * Returns 0 or a negative REC_E* code. */
static int
extract_chunks(struct tr *r, const struct replay_xfer *x, struct extract_out *o)
{
	const uint8_t *v;
	uint64_t fid, off;
	size_t len;
	struct ev e;
	int rc;

	while ((rc = tr_next(r, &e)) == 1) {
		if (e.type != EV_FILE || e.channel != x->chan ||
		    ev_fields_get_u64(e.data, e.len, EVF_FILE_ID, &fid) != REC_OK ||
		    fid != x->file_id ||
		    ev_fields_get_u64(e.data, e.len, EVF_OFFSET, &off) != REC_OK ||
		    ev_fields_find(e.data, e.len, EVF_CONTENT, &v, &len) != REC_OK ||
		    off != o->written)
			continue;
		if (extract_put(o, v, len) != 0)
			return REC_EIO;
	}
	return rc;
}

/* The rebuild's parser: an SFTP filter or an scp watcher, fed the
 * channel's bytes as the proxy was. */
struct extract_parser {
	struct sftp_filter *sftp;
	struct scp_watch *scp;
	uint64_t ids;		/* its file id counter */
	struct xfer_record *end;	/* the transfer's end record, once seen */
	char why[300];		/* why the stream could not be followed */
};

/* Takes the parser's records (keeping the wanted end record) and drops the
 * bytes it would forward. */
static void
extract_parser_drain(struct extract_parser *ps, uint64_t want)
{
	struct xfer_record *rec;
	size_t n;

	for (;;) {
		rec = ps->sftp ? sftp_filter_take_record(ps->sftp) :
		    scp_watch_take_record(ps->scp);
		if (rec == NULL)
			break;
		if (rec->file_id == want && rec->outcome != XFER_OUT_STARTED && ps->end == NULL)
			ps->end = rec;
		else
			xfer_record_free(rec);
	}
	if (ps->sftp != NULL) {
		(void)sftp_filter_upstream(ps->sftp, &n);
		sftp_filter_upstream_consume(ps->sftp, n);
		(void)sftp_filter_downstream(ps->sftp, &n);
		sftp_filter_downstream_consume(ps->sftp, n);
	}
}

/* Sets up the parser for channel x->chan: SFTP, or scp from the exec
 * command recorded for the channel (read from r, which is rewound).
 * Returns 0, 1 after writing why into ps->why, or a negative REC_E* code. */
static int
extract_parser_new(struct tr *r, const struct replay_xfer *x, struct extract_parser *ps,
    struct extract_out *o)
{
	struct xfer_tap tap = { extract_tap, o };
	struct xfer_ids ids = { &ps->ids };
	struct sftp_filter_config cfg;
	char action[32], *cmd = NULL;
	struct scp_cmd sc;
	struct ev e;
	int rc;

	if (strcmp(x->kind, "sftp") == 0) {
		sftp_filter_config_init(&cfg);
		cfg.mode = XFER_MODE_BOTH;
		cfg.content_limit = 0;
		cfg.ids = ids;
		cfg.tap = tap;
		if ((ps->sftp = sftp_filter_new(&cfg)) == NULL)
			return REC_ENOMEM;
		return tr_seek_seq(r, 0);
	}
	if (strcmp(x->kind, "scp") != 0) {
		snprintf(ps->why, sizeof(ps->why), "its kind \"%s\" is not sftp or scp", x->kind);
		return 1;
	}
	if ((rc = tr_seek_seq(r, 0)) != REC_OK)
		return rc;
	while ((rc = tr_next(r, &e)) == 1) {
		if (e.type != EV_CHANNEL || e.channel != x->chan || e.seq == 0 ||
		    ev_fields_get_str(e.data, e.len, EVF_CH_ACTION, action, sizeof(action)) != REC_OK ||
		    strcmp(action, "exec") != 0)
			continue;
		free(cmd);
		if ((cmd = malloc(e.len + 1)) == NULL)
			return REC_ENOMEM;
		if (ev_fields_get_str(e.data, e.len, EVF_COMMAND, cmd, e.len + 1) != REC_OK)
			cmd[0] = '\0';
		if (e.t_ns >= x->t_ns)
			break;
	}
	if (rc < 0) {
		free(cmd);
		return rc;
	}
	if (cmd == NULL || scp_cmd_parse(cmd, &sc) != PX_OK) {
		free(cmd);
		snprintf(ps->why, sizeof(ps->why), "no scp command is recorded for channel %" PRIu32,
		    x->chan);
		return cmd == NULL ? 1 : REC_ENOMEM;
	}
	free(cmd);
	ps->scp = scp_watch_new(&sc, 0);
	scp_cmd_free(&sc);
	if (ps->scp == NULL) {
		snprintf(ps->why, sizeof(ps->why), "the recorded command of channel %" PRIu32
		    " is not an scp transfer", x->chan);
		return 1;
	}
	scp_watch_set_ids(ps->scp, &ids);
	scp_watch_set_tap(ps->scp, &tap);
	return tr_seek_seq(r, 0);
}

static void
extract_parser_free(struct extract_parser *ps)
{
	sftp_filter_free(ps->sftp);
	scp_watch_free(ps->scp);
	xfer_record_free(ps->end);
}

/* Feeds the channel's recorded bytes until the transfer's end record.
 * Returns 0, 1 after writing why into ps->why, or a negative REC_E* code. */
static int
extract_rebuild(struct tr *r, const struct replay_xfer *x, struct extract_parser *ps,
    struct extract_out *o)
{
	struct ev e;
	int rc = 0, fe;

	o->want_id = x->start_no;
	while (ps->end == NULL && (rc = tr_next(r, &e)) == 1) {
		if (e.channel != x->chan || (e.type != EV_INPUT && e.type != EV_OUTPUT) || e.len == 0)
			continue;
		if (ps->sftp != NULL)
			fe = e.type == EV_INPUT ? sftp_filter_client(ps->sftp, e.data, e.len) :
			    sftp_filter_server(ps->sftp, e.data, e.len);
		else
			fe = e.type == EV_INPUT ? scp_watch_client(ps->scp, e.data, e.len) :
			    scp_watch_server(ps->scp, e.data, e.len);
		extract_parser_drain(ps, o->want_id);
		if (fe != PX_OK) {
			snprintf(ps->why, sizeof(ps->why), "the recorded stream cannot be followed "
			    "(event %" PRIu64 "): %s", e.seq, ps->sftp ?
			    sftp_filter_error(ps->sftp) : scp_watch_error(ps->scp));
			return 1;
		}
		if (o->werr != 0)
			return REC_EIO;
	}
	if (ps->end == NULL && rc < 0)
		return rc;
	if (ps->end == NULL) {
		/* the recording stops during the transfer: what arrived */
		if (ps->sftp != NULL)
			sftp_filter_finish(ps->sftp);
		else
			scp_watch_finish(ps->scp);
		extract_parser_drain(ps, o->want_id);
	}
	if (ps->end != NULL && strcmp(ps->end->path, x->path) != 0) {
		snprintf(ps->why, sizeof(ps->why), "the stream's transfer %zu of channel %" PRIu32
		    " is %.100s, not %.100s", x->start_no, x->chan, ps->end->path, x->path);
		return 1;
	}
	return 0;
}

/* Writes the transfer's bytes, from the chunks or rebuilt.  Returns 0,
 * 1 (printed why), or a negative REC_E* code. */
static int
extract_write(struct tr *r, const char *id, size_t n, const struct replay_xfer *x,
    struct extract_out *o, int *rebuilt)
{
	struct extract_parser ps = { 0 };
	int rc;

	*rebuilt = 0;
	if (x->has_size && x->content_len == x->size && !x->content_gap && x->ended) {
		if ((rc = tr_seek_seq(r, 0)) != REC_OK)
			return rc;
		return extract_chunks(r, x, o);
	}
	if (!x->started) {
		replay_err("extract: %s: transfer %zu: %" PRIu64 " content bytes recorded and no "
		    "start record, so its stream cannot be found to rebuild the rest", id, n,
		    x->content_len);
		return 1;
	}
	*rebuilt = 1;
	rc = extract_parser_new(r, x, &ps, o);
	if (rc == 0)
		rc = extract_rebuild(r, x, &ps, o);
	if (rc == 1)
		replay_err("extract: %s: transfer %zu cannot be rebuilt: %s", id, n, ps.why);
	else if (rc == 0 && ps.end != NULL && !ps.end->sequential) {
		replay_err("extract: %s: transfer %zu cannot be rebuilt whole: its bytes did not "
		    "arrive in offset order (%" PRIu64 " bytes written in order)", id, n, o->written);
		rc = 1;
	}
	extract_parser_free(&ps);
	return rc;
}

int
replay_extract(const char *store, int argc, char **argv)
{
	struct replay_xfers xs = { 0 };
	struct extract_out o = { 0 };
	const struct replay_xfer *x;
	uint8_t got[32];
	long target;
	int rc, status = 0, rebuilt = 0;
	struct tr *r;
	char *end;

	if (argc == 4 && strcmp(argv[1], "--") == 0) {	/* extract -- ID N */
		argv++;
		argc--;
	}
	if (argc != 3 || (target = strtol(argv[2], &end, 10)) <= 0 || *end != '\0') {
		if (argc == 3)
			replay_err("extract: \"%s\" is not a transfer number (from "
			    "1, as \"files %s\" numbers them)", argv[2], argv[1]);
		fprintf(stderr, "usage: escort-replay [--store DIR] extract ID N\n");
		return 2;
	}
	if ((rc = replay_open(store, "extract", argv[1], &r)) != 0)
		return rc;
	if ((rc = replay_xfers_read(r, &xs)) < 0) {
		replay_err("extract: %s: %s at offset %llu", argv[1], rec_strerror(rc),
		    (unsigned long long)tr_error_offset(r));
		status = replay_rec_status(rc);
		goto out;
	}
	if ((size_t)target > xs.n) {
		replay_err("extract: %s: no transfer number %ld (see files %s)", argv[1], target,
		    argv[1]);
		status = 1;
		goto out;
	}
	x = &xs.v[target - 1];
	if (!replay_xfer_is_file(x)) {
		replay_err("extract: %s: transfer %ld is a %s, not a file transfer", argv[1], target,
		    replay_xfer_type(x));
		status = 1;
		goto out;
	}
	if (x->ended && (strcmp(x->outcome, "denied") == 0 ||
	    (strcmp(x->outcome, "failed") == 0 && !x->has_sha && x->size == 0))) {
		replay_err("extract: %s: transfer %ld was %s%s%s: no content passed", argv[1],
		    target, strcmp(x->outcome, "denied") == 0 ? "refused" : "refused by the target",
		    x->message[0] ? ": " : "", x->message);
		status = 1;
		goto out;
	}
	if ((o.md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(o.md, EVP_sha256(), NULL) != 1) {
		replay_err("extract: out of memory");
		status = 2;
		goto out;
	}
	rc = extract_write(r, argv[1], (size_t)target, x, &o, &rebuilt);
	EVP_DigestFinal_ex(o.md, got, NULL);
	if (o.werr != 0) {
		replay_err("extract: write: %s", strerror(o.werr));
		status = 2;
	} else if (rc < 0) {
		replay_err("extract: %s: %s at offset %llu", argv[1], rec_strerror(rc),
		    (unsigned long long)tr_error_offset(r));
		status = replay_rec_status(rc);
	} else if (rc > 0) {
		status = 1;
	} else if (!x->ended) {
		replay_err("extract: %s: transfer %ld is incomplete (its end was not recorded): "
		    "%" PRIu64 " bytes written, no size or SHA-256 to check them against", argv[1],
		    target, o.written);
		status = 1;
	} else if (x->has_size && o.written != x->size) {
		replay_err("extract: %s: transfer %ld: %" PRIu64 " of %" PRIu64 " bytes %s",
		    argv[1], target, o.written, x->size, rebuilt ? "rebuilt from the recorded stream" :
		    "recorded");
		status = 1;
	} else if (!x->has_sha) {
		replay_err("extract: %s: transfer %ld: no SHA-256 was recorded (the bytes did not "
		    "pass in offset order); %" PRIu64 " bytes written, not checked", argv[1], target,
		    o.written);
		status = 1;
	} else if (memcmp(x->sha, got, 32) != 0) {
		replay_err("extract: %s: transfer %ld: %s content does not match its recorded "
		    "SHA-256", argv[1], target, rebuilt ? "the rebuilt" : "the recorded");
		status = 1;
	}
out:
	EVP_MD_CTX_free(o.md);
	replay_xfers_free(&xs);
	tr_free(r);
	return status;
}
