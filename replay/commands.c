/* commands.c: "escort-replay commands [ID] [--user U] [--json]": every
 * policy decision recorded (channel requests, and commands typed in strict
 * and observe shells), numbered, with its time, offset in the session,
 * mode, verdict, rule, approver and exit status (cmdlog.h).
 * With an ID the session is refused when it does not verify; across the
 * store, rows of such a session are marked ("[FAILED] ", JSON "verify"). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"

/* One row: text, or one JSON object (--json). */
static void
replay_decision_print(const char *id, const char *user, const char *target,
    uint64_t start, size_t n, const struct replay_cmd_row *d, int json)
{
	char t[32], ex[40];

	replay_time(start + d->t_ns, t, sizeof(t));
	replay_cmd_exit_str(d, ex, sizeof(ex));
	if (!json) {
		printf("%s%s %s %s %s #%zu +%.3f %s", replay_check_mark(id), t, id,
		    user[0] ? user : "-", target[0] ? target : "-", n,
		    (double)d->t_ns / 1e9, d->mode);
		if (d->cmd_seq != 0)
			printf(":%" PRIu64, d->cmd_seq);
		printf(" %-7s %s%s%s exit=%s %s\n", d->verdict[0] ? d->verdict :
		    "-", d->rule[0] ? d->rule : "-", d->approver[0] ? " by " : "",
		    d->approver, ex, d->command);
		return;
	}
	printf("{\"time\":\"%s\",\"id\":", t);
	replay_json_str(stdout, id);
	printf(",\"user\":");
	replay_json_str(stdout, user);
	printf(",\"target\":");
	replay_json_str(stdout, target);
	printf(",\"n\":%zu,\"offset\":%.6f,\"mode\":", n, (double)d->t_ns / 1e9);
	replay_json_str(stdout, d->mode);
	if (d->cmd_seq != 0)
		printf(",\"seq\":%" PRIu64, d->cmd_seq);
	else
		printf(",\"seq\":null");
	printf(",\"channel\":%" PRIu32 ",\"command\":", d->chan);
	replay_json_str(stdout, d->command);
	printf(",\"rendered\":");
	replay_json_str_or_null(d->rendered);
	printf(",\"decision\":");
	replay_json_str(stdout, d->verdict);
	printf(",\"rule\":");
	replay_json_str(stdout, d->rule);
	printf(",\"rule_line\":%" PRIu64 ",\"approver\":", d->rule_line);
	replay_json_str_or_null(d->approver);
	printf(",\"reason\":");
	replay_json_str(stdout, d->reason);
	if (d->has_status)
		printf(",\"exit_status\":%" PRIu64, d->exit_status);
	else
		printf(",\"exit_status\":null");
	printf(",\"exit_signal\":");
	replay_json_str_or_null(d->exit_signal);
	printf(",\"verify\":\"%s\"}\n",
	    replay_vstate_name(replay_check_state(id)));
}

/* Prints the decisions of one session; returns 0, or the exit status (1
 * or 2) when it could not be read to its end or was refused.  Rows are
 * printed once the session is read: an exit status comes after its
 * decision.  A session that cannot be read to its end shows the rows up
 * to there. */
static int
replay_commands_of(const char *store, const char *id, const char *user_filter,
    int json)
{
	struct replay_cmdlog log = { 0 };
	char user[128], target[128];
	struct tr *r;
	struct ev e;
	size_t i;
	int x;

	if ((x = replay_open(store, "commands", id, &r)) != 0)
		return x;
	replay_meta(r, user, sizeof(user), target, sizeof(target));
	if (user_filter != NULL && strcmp(user, user_filter) != 0) {
		tr_free(r);
		return 0;
	}
	while ((x = tr_next(r, &e)) == 1)
		if ((x = replay_cmdlog_add_event(&log, &e)) != 0)
			break;
	for (i = 0; i < log.n; i++)
		replay_decision_print(id, user, target, tr_start_wall_ns(r), i + 1,
		    &log.v[i], json);
	if (x < 0)
		replay_err("commands: %s: %s at offset %llu", replay_esc(id),
		    rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	replay_cmdlog_free(&log);
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
}

/* The options of "commands" without an ID, for replay_each_session. */
struct commands_opts {
	const char *user;
	int json;
};

static int
commands_one(const char *store, const char *id, void *arg)
{
	const struct commands_opts *o = arg;

	return replay_commands_of(store, id, o->user, o->json);
}

int
replay_commands(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct commands_opts o = { NULL, 0 };
	int c;

	while ((c = getopt_long(argc, argv, "ju:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = 1;
			break;
		case 'u':
			o.user = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind > 1)
		goto usage;
	if (argc - optind == 1)
		return replay_commands_of(store, argv[optind], o.user, o.json);
	return replay_each_session(store, "commands", commands_one, &o);
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] commands [ID] "
	    "[--user U] [--json]\n");
	return 2;
}
