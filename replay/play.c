/* play.c: "escort-replay play ID [--speed X] [--max-wait S] [--command N |
 * --from SECONDS]": the terminal output with its recorded timing.
 * --command N starts at decision N of "commands ID", --from at that time
 * of the session.  On a terminal (stdin and stdout) the player takes keys
 * (play_tty.h) and starts from the screen drawn as it stood; otherwise the
 * output before the start is written at once (a terminal reading it then
 * shows the same screen), the rest with its timing. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/play_tty.h"
#include "replay/replay.h"

static void
play_sleep(double s)
{
	struct timespec ts = clock_secs_ts(s);

	if (s <= 0)
		return;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --from past the session's last event is exit 1 with nothing written, as
 * on a terminal (play_tty.c); r is left at the first event.  Returns 0, 1,
 * or the exit status of a read error. */
static int
play_check_from(struct tr *r, const char *id, uint64_t from_t)
{
	struct tr_summary sum;
	int x;

	if ((x = tr_summarize(r, &sum)) != REC_OK ||
	    (x = tr_seek_seq(r, 1)) != REC_OK) {
		replay_err("play: %s: %s", replay_esc(id), rec_strerror(x));
		return replay_rec_status(x);
	}
	if (from_t <= sum.last_t_ns)
		return 0;
	replay_err("play: %s: --from %.3f is past the end of the session: "
	    "its last event is at %.3f s%s", id, (double)from_t / 1e9,
	    (double)sum.last_t_ns / 1e9,
	    sum.finished ? "" : " (it is still open: so far)");
	return 1;
}

int
replay_play(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "speed", required_argument, NULL, 's' },
		{ "max-wait", required_argument, NULL, 'm' },
		{ "command", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	double speed = 1.0, max_wait = -1, wait, from = -1;
	uint64_t prev_t = 0, cmd_n = 0, from_seq = 0, from_t = 0;
	struct tr *r;
	struct ev e;
	char *end;
	int c, x, started = 0;

	while ((c = getopt_long(argc, argv, "s:m:c:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = strtod(optarg, &end);
			if (*end != '\0' || !(from >= 0) || from > 1e9) {
				replay_err("play: --from wants seconds >= 0");
				return 2;
			}
			break;
		case 'c':
			if (replay_cmd_parse_n(optarg, &cmd_n) != 0) {
				replay_err("play: --command wants a command number "
				    "from 1 (as \"commands ID\" numbers them)");
				return 2;
			}
			break;
		case 's':
			speed = strtod(optarg, &end);
			if (*end != '\0' || !(speed > 0)) {
				replay_err("play: --speed wants a positive number");
				return 2;
			}
			break;
		case 'm':
			max_wait = strtod(optarg, &end);
			if (*end != '\0' || max_wait < 0) {
				replay_err("play: --max-wait wants seconds >= 0");
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (cmd_n != 0 && from >= 0) {
		replay_err("play: give --command N or --from SECONDS, not both");
		goto usage;
	}
	if (argc - optind != 1)
		goto usage;
	if ((x = replay_open(store, "play", argv[optind], &r)) != 0)
		return x;
	if (cmd_n != 0) {
		if ((x = replay_cmd_locate(r, "play", argv[optind], cmd_n,
		    &from_seq, &from_t)) != 0) {
			tr_free(r);
			return x;
		}
		started = 1;
		prev_t = from_t;
	}
	if (from >= 0) {
		from_t = (uint64_t)(from * 1e9);
		started = 1;
		prev_t = from_t;
	}
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		x = replay_play_tty(store, argv[optind], r, speed, max_wait, from_t,
		    from_seq);
		tr_free(r);
		return x;
	}
	if (from >= 0 && (x = play_check_from(r, argv[optind], from_t)) != 0) {
		tr_free(r);
		return x;
	}
	while ((x = tr_next(r, &e)) == 1) {
		if (e.type != EV_OUTPUT && e.type != EV_STDERR)
			continue;
		if (e.seq < from_seq || (from >= 0 && e.t_ns <= from_t)) {
			/* before --command N or --from: at once */
			if (replay_write_all(e.data, e.len) != 0) {
				replay_err("play: write: %s", strerror(errno));
				tr_free(r);
				return 2;
			}
			continue;
		}
		if (started && e.t_ns > prev_t) {
			wait = (double)(e.t_ns - prev_t) / 1e9 / speed;
			if (max_wait >= 0 && wait > max_wait)
				wait = max_wait;
			play_sleep(wait);
		}
		started = 1;
		prev_t = e.t_ns;
		if (replay_write_all(e.data, e.len) != 0) {
			replay_err("play: write: %s", strerror(errno));
			tr_free(r);
			return 2;
		}
	}
	if (x < 0)
		replay_err("play: %s: %s at offset %llu", argv[optind],
		    rec_strerror(x), (unsigned long long)tr_error_offset(r));
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] play ID [--speed X] "
	    "[--max-wait S] [--command N | --from SECONDS]\n");
	return 2;
}
