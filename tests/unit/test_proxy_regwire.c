/* Unit tests for proxy/registry_redis_wire and the parsers of
 * proxy/registry_redis: a session, an action and an answer come back from
 * their text as they went in (escapes, every escort, the ended state); text
 * from the network that is cut, of another kind or version, or with a bad
 * escape or value is refused; a newer proxy's unknown field is skipped;
 * over-long values are cut to their field; Registry URLs and ProxyNames are
 * accepted or refused as escort-proxy.conf(5) says; a remote watcher's
 * stream entries come back as they went in (bytes with a NUL too), and
 * entries without version, kind or number, of another version, with a bad
 * number or a field twice are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/registry_redis.h"
#include "proxy/registry_redis_wire.h"

static void
full_session(struct px_reg_session *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "20261205-200258-882ba6df");
	snprintf(s->user, sizeof(s->user), "alice");
	snprintf(s->target, sizeof(s->target), "web01");
	s->start = 1796500990;
	s->state = PX_REG_PAUSED;
	snprintf(s->paused_by, sizeof(s->paused_by), "bob");
	s->nescorts = 2;
	snprintf(s->escorts[0], sizeof(s->escorts[0]), "bob");
	snprintf(s->escorts[1], sizeof(s->escorts[1]), "dave");
	snprintf(s->pending, sizeof(s->pending), "touch 'a b'\\\nline two\r\\n");
	snprintf(s->decided, sizeof(s->decided), "approved by bob");
	s->joined = 1;
	s->moderated = 1;
	snprintf(s->proxy, sizeof(s->proxy), "B");
}

static void
test_session_round_trip(void **state)
{
	struct px_reg_session s, back;
	char buf[PX_RRW_MAX];
	long n;

	(void)state;
	full_session(&s);
	n = px__rrw_session_encode(&s, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n == strlen(buf));
	assert_non_null(strstr(buf, "escort-session 1\n"));
	assert_null(strchr(strstr(buf, "pending ") , '\r'));	/* escaped */
	assert_int_equal(px__rrw_session_decode(buf, (size_t)n, &back), PX_OK);
	assert_memory_equal(&s, &back, sizeof(s));

	/* ended, with its reason */
	s.state = PX_REG_ENDED;
	snprintf(s.ended, sizeof(s.ended), "proxy B stopped answering (no heartbeat for 3 s)");
	n = px__rrw_session_encode(&s, buf, sizeof(buf));
	assert_int_equal(px__rrw_session_decode(buf, (size_t)n, &back), PX_OK);
	assert_int_equal(back.state, PX_REG_ENDED);
	assert_string_equal(back.ended, s.ended);

	/* too small a buffer: refused, not cut */
	assert_int_equal(px__rrw_session_encode(&s, buf, 40), PX_EINVAL);
}

