/* fuzz_pol_cmdline: any command line must parse or be refused cleanly, and
 * be decided (always a verdict, never a crash) under a fixed policy. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const char policy_text[] =
"user u {\n}\ntarget t {\n address h\n}\n"
"rule r {\n who *\n where *\n allow \"ls ...\"\n allow \"sudo ...\"\n allow \"sh -c *\"\n"
" allow \"find ...\"\n allow \"xargs ...\"\n approve \"systemctl restart *\"\n"
" deny \"rm ...\"\n deny \"... /etc/shadow ...\"\n construct redirect substitution heredoc\n}\n";

static struct policy *pol;
static FILE *devnull;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (pol == NULL) {
		if (policy_load_buffer("f", policy_text, sizeof(policy_text) - 1, 0, &pol, NULL) != 0)
			abort();
		devnull = fopen("/dev/null", "w");
	}
	struct pol_cmdline *c;
	int r = pol_cmdline_parse((const char *)data, size, &c);
	if (c != NULL) {
		if ((r == 0) != (c->error == 0))
			abort();
		pol_cmdline_describe(c, devnull);
		pol_cmdline_free(c);
	}
	struct pol_decision d;
	policy_decide_for(pol, "u", "t", (const char *)data, size, POL_ANYTIME, &d);
	if (d.verdict != POL_ALLOW && d.verdict != POL_DENY && d.verdict != POL_APPROVE)
		abort();
	/* an unparsable line is never allowed */
	if (d.cmd != NULL && d.cmd->error && d.verdict != POL_DENY)
		abort();
	pol_decision_free(&d);
	return 0;
}
