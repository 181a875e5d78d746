/* files.c: "escort-replay files [ID] [--json]": every file transfer and
 * file operation recorded (xfers.h: type, outcome, size, SHA-256, paths; a
 * transfer whose start was recorded but not its end is "incomplete").  With an ID the
 * session is refused when it does not verify; across the store, rows of
 * such a session are marked ("[FAILED] ", JSON "verify"). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"
#include "replay/xfers.h"

/* One row: time, session, number, user, type, outcome, size, SHA-256 and
 * the path ("PATH -> PATH2" for a rename, symlink or link). */
static void
replay_file_print(const char *id, const char *user, uint64_t wall,
    const struct replay_xfer *f, size_t n, int json)
{
	char t[32], sha[2 * 32 + 1] = "";
	size_t i;

	replay_time(wall, t, sizeof(t));
	if (f->has_sha)
		for (i = 0; i < 32; i++)
			snprintf(sha + 2 * i, 3, "%02x", f->sha[i]);
	if (!json) {
		printf("%s%s %s %zu %s %-8s %-10s ", replay_check_mark(id), t, id,
		    n, user[0] ? user : "-", replay_xfer_type(f), replay_xfer_outcome(f));
		if (f->has_size)
			printf("%" PRIu64 " ", f->size);
		else
			printf("- ");
		printf("%s %s%s%s\n", sha[0] ? sha : "-", f->path,
		    f->path2[0] ? " -> " : "", f->path2);
		return;
	}
	printf("{\"time\":\"%s\",\"id\":", t);
	replay_json_str(stdout, id);
	printf(",\"n\":%zu,\"user\":", n);
	replay_json_str(stdout, user);
	printf(",\"type\":");
	replay_json_str(stdout, replay_xfer_type(f));
	printf(",\"kind\":");
	replay_json_str(stdout, f->kind);
	printf(",\"path\":");
	replay_json_str(stdout, f->path);
	printf(",\"path2\":");
	if (f->path2[0])
		replay_json_str(stdout, f->path2);
	else
		printf("null");
	printf(",\"direction\":");
	replay_json_str(stdout, f->dir);
	printf(",\"operation\":");
	replay_json_str(stdout, f->op);
	printf(",\"outcome\":");
	replay_json_str(stdout, replay_xfer_outcome(f));
	printf(",\"ended\":%s", f->ended ? "true" : "false");
	if (f->has_size)
		printf(",\"size\":%" PRIu64, f->size);
	else
		printf(",\"size\":null");
	printf(",\"sha256\":");
	if (sha[0])
		replay_json_str(stdout, sha);
	else
		printf("null");
	printf(",\"message\":");
	replay_json_str(stdout, f->message);
	printf(",\"verify\":\"%s\"}\n",
	    replay_vstate_name(replay_check_state(id)));
}

static int
replay_files_of(const char *store, const char *id, int json)
{
	struct replay_xfers xs = { 0 };
	char user[128], target[128];
	struct tr *r;
	size_t i;
	int x;

	if ((x = replay_open(store, "files", id, &r)) != 0)
		return x;
	replay_meta(r, user, sizeof(user), target, sizeof(target));
	x = replay_xfers_read(r, &xs);
	for (i = 0; i < xs.n; i++)
		replay_file_print(id, user, tr_start_wall_ns(r) + xs.v[i].t_ns, &xs.v[i],
		    i + 1, json);
	if (x < 0)
		replay_err("files: %s: %s at offset %llu", replay_esc(id),
		    rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	replay_xfers_free(&xs);
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
}

/* replay_files_of for replay_each_session; arg: the int json. */
static int
files_one(const char *store, const char *id, void *arg)
{
	return replay_files_of(store, id, *(const int *)arg);
}

int
replay_files(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, c;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (c != 'j')
			goto usage;
		json = 1;
	}
	if (argc - optind > 1)
		goto usage;
	if (argc - optind == 1)
		return replay_files_of(store, argv[optind], json);
	return replay_each_session(store, "files", files_one, &json);
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] files [ID] [--json]\n");
	return 2;
}
