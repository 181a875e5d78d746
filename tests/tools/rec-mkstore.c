/*
 * rec-mkstore: writes sessions into a recording store through the
 * transcript writer, for tests of escort-replay without a running recorder.
 *
 *   rec-mkstore --store DIR --key KEY.pem --id ID [--user U] [--target T]
 *               [--open] [--append] [--events] [FILE...]
 *
 * The content of each FILE (or stdin when none) becomes OUTPUT events in
 * pieces of 4-16 KiB, with an INPUT event before each file; --events adds
 * one event of every other type.  --scp-upload HEX adds an scp upload of
 * "hello\n" to /tmp/up as the proxy records one (exec, FILE start, the
 * scp stream as INPUT/OUTPUT, FILE summary without content) whose summary
 * claims the SHA-256 HEX.  --open leaves the session unfinished;
 * --append continues an unfinished session (through tw_reopen).
 * Prints the final chain head in hex.  Exit 0 on success, 1 on error.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "tests/tools/mk_store.h"

static uint64_t seq = 1, t_ns;

static int
put(struct tw *w, uint16_t type, const void *p, size_t n)
{
	struct buf b;
	int r;

	buf_init(&b, 0);
	t_ns += 1000000;
	r = ev_encode_parts(&b, ++seq, t_ns, type, 0, p, n);
	if (r == REC_OK)
		r = tw_append(w, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return r;
}

static int
put_fields(struct tw *w, uint16_t type, struct buf *f)
{
	int r = put(w, type, buf_ptr(f), buf_len(f));

	buf_reset(f);
	return r;
}

static int
all_types(struct tw *w)
{
	struct buf f;
	uint8_t digest[SEAL_HASH_LEN];
	int r = REC_OK;

	buf_init(&f, 0);
	ev_fields_put_u64(&f, EVF_COLS, 120);
	ev_fields_put_u64(&f, EVF_ROWS, 40);
	r = r ? r : put_fields(w, EV_RESIZE, &f);
	ev_fields_put_str(&f, EVF_CH_ACTION, "shell");
	r = r ? r : put_fields(w, EV_CHANNEL, &f);
	ev_fields_put_str(&f, EVF_VERDICT, "allow");
	ev_fields_put_str(&f, EVF_COMMAND, "uptime");
	ev_fields_put_str(&f, EVF_RULE, "ops");
	ev_fields_put_u64(&f, EVF_RULE_LINE, 3);
	r = r ? r : put_fields(w, EV_DECISION, &f);
	ev_fields_put_str(&f, EVF_ESC_ACTION, "join");
	ev_fields_put_str(&f, EVF_ESCORT, "bob");
	r = r ? r : put_fields(w, EV_ESCORT, &f);
	ev_fields_put_str(&f, EVF_PATH, "/tmp/f");
	ev_fields_put_str(&f, EVF_DIRECTION, "upload");
	ev_fields_put_u64(&f, EVF_SIZE, 3);
	seal_sha256("abc", 3, digest);
	ev_fields_put(&f, EVF_SHA256, digest, sizeof(digest));
	ev_fields_put_u64(&f, EVF_FILE_ID, 1);
	r = r ? r : put_fields(w, EV_FILE, &f);
	ev_fields_put_u64(&f, EVF_FILE_ID, 1);
	ev_fields_put_u64(&f, EVF_OFFSET, 0);
	ev_fields_put(&f, EVF_CONTENT, "ab", 2);
	r = r ? r : put_fields(w, EV_FILE, &f);
	ev_fields_put_u64(&f, EVF_FILE_ID, 1);
	ev_fields_put_u64(&f, EVF_OFFSET, 2);
	ev_fields_put(&f, EVF_CONTENT, "c", 1);
	r = r ? r : put_fields(w, EV_FILE, &f);
	ev_fields_put_str(&f, EVF_TEXT, "marker");
	r = r ? r : put_fields(w, EV_MARKER, &f);
	r = r ? r : put(w, EV_STDERR, "warning\r\n", 9);
	ev_fields_put_u64(&f, EVF_EXIT_STATUS, 0);
	r = r ? r : put_fields(w, EV_EXIT, &f);
	buf_free(&f);
	return r;
}

/* An scp upload of "hello\n" whose summary carries the digest hex. */
static int
put_scp_upload(struct tw *w, const char *hex)
{
	static const struct { uint16_t type; const char *p; size_t n; } stream[] = {
		{ EV_OUTPUT, "\0", 1 }, { EV_INPUT, "C0644 6 up\n", 11 }, { EV_OUTPUT, "\0", 1 },
		{ EV_INPUT, "hello\n\0", 7 }, { EV_OUTPUT, "\0", 1 },
	};
	uint8_t digest[32];
	struct buf f;
	size_t i;
	int r;

	for (i = 0; i < 32; i++)
		if (strlen(hex) != 64 || sscanf(hex + 2 * i, "%2hhx", &digest[i]) != 1)
			return REC_EINVAL;
	buf_init(&f, 0);
	ev_fields_put_str(&f, EVF_CH_ACTION, "exec");
	ev_fields_put_str(&f, EVF_COMMAND, "scp -t /tmp/up");
	r = put_fields(w, EV_CHANNEL, &f);
	ev_fields_put_str(&f, EVF_KIND, "scp");
	ev_fields_put_str(&f, EVF_CH_ACTION, "file");
	ev_fields_put_str(&f, EVF_VERDICT, "started");
	ev_fields_put_str(&f, EVF_PATH, "/tmp/up");
	ev_fields_put_str(&f, EVF_DIRECTION, "upload");
	ev_fields_put_u64(&f, EVF_FILE_ID, 7);
	r = r ? r : put_fields(w, EV_FILE, &f);
	for (i = 0; i < sizeof(stream) / sizeof(stream[0]) && r == REC_OK; i++)
		r = put(w, stream[i].type, stream[i].p, stream[i].n);
	ev_fields_put_str(&f, EVF_KIND, "scp");
	ev_fields_put_str(&f, EVF_CH_ACTION, "file");
	ev_fields_put_str(&f, EVF_VERDICT, "ok");
	ev_fields_put_str(&f, EVF_PATH, "/tmp/up");
	ev_fields_put_str(&f, EVF_DIRECTION, "upload");
	ev_fields_put_u64(&f, EVF_SIZE, 6);
	ev_fields_put(&f, EVF_SHA256, digest, sizeof(digest));
	ev_fields_put_u64(&f, EVF_FILE_ID, 7);
	r = r ? r : put_fields(w, EV_FILE, &f);
	buf_free(&f);
	return r;
}

