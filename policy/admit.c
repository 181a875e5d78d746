/*
 * admit.c: admission (who / where / when and forbids), the combined session
 * settings, the targets a user may open, and who may escort a session.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

bool
pol__rule_applies(const struct pol_rule *r, const struct pol_user *u, const struct pol_target *t)
{
	return pol__specs_match_user(r->who, r->nwho, u) &&
	    pol__specs_match_target(r->where, r->nwhere, t);
}

const struct pol_rule *
pol__find_forbid(const struct policy *p, const struct pol_user *u, const struct pol_target *t,
    time_t now)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = p->rules[i];
		if (r->forbid && pol__rule_applies(r, u, t) &&
		    pol__when_match(r->when, r->nwhen, now))
			return r;
	}
	return NULL;
}

const char *
policy_forbidden(const struct policy *p, const char *user, const char *target)
{
	const struct pol_user *u = policy_user(p, user);
	const struct pol_target *t = policy_target(p, target);
	if (u == NULL || t == NULL)
		return NULL;
	const struct pol_rule *f = pol__find_forbid(p, u, t, time(NULL));
	return f ? f->name : NULL;
}


static void
refuse(struct pol_refusal *why, const char *user_msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(struct pol_refusal *why, const char *user_msg, const char *fmt, ...)
{
	if (why == NULL)
		return;
	snprintf(why->user_msg, sizeof(why->user_msg), "%s", user_msg);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why->log_msg, sizeof(why->log_msg), fmt, ap);
	va_end(ap);
}

void
pol_session_free(struct pol_session *s)
{
	if (s == NULL)
		return;
	free(s->rules);
	free(s->candidates);
	free(s->rule_names);
	policy_unref(s->policy);
	free(s);
}

int
policy_admit(struct policy *p, const char *user, const char *target, time_t now,
    struct pol_session **out, struct pol_refusal *why)
{
	*out = NULL;
	const struct pol_user *u = policy_user(p, user);
	if (u == NULL) {
		refuse(why, "access denied", "unknown user '%s'", user);
		return POL_E_NOUSER;
	}
	const struct pol_target *t = policy_target(p, target);
	if (t == NULL) {
		refuse(why, "no such target", "user '%s': unknown target '%s'", user, target);
		return POL_E_NOTARGET;
	}
	const struct pol_rule *f = pol__find_forbid(p, u, t, now);
	if (f != NULL) {
		refuse(why, "access to this target is not permitted",
		    "user '%s' on '%s': forbidden by '%s' (%s:%d)%s%s", user, target, f->name,
		    f->file, f->line, f->reason ? ": " : "", f->reason ? f->reason : "");
		return POL_E_REFUSED;
	}
	struct pol_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return POL_E_NOMEM;
	s->rules = calloc(p->nrules + 1, sizeof(*s->rules));
	s->candidates = calloc(p->nrules + 1, sizeof(*s->candidates));
	if (s->rules == NULL || s->candidates == NULL) {
		free(s->rules);
		free(s->candidates);
		free(s);
		return POL_E_NOMEM;
	}
	s->policy = policy_ref(p);
	s->user = u;
	s->target = t;
	size_t namelen = 1;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = p->rules[i];
		if (r->forbid || !pol__rule_applies(r, u, t))
			continue;
		s->candidates[s->ncandidates++] = r;
		if (pol__when_match(r->when, r->nwhen, now)) {
			s->rules[s->nrules++] = r;
			namelen += strlen(r->name) + 2;
		}
	}
	if (s->nrules == 0) {
		if (s->ncandidates > 0)
			refuse(why, "access to this target is not permitted at this time",
			    "user '%s' on '%s': rule '%s' (%s:%d) applies but not at this time",
			    user, target, s->candidates[0]->name, s->candidates[0]->file,
			    s->candidates[0]->line);
		else
			refuse(why, "access to this target is not permitted",
			    "user '%s' on '%s': no rule admits this user to this target", user, target);
		pol_session_free(s);
		return POL_E_REFUSED;
	}
	s->rule_names = malloc(namelen);
	if (s->rule_names == NULL) {
		pol_session_free(s);
		return POL_E_NOMEM;
	}
	s->rule_names[0] = '\0';
	int shell = -1, exec = -1, sftp = -1, fwd = -1;
	long maxs = -1;
	bool record_pw = true, end_on_deny = false;
	for (size_t i = 0; i < s->nrules; i++) {
		const struct pol_rule *r = s->rules[i];
		if (i)
			strcat(s->rule_names, ", ");
		strcat(s->rule_names, r->name);
		if (r->nescort)
			s->escort_required = true;
		if (r->shell >= 0 && (shell < 0 || r->shell < shell))
			shell = r->shell;
		if (r->exec >= 0 && (exec < 0 || r->exec < exec))
			exec = r->exec;
		if (r->sftp >= 0)
			sftp = sftp < 0 ? r->sftp : (sftp & r->sftp);
		if (r->forward >= 0 && (fwd < 0 || r->forward < fwd))
			fwd = r->forward;
		if (r->max_session > 0 && (maxs < 0 || r->max_session < maxs))
			maxs = r->max_session;
		/* passwords kept only if every rule says record (unset: mask);
		 * observe mode ends on a deny if any rule says end */
		if (r->passwords != 1)
			record_pw = false;
		if (r->observe_deny == 1)
			end_on_deny = true;
	}
	s->shell = shell < 0 ? POL_SHELL_NONE : (enum pol_shell)shell;
	s->exec = exec == 1;
	s->sftp = sftp < 0 ? POL_SFTP_NONE : (enum pol_sftp)sftp;
	s->forward = fwd == 1 ? POL_FORWARD_LOCAL : POL_FORWARD_NONE;
	s->max_session = maxs < 0 ? 0 : maxs;
	s->record_passwords = record_pw;
	s->observe_end_on_deny = end_on_deny;
	*out = s;
	return 0;
}

