/*
 * rules_for.c: what a user may run on a target, pattern by pattern, in the
 * spirit of `sudo -l`: for `escort-policy rules` and for `ssh USER@proxy
 * rules TARGET`.  Reads the policy only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

static void
put_settings(const struct pol_session *s, FILE *out)
{
	char env[512];
	pol_session_env_text(s, env, sizeof(env));
	fprintf(out, "session: shell %s, exec %s, sftp %s, forward %s\n", pol_shell_name(s->shell),
	    s->exec ? "yes" : "no", pol_sftp_name(s->sftp), pol_forward_name(s->forward));
	fprintf(out, "env: %s\n", env);
	if (s->max_session > 0)
		fprintf(out, "max-session: %ldh%02ldm%02lds\n", s->max_session / 3600,
		    s->max_session / 60 % 60, s->max_session % 60);
	else
		fprintf(out, "max-session: none\n");
	if (s->escort_required) {
		char who[512];
		fprintf(out, "escort: required (the session waits until one of %s joins, and pauses "
		    "while none is present)\n", pol_session_escort_text(s, who, sizeof(who)));
	} else {
		fprintf(out, "escort: no\n");
	}
	fprintf(out, "passwords: %s\n", s->record_passwords ? "record" : "mask");
	fprintf(out, "observe-deny: %s\n", s->observe_end_on_deny ? "end" : "warn");
	for (size_t i = 0; i < s->nrules; i++)
		if (s->rules[i]->nsupervise > 0) {
			fprintf(out, "supervised: yes (rule %s: escorts may pause, resume or end "
			    "the session)\n", s->rules[i]->name);
			break;
		}
}

static void
put_constructs(const struct pol_rule *r, FILE *out)
{
	if (r->construct_all) {
		fprintf(out, "all");
		return;
	}
	bool first = true;
	for (unsigned b = 1; b && b <= POL_C_ALL; b <<= 1)
		if ((r->constructs & b) && b != POL_C_LIST && b != POL_C_PIPE) {
			fprintf(out, "%s%s", first ? "" : " ", pol_construct_name(b));
			first = false;
		}
	if (first)
		fprintf(out, "none beyond ; && || and |");
}

/* "Mon-Fri 09:00-17:00 America/New_York" for each `when` line, or "always". */
static void
put_when(const struct pol_rule *r, FILE *out)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	if (r->nwhen == 0) {
		fprintf(out, "always");
		return;
	}
	for (size_t i = 0; i < r->nwhen; i++) {
		const struct when *w = &r->when[i];
		if (i)
			fprintf(out, " or ");
		if (w->days != 0x7f) {
			/* runs of three days or more as ranges: Mon-Fri, Sat,Sun */
			bool first = true;
			for (int d = 0; d < 7; d++) {
				if (!(w->days & (1u << d)))
					continue;
				int e = d;
				while (e + 1 < 7 && (w->days & (1u << (e + 1))))
					e++;
				if (e - d >= 2)
					fprintf(out, "%s%s-%s", first ? "" : ",", day[d], day[e]);
				else
					for (int k = d; k <= e; k++)
						fprintf(out, "%s%s", first && k == d ? "" : ",", day[k]);
				first = false;
				d = e;
			}
			fputc(' ', out);
		}
		fprintf(out, "%02d:%02d-%02d:%02d ", w->from / 60, w->from % 60, w->to / 60, w->to % 60);
		if (w->zone != NULL)
			fprintf(out, "%s", pol__tz_name(w->zone));
		else if (w->tz == 0)
			fprintf(out, "UTC");
		else
			fprintf(out, "%c%02d:%02d", w->tz < 0 ? '-' : '+', abs(w->tz) / 60, abs(w->tz) % 60);
	}
}

int
policy_rules_for(const struct policy *p, const char *user, const char *target, time_t now,
    unsigned flags, FILE *out)
{
	struct pol_session *s = NULL;
	struct pol_refusal why;
	memset(&why, 0, sizeof(why));
	int rc = policy_admit((struct policy *)p, user, target, now, &s, &why);
	if (rc == POL_E_NOMEM)
		return rc;
	if (rc != 0) {
		fprintf(out, "%s may not open a session on %s: %s\n", user, target,
		    (flags & POL_RULES_DETAIL) && why.log_msg[0] ? why.log_msg : why.user_msg);
		return rc;
	}
	fprintf(out, "%s may open a session on %s (rules: %s)\n", user, target, s->rule_names);
	put_settings(s, out);
	fprintf(out, "commands (deny wins over approve, approve over allow; anything not allowed "
	    "is denied):\n");
	size_t shown = 0;
	static const enum pol_verdict order[] = { POL_DENY, POL_APPROVE, POL_ALLOW };
	for (size_t o = 0; o < 3; o++)
		for (size_t i = 0; i < s->nrules; i++) {
			const struct pol_rule *r = s->rules[i];
			for (size_t k = 0; k < r->npats; k++) {
				const struct pattern *pt = &r->pats[k];
				if (pt->verdict != order[o])
					continue;
				fprintf(out, "  %-7s \"%s\"  rule %s, %s:%d%s%s\n",
				    pol_verdict_name(pt->verdict), pt->text, r->name, r->file, pt->line,
				    pt->reason ? ": " : "", pt->reason ? pt->reason : "");
				shown++;
			}
		}
	if (shown == 0)
		fprintf(out, "  (none: every command is denied)\n");
	fprintf(out, "rules:\n");
	for (size_t i = 0; i < s->nrules; i++) {
		const struct pol_rule *r = s->rules[i];
		fprintf(out, "  rule %s, %s:%d: when ", r->name, r->file, r->line);
		put_when(r, out);
		fprintf(out, "; constructs ");
		put_constructs(r, out);
		fputc('\n', out);
	}
	pol_session_free(s);
	return ferror(out) ? POL_E_IO : 0;
}
