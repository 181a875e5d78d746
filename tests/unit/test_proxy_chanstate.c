/* Unit tests for proxy/chan_state and proxy/conn_state: every transition of
 * the channel, its halves, its requests and the connection that the
 * lifecycle allows is taken, every other one is refused, leaves the state as
 * it was and is logged at error level naming the channel (or connection) and
 * both states (the log is captured from stderr).
 * "Record first" is checked on the tables: no request reaches SENT without
 * passing RECORDED (and DECIDED), and no channel is opened on the target
 * without passing DECIDED, and no connection relays without passing
 * PREPARE (admitted, recorder link open).
 *
 * The allowed transitions are written here again, from the lifecycle in
 * chan_state.h, rather than read from the tables under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "proxy/chan.h"
#include "proxy/chan_state.h"
#include "proxy/conn_int.h"
#include "proxy/log.h"
#include "proxy/px_error.h"

#include "tests/unit/log_capture.h"

/* A channel pair as px__chan_new leaves it, without libssh: the setters only
 * read the conn's id and the channel's number. */
struct fixture {
	struct px_conn c;
	struct px_chan ch;
	struct px_req r;
};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->c.id, sizeof(f->c.id), "conn-T1");
	f->ch.c = &f->c;
	f->ch.id = 7;
	f->r.kind = REQ_EXEC;
}

/* Checks the log of one setter call: an error line naming the conn, the
 * channel and both states when refused; only a debug line when taken. */
static void
check_log(const char *log, int allowed, const char *what, const char *from, const char *to)
{
	char want[256];

	if (allowed) {
		assert_null(strstr(log, ": error "));
		snprintf(want, sizeof(want), "debug [conn-T1] channel 7: %s %s -> %s", what, from, to);
		assert_non_null(strstr(log, want));
		return;
	}
	snprintf(want, sizeof(want), "error [conn-T1] channel 7: %s %s -> %s refused", what, from, to);
	if (strstr(log, want) == NULL)
		fail_msg("expected \"%s\" in the log, got \"%s\"", want, log);
}

/* ---- the channel ------------------------------------------------------------ */

struct edge {
	int from, to;
};

static const struct edge chan_edges[] = {
	{ CH_WAIT, CH_DECIDED }, { CH_WAIT, CH_LOCAL }, { CH_WAIT, CH_CLOSING }, { CH_WAIT, CH_DONE },
	{ CH_DECIDED, CH_OPENING }, { CH_DECIDED, CH_LOCAL }, { CH_DECIDED, CH_DONE },
	{ CH_OPENING, CH_OPEN }, { CH_OPENING, CH_LOCAL }, { CH_OPENING, CH_DONE },
	{ CH_OPEN, CH_RELAY }, { CH_OPEN, CH_LOCAL }, { CH_OPEN, CH_DONE },
	{ CH_RELAY, CH_LOCAL }, { CH_RELAY, CH_CLOSING }, { CH_RELAY, CH_DONE },
	{ CH_LOCAL, CH_LOCAL }, { CH_LOCAL, CH_CLOSING }, { CH_LOCAL, CH_DONE },
	{ CH_CLOSING, CH_DONE },
};

static int
in_edges(const struct edge *e, size_t n, int from, int to)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].from == from && e[i].to == to)
			return 1;
	return 0;
}

static void
test_chan_transitions(void **state)
{
	struct fixture f;
	int taken = 0, refused = 0;

	(void)state;
	for (int from = 0; from < CH_NSTATES; from++)
		for (int to = 0; to < CH_NSTATES; to++) {
			int ok = in_edges(chan_edges, sizeof(chan_edges) / sizeof(chan_edges[0]), from, to);
			const char *log;
			int rc;

			fixture_init(&f);
			f.ch.st = (enum px_chan_state)from;
			assert_int_equal(px__chan_state_allowed(from, to), ok);
			capture_begin();
			rc = px__chan_set_state(&f.ch, to, "test");
			log = capture_end();
			assert_int_equal(rc, ok ? PX_OK : PX_EINVAL);
			assert_int_equal(f.ch.st, ok ? to : from);
			check_log(log, ok, "state", px__chan_state_name(from), px__chan_state_name(to));
			taken += ok;
			refused += !ok;
		}
	assert_int_equal(taken, (int)(sizeof(chan_edges) / sizeof(chan_edges[0])));
	assert_int_equal(taken + refused, CH_NSTATES * CH_NSTATES);
}

/* ---- the halves ------------------------------------------------------------- */

