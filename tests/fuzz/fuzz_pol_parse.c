/* fuzz_pol_parse: policy files of any bytes must load or fail cleanly; a
 * policy that loads must answer admissions, decisions and lint. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct pol_diags d = { 0 };
	int r = policy_load_buffer("fuzz.conf", (const char *)data, size, 0, &p, &d);
	pol_diags_sort(&d);
	if (r == 0) {
		static const char *const cmds[] = { "ls -l", "sudo rm -rf /", "a | b && c",
			"find . -exec x {} ;", "sh -c 'x; y'", "xargs y" };
		for (size_t i = 0; i < policy_nusers(p) && i < 4; i++)
			for (size_t k = 0; k < policy_ntargets(p) && k < 4; k++) {
				const char *u = policy_user_at(p, i)->name;
				const char *t = policy_target_at(p, k)->name;
				struct pol_session *s;
				if (policy_admit(p, u, t, 1795773600, &s, NULL) == 0) {
					pol_session_may_escort(s, u);
					pol_session_free(s);
				}
				for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
					struct pol_decision dec;
					policy_decide_for(p, u, t, cmds[c], strlen(cmds[c]), POL_ANYTIME, &dec);
					pol_decision_free(&dec);
				}
			}
		for (size_t i = 0; i < policy_nexpects(p) && i < 8; i++) {
			const struct pol_expect *e = policy_expect_at(p, i);
			struct pol_decision dec;
			policy_decide_for(p, e->user, e->target, e->command, strlen(e->command),
			    POL_ANYTIME, &dec);
			pol_decision_free(&dec);
		}
		policy_lint(p, &d);
	}
	pol_diags_free(&d);
	policy_unref(p);
	return 0;
}