long
policy_targets_for(const struct policy *p, const char *user, time_t now,
    const struct pol_target ***out)
{
	*out = NULL;
	const struct pol_user *u = policy_user(p, user);
	if (u == NULL)
		return POL_E_NOUSER;
	const struct pol_target **v = calloc(p->ntargets + 1, sizeof(*v));
	if (v == NULL)
		return POL_E_NOMEM;
	/* the rules that may apply to this user, once */
	const struct pol_rule **rs = calloc(p->nrules + 1, sizeof(*rs));
	if (rs == NULL) {
		free(v);
		return POL_E_NOMEM;
	}
	size_t nr = 0;
	for (size_t i = 0; i < p->nrules; i++)
		if (pol__specs_match_user(p->rules[i]->who, p->rules[i]->nwho, u) &&
		    pol__when_match(p->rules[i]->when, p->rules[i]->nwhen, now))
			rs[nr++] = p->rules[i];
	long n = 0;
	for (size_t k = 0; k < p->ntargets; k++) {
		const struct pol_target *t = &p->targets[k]->pub;
		bool ok = false, forbidden = false;
		for (size_t i = 0; i < nr; i++)
			if (pol__specs_match_target(rs[i]->where, rs[i]->nwhere, t)) {
				if (rs[i]->forbid)
					forbidden = true;
				else
					ok = true;
			}
		if (ok && !forbidden)
			v[n++] = t;
	}
	free(rs);
	*out = v;
	return n;
}

/* Whether escort user e is named by rule r's `escort` or `supervised-by`. */
static bool
rule_names_escort(const struct pol_rule *r, const struct pol_user *e)
{
	return pol__specs_match_user(r->escort, r->nescort, e) ||
	    pol__specs_match_user(r->supervise, r->nsupervise, e);
}