static const struct edge t_in_edges[] = {
	{ HS_OPEN, HS_EOF }, { HS_OPEN, HS_CLOSED }, { HS_EOF, HS_EOF_CLOSED },
};
static const struct edge t_out_edges[] = {
	{ HS_OPEN, HS_EXIT }, { HS_OPEN, HS_EOF }, { HS_OPEN, HS_CLOSED },
	{ HS_EXIT, HS_EOF }, { HS_EXIT, HS_CLOSED }, { HS_EOF, HS_CLOSED },
};
static const struct edge u_in_edges[] = {
	{ HS_NONE, HS_OPEN }, { HS_OPEN, HS_EOF }, { HS_OPEN, HS_CLOSED }, { HS_EOF, HS_EOF_CLOSED },
};
static const struct edge u_out_edges[] = {
	{ HS_NONE, HS_OPEN }, { HS_OPEN, HS_EOF }, { HS_OPEN, HS_CLOSED }, { HS_EOF, HS_CLOSED },
};

static void
test_half_transitions(void **state)
{
	static const struct { const struct edge *e; size_t n; } spec[HALF_N] = {
		[HALF_T_IN] = { t_in_edges, sizeof(t_in_edges) / sizeof(t_in_edges[0]) },
		[HALF_T_OUT] = { t_out_edges, sizeof(t_out_edges) / sizeof(t_out_edges[0]) },
		[HALF_U_IN] = { u_in_edges, sizeof(u_in_edges) / sizeof(u_in_edges[0]) },
		[HALF_U_OUT] = { u_out_edges, sizeof(u_out_edges) / sizeof(u_out_edges[0]) },
	};
	struct fixture f;

	(void)state;
	for (int h = 0; h < HALF_N; h++) {
		int taken = 0;

		for (int from = 0; from < HS_N; from++)
			for (int to = 0; to < HS_N; to++) {
				int ok = in_edges(spec[h].e, spec[h].n, from, to);
				const char *log;
				int rc;

				fixture_init(&f);
				f.ch.half[h] = (enum px_half_state)from;
				assert_int_equal(px__half_allowed(h, from, to), ok);
				capture_begin();
				rc = px__chan_set_half(&f.ch, h, to, NULL);
				log = capture_end();
				assert_int_equal(rc, ok ? PX_OK : PX_EINVAL);
				assert_int_equal(f.ch.half[h], ok ? to : from);
				for (int o = 0; o < HALF_N; o++)	/* the other halves untouched */
					if (o != h)
						assert_int_equal(f.ch.half[o], HS_NONE);
				check_log(log, ok, px__half_name(h), px__half_state_name(from),
				    px__half_state_name(to));
				taken += ok;
			}
		assert_int_equal(taken, (int)spec[h].n);
	}
}

static void
test_half_questions(void **state)
{
	(void)state;
	assert_true(px_half_got_eof(HS_EOF) && px_half_got_eof(HS_EOF_CLOSED));
	assert_false(px_half_got_eof(HS_CLOSED) || px_half_got_eof(HS_OPEN));
	assert_true(px_half_closed(HS_CLOSED) && px_half_closed(HS_EOF_CLOSED));
	assert_false(px_half_closed(HS_EOF) || px_half_closed(HS_OPEN));
	assert_true(px_half_ended(HS_EOF) && px_half_ended(HS_CLOSED));
	assert_false(px_half_ended(HS_EXIT) || px_half_ended(HS_OPEN) || px_half_ended(HS_NONE));
}

/* ---- the requests ----------------------------------------------------------- */

static const struct edge req_edges[] = {
	{ RQ_RECEIVED, RQ_DECIDED }, { RQ_RECEIVED, RQ_REFUSED }, { RQ_DECIDED, RQ_RECORDED },
	{ RQ_REFUSED, RQ_DISCARDED }, { RQ_RECORDED, RQ_SENT }, { RQ_SENT, RQ_REPLIED },
};

static void
test_req_transitions(void **state)
{
	struct fixture f;
	int taken = 0;

	(void)state;
	for (int from = 0; from < RQ_NSTATES; from++)
		for (int to = 0; to < RQ_NSTATES; to++) {
			int ok = in_edges(req_edges, sizeof(req_edges) / sizeof(req_edges[0]), from, to);
			const char *log;
			int rc;

			fixture_init(&f);
			f.r.st = (enum px_req_state)from;
			assert_int_equal(px__req_state_allowed(from, to), ok);
			capture_begin();
			rc = px__req_set_state(&f.ch, &f.r, to, "test");
			log = capture_end();
			assert_int_equal(rc, ok ? PX_OK : PX_EINVAL);
			assert_int_equal(f.r.st, ok ? to : from);
			check_log(log, ok, "exec request", px__req_state_name(from), px__req_state_name(to));
			taken += ok;
		}
	assert_int_equal(taken, (int)(sizeof(req_edges) / sizeof(req_edges[0])));
}

/* ---- record first ------------------------------------------------------------ */

/* Whether `goal` is reachable from `start` over allowed(from, to) without
 * passing through `avoid` (-1: avoid nothing). */
