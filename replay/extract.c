/* extract.c: "escort-replay extract ID N": the recorded content of the
 * session's N-th file transfer (as numbered by "files ID"), to stdout. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

/* Is e the summary (not a content chunk) of a transfer? */
static int
extract_is_summary(const struct ev *e)
{
	const uint8_t *v;
	size_t len;

	return ev_fields_find(e->data, e->len, EVF_CONTENT, &v, &len) != REC_OK &&
	    ev_fields_find(e->data, e->len, EVF_PATH, &v, &len) == REC_OK;
}

int
replay_extract(const char *store, int argc, char **argv)
{
	uint64_t file_id = 0, size = 0, off, next = 0, fid;
	uint8_t want[32], got[32];
	const uint8_t *v;
	size_t len;
	int have_sha = 0, have_size = 0, have_id = 0, found = 0, n = 0, target, x;
	int status;
	EVP_MD_CTX *md;
	struct tr *r;
	struct ev e;
	char *end;

	if (argc != 3 || (target = (int)strtol(argv[2], &end, 10)) <= 0 ||
	    *end != '\0') {
		fprintf(stderr, "usage: escort-replay [--store DIR] extract ID N\n");
		return 2;
	}
	if ((x = replay_open(store, "extract", argv[1], &r)) != 0)
		return x;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		replay_err("extract: out of memory");
		tr_free(r);
		EVP_MD_CTX_free(md);
		return 2;
	}
	while ((x = tr_next(r, &e)) == 1) {
		if (e.type != EV_FILE)
			continue;
		if (!found) {
			if (!extract_is_summary(&e) || ++n != target)
				continue;
			found = 1;
			if (ev_fields_get_u64(e.data, e.len, EVF_FILE_ID, &file_id) != REC_OK) {
				replay_err("extract: %s: transfer %d has no recorded content",
				    argv[1], target);
				break;
			}
			have_id = 1;
			have_size = ev_fields_get_u64(e.data, e.len, EVF_SIZE, &size) == REC_OK;
			if (ev_fields_find(e.data, e.len, EVF_SHA256, &v, &len) == REC_OK &&
			    len == 32) {
				memcpy(want, v, 32);
				have_sha = 1;
			}
			continue;
		}
		if (ev_fields_get_u64(e.data, e.len, EVF_FILE_ID, &fid) != REC_OK ||
		    fid != file_id ||
		    ev_fields_get_u64(e.data, e.len, EVF_OFFSET, &off) != REC_OK ||
		    ev_fields_find(e.data, e.len, EVF_CONTENT, &v, &len) != REC_OK)
			continue;
		if (off != next) {
			replay_err("extract: %s: content of transfer %d jumps from "
			    "offset %" PRIu64 " to %" PRIu64, argv[1], target, next, off);
			x = REC_EFORMAT;
			break;
		}
		if (replay_write_all(v, len) != 0) {
			replay_err("extract: write: %s", strerror(errno));
			x = REC_EIO;
			break;
		}
		EVP_DigestUpdate(md, v, len);
		next += len;
	}
	EVP_DigestFinal_ex(md, got, NULL);
	EVP_MD_CTX_free(md);
	status = 0;
	if (x < 0) {
		if (x != REC_EFORMAT && x != REC_EIO)
			replay_err("extract: %s: %s at offset %llu", argv[1],
			    rec_strerror(x), (unsigned long long)tr_error_offset(r));
		status = replay_rec_status(x);
	} else if (!found) {
		replay_err("extract: %s: no transfer number %d (see files %s)",
		    argv[1], target, argv[1]);
		status = 1;
	} else if (!have_id) {
		status = 1;
	} else if (have_size && next != size) {
		replay_err("extract: %s: transfer %d: %" PRIu64 " of %" PRIu64
		    " bytes recorded (content is kept up to the proxy's limit)",
		    argv[1], target, next, size);
		status = 1;
	} else if (have_sha && memcmp(want, got, 32) != 0) {
		replay_err("extract: %s: transfer %d: content does not match its "
		    "recorded SHA-256", argv[1], target);
		status = 1;
	}
	tr_free(r);
	return status;
}
