/*
 * validate.c: the checks every consumer of a policy applies after loading
 * it, so that `escort-policy check`, `escort-proxy -t` and a proxy reload
 * give the same verdict with the same messages: what this version cannot
 * enforce (today nothing is refused; approve patterns get a warning), the
 * `expect` lines, and (optionally) the lint warnings.
 */
#include <stdio.h>
#include <string.h>

#include "policy/pol_int.h"

long
policy_check_enforceable(const struct policy *p, struct pol_diags *d)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = p->rules[i];
		for (size_t k = 0; k < r->npats; k++)
			if (r->pats[k].verdict == POL_APPROVE &&
			    pol_diags_add(d, POL_SEV_WARNING, r->file, r->pats[k].line, r->pats[k].col,
			    "approve pattern \"%s\": escorts can approve only in sessions a supervised-by "
			    "or escort rule admits (strict shells and exec requests); elsewhere (observe shells, "
			    "sessions without escorts) the commands it matches are refused",
			    r->pats[k].text) != 0)
				return POL_E_NOMEM;
	}
	return 0;
}

long
policy_check_expects(const struct policy *p, struct pol_diags *d, FILE *report, size_t *total)
{
	long failed = 0;
	if (total != NULL)
		*total = p->nexpects;
	for (size_t i = 0; i < p->nexpects; i++) {
		const struct pol_expect *e = &p->expects[i];
		struct pol_decision dec;
		int r = policy_decide_for(p, e->user, e->target, e->command, strlen(e->command),
		    POL_ANYTIME, &dec);
		if (r == POL_E_NOMEM) {
			pol_decision_free(&dec);
			return POL_E_NOMEM;
		}
		bool ok = dec.verdict == e->want;
		if (!ok) {
			failed++;
			if (d != NULL && pol_diags_add(d, POL_SEV_ERROR, e->file, e->line, e->col,
			    "expect %s %s %s \"%s\" failed: got %s (%s)", pol_verdict_name(e->want),
			    e->user, e->target, e->command, pol_verdict_name(dec.verdict), dec.reason) != 0) {
				pol_decision_free(&dec);
				return POL_E_NOMEM;
			}
		}
		if (report != NULL)
			fprintf(report, "%s %s:%d: expect %s %s %s \"%s\": got %s: %s\n", ok ? "PASS" : "FAIL",
			    e->file, e->line, pol_verdict_name(e->want), e->user, e->target, e->command,
			    pol_verdict_name(dec.verdict), dec.reason);
		pol_decision_free(&dec);
	}
	return failed;
}

long
policy_validate(const struct policy *p, unsigned flags, struct pol_diags *d)
{
	long n = policy_check_enforceable(p, d);
	if (n < 0)
		return n;
	long e = policy_check_expects(p, d, NULL, NULL);
	if (e < 0)
		return e;
	if (flags & POL_VALIDATE_LINT) {
		long w = policy_lint(p, d);
		if (w < 0)
			return w;
	}
	return n + e;
}
