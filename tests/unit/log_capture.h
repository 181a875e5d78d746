/* log_capture.h: the proxy's log (stderr) captured into a string, for unit
 * tests that check what a call logs (tests/unit/test_proxy_chanstate.c,
 * tests/unit/test_proxy_strict_state.c).
 *
 * log_capture_setup and log_capture_teardown are a cmocka group's setup and
 * teardown: the first opens an unlinked temporary file, keeps a copy of
 * stderr and sets the proxy's log to stderr at debug level; the second
 * closes both.  Around each call to check, capture_begin() sends stderr to
 * the emptied file and capture_end() puts stderr back and returns what was
 * written (at most 8191 bytes; the buffer is static and is overwritten by
 * the next capture_end).  Header only: static functions. */
#ifndef ESCORT_TEST_LOG_CAPTURE_H
#define ESCORT_TEST_LOG_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proxy/log.h"

static int log_fd = -1, saved_fd = -1;
static char log_buf[8192];

static void
capture_begin(void)
{
	fflush(stderr);
	assert_int_equal(ftruncate(log_fd, 0), 0);
	assert_true(lseek(log_fd, 0, SEEK_SET) == 0);
	assert_true(dup2(log_fd, STDERR_FILENO) >= 0);
}

static const char *
capture_end(void)
{
	ssize_t n;

	fflush(stderr);
	assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
	n = pread(log_fd, log_buf, sizeof(log_buf) - 1, 0);
	assert_true(n >= 0);
	log_buf[n] = '\0';
	return log_buf;
}

static int
log_capture_setup(void **state)
{
	char path[] = "/tmp/escort_log_capture.XXXXXX";

	(void)state;
	if ((log_fd = mkstemp(path)) < 0)
		return -1;
	unlink(path);
	saved_fd = dup(STDERR_FILENO);
	px_log_init(1, PX_LOG_DEBUG);
	return saved_fd < 0 ? -1 : 0;
}

static int
log_capture_teardown(void **state)
{
	(void)state;
	close(log_fd);
	close(saved_fd);
	return 0;
}

#endif
