/* Unit tests for recorder/journal_prune: the text of a PRUNE journal entry
 * (the object's address, then user= and target= lines), written and read
 * back, an entry of the address alone as older recorders wrote it, and the
 * values left out (control bytes, too long). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recorder/journal.h"
#include "recorder/journal_prune.h"
#include "recorder/rec_error.h"

#define URL "s3://escort-rec/site-a/sessions/20261206-010203-0a1b2c3d.est"

struct parsed {
	char url[600], user[128], target[128];
};

static void
parse(const char *text, struct parsed *p)
{
	journal_prune_text_parse(text, p->url, sizeof(p->url), p->user,
	    sizeof(p->user), p->target, sizeof(p->target));
}

static void
test_round_trip(void **state)
{
	char text[JOURNAL_TEXT_MAX + 1];
	struct parsed p;

	(void)state;
	assert_int_equal(journal_prune_text_make(URL, "carol", "db02", text,
	    sizeof(text)), REC_OK);
	assert_string_equal(text, URL "\nuser=carol\ntarget=db02");
	parse(text, &p);
	assert_string_equal(p.url, URL);
	assert_string_equal(p.user, "carol");
	assert_string_equal(p.target, "db02");
	/* a value may hold '=' and spaces */
	assert_int_equal(journal_prune_text_make(URL, "a=b c", "", text,
	    sizeof(text)), REC_OK);
	assert_string_equal(text, URL "\nuser=a=b c");
	parse(text, &p);
	assert_string_equal(p.user, "a=b c");
	assert_string_equal(p.target, "");
}

static void
test_old_and_unknown(void **state)
{
	struct parsed p;

	(void)state;
	parse(URL, &p);			/* as recorders wrote it before */
	assert_string_equal(p.url, URL);
	assert_string_equal(p.user, "");
	assert_string_equal(p.target, "");
	parse(URL "\nlater=1\ntarget=web01\nno equals sign", &p);
	assert_string_equal(p.url, URL);
	assert_string_equal(p.user, "");
	assert_string_equal(p.target, "web01");
	parse(NULL, &p);
	assert_string_equal(p.url, "");
}

static void
test_left_out(void **state)
{
	char text[JOURNAL_TEXT_MAX + 1], big[JOURNAL_TEXT_MAX];
	struct parsed p;

	(void)state;
	assert_int_equal(journal_prune_text_make(URL, "ev\nil", "t\x7f",
	    text, sizeof(text)), REC_OK);
	assert_string_equal(text, URL);
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(journal_prune_text_make(URL, big, "web01", text,
	    sizeof(text)), REC_OK);
	assert_string_equal(text, URL "\ntarget=web01");
	/* a value cut to the reader's buffer */
	assert_int_equal(journal_prune_text_make(URL, big + 800, "x", text,
	    sizeof(text)), REC_OK);
	parse(text, &p);
	assert_int_equal(strlen(p.user), sizeof(p.user) - 1);
	assert_string_equal(p.target, "x");
	/* the address itself must fit and be clean */
	assert_int_equal(journal_prune_text_make(big, "", "", text,
	    sizeof(text)), REC_OK);
	assert_int_equal(journal_prune_text_make(URL, "u", "t", text, 10),
	    REC_EINVAL);
	assert_int_equal(journal_prune_text_make("s3://a\nb", "u", "t", text,
	    sizeof(text)), REC_EINVAL);
	assert_int_equal(journal_prune_text_make("", "u", "t", text,
	    sizeof(text)), REC_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_old_and_unknown),
		cmocka_unit_test(test_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