static int
reachable(int n, int (*allowed)(int, int), int start, int goal, int avoid)
{
	int seen[32] = { 0 }, queue[32], head = 0, tail = 0;

	assert_true(n <= 32);
	seen[start] = 1;
	queue[tail++] = start;
	while (head < tail) {
		int s = queue[head++];

		if (s == goal)
			return 1;
		for (int t = 0; t < n; t++)
			if (!seen[t] && t != avoid && allowed(s, t)) {
				seen[t] = 1;
				queue[tail++] = t;
			}
	}
	return 0;
}

static int
req_allowed(int from, int to)
{
	return px__req_state_allowed(from, to);
}

static int
chan_allowed(int from, int to)
{
	return px__chan_state_allowed(from, to);
}

static void
test_record_first(void **state)
{
	(void)state;
	/* the normal route exists ... */
	assert_true(reachable(RQ_NSTATES, req_allowed, RQ_RECEIVED, RQ_SENT, -1));
	assert_true(reachable(RQ_NSTATES, req_allowed, RQ_RECEIVED, RQ_REPLIED, -1));
	/* ... and every route to the target passes the recording and the decision */
	assert_false(reachable(RQ_NSTATES, req_allowed, RQ_RECEIVED, RQ_SENT, RQ_RECORDED));
	assert_false(reachable(RQ_NSTATES, req_allowed, RQ_RECEIVED, RQ_REPLIED, RQ_RECORDED));
	assert_false(reachable(RQ_NSTATES, req_allowed, RQ_RECEIVED, RQ_RECORDED, RQ_DECIDED));
	assert_false(reachable(RQ_NSTATES, req_allowed, RQ_RECEIVED, RQ_SENT, RQ_DECIDED));
	/* a refused request is recorded (DISCARDED) and never sent */
	assert_false(reachable(RQ_NSTATES, req_allowed, RQ_REFUSED, RQ_SENT, -1));
	assert_true(reachable(RQ_NSTATES, req_allowed, RQ_REFUSED, RQ_DISCARDED, -1));
	/* SENT's only way in is RECORDED */
	for (int s = 0; s < RQ_NSTATES; s++)
		assert_int_equal(px__req_state_allowed(s, RQ_SENT), s == RQ_RECORDED);
	/* no channel is opened on the target, and no data flows, before its
	 * main request's decision is recorded */
	assert_true(reachable(CH_NSTATES, chan_allowed, CH_WAIT, CH_RELAY, -1));
	assert_false(reachable(CH_NSTATES, chan_allowed, CH_WAIT, CH_OPENING, CH_DECIDED));
	assert_false(reachable(CH_NSTATES, chan_allowed, CH_WAIT, CH_OPEN, CH_DECIDED));
	assert_false(reachable(CH_NSTATES, chan_allowed, CH_WAIT, CH_RELAY, CH_DECIDED));
	/* a channel answered locally never goes to the target */
	assert_false(reachable(CH_NSTATES, chan_allowed, CH_LOCAL, CH_OPENING, -1));
	assert_false(reachable(CH_NSTATES, chan_allowed, CH_LOCAL, CH_RELAY, -1));
	/* a closed half never reopens */
	for (int h = 0; h < HALF_N; h++)
		for (int to = 0; to < HS_N; to++) {
			assert_false(px__half_allowed(h, HS_CLOSED, to));
			assert_false(px__half_allowed(h, HS_EOF_CLOSED, to));
		}
}

/* ---- the connection ------------------------------------------------------------ */

static const struct edge conn_edges[] = {
	{ CONN_KEX, CONN_AUTH }, { CONN_KEX, CONN_CLOSING }, { CONN_KEX, CONN_DEAD },
	{ CONN_AUTH, CONN_PREPARE }, { CONN_AUTH, CONN_LOCAL }, { CONN_AUTH, CONN_CLOSING },
	{ CONN_AUTH, CONN_DEAD },
	{ CONN_PREPARE, CONN_RELAY }, { CONN_PREPARE, CONN_LOCAL }, { CONN_PREPARE, CONN_CLOSING },
	{ CONN_PREPARE, CONN_DEAD }, { CONN_PREPARE, CONN_WAIT_ESCORT },
	{ CONN_WAIT_ESCORT, CONN_PREPARE }, { CONN_WAIT_ESCORT, CONN_CLOSING },
	{ CONN_WAIT_ESCORT, CONN_DEAD },
	{ CONN_LOCAL, CONN_CLOSING }, { CONN_LOCAL, CONN_DEAD },
	{ CONN_RELAY, CONN_CLOSING }, { CONN_RELAY, CONN_DEAD },
	{ CONN_CLOSING, CONN_DEAD },
};

static int
conn_allowed(int from, int to)
{
	return px__conn_state_allowed(from, to);
}

