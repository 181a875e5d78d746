/* screen.c: "escort-replay screen ID --at SECONDS | --command N": the
 * technician's terminal screen as it stood at that moment of the session,
 * or just before decision N of "commands ID" (libvterm). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"

#define SCREEN_MAX_DIM 1000

/* Prints the screen rows, trailing blanks and trailing empty rows removed. */
static void
screen_print(VTerm *vt)
{
	VTermScreen *s = vterm_obtain_screen(vt);
	VTermRect rect;
	char *line;
	size_t len, cap;
	int rows, cols, row, last = -1;

	vterm_get_size(vt, &rows, &cols);
	cap = (size_t)cols * 8 + 1;
	if ((line = malloc(cap)) == NULL)
		return;
	for (row = 0; row < rows; row++) {
		rect = (VTermRect){ .start_row = row, .end_row = row + 1,
		    .start_col = 0, .end_col = cols };
		if (vterm_screen_get_text(s, line, cap - 1, rect) > 0)
			last = row;
	}
	for (row = 0; row <= last; row++) {
		rect = (VTermRect){ .start_row = row, .end_row = row + 1,
		    .start_col = 0, .end_col = cols };
		len = vterm_screen_get_text(s, line, cap - 1, rect);
		while (len > 0 && line[len - 1] == ' ')
			len--;
		fwrite(line, 1, len, stdout);
		putchar('\n');
	}
	free(line);
}

int
replay_screen(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "command", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	double at = -1;
	uint64_t at_ns = 0, cols = 80, rows = 24, cmd_n = 0, stop_seq = 0;
	VTerm *vt = NULL;
	struct tr *r;
	struct ev e;
	char *end;
	int c, x;

	while ((c = getopt_long(argc, argv, "a:c:", opts, NULL)) != -1) {
		if (c == 'c') {
			if (replay_cmd_parse_n(optarg, &cmd_n) != 0) {
				replay_err("screen: --command wants a command "
				    "number from 1 (as \"commands ID\" numbers them)");
				return 2;
			}
			continue;
		}
		if (c != 'a')
			goto usage;
		at = strtod(optarg, &end);
		if (*end != '\0' || !(at >= 0)) {
			replay_err("screen: --at wants seconds >= 0");
			return 2;
		}
	}
	if (argc - optind != 1 || (at < 0) == (cmd_n == 0))
		goto usage;
	if (at >= 0)
		at_ns = (uint64_t)(at * 1e9);
	if ((x = replay_open(store, "screen", argv[optind], &r)) != 0)
		return x;
	if (cmd_n != 0 && (x = replay_cmd_locate(r, "screen", argv[optind], cmd_n,
	    &stop_seq, &at_ns)) != 0) {
		tr_free(r);
		return x;
	}
	while ((x = tr_next(r, &e)) == 1 &&
	    (cmd_n != 0 ? e.seq < stop_seq : e.t_ns <= at_ns)) {
		if (e.type == EV_RESIZE || e.type == EV_CHANNEL) {
			if (ev_fields_get_u64(e.data, e.len, EVF_COLS, &cols) != REC_OK ||
			    ev_fields_get_u64(e.data, e.len, EVF_ROWS, &rows) != REC_OK)
				continue;
			if (cols == 0 || rows == 0 || cols > SCREEN_MAX_DIM ||
			    rows > SCREEN_MAX_DIM)
				cols = 80, rows = 24;
			if (vt != NULL)
				vterm_set_size(vt, (int)rows, (int)cols);
			continue;
		}
		if (e.type != EV_OUTPUT && e.type != EV_STDERR)
			continue;
		if (vt == NULL) {
			vt = vterm_new((int)rows, (int)cols);
			vterm_set_utf8(vt, 1);
			vterm_screen_reset(vterm_obtain_screen(vt), 1);
		}
		vterm_input_write(vt, (const char *)e.data, e.len);
	}
	if (x < 0) {
		replay_err("screen: %s: %s at offset %llu", argv[optind],
		    rec_strerror(x), (unsigned long long)tr_error_offset(r));
		x = replay_rec_status(x);
	} else {
		if (vt != NULL)
			screen_print(vt);
		x = 0;
	}
	if (vt != NULL)
		vterm_free(vt);
	tr_free(r);
	return x;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] screen ID "
	    "(--at SECONDS | --command N)\n");
	return 2;
}