static int
put_file(struct tw *w, const char *path)
{
	static uint8_t blk[16384];
	size_t piece = 4096;
	ssize_t n;
	int fd = path ? open(path, O_RDONLY) : 0, r = REC_OK;

	if (fd < 0) {
		perror(path);
		return REC_EIO;
	}
	if ((r = put(w, EV_INPUT, "cat file\r", 9)) != REC_OK)
		goto out;
	while ((n = read(fd, blk, piece)) > 0) {
		if ((r = put(w, EV_OUTPUT, blk, (size_t)n)) != REC_OK)
			goto out;
		piece = piece >= 16384 ? 4096 : piece + 4096;
		if (seq % 16 == 0 && (r = tw_flush(w, NULL)) != REC_OK)
			goto out;
	}
out:
	if (fd > 0)
		close(fd);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "id", required_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' },
		{ "target", required_argument, NULL, 't' },
		{ "open", no_argument, NULL, 'o' },
		{ "events", no_argument, NULL, 'e' },
		{ "append", no_argument, NULL, 'a' },
		{ "scp-upload", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = NULL, *key = NULL, *id = NULL;
	const char *user = "alice", *target = "web01", *scp_hex = NULL;
	struct mk_store m = { NULL, NULL };
	static const char *const attrs[] = { "citizenship=FR" };
	struct tw *w = NULL;
	struct tw_state st;
	struct buf meta, f;
	int open_only = 0, events = 0, append = 0, c, r, i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'k': key = optarg; break;
		case 'i': id = optarg; break;
		case 'u': user = optarg; break;
		case 't': target = optarg; break;
		case 'o': open_only = 1; break;
		case 'e': events = 1; break;
		case 'a': append = 1; break;
		case 'x': scp_hex = optarg; break;
		default: return 1;
		}
	}
	if (store == NULL || key == NULL || id == NULL) {
		fprintf(stderr, "usage: rec-mkstore --store DIR --key KEY.pem --id ID "
		    "[--user U] [--target T] [--open] [--events] [FILE...]\n");
		return 1;
	}
	buf_init(&meta, 0);
	buf_init(&f, 0);
	mk_store_meta(&meta, &f, user, target, attrs, 1);
	if ((r = mk_store_open(&m, store, key)) != REC_OK)
		goto out;
	if (append) {
		if ((r = tw_reopen(store, id, m.signer, m.j, NULL, &w, &st)) != REC_OK)
			goto out;
		seq = st.last_seq;
		t_ns = (seq - 1) * 1000000;
	} else if ((r = tw_create(store, id, buf_ptr(&meta), buf_len(&meta),
	    m.signer, m.j, NULL, &w)) != REC_OK) {
		goto out;
	}
	if (events && (r = all_types(w)) != REC_OK)
		goto out;
	if (scp_hex != NULL && (r = put_scp_upload(w, scp_hex)) != REC_OK)
		goto out;
	if (optind == argc && (r = put_file(w, NULL)) != REC_OK)
		goto out;
	for (i = optind; i < argc; i++)
		if ((r = put_file(w, argv[i])) != REC_OK)
			goto out;
	if (open_only) {
		r = rec__tw_checkpoint(w, &st);
	} else {
		r = put(w, EV_END, NULL, 0);
		if (r == REC_OK) {
			r = tw_close(w, &st, NULL);
			w = NULL;
		}
	}
	if (r == REC_OK)
		mk_store_print_head(&st);
out:
	if (r != REC_OK)
		fprintf(stderr, "rec-mkstore: %s\n", rec_strerror(r));
	tw_free(w);
	mk_store_close(&m);
	buf_free(&meta);
	buf_free(&f);
	return r == REC_OK ? 0 : 1;
}
