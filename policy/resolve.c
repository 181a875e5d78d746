/*
 * resolve.c: after every file is read, sorts users, targets and groups by
 * name, finds duplicates, resolves every reference (group members, who /
 * escort specs, expect lines) and checks required fields.  Each problem is
 * an error at the line and column of the reference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/pol_int.h"

static int
cmp_user(const void *a, const void *b)
{
	return strcmp((*(struct user_int *const *)a)->pub.name, (*(struct user_int *const *)b)->pub.name);
}

static int
cmp_target(const void *a, const void *b)
{
	return strcmp((*(struct target_int *const *)a)->pub.name, (*(struct target_int *const *)b)->pub.name);
}

static int
cmp_group(const void *a, const void *b)
{
	return strcmp((*(struct pol_group *const *)a)->name, (*(struct pol_group *const *)b)->name);
}

static int
cmp_rule(const void *a, const void *b)
{
	const struct pol_rule *x = *(const struct pol_rule *const *)a, *y = *(const struct pol_rule *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void
resolve_specs(struct policy *p, struct pol_diags *d, const struct pol_rule *r,
    struct spec *v, size_t n, int *nerr)
{
	for (size_t k = 0; k < n; k++) {
		struct spec *s = &v[k];
		if (s->kind == SPEC_USER && strpbrk(s->a, "*?[") == NULL &&
		    policy_user(p, s->a) == NULL) {
			pol_diags_add(d, POL_SEV_ERROR, r->file, s->line, s->col, "unknown user '%s'", s->a);
			(*nerr)++;
		} else if (s->kind == SPEC_GROUP) {
			s->group = pol__find_group(p, s->a);
			if (s->group == NULL) {
				pol_diags_add(d, POL_SEV_ERROR, r->file, s->line, s->col, "unknown group '%s'", s->a);
				(*nerr)++;
			}
		}
	}
}

/* A forbid that matches no user or no target protects nothing: most often
 * a misspelt name, attribute or label.  Returns the number of errors. */
static int
forbid_reaches(const struct policy *p, struct pol_diags *d, const struct pol_rule *r)
{
	bool any_u = false, any_t = false;
	for (size_t i = 0; i < p->nusers && !any_u; i++)
		any_u = pol__specs_match_user(r->who, r->nwho, &p->users[i]->pub);
	for (size_t i = 0; i < p->ntargets && !any_t; i++)
		any_t = pol__specs_match_target(r->where, r->nwhere, &p->targets[i]->pub);
	int n = 0;
	if (!any_u) {
		pol_diags_add(d, POL_SEV_ERROR, r->file, r->who_line ? r->who_line : r->line, 1,
		    "forbid '%s' matches no user: its 'who' protects nothing (a misspelt name, "
		    "group or attribute?)", r->name);
		n++;
	}
	if (!any_t) {
		pol_diags_add(d, POL_SEV_ERROR, r->file, r->where_line ? r->where_line : r->line, 1,
		    "forbid '%s' matches no target: its 'where' protects nothing (a misspelt name "
		    "or label?)", r->name);
		n++;
	}
	return n;
}

