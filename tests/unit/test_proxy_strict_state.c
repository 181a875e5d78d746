/* Unit tests for proxy/strict_state: every transition of a strict-mode
 * shell that strict_state.h lists is taken, every other one is refused,
 * leaves the state as it was and is logged at error level naming the
 * connection, the channel and both states (the log is captured from
 * stderr).  "Record first" is checked on the table: RUNNING is reachable
 * only from RECORDING (or RUNNING), and nothing leaves ENDED.
 *
 * The allowed transitions are written here again, from strict_state.h,
 * rather than read from the table under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/strict_state.h"

#include "tests/unit/log_capture.h"

struct edge {
	enum strict_state from, to;
};

static const struct edge edges[] = {
	{ STRICT_BOOT, STRICT_NONCE }, { STRICT_BOOT, STRICT_ENDED },
	{ STRICT_NONCE, STRICT_PROMPT }, { STRICT_NONCE, STRICT_ENDED },
	{ STRICT_PROMPT, STRICT_DECIDING }, { STRICT_PROMPT, STRICT_ENDED },
	{ STRICT_DECIDING, STRICT_RECORDING }, { STRICT_DECIDING, STRICT_PROMPT },
	{ STRICT_DECIDING, STRICT_ENDED }, { STRICT_DECIDING, STRICT_APPROVING },
	{ STRICT_APPROVING, STRICT_RECORDING }, { STRICT_APPROVING, STRICT_ENDED },
	{ STRICT_RECORDING, STRICT_RUNNING }, { STRICT_RECORDING, STRICT_PROMPT },
	{ STRICT_RECORDING, STRICT_ENDED },
	{ STRICT_RUNNING, STRICT_RUNNING }, { STRICT_RUNNING, STRICT_PROMPT },
	{ STRICT_RUNNING, STRICT_ENDED },
};

static int
listed(enum strict_state from, enum strict_state to)
{
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		if (edges[i].from == from && edges[i].to == to)
			return 1;
	return 0;
}

/* Every pair: the table says what the list says; the setter takes the
 * listed ones and refuses the others with an error line, state kept. */
static void
test_transitions(void **state)
{
	char want[256];

	(void)state;
	for (int f = 0; f < STRICT_NSTATES; f++)
		for (int t = 0; t < STRICT_NSTATES; t++) {
			enum strict_state st = (enum strict_state)f;
			int ok = listed(st, (enum strict_state)t), rc;
			const char *log;

			assert_int_equal(px__strict_state_allowed(st, (enum strict_state)t), ok);
			capture_begin();
			rc = px__strict_set_state(&st, (enum strict_state)t, "conn-S1", 4, "test");
			log = capture_end();
			if (ok) {
				assert_int_equal(rc, PX_OK);
				assert_int_equal(st, t);
				snprintf(want, sizeof(want), "debug [conn-S1] channel 4: strict %s -> %s: test",
				    px__strict_state_name((enum strict_state)f), px__strict_state_name((enum strict_state)t));
				if (strstr(log, want) == NULL)
					fail_msg("expected \"%s\" in the log, got \"%s\"", want, log);
			} else {
				assert_int_equal(rc, PX_EINVAL);
				assert_int_equal(st, f);
				snprintf(want, sizeof(want), "error [conn-S1] channel 4: strict %s -> %s refused",
				    px__strict_state_name((enum strict_state)f), px__strict_state_name((enum strict_state)t));
				if (strstr(log, want) == NULL)
					fail_msg("expected \"%s\" in the log, got \"%s\"", want, log);
			}
		}
}

/* Record first: no line runs before its decision is in the recording. */
static void
test_record_first(void **state)
{
	(void)state;
	for (int f = 0; f < STRICT_NSTATES; f++) {
		if (f == STRICT_RECORDING || f == STRICT_RUNNING)
			continue;
		assert_false(px__strict_state_allowed((enum strict_state)f, STRICT_RUNNING));
	}
	for (int t = 0; t < STRICT_NSTATES; t++)
		assert_false(px__strict_state_allowed(STRICT_ENDED, (enum strict_state)t));
	/* the prompt is reached only after the loop answered with its nonce */
	assert_false(px__strict_state_allowed(STRICT_BOOT, STRICT_PROMPT));
}

static void
test_names_and_range(void **state)
{
	(void)state;
	assert_string_equal(px__strict_state_name(STRICT_BOOT), "boot");
	assert_string_equal(px__strict_state_name(STRICT_RUNNING), "running");
	assert_string_equal(px__strict_state_name(STRICT_ENDED), "ended");
	assert_string_equal(px__strict_state_name(STRICT_APPROVING), "approving");
	assert_string_equal(px__strict_state_name(STRICT_NSTATES), "?");
	assert_false(px__strict_state_allowed(STRICT_NSTATES, STRICT_BOOT));
	assert_false(px__strict_state_allowed(STRICT_BOOT, STRICT_NSTATES));
	assert_false(px__strict_state_allowed((enum strict_state)-1, STRICT_BOOT));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_record_first),
		cmocka_unit_test(test_names_and_range),
	};
	return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
}
