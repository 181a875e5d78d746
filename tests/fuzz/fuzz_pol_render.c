/* fuzz_pol_render: what was decided is what runs, checked in-process
 * without bash (tests/diff/ runs the real bash).  For any line the parser
 * accepts, its rendering (every construct permitted) must
 *   - exist (pol_render fails only with POL_E_INVAL, never crashes),
 *   - parse back to the same commands: words segment by segment, flags,
 *     assignments, redirections, depths, separators, constructs
 *     (tests/diff/render_check.h),
 *   - be a fixed point: rendering the re-parse gives the same text;
 * and rendering with nothing permitted fails for any line that has a
 * construct a rule must permit (POL_C_NEED_PERMISSION). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cmdline.h"
#include "policy/policy.h"
#include "policy/pol_int.h"	/* POL_C_NEED_PERMISSION */
#include "tests/diff/render_check.h"

static void
fail(const char *what, const uint8_t *data, size_t size, const char *detail)
{
	fprintf(stderr, "fuzz_pol_render: %s: %s\nline: ", what, detail);
	for (size_t i = 0; i < size; i++)
		fprintf(stderr, (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\') ? "%c" : "\\x%02x",
		    data[i]);
	fputc('\n', stderr);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct pol_cmdline *c = NULL;
	if (pol_cmdline_parse(line, size, &c) != 0 || c == NULL) {
		pol_cmdline_free(c);
		return 0;
	}
	char *out = NULL;
	int r = pol_render(c, line, size, POL_C_ALL, &out);
	if (r == POL_E_INVAL) {
		pol_cmdline_free(c);
		return 0;
	}
	if (r != 0 || out == NULL)
		fail("render failed", data, size, pol_strerror(r));
	struct pol_cmdline *again = NULL;
	char why[256];
	if (pol_cmdline_parse(out, strlen(out), &again) != 0 || again == NULL)
		fail("rendered line does not parse", data, size, again ? again->err_msg : "no memory");
	if (rc_compare(c, again, why, sizeof(why)) != 0)
		fail("rendered line parses differently", data, size, why);
	char *out2 = NULL;
	if (pol_render(again, out, strlen(out), POL_C_ALL, &out2) != 0 || out2 == NULL)
		fail("re-render failed", data, size, out);
	if (strcmp(out, out2) != 0)
		fail("rendering is not idempotent", data, size, out2);
	char *none = NULL;
	int rn = pol_render(c, line, size, 0, &none);
	if (rn == 0 && (c->constructs & POL_C_NEED_PERMISSION) != 0)
		fail("a construct rendered with nothing permitted", data, size, none);
	free(none);
	free(out2);
	pol_cmdline_free(again);
	free(out);
	pol_cmdline_free(c);
	return 0;
}