int
pol__resolve(struct policy *p, unsigned flags, struct pol_diags *d)
{
	int nerr = 0;
	struct arena *A = &p->arena;
	if (p->nusers)
		qsort(p->users, p->nusers, sizeof(*p->users), cmp_user);
	if (p->ntargets)
		qsort(p->targets, p->ntargets, sizeof(*p->targets), cmp_target);
	if (p->ngroups)
		qsort(p->groups, p->ngroups, sizeof(*p->groups), cmp_group);
	for (size_t i = 1; i < p->nusers; i++)
		if (strcmp(p->users[i]->pub.name, p->users[i - 1]->pub.name) == 0) {
			const struct pol_user *a = &p->users[i - 1]->pub, *b = &p->users[i]->pub;
			pol_diags_add(d, POL_SEV_ERROR, b->file, b->line, p->users[i]->col,
			    "duplicate user '%s' (first defined at %s:%d)", b->name, a->file, a->line);
			nerr++;
		}
	for (size_t i = 1; i < p->ntargets; i++)
		if (strcmp(p->targets[i]->pub.name, p->targets[i - 1]->pub.name) == 0) {
			const struct pol_target *a = &p->targets[i - 1]->pub, *b = &p->targets[i]->pub;
			pol_diags_add(d, POL_SEV_ERROR, b->file, b->line, p->targets[i]->col,
			    "duplicate target '%s' (first defined at %s:%d)", b->name, a->file, a->line);
			nerr++;
		}
	for (size_t i = 1; i < p->ngroups; i++)
		if (strcmp(p->groups[i]->name, p->groups[i - 1]->name) == 0) {
			pol_diags_add(d, POL_SEV_ERROR, p->groups[i]->file, p->groups[i]->line,
			    p->groups[i]->col, "duplicate group '%s' (first defined at %s:%d)",
			    p->groups[i]->name, p->groups[i - 1]->file, p->groups[i - 1]->line);
			nerr++;
		}
	if (p->nrules > 1) {
		const struct pol_rule **s = malloc(p->nrules * sizeof(*s));
		if (s == NULL)
			return POL_E_NOMEM;
		memcpy(s, p->rules, p->nrules * sizeof(*s));
		qsort(s, p->nrules, sizeof(*s), cmp_rule);
		for (size_t i = 1; i < p->nrules; i++)
			if (strcmp(s[i]->name, s[i - 1]->name) == 0) {
				pol_diags_add(d, POL_SEV_ERROR, s[i]->file, s[i]->line, s[i]->col,
				    "duplicate rule name '%s' (first defined at %s:%d)", s[i]->name,
				    s[i - 1]->file, s[i - 1]->line);
				nerr++;
			}
		free(s);
	}
	/* groups: members must be users; users learn their groups */
	for (size_t i = 0; i < p->ngroups; i++) {
		struct pol_group *g = p->groups[i];
		for (size_t k = 0; k < g->nmembers; k++) {
			struct user_int *u = (struct user_int *)policy_user(p, g->members[k]);
			if (u == NULL) {
				pol_diags_add(d, POL_SEV_ERROR, g->file, g->line, g->member_cols[k],
				    "unknown user '%s' in group '%s'", g->members[k], g->name);
				nerr++;
				continue;
			}
			const struct pol_group **e = pol__arena_push(A, &u->groups, &u->ngroups, &u->gcap,
			    sizeof(*e));
			if (e == NULL)
				return POL_E_NOMEM;
			*e = g;
		}
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct pol_target *t = &p->targets[i]->pub;
		if (t->host == NULL) {
			pol_diags_add(d, POL_SEV_ERROR, t->file, t->line, p->targets[i]->col,
			    "target '%s' has no address", t->name);
			nerr++;
		}
	}
	if (flags & POL_LOAD_CHECK_FILES) {
		long n = policy_check_files(p, d);
		if (n < 0)
			return (int)n;
		nerr += (int)n;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		struct pol_rule *r = p->rules[i];
		const char *what = r->forbid ? "forbid" : "rule";
		if (r->nwho == 0) {
			pol_diags_add(d, POL_SEV_ERROR, r->file, r->line, r->col,
			    "%s '%s' has no 'who' line", what, r->name);
			nerr++;
		}
		if (r->nwhere == 0) {
			pol_diags_add(d, POL_SEV_ERROR, r->file, r->line, r->col,
			    "%s '%s' has no 'where' line", what, r->name);
			nerr++;
		}
		resolve_specs(p, d, r, r->who, r->nwho, &nerr);
		resolve_specs(p, d, r, r->escort, r->nescort, &nerr);
		resolve_specs(p, d, r, r->supervise, r->nsupervise, &nerr);
		if (r->forbid && r->nwho && r->nwhere)
			nerr += forbid_reaches(p, d, r);
	}
	for (size_t i = 0; i < p->nexpects; i++) {
		const struct pol_expect *e = &p->expects[i];
		if (policy_user(p, e->user) == NULL) {
			pol_diags_add(d, POL_SEV_ERROR, e->file, e->line, e->col,
			    "expect: unknown user '%s'", e->user);
			nerr++;
		}
		if (policy_target(p, e->target) == NULL) {
			pol_diags_add(d, POL_SEV_ERROR, e->file, e->line, e->col,
			    "expect: unknown target '%s'", e->target);
			nerr++;
		}
	}
	return nerr ? POL_E_SYNTAX : 0;
}

long
policy_check_files(const struct policy *p, struct pol_diags *d)
{
	long n = 0;
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct target_int *t = p->targets[i];
		if (t->pub.identity == NULL || access(t->pub.identity, R_OK) == 0)
			continue;
		int e = errno;
		if (pol_diags_add(d, POL_SEV_ERROR, t->pub.file, t->identity_line, t->identity_col,
		    "target '%s': identity file '%s' is not readable: %s", t->pub.name,
		    t->pub.identity, strerror(e)) != 0)
			return POL_E_NOMEM;
		n++;
	}
	return n;
}