static void
test_action_and_answer(void **state)
{
	struct px_reg_action a, back;
	struct px_reg_session s, sback;
	char buf[PX_RRW_MAX], reply[PX_RRW_REPLY_MAX];
	long n;
	int rc;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.verb = PX_REG_KILL;
	snprintf(a.id, sizeof(a.id), "S1");
	snprintf(a.escort, sizeof(a.escort), "bob");
	snprintf(a.reason, sizeof(a.reason), "end of the\nwindow");
	n = px__rrw_action_encode(&a, "escort:reply:00ff", buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(px__rrw_action_decode(buf, (size_t)n, &back, reply), PX_OK);
	assert_memory_equal(&a, &back, sizeof(a));
	assert_string_equal(reply, "escort:reply:00ff");

	/* a join carries the escort's remote watcher, which the owning proxy
	 * streams to only once it accepted this join */
	memset(&a, 0, sizeof(a));
	a.verb = PX_REG_JOIN;
	snprintf(a.id, sizeof(a.id), "S1");
	snprintf(a.escort, sizeof(a.escort), "bob");
	assert_int_equal(px__reg_watcher_id(a.watcher), PX_OK);
	assert_int_equal(strlen(a.watcher), PX_REG_WATCHER_MAX - 1);
	assert_true(px__reg_watcher_ok(a.watcher, strlen(a.watcher)));
	n = px__rrw_action_encode(&a, "escort:reply:01", buf, sizeof(buf));
	assert_true(n > 0 && strstr(buf, "\nwatcher ") != NULL);
	assert_int_equal(px__rrw_action_decode(buf, (size_t)n, &back, reply), PX_OK);
	assert_memory_equal(&a, &back, sizeof(a));
	/* from a proxy that sends none: "" (it is streamed nothing) */
	assert_int_equal(px__rrw_action_decode("escort-action 1\nverb join\nid S1\nescort bob\nreply k\n",
	    51, &back, reply), PX_OK);
	assert_int_equal(back.verb, PX_REG_JOIN);
	assert_string_equal(back.watcher, "");
	assert_false(px__reg_watcher_ok("", 0));
	assert_false(px__reg_watcher_ok("00FF", 4));
	assert_false(px__reg_watcher_ok("0123456789abcdef0123456789abcdef0", 33));
	assert_false(px__reg_watcher_ok("ab:c", 4));
	memset(&a, 0, sizeof(a));
	a.verb = PX_REG_KILL;
	snprintf(a.id, sizeof(a.id), "S1");
	snprintf(a.escort, sizeof(a.escort), "bob");
	snprintf(a.reason, sizeof(a.reason), "end of the\nwindow");

	/* an action without its reply key or verb is refused */
	n = px__rrw_action_encode(&a, "", buf, sizeof(buf));
	assert_int_equal(px__rrw_action_decode(buf, (size_t)n, &back, reply), PX_EINVAL);
	assert_int_equal(px__rrw_action_decode("escort-action 1\nid S1\nreply k\n", 30, &back, reply),
	    PX_EINVAL);

	full_session(&s);
	n = px__rrw_answer_encode(PX_EINVAL, &s, buf, sizeof(buf));
	assert_int_equal(px__rrw_answer_decode(buf, (size_t)n, &rc, &sback), PX_OK);
	assert_int_equal(rc, PX_EINVAL);
	assert_memory_equal(&s, &sback, sizeof(s));
	n = px__rrw_answer_encode(PX_OK, NULL, buf, sizeof(buf));
	assert_int_equal(px__rrw_answer_decode(buf, (size_t)n, &rc, &sback), PX_OK);
	assert_int_equal(rc, PX_OK);
	/* an answer needs its rc, and rc is a PX_* code (never positive) */
	assert_int_equal(px__rrw_answer_decode("escort-answer 1\nid x\n", 21, &rc, &sback), PX_EINVAL);
	assert_int_equal(px__rrw_answer_decode("escort-answer 1\nrc 3\n", 21, &rc, &sback), PX_EINVAL);
}

static void
test_bad_text(void **state)
{
	static const char *const bad[] = {
		"",
		"escort-session 2\nid x\n",             /* another version */
		"escort-action 1\nid x\n",              /* another kind */
		"escort-session 1\nid x",               /* cut: no last newline */
		"escort-session 1\nidx\n",              /* no space */
		"escort-session 1\nid a\\qb\n",         /* unknown escape */
		"escort-session 1\nid a\\\n",           /* escape at the end */
		"escort-session 1\nstate sleeping\n",   /* unknown state */
		"escort-session 1\nstart -5\n",         /* not a time */
		"escort-session 1\njoined 1x\n",        /* not a number */
	};
	struct px_reg_session s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(px__rrw_session_decode(bad[i], strlen(bad[i]), &s), PX_EINVAL);
	/* a NUL inside a value */
	assert_int_equal(px__rrw_session_decode("escort-session 1\nid a\0b\n", 24, &s), PX_EINVAL);
}

static void
test_unknown_field_and_cut(void **state)
{
	struct px_reg_session s;
	char text[2048];
	int n;

	(void)state;
	n = snprintf(text, sizeof(text), "escort-session 1\nid S9\ncolour blue\nuser %0300d\n"
	    "escort a\nescort b\nescort c\nescort d\nescort e\nescort f\nescort g\nescort h\nescort i\n", 7);
	assert_int_equal(px__rrw_session_decode(text, (size_t)n, &s), PX_OK);
	assert_string_equal(s.id, "S9");
	assert_int_equal(strlen(s.user), PX_REG_NAME_MAX - 1);  /* cut to its field */
	assert_int_equal(s.nescorts, PX_REG_ESCORTS_MAX);       /* the first ones kept */
	assert_string_equal(s.escorts[PX_REG_ESCORTS_MAX - 1], "h");
}

static void
test_url_and_name(void **state)
{
	static const char *const good[][3] = {
		{ "redis://127.0.0.1:6379", "127.0.0.1", "6379" },
		{ "redis://[::1]:7000", "::1", "7000" },
		{ "redis://registry.example:1", "registry.example", "1" },
	};
	static const char *const bad[] = {
		"127.0.0.1:6379", "redis://127.0.0.1", "redis://:6379", "redis://h:0", "redis://h:65536",
		"redis://h:12x", "redis://::1:6379", "redis://[::1]6379", "redis://u:p@h:1",
		"rediss://h:1", "redis://h/0:1",
	};
	char host[256];
	int port;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(px__rr_parse_url(good[i][0], host, sizeof(host), &port), PX_OK);
		assert_string_equal(host, good[i][1]);
		assert_int_equal(port, atoi(good[i][2]));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(px__rr_parse_url(bad[i], host, sizeof(host), &port), PX_EINVAL);
	assert_true(px__rr_name_ok("proxy-1.site_a:2222"));
	assert_false(px__rr_name_ok(""));
	assert_false(px__rr_name_ok("a b"));
	assert_false(px__rr_name_ok("a*"));
	assert_false(px__rr_name_ok("0123456789012345678901234567890123456789012345678901234567890123X"));
}

/* A stream entry's pairs, as XREAD gives them back. */
static int
entry_round_trip(const struct px_rrwe *in, struct px_rrwe *out)
{
	const char *names[PX_RRWE_FIELDS], *vals[PX_RRWE_FIELDS];
	size_t nlens[PX_RRWE_FIELDS], vlens[PX_RRWE_FIELDS], n;
	char nums[3][24];

	n = px__rrwe_encode(in, names, vals, vlens, nums);
	assert_true(n <= PX_RRWE_FIELDS);
	for (size_t i = 0; i < n; i++)
		nlens[i] = strlen(names[i]);
	return px__rrwe_decode(n, names, nlens, vals, vlens, out);
}

static void
test_stream_entries(void **state)
{
	static const char screen[] = "\x1b[0m\x1b[H\x1b[2J\0with a NUL";
	struct px_rrwe e, d;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.kind = PX_RRWE_SCREEN;
	e.seq = 1;
	e.rows = 24, e.cols = 80;
	e.data = screen, e.len = sizeof(screen) - 1;
	assert_int_equal(entry_round_trip(&e, &d), PX_OK);
	assert_int_equal(d.kind, PX_RRWE_SCREEN);
	assert_true(d.seq == 1 && d.rows == 24 && d.cols == 80);
	assert_true(d.len == e.len && memcmp(d.data, screen, d.len) == 0);

	memset(&e, 0, sizeof(e));
	e.kind = PX_RRWE_OUT;
	e.seq = 77;
	assert_int_equal(entry_round_trip(&e, &d), PX_OK);
	assert_true(d.kind == PX_RRWE_OUT && d.seq == 77 && d.len == 0 && d.rows == 0);

	memset(&e, 0, sizeof(e));
	e.kind = PX_RRWE_END;
	e.seq = 78;
	snprintf(e.why, sizeof(e.why), "proxy B stopped answering");
	assert_int_equal(entry_round_trip(&e, &d), PX_OK);
	assert_true(d.kind == PX_RRWE_END && d.data == NULL);
	assert_string_equal(d.why, "proxy B stopped answering");
}

static void
test_stream_bad_entries(void **state)
{
	/* each row: pairs "name=value" the decoder must refuse */
	static const char *const bad[][4] = {
		{ "k=out", "seq=1", NULL },                     /* no version */
		{ "v=2", "k=out", "seq=1", NULL },              /* another version */
		{ "v=1", "k=pic", "seq=1", NULL },              /* unknown kind */
		{ "v=1", "k=out", NULL },                       /* no number */
		{ "v=1", "k=out", "seq=0", NULL },              /* numbers start at 1 */
		{ "v=1", "k=out", "seq=-3", NULL },
		{ "v=1", "k=out", "seq=1x", NULL },
		{ "v=1", "k=screen", "seq=1", NULL },           /* a screen without its size */
		{ "v=1", "k=screen", "seq=1", "rows=1" },       /* out of range */
		{ "v=1", "k=out", "seq=1", "seq=2" },           /* twice */
	};
	const char *names[4], *vals[4];
	size_t nlens[4], vlens[4], n;
	struct px_rrwe d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (n = 0; n < 4 && bad[i][n] != NULL; n++) {
			const char *eq = strchr(bad[i][n], '=');
			names[n] = bad[i][n], nlens[n] = (size_t)(eq - bad[i][n]);
			vals[n] = eq + 1, vlens[n] = strlen(eq + 1);
		}
		assert_int_equal(px__rrwe_decode(n, names, nlens, vals, vlens, &d), PX_EINVAL);
	}
	/* a newer proxy's field is skipped */
	names[0] = "v", nlens[0] = 1, vals[0] = "1", vlens[0] = 1;
	names[1] = "k", nlens[1] = 1, vals[1] = "out", vlens[1] = 3;
	names[2] = "seq", nlens[2] = 3, vals[2] = "5", vlens[2] = 1;
	names[3] = "colour", nlens[3] = 6, vals[3] = "red", vlens[3] = 3;
	assert_int_equal(px__rrwe_decode(4, names, nlens, vals, vlens, &d), PX_OK);
	assert_true(d.kind == PX_RRWE_OUT && d.seq == 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_round_trip),
		cmocka_unit_test(test_action_and_answer),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_unknown_field_and_cut),
		cmocka_unit_test(test_url_and_name),
		cmocka_unit_test(test_stream_entries),
		cmocka_unit_test(test_stream_bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
