/* files.c: "escort-replay files [ID] [--json]": every file transfer
 * recorded (path, direction, size, SHA-256, outcome).  With an ID the
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

struct replay_file {
	char path[4096], direction[32], verdict[32], action[32];
	char sha[2 * 32 + 1];
	uint64_t size;
	int has_size;
};

/* Returns 1 when e is a transfer summary (not a content chunk). */
static int
replay_file_get(const struct ev *e, struct replay_file *f)
{
	const uint8_t *v;
	size_t len, i;

	memset(f, 0, sizeof(*f));
	if (ev_fields_find(e->data, e->len, EVF_CONTENT, &v, &len) == REC_OK ||
	    ev_fields_get_str(e->data, e->len, EVF_PATH, f->path,
	    sizeof(f->path)) != REC_OK)
		return 0;
	ev_fields_get_str(e->data, e->len, EVF_DIRECTION, f->direction,
	    sizeof(f->direction));
	ev_fields_get_str(e->data, e->len, EVF_VERDICT, f->verdict,
	    sizeof(f->verdict));
	ev_fields_get_str(e->data, e->len, EVF_CH_ACTION, f->action,
	    sizeof(f->action));
	f->has_size = ev_fields_get_u64(e->data, e->len, EVF_SIZE, &f->size) == REC_OK;
	if (ev_fields_find(e->data, e->len, EVF_SHA256, &v, &len) == REC_OK &&
	    len == 32)
		for (i = 0; i < 32; i++)
			snprintf(f->sha + 2 * i, 3, "%02x", v[i]);
	return 1;
}

static void
replay_file_print(const char *id, const char *user, uint64_t wall,
    const struct replay_file *f, int n, int json)
{
	char t[32];

	replay_time(wall, t, sizeof(t));
	if (!json) {
		printf("%s%s %s %d %s %-8s %-8s ", replay_check_mark(id), t, id,
		    n, user[0] ? user : "-",
		    f->direction[0] ? f->direction : "-",
		    f->verdict[0] ? f->verdict : "-");
		if (f->has_size)
			printf("%" PRIu64 " ", f->size);
		else
			printf("- ");
		printf("%s %s\n", f->sha[0] ? f->sha : "-", f->path);
		return;
	}
	printf("{\"time\":\"%s\",\"id\":", t);
	replay_json_str(stdout, id);
	printf(",\"n\":%d,\"user\":", n);
	replay_json_str(stdout, user);
	printf(",\"path\":");
	replay_json_str(stdout, f->path);
	printf(",\"direction\":");
	replay_json_str(stdout, f->direction);
	printf(",\"operation\":");
	replay_json_str(stdout, f->action);
	printf(",\"outcome\":");
	replay_json_str(stdout, f->verdict);
	if (f->has_size)
		printf(",\"size\":%" PRIu64, f->size);
	else
		printf(",\"size\":null");
	printf(",\"sha256\":");
	if (f->sha[0])
		replay_json_str(stdout, f->sha);
	else
		printf("null");
	printf(",\"verify\":\"%s\"}\n",
	    replay_vstate_name(replay_check_state(id)));
}

static int
replay_files_of(const char *store, const char *id, int json)
{
	struct replay_file f;
	char user[128], target[128];
	struct tr *r;
	struct ev e;
	int x, n = 0;

	if ((x = replay_open(store, "files", id, &r)) != 0)
		return x;
	replay_meta(r, user, sizeof(user), target, sizeof(target));
	while ((x = tr_next(r, &e)) == 1)
		if (e.type == EV_FILE && replay_file_get(&e, &f))
			replay_file_print(id, user, tr_start_wall_ns(r) + e.t_ns,
			    &f, ++n, json);
	if (x < 0)
		replay_err("files: %s: %s at offset %llu", id, rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
}

int
replay_files(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char **ids;
	size_t n, i;
	int json = 0, c, x, bad = 0;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (c != 'j')
			goto usage;
		json = 1;
	}
	if (argc - optind > 1)
		goto usage;
	if (argc - optind == 1)
		return replay_files_of(store, argv[optind], json);
	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("files: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		return 2;
	}
	if ((bad = replay_check_all(store)) != 0) {
		replay_free_ids(ids, n);
		return bad;
	}
	for (i = 0; i < n; i++)
		if ((x = replay_files_of(store, ids[i], json)) > bad)
			bad = x;
	replay_free_ids(ids, n);
	fflush(stdout);
	if (replay_check_report() && bad == 0)
		bad = 1;
	return bad;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] files [ID] [--json]\n");
	return 2;
}