static void
test_conn_transitions(void **state)
{
	struct fixture f;
	int taken = 0;

	(void)state;
	for (int from = 0; from < CONN_NSTATES; from++)
		for (int to = 0; to < CONN_NSTATES; to++) {
			int ok = in_edges(conn_edges, sizeof(conn_edges) / sizeof(conn_edges[0]), from, to);
			char want[256];
			const char *log;
			int rc;

			fixture_init(&f);
			f.c.state = (enum px_conn_state)from;
			assert_int_equal(px__conn_state_allowed(from, to), ok);
			capture_begin();
			rc = px__conn_set_state(&f.c, to, "test");
			log = capture_end();
			assert_int_equal(rc, ok ? PX_OK : PX_EINVAL);
			assert_int_equal(f.c.state, ok ? to : from);
			snprintf(want, sizeof(want), "%s [conn-T1] connection: state %s -> %s%s",
			    ok ? "debug" : "error", px__conn_state_name(from), px__conn_state_name(to),
			    ok ? ": test" : " refused");
			if (strstr(log, want) == NULL)
				fail_msg("expected \"%s\" in the log, got \"%s\"", want, log);
			taken += ok;
		}
	assert_int_equal(taken, (int)(sizeof(conn_edges) / sizeof(conn_edges[0])));
	/* channels reach the target (RELAY) only after admission (PREPARE) */
	assert_true(reachable(CONN_NSTATES, conn_allowed, CONN_KEX, CONN_RELAY, -1));
	assert_false(reachable(CONN_NSTATES, conn_allowed, CONN_KEX, CONN_RELAY, CONN_PREPARE));
	assert_false(reachable(CONN_NSTATES, conn_allowed, CONN_KEX, CONN_RELAY, CONN_AUTH));
	assert_false(reachable(CONN_NSTATES, conn_allowed, CONN_CLOSING, CONN_RELAY, -1));
	/* a moderated session waiting for an escort reaches the target only
	 * through PREPARE (which its first escort's join enters), and never
	 * answers locally (LOCAL) once it waits */
	assert_true(reachable(CONN_NSTATES, conn_allowed, CONN_WAIT_ESCORT, CONN_RELAY, -1));
	assert_false(reachable(CONN_NSTATES, conn_allowed, CONN_WAIT_ESCORT, CONN_RELAY, CONN_PREPARE));
	assert_false(px__conn_state_allowed(CONN_WAIT_ESCORT, CONN_RELAY));
	assert_false(px__conn_state_allowed(CONN_RELAY, CONN_WAIT_ESCORT));
	assert_false(px__conn_state_allowed(CONN_AUTH, CONN_WAIT_ESCORT));
	assert_string_equal(px__conn_state_name(CONN_WAIT_ESCORT), "wait-escort");
	assert_string_equal(px__conn_state_name(CONN_NSTATES), "?");
	assert_false(px__conn_state_allowed(CONN_KEX, CONN_NSTATES));
}

/* ---- names and bad values ------------------------------------------------------ */

static void
test_out_of_range(void **state)
{
	struct fixture f;
	const char *log;

	(void)state;
	assert_false(px__chan_state_allowed(CH_WAIT, CH_NSTATES));
	assert_false(px__chan_state_allowed(-1, CH_DONE));
	assert_false(px__half_allowed(HALF_N, HS_OPEN, HS_EOF));
	assert_false(px__half_allowed(HALF_U_IN, HS_OPEN, HS_N));
	assert_false(px__req_state_allowed(RQ_RECORDED, RQ_NSTATES));
	assert_string_equal(px__chan_state_name(CH_NSTATES), "?");
	assert_string_equal(px__half_name(HALF_N), "?");
	assert_string_equal(px__half_state_name(HS_N), "?");
	assert_string_equal(px__req_state_name(RQ_NSTATES), "?");
	assert_string_equal(px__chan_state_name(CH_RELAY), "relay");
	assert_string_equal(px__half_name(HALF_U_OUT), "u_out");
	assert_string_equal(px__req_state_name(RQ_RECORDED), "recorded");

	fixture_init(&f);
	f.ch.st = CH_RELAY;
	capture_begin();
	assert_int_equal(px__chan_set_state(&f.ch, CH_NSTATES, "bogus"), PX_EINVAL);
	log = capture_end();
	assert_int_equal(f.ch.st, CH_RELAY);
	assert_non_null(strstr(log, "error [conn-T1] channel 7: state relay -> ? refused"));
	assert_non_null(strstr(log, "bogus"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chan_transitions),
		cmocka_unit_test(test_half_transitions),
		cmocka_unit_test(test_half_questions),
		cmocka_unit_test(test_req_transitions),
		cmocka_unit_test(test_record_first),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_conn_transitions),
	};

	return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
}