static bool
may_escort(const struct policy *p, const struct pol_rule *const *rules, size_t n,
    const struct pol_user *owner, const char *escort_user)
{
	const struct pol_user *e = policy_user(p, escort_user);
	if (e == NULL || e == owner)
		return false;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (rules[i]->nescort == 0 && rules[i]->nsupervise == 0)
			continue;
		any = true;
		if (!rule_names_escort(rules[i], e))
			return false;
	}
	return any;
}

bool
policy_names_escort(const struct policy *p, const char *escort_user)
{
	const struct pol_user *e = policy_user(p, escort_user);
	if (e == NULL)
		return false;
	for (size_t i = 0; i < p->nrules; i++)
		if (!p->rules[i]->forbid && rule_names_escort(p->rules[i], e))
			return true;
	return false;
}

bool
pol_session_may_escort(const struct pol_session *s, const char *escort_user)
{
	return may_escort(s->policy, s->rules, s->nrules, s->user, escort_user);
}

bool
pol_session_supervised(const struct pol_session *s)
{
	for (size_t i = 0; s != NULL && i < s->nrules; i++)
		if (s->rules[i]->nescort > 0 || s->rules[i]->nsupervise > 0)
			return true;
	return false;
}

/* Appends spec sp as written in the policy ("user:bob", "attr:k=v", "*"). */
static void
put_spec(const struct spec *sp, char *out, size_t outsz, size_t *off)
{
	static const char *const prefix[] = {
		[SPEC_ANY] = "*", [SPEC_USER] = "user:", [SPEC_GROUP] = "group:",
		[SPEC_ATTR_EQ] = "attr:", [SPEC_ATTR_NE] = "attr:", [SPEC_TARGET] = "target:",
		[SPEC_LABEL_EQ] = "label:", [SPEC_LABEL_NE] = "label:",
	};
	const char *op = sp->kind == SPEC_ATTR_EQ || sp->kind == SPEC_LABEL_EQ ? "=" :
	    sp->kind == SPEC_ATTR_NE || sp->kind == SPEC_LABEL_NE ? "!=" : "";
	int n;

	if (*off >= outsz)
		return;
	n = snprintf(out + *off, outsz - *off, "%s%s%s%s", prefix[sp->kind],
	    sp->kind == SPEC_ANY || sp->a == NULL ? "" : sp->a, op, *op && sp->b != NULL ? sp->b : "");
	*off = n < 0 ? outsz : *off + (size_t)n;
}

static void
put_text(const char *t, char *out, size_t outsz, size_t *off)
{
	int n;

	if (*off >= outsz)
		return;
	n = snprintf(out + *off, outsz - *off, "%s", t);
	*off = n < 0 ? outsz : *off + (size_t)n;
}

char *
pol_session_escort_text(const struct pol_session *s, char *out, size_t outsz)
{
	size_t off = 0, nr = 0;

	if (outsz == 0)
		return out;
	out[0] = '\0';
	for (size_t i = 0; s != NULL && i < s->nrules; i++) {
		const struct pol_rule *r = s->rules[i];
		size_t k = 0;
		if (r->nescort == 0)
			continue;
		if (nr++ > 0)
			put_text("; and ", out, outsz, &off);
		for (size_t j = 0; j < r->nescort; j++, k++) {
			if (k > 0)
				put_text(" or ", out, outsz, &off);
			put_spec(&r->escort[j], out, outsz, &off);
		}
		for (size_t j = 0; j < r->nsupervise; j++, k++) {
			if (k > 0)
				put_text(" or ", out, outsz, &off);
			put_spec(&r->supervise[j], out, outsz, &off);
		}
	}
	return out;
}

bool
policy_may_escort(const struct policy *p, const char *escort_user, const char *user,
    const char *target, time_t now)
{
	struct pol_session *s;
	if (policy_admit((struct policy *)p, user, target, now, &s, NULL) != 0)
		return false;
	bool ok = pol_session_may_escort(s, escort_user);
	pol_session_free(s);
	return ok;
}
