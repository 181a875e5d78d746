/* export_cast.c: a session as an asciicast version 2 recording
 * (export_cast.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/export_cast.h"
#include "replay/replay.h"

/* First window size recorded (RESIZE or a pty request), else 80x24. */
static void
cast_first_size(struct tr *r, uint64_t *cols, uint64_t *rows, char *term,
    size_t tsz)
{
	struct ev e;

	*cols = 80;
	*rows = 24;
	snprintf(term, tsz, "xterm");
	while (tr_next(r, &e) == 1) {
		if (e.type != EV_RESIZE && e.type != EV_CHANNEL)
			continue;
		ev_fields_get_str(e.data, e.len, EVF_TERM, term, tsz);
		if (ev_fields_get_u64(e.data, e.len, EVF_COLS, cols) == REC_OK &&
		    ev_fields_get_u64(e.data, e.len, EVF_ROWS, rows) == REC_OK)
			break;
	}
	tr_seek_seq(r, 1);
}

int
replay_cast_write(FILE *f, struct tr *r, unsigned flags)
{
	void (*str)(FILE *, const uint8_t *, size_t) =
	    flags & REPLAY_CAST_SCRIPT ? replay_json_bytes_script :
	    replay_json_bytes;
	uint64_t cols, rows, v;
	const uint8_t *t;
	size_t tl;
	char term[64], s[64], user[256], target[256], title[640];
	struct ev e;
	int x;

	cast_first_size(r, &cols, &rows, term, sizeof(term));
	fprintf(f, "{\"version\":2,\"width\":%" PRIu64 ",\"height\":%" PRIu64
	    ",\"timestamp\":%" PRIu64 ",\"env\":{\"TERM\":", cols, rows,
	    tr_start_wall_ns(r) / 1000000000u);
	str(f, (const uint8_t *)term, strlen(term));
	replay_meta(r, user, sizeof(user), target, sizeof(target));
	snprintf(title, sizeof(title), "%s@%s (%s)", user[0] ? user : "?",
	    target[0] ? target : "?", tr_id(r));
	fputs("},\"title\":", f);
	str(f, (const uint8_t *)title, strlen(title));
	fputs("}\n", f);
	while ((x = tr_next(r, &e)) == 1) {
		if (e.type == EV_INPUT && (flags & REPLAY_CAST_NO_INPUT)) {
			continue;
		} else if (e.type == EV_INPUT || e.type == EV_OUTPUT ||
		    e.type == EV_STDERR) {
			fprintf(f, "[%.6f,\"%s\",", (double)e.t_ns / 1e9,
			    e.type == EV_INPUT ? "i" : "o");
			str(f, e.data, e.len);
			fputs("]\n", f);
		} else if (e.type == EV_RESIZE &&
		    ev_fields_get_u64(e.data, e.len, EVF_COLS, &cols) == REC_OK &&
		    ev_fields_get_u64(e.data, e.len, EVF_ROWS, &v) == REC_OK) {
			snprintf(s, sizeof(s), "%" PRIu64 "x%" PRIu64, cols, v);
			fprintf(f, "[%.6f,\"r\",\"%s\"]\n", (double)e.t_ns / 1e9, s);
		} else if (e.type == EV_MARKER &&
		    ev_fields_find(e.data, e.len, EVF_TEXT, &t, &tl) == REC_OK) {
			fprintf(f, "[%.6f,\"m\",", (double)e.t_ns / 1e9);
			str(f, t, tl);
			fputs("]\n", f);
		}
	}
	return x < 0 ? x : 0;
}
