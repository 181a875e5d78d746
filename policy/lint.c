/* lint.c: warnings of escort-policy check (filled in below). */
#include "policy/pol_int.h"

long
policy_lint(const struct policy *p, struct pol_diags *d)
{
	(void)p;
	(void)d;
	return 0;
}
