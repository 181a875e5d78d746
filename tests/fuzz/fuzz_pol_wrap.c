/* fuzz_pol_wrap: any command line through the wrapper models and the table
 * of evaluating commands, under an allowlist that allows the wrappers and
 * under a deny list: always a verdict with a reason, never a crash.  Seeds:
 * the rows of tests/unit/test_pol_wrap.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const char policy_text[] =
"user tight {\n}\nuser loose {\n}\ntarget t {\n address h\n}\n"
"rule tight {\n who user:tight\n where *\n allow \"echo ...\"\n allow \"ls ...\"\n"
" allow \"env ...\"\n allow \"xargs ...\"\n allow \"sudo ...\"\n allow \"sh ...\"\n"
" allow \"bash ...\"\n allow \"find ...\"\n allow \"su ...\"\n allow \"runuser ...\"\n"
" allow \"script ...\"\n allow \"sg ...\"\n allow \"watch ...\"\n allow \"time ...\"\n"
" allow \"nice ...\"\n allow \"timeout ...\"\n allow \"flock ...\"\n allow \"eval ...\"\n"
" allow \"sed ...\"\n allow \"awk ...\"\n deny \"rm ...\"\n}\n"
"rule loose {\n who user:loose\n where *\n allow \"* ...\"\n deny \"rm ...\"\n"
" deny \"... /etc/shadow ...\"\n}\n";

static struct policy *pol;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (pol == NULL &&
	    policy_load_buffer("f", policy_text, sizeof(policy_text) - 1, 0, &pol, NULL) != 0)
		abort();
	static const char *const users[] = { "tight", "loose" };
	for (int u = 0; u < 2; u++) {
		struct pol_decision d;
		int r = policy_decide_for(pol, users[u], "t", (const char *)data, size, POL_ANYTIME,
		    &d);
		if (r == 0 && d.verdict != POL_ALLOW && d.verdict != POL_DENY &&
		    d.verdict != POL_APPROVE)
			abort();
		if (r == 0 && d.verdict != POL_ALLOW && d.reason[0] == '\0')
			abort();	/* every refusal says why */
		pol_decision_free(&d);
	}
	return 0;
}
