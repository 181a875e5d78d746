/* commands.c: "escort-replay commands [ID] [--user U] [--json]": every
 * policy decision recorded, with its time, verdict, rule and approver.
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
#include "replay/replay.h"

struct replay_decision {
	char verdict[32], rule[128], approver[128], reason[256];
	char command[4096];
	uint64_t line;
};

static void
replay_decision_get(const struct ev *e, struct replay_decision *d)
{
	memset(d, 0, sizeof(*d));
	ev_fields_get_str(e->data, e->len, EVF_VERDICT, d->verdict, sizeof(d->verdict));
	ev_fields_get_str(e->data, e->len, EVF_COMMAND, d->command, sizeof(d->command));
	ev_fields_get_str(e->data, e->len, EVF_RULE, d->rule, sizeof(d->rule));
	ev_fields_get_str(e->data, e->len, EVF_APPROVER, d->approver,
	    sizeof(d->approver));
	ev_fields_get_str(e->data, e->len, EVF_REASON, d->reason, sizeof(d->reason));
	ev_fields_get_u64(e->data, e->len, EVF_RULE_LINE, &d->line);
}

static void
replay_decision_print(const char *id, const char *user, const char *target,
    uint64_t wall, const struct replay_decision *d, int json)
{
	char t[32];

	replay_time(wall, t, sizeof(t));
	if (!json) {
		printf("%s%s %s %s %s %-7s %s%s%s %s\n", replay_check_mark(id), t, id,
		    user[0] ? user : "-",
		    target[0] ? target : "-", d->verdict[0] ? d->verdict : "-",
		    d->rule[0] ? d->rule : "-", d->approver[0] ? " by " : "",
		    d->approver, d->command);
		return;
	}
	printf("{\"time\":\"%s\",\"id\":", t);
	replay_json_str(stdout, id);
	printf(",\"user\":");
	replay_json_str(stdout, user);
	printf(",\"target\":");
	replay_json_str(stdout, target);
	printf(",\"command\":");
	replay_json_str(stdout, d->command);
	printf(",\"decision\":");
	replay_json_str(stdout, d->verdict);
	printf(",\"rule\":");
	replay_json_str(stdout, d->rule);
	printf(",\"rule_line\":%" PRIu64 ",\"approver\":", d->line);
	if (d->approver[0])
		replay_json_str(stdout, d->approver);
	else
		printf("null");
	printf(",\"reason\":");
	replay_json_str(stdout, d->reason);
	printf(",\"verify\":\"%s\"}\n",
	    replay_vstate_name(replay_check_state(id)));
}

/* Prints the decisions of one session; returns 0, or the exit status (1
 * or 2) when it could not be read to its end or was refused. */
static int
replay_commands_of(const char *store, const char *id, const char *user_filter,
    int json)
{
	struct replay_decision d;
	char user[128], target[128];
	struct tr *r;
	struct ev e;
	int x;

	if ((x = replay_open(store, "commands", id, &r)) != 0)
		return x;
	replay_meta(r, user, sizeof(user), target, sizeof(target));
	if (user_filter != NULL && strcmp(user, user_filter) != 0) {
		tr_free(r);
		return 0;
	}
	while ((x = tr_next(r, &e)) == 1) {
		if (e.type != EV_DECISION)
			continue;
		replay_decision_get(&e, &d);
		replay_decision_print(id, user, target,
		    tr_start_wall_ns(r) + e.t_ns, &d, json);
	}
	if (x < 0)
		replay_err("commands: %s: %s at offset %llu", id, rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
}

int
replay_commands(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL;
	char **ids;
	size_t n, i;
	int json = 0, c, x, bad = 0;

	while ((c = getopt_long(argc, argv, "ju:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'u':
			user = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind > 1)
		goto usage;
	if (argc - optind == 1)
		return replay_commands_of(store, argv[optind], user, json);
	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("commands: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		return 2;
	}
	if ((bad = replay_check_all(store)) != 0) {
		replay_free_ids(ids, n);
		return bad;
	}
	for (i = 0; i < n; i++)
		if ((x = replay_commands_of(store, ids[i], user, json)) > bad)
			bad = x;
	replay_free_ids(ids, n);
	fflush(stdout);
	if (replay_check_report() && bad == 0)
		bad = 1;
	return bad;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] commands [ID] "
	    "[--user U] [--json]\n");
	return 2;
}
