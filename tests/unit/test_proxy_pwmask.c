/* Unit tests for proxy/pwmask: which keystrokes answer a password prompt.
 * Each test plays a terminal conversation (output, then what is typed) and
 * checks the recordable form of the input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proxy/pwmask.h"

static struct pwm m;

static int
setup(void **state)
{
	(void)state;
	px__pwm_init(&m);
	return 0;
}

static void
out(const char *s)
{
	px__pwm_output(&m, (const uint8_t *)s, strlen(s), NULL);
}

/* Feeds s as input; returns its recordable form (static buffer). */
static const char *
in(const char *s, struct pwm_event *ev)
{
	static char rec[4096];
	size_t n = strlen(s);

	assert_true(n < sizeof(rec));
	px__pwm_input(&m, (const uint8_t *)s, n, (uint8_t *)rec, ev);
	rec[n] = '\0';
	return rec;
}

/* Every prompt form of the brief is recognised, in any case. */
static void
test_prompt_forms(void **state)
{
	static const char *const yes[] = {
		"[sudo] password for alice: ", "Password: ", "Password:", "password:",
		"PASSWORD: ", "alice@web01's password: ",
		"Enter passphrase for key '/home/alice/.ssh/id_ed25519': ",
		"Enter passphrase (empty for no passphrase): ", "Enter same passphrase again: ",
		"Bad passphrase, try again for /home/a/.ssh/id_rsa: ",
		"Current password: ", "New password: ", "Retype new password: ",
		"(current) UNIX password: ", "Enter new UNIX password: ",
		"Enter PIN for 'ECDSA-SK key': ", "Enter PIN: ", "PIN:  ", "Password (again): ",
		"Password for alice@EXAMPLE.COM: ", "Enter passcode: ", "Old Password:\t",
	};
	static const char *const no[] = {
		"", "password policy updated", "Password", "passwd: password updated successfully",
		"Last password change                    : Jan 01, 2024",
		"alice@web01:~$ ", "alice@password-host:~/password$ ", "spin:", "mapping:",
		"Password policy: ", "Your password will expire: ", "Enter the password now please",
		"pinned: ", "BAD PASSWORD: it is too short",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!px__pwm_is_prompt(yes[i], strlen(yes[i])))
			fail_msg("not recognised: \"%s\"", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (px__pwm_is_prompt(no[i], strlen(no[i])))
			fail_msg("taken for a prompt: \"%s\"", no[i]);
}

/* The answer to a prompt is masked up to Enter, which is kept; what follows
 * is recorded as typed, and the prompt arms nothing more. */
static void
test_masks_until_enter(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("$ sudo id\r\n[sudo] password for alice: ");
	assert_true(px__pwm_armed(&m));
	assert_string_equal(in("hunter2\rls\r", &ev), "*******\rls\r");
	assert_true(ev.started);
	assert_int_equal(ev.ended, PWM_END_ENTER);
	assert_int_equal(ev.masked, 7);
	assert_false(px__pwm_armed(&m));
	assert_string_equal(in("more\r", &ev), "more\r");
	assert_false(ev.started);
	assert_int_equal(ev.ended, PWM_END_NONE);
}

/* Every prompt form arms masking when it ends the output. */
static void
test_each_prompt_masks(void **state)
{
	static const char *const prompts[] = {
		"[sudo] password for bob: ", "Password: ", "bob@db1's password: ",
		"Enter passphrase for key '/root/.ssh/id_rsa': ", "Current password: ",
		"New password: ", "Retype new password: ", "(current) UNIX password: ",
		"Enter PIN for authenticator: ",
	};
	struct pwm_event ev;

	(void)state;
	for (size_t i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
		px__pwm_init(&m);
		out("some output\r\n");
		out(prompts[i]);
		assert_string_equal(in("s3cr3t\n", &ev), "******\n");
		assert_int_equal(ev.ended, PWM_END_ENTER);
	}
}

/* The prompt and the answer split across chunks, one byte at a time. */
static void
test_split_chunks(void **state)
{
	const char *prompt = "\r\n[sudo] password for alice: ";
	const char *typed = "pa55word\r";
	struct pwm_event ev;
	char rec[32];
	size_t i;

	(void)state;
	for (i = 0; prompt[i] != '\0'; i++)
		px__pwm_output(&m, (const uint8_t *)prompt + i, 1, NULL);
	for (i = 0; typed[i] != '\0'; i++) {
		px__pwm_input(&m, (const uint8_t *)typed + i, 1, (uint8_t *)rec + i, &ev);
		assert_int_equal(ev.started, i == 0);
		assert_int_equal(ev.ended, typed[i] == '\r' ? PWM_END_ENTER : PWM_END_NONE);
	}
	rec[i] = '\0';
	assert_string_equal(rec, "********\r");
	assert_int_equal(ev.masked, 8);
}

/* Colour, bold, OSC titles and cursor moves in and around the prompt are
 * left out; an escape sequence split across chunks too. */
static void
test_ansi_in_prompt(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("\033]0;alice@web01\007\033[1;31m[sudo]\033[0m pass");
	out("word for \033[4malice\033[24m:\033[0m \033");
	out("[?25h");
	assert_true(px__pwm_armed(&m));
	assert_string_equal(in("x\r", &ev), "*\r");
	assert_int_equal(ev.ended, PWM_END_ENTER);

	px__pwm_init(&m);
	out("\r\033[KPassword: \033P1$r0m\033\\");
	assert_true(px__pwm_armed(&m));
	px__pwm_init(&m);
	out("\033(BPassword:\033[m ");
	assert_true(px__pwm_armed(&m));
}

/* "password policy updated" printed mid-output arms nothing; neither does a
 * prompt-looking line followed by more output. */
static void
test_false_positives(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("password policy updated\r\nalice@web01:~$ ");
	assert_false(px__pwm_armed(&m));
	assert_string_equal(in("ls\r", &ev), "ls\r");
	assert_false(ev.started);

	out("Password: \r\nnot a prompt after all\r\n$ ");
	assert_false(px__pwm_armed(&m));
	assert_string_equal(in("id\r", &ev), "id\r");

	/* the last line is still the prompt when something else is printed on
	 * a new line */
	out("Enter password:");
	out(" done.\r\n");
	assert_false(px__pwm_armed(&m));
}

/* The shell echoing what was typed ("echo Password:") arms nothing. */
static void
test_echo_of_typing_does_not_arm(void **state)
{
	const char *cmd = "echo Password: x\r";
	struct pwm_event ev;
	char rec[32];

	(void)state;
	out("$ ");
	for (size_t i = 0; cmd[i] != '\0'; i++) {
		px__pwm_input(&m, (const uint8_t *)cmd + i, 1, (uint8_t *)rec, &ev);
		assert_int_equal(rec[0], cmd[i]);
		assert_false(ev.started);
		if (cmd[i] != '\r')
			px__pwm_output(&m, (const uint8_t *)cmd + i, 1, NULL);
	}
	/* pasted at once, echoed at once */
	out("\r\nPassword: x\r\n$ ");
	assert_string_equal(in("echo Enter PIN:", &ev), "echo Enter PIN:");
	out("echo Enter PIN:");
	assert_false(px__pwm_armed(&m));
	assert_string_equal(in(" 1\r", &ev), " 1\r");
}

/* Output during a stretch that is not an echo (a message, pwfeedback's
 * asterisks, a new prompt) ends nothing. */
static void
test_output_during_stretch(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("[sudo] password for alice: ");
	assert_string_equal(in("ab", &ev), "**");
	assert_true(ev.started);
	px__pwm_output(&m, (const uint8_t *)"**", 2, &ev);
	assert_int_equal(ev.ended, PWM_END_NONE);
	out("\r\nBroadcast message from root: reboot at 5\r\n");
	assert_string_equal(in("cd\r", &ev), "**\r");
	assert_int_equal(ev.ended, PWM_END_ENTER);
	assert_int_equal(ev.masked, 4);
	/* wrong password: the retry prompt arms again */
	out("\r\nSorry, try again.\r\n[sudo] password for alice: ");
	assert_string_equal(in("abcd\r", &ev), "****\r");
	assert_true(ev.started);
}

/* A prompt that was not one: the typed bytes are echoed, the stretch ends,
 * what was masked stays masked and the rest is recorded as typed. */
static void
test_echo_ends_stretch(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("Checking password:");
	assert_string_equal(in("l", &ev), "*");
	out("l");
	assert_string_equal(in("s", &ev), "*");
	px__pwm_output(&m, (const uint8_t *)"s", 1, &ev);
	assert_int_equal(ev.ended, PWM_END_ECHO);
	assert_int_equal(ev.masked, 2);
	assert_string_equal(in(" -l\r", &ev), " -l\r");
	assert_int_equal(ev.ended, PWM_END_NONE);
}

/* Ctrl-C abandons the prompt: kept, and what follows is not masked. */
static void
test_ctrl_c(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("Password: ");
	assert_string_equal(in("sec\003whoami\r", &ev), "***\003whoami\r");
	assert_int_equal(ev.ended, PWM_END_CANCEL);
	assert_int_equal(ev.masked, 3);
	out("^C\r\n$ ");
	assert_false(px__pwm_armed(&m));
}

/* Ctrl-U erases the typed line: masked, masking goes on to Enter; Ctrl-D
 * ends only an empty line; Backspace is masked. */
static void
test_ctrl_u_and_ctrl_d(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("Password: ");
	assert_string_equal(in("wrong\025right\r", &ev), "***********\r");
	assert_int_equal(ev.masked, 11);
	out("\r\nNew password: ");
	assert_string_equal(in("ab\177\177\004", &ev), "****\004");
	assert_int_equal(ev.ended, PWM_END_EOF);
	out("\r\nNew password: ");
	assert_string_equal(in("ab\004cd\r", &ev), "*****\r");
	assert_int_equal(ev.ended, PWM_END_ENTER);
}

/* Typeahead sent before the prompt appeared is not masked (documented). */
static void
test_typeahead_before_prompt(void **state)
{
	struct pwm_event ev;

	(void)state;
	out("$ ");
	assert_string_equal(in("early", &ev), "early");
	out("\r\nPassword: ");
	assert_string_equal(in("late\r", &ev), "****\r");
}

/* Long output lines and long sequences keep the state bounded; a prompt at
 * the end of a long line is still found. */
static void
test_bounded(void **state)
{
	char big[10000];
	struct pwm_event ev;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	out(big);
	assert_true(m.line_len <= PWM_LINE_MAX);
	out(" password:");
	assert_true(px__pwm_armed(&m));
	/* an OSC string that never ends hides everything after it */
	out("\033]2;");
	out(big);
	assert_true(px__pwm_armed(&m));
	out("\007");
	memset(big, 'k', 4000);
	big[4000] = '\0';
	assert_int_equal(strspn(in(big, &ev), "*"), 4000);
	assert_true(m.echo_len <= PWM_ECHO_MAX);
	assert_int_equal(m.masking, 1);
	assert_int_equal(m.masked, 4000);
}

/* The recordable form may be written over the input. */
static void
test_in_place(void **state)
{
	uint8_t buf[] = "topsecret\r";
	size_t n;

	(void)state;
	out("Password: ");
	n = px__pwm_input(&m, buf, sizeof(buf) - 1, buf, NULL);
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "*********\r", 10);
	assert_string_equal(px__pwm_end_name(PWM_END_CANCEL), "ctrl-c");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_prompt_forms, setup),
		cmocka_unit_test_setup(test_masks_until_enter, setup),
		cmocka_unit_test_setup(test_each_prompt_masks, setup),
		cmocka_unit_test_setup(test_split_chunks, setup),
		cmocka_unit_test_setup(test_ansi_in_prompt, setup),
		cmocka_unit_test_setup(test_false_positives, setup),
		cmocka_unit_test_setup(test_echo_of_typing_does_not_arm, setup),
		cmocka_unit_test_setup(test_output_during_stretch, setup),
		cmocka_unit_test_setup(test_echo_ends_stretch, setup),
		cmocka_unit_test_setup(test_ctrl_c, setup),
		cmocka_unit_test_setup(test_ctrl_u_and_ctrl_d, setup),
		cmocka_unit_test_setup(test_typeahead_before_prompt, setup),
		cmocka_unit_test_setup(test_bounded, setup),
		cmocka_unit_test_setup(test_in_place, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
