/* export.c: "escort-replay export ID --format asciicast|json|text|html
 * [--no-input] [--player DIR]" (asciicast: export_cast.h, text:
 * export_text.h, html: export_html.h with its player,
 * export_html_player.h).  --no-input (asciicast, html) leaves out the
 * keystroke ("i") events, so that what was typed unechoed (passwords) is
 * not handed on. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/export_cast.h"
#include "replay/export_html.h"
#include "replay/export_html_player.h"
#include "replay/export_text.h"
#include "replay/replay.h"

#define EXPORT_USAGE "usage: escort-replay [--store DIR] export ID --format " \
    "asciicast|json|text|html [--no-input] [--player DIR]\n"

enum replay_fmt { FMT_ASCIICAST, FMT_JSON, FMT_TEXT, FMT_HTML };

/* Field tags and how their values are written in JSON. */
enum replay_fkind { FK_STR, FK_U64, FK_HEX, FK_B64 };
static const struct {
	uint16_t tag;
	const char *name;
	enum replay_fkind kind;
} replay_ftab[] = {
	{ EVF_USER, "user", FK_STR }, { EVF_ATTR, "attr", FK_STR },
	{ EVF_TARGET, "target", FK_STR }, { EVF_LOGIN, "login", FK_STR },
	{ EVF_CLIENT_ADDR, "client_addr", FK_STR },
	{ EVF_CLIENT_KEY, "client_key", FK_STR },
	{ EVF_POLICY_HASH, "policy_hash", FK_STR },
	{ EVF_PROXY_ID, "proxy_id", FK_STR },
	{ EVF_TARGET_ADDR, "target_addr", FK_STR },
	{ EVF_WALL_NS, "wall_ns", FK_U64 }, { EVF_KIND, "kind", FK_STR },
	{ EVF_COLS, "cols", FK_U64 }, { EVF_ROWS, "rows", FK_U64 },
	{ EVF_PX_W, "px_w", FK_U64 }, { EVF_PX_H, "px_h", FK_U64 },
	{ EVF_CH_ACTION, "action", FK_STR }, { EVF_CH_TYPE, "channel_type", FK_STR },
	{ EVF_TERM, "term", FK_STR }, { EVF_ENV_NAME, "env_name", FK_STR },
	{ EVF_ENV_VALUE, "env_value", FK_STR }, { EVF_COMMAND, "command", FK_STR },
	{ EVF_SUBSYSTEM, "subsystem", FK_STR }, { EVF_SIGNAL, "signal", FK_STR },
	{ EVF_VERDICT, "verdict", FK_STR }, { EVF_RULE, "rule", FK_STR },
	{ EVF_RULE_LINE, "rule_line", FK_U64 }, { EVF_REASON, "reason", FK_STR },
	{ EVF_APPROVER, "approver", FK_STR }, { EVF_RENDERED, "rendered", FK_STR },
	{ EVF_ESC_ACTION, "escort_action", FK_STR },
	{ EVF_ESCORT, "escort", FK_STR }, { EVF_PATH, "path", FK_STR },
	{ EVF_DIRECTION, "direction", FK_STR }, { EVF_SIZE, "size", FK_U64 },
	{ EVF_SHA256, "sha256", FK_HEX }, { EVF_OFFSET, "offset", FK_U64 },
	{ EVF_CONTENT, "content_base64", FK_B64 },
	{ EVF_FILE_ID, "file_id", FK_U64 }, { EVF_TEXT, "text", FK_STR },
	{ EVF_EXIT_STATUS, "exit_status", FK_U64 },
	{ EVF_EXIT_SIGNAL, "exit_signal", FK_STR }, { EVF_CORE, "core", FK_U64 },
	{ EVF_MESSAGE, "message", FK_STR },
	{ EVF_CUT_OFFSET, "cut_offset", FK_U64 },
	{ EVF_LOST_BYTES, "lost_bytes", FK_U64 },
	{ EVF_ACKED_SEQ, "acked_seq", FK_U64 },
	{ EVF_STORED_SEQ, "stored_seq", FK_U64 },
	{ EVF_END_KIND, "end_kind", FK_STR }, { EVF_END_BY, "end_by", FK_STR },
	{ EVF_CMD_SEQ, "cmd_seq", FK_U64 }, { EVF_SHELL_MODE, "shell_mode", FK_STR },
};

static int
replay_is_raw(uint16_t type)
{
	return type == EV_INPUT || type == EV_OUTPUT || type == EV_STDERR;
}

/* "fields":[{"name":...,"value":...},...] (a list: tags may repeat). */
static void
replay_json_fields(const struct ev *e)
{
	struct ev_fields_iter it;
	const uint8_t *v;
	size_t len, i, k;
	uint16_t tag;
	int first = 1;

	printf(",\"fields\":[");
	ev_fields_begin(&it, e->data, e->len);
	while (ev_fields_next(&it, &tag, &v, &len) == 1) {
		for (k = 0; k < sizeof(replay_ftab) / sizeof(replay_ftab[0]); k++)
			if (replay_ftab[k].tag == tag)
				break;
		printf("%s{\"tag\":%u,\"name\":", first ? "" : ",", tag);
		first = 0;
		if (k == sizeof(replay_ftab) / sizeof(replay_ftab[0])) {
			printf("null,\"value_base64\":");
			replay_json_base64(stdout, v, len);
		} else {
			printf("\"%s\",\"value\":", replay_ftab[k].name);
			if (replay_ftab[k].kind == FK_U64 && len == 8)
				printf("%" PRIu64, buf_ld64(v));
			else if (replay_ftab[k].kind == FK_HEX) {
				putchar('"');
				for (i = 0; i < len; i++)
					printf("%02x", v[i]);
				putchar('"');
			} else if (replay_ftab[k].kind == FK_B64)
				replay_json_base64(stdout, v, len);
			else
				replay_json_bytes(stdout, v, len);
		}
		putchar('}');
	}
	putchar(']');
}

static void
replay_export_json(const struct ev *e)
{
	printf("{\"seq\":%" PRIu64 ",\"t\":%.9f,\"type\":\"%s\",\"channel\":%" PRIu32,
	    e->seq, (double)e->t_ns / 1e9, ev_type_name(e->type), e->channel);
	if (replay_is_raw(e->type)) {
		printf(",\"data_base64\":");
		replay_json_base64(stdout, e->data, e->len);
	} else if (e->type != EV_MARKER && e->type != EV_END && e->len == 0) {
		printf(",\"fields\":[]");
	} else if (ev_fields_valid(e->data, e->len)) {
		replay_json_fields(e);
	} else {
		printf(",\"data_base64\":");
		replay_json_base64(stdout, e->data, e->len);
	}
	printf("}\n");
}

int
replay_export(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "no-input", no_argument, NULL, 'n' },
		{ "player", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum replay_fmt fmt = FMT_ASCIICAST;
	struct replay_player pl;
	const char *player = NULL;
	struct tr *r;
	struct ev e;
	int c, x, have_fmt = 0, no_input = 0;

	while ((c = getopt_long(argc, argv, "f:np:h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf(EXPORT_USAGE "A session as asciicast, JSON events, the "
			    "text the terminal showed, or an HTML page that plays\n"
			    "it (the asciinema-player from --player DIR, else $"
			    REPLAY_PLAYER_ENV ", else\n" REPLAY_PLAYER_DIR ").  "
			    "--no-input leaves the keystrokes out.  See "
			    "escort-replay(1).\n");
			return 0;
		}
		if (c == 'n') {
			no_input = 1;
			continue;
		}
		if (c == 'p') {
			player = optarg;
			continue;
		}
		if (c != 'f')
			goto usage;
		have_fmt = 1;
		if (strcmp(optarg, "asciicast") == 0)
			fmt = FMT_ASCIICAST;
		else if (strcmp(optarg, "json") == 0)
			fmt = FMT_JSON;
		else if (strcmp(optarg, "text") == 0)
			fmt = FMT_TEXT;
		else if (strcmp(optarg, "html") == 0)
			fmt = FMT_HTML;
		else {
			replay_err("export: unknown format \"%s\" (asciicast, json, "
			    "text, html)", optarg);
			return 2;
		}
	}
	if (!have_fmt) {
		replay_err("export: --format is needed (asciicast, json, text, "
		    "html)");
		goto usage;
	}
	if (argc - optind != 1)
		goto usage;
	if (no_input && fmt != FMT_ASCIICAST && fmt != FMT_HTML) {
		replay_err("export: --no-input is for --format asciicast and html");
		return 2;
	}
	if (player != NULL && fmt != FMT_HTML) {
		replay_err("export: --player is for --format html");
		return 2;
	}
	/* the player first: no page without one */
	if (fmt == FMT_HTML && (x = replay_player_load(player, &pl)) != 0)
		return x;
	if ((x = replay_open(store, "export", argv[optind], &r)) != 0) {
		if (fmt == FMT_HTML)
			replay_player_free(&pl);
		return x;
	}
	if (fmt == FMT_HTML) {
		x = replay_export_html(stdout, r, argv[optind], &pl,
		    no_input ? REPLAY_CAST_NO_INPUT : 0);
		replay_player_free(&pl);
	} else if (fmt == FMT_TEXT) {
		x = replay_export_text(stdout, r);
	} else if (fmt == FMT_ASCIICAST) {
		x = replay_cast_write(stdout, r, no_input ? REPLAY_CAST_NO_INPUT : 0);
	} else {
		while ((x = tr_next(r, &e)) == 1)
			replay_export_json(&e);
	}
	if (x < 0)
		replay_err("export: %s: %s at offset %llu", argv[optind],
		    rec_strerror(x), (unsigned long long)tr_error_offset(r));
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
usage:
	fputs(EXPORT_USAGE, stderr);
	return 2;
}
