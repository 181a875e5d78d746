/*
 * policy.c: loading, reference counting, the hash, lookups of users,
 * targets and groups, diagnostics and error strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/keytext.h"
#include "policy/pol_int.h"

const char *
pol_strerror(int err)
{
	switch (err) {
	case POL_OK: return "success";
	case POL_E_NOMEM: return "out of memory";
	case POL_E_IO: return "cannot read the policy file";
	case POL_E_SYNTAX: return "the policy has errors";
	case POL_E_INVAL: return "invalid argument";
	case POL_E_NOUSER: return "unknown user";
	case POL_E_NOTARGET: return "unknown target";
	case POL_E_REFUSED: return "access refused by policy";
	case POL_E_UNPARSABLE: return "command line not understood";
	case POL_E_TOOBIG: return "input too large";
	default: return "unknown error";
	}
}

/* ---- diagnostics -------------------------------------------------------- */

void
pol_diags_free(struct pol_diags *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int
pol_diags_add(struct pol_diags *d, enum pol_severity sev, const char *file, int line,
    int col, const char *fmt, ...)
{
	if (d == NULL)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct pol_diag *v = realloc(d->v, cap * sizeof(*v));
		if (v == NULL)
			return POL_E_NOMEM;
		d->v = v;
		d->cap = cap;
	}
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	char *f = strdup(file ? file : "-");
	if (r < 0 || f == NULL) {
		free(f);
		if (r >= 0)
			free(msg);
		return POL_E_NOMEM;
	}
	d->v[d->n++] = (struct pol_diag){ .sev = sev, .file = f, .line = line, .col = col, .msg = msg };
	if (sev == POL_SEV_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	return 0;
}

static int
cmp_diag(const void *a, const void *b)
{
	const struct pol_diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x < y ? -1 : x > y;
}

void
pol_diags_sort(struct pol_diags *d)
{
	/* qsort is not stable; compare addresses last via an index copy */
	if (d->n < 2)
		return;
	struct { struct pol_diag d; size_t i; } *t = malloc(d->n * sizeof(*t));
	if (t == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		t[i].d = d->v[i];
		t[i].i = i;
	}
	/* insertion sort keeps order of equal keys; lists are short */
	for (size_t i = 1; i < d->n; i++) {
		__typeof__(*t) x = t[i];
		size_t j = i;
		while (j > 0 && cmp_diag(&t[j - 1].d, &x.d) > 0 &&
		    !(strcmp(t[j - 1].d.file, x.d.file) == 0 && t[j - 1].d.line == x.d.line &&
		    t[j - 1].d.col == x.d.col)) {
			t[j] = t[j - 1];
			j--;
		}
		t[j] = x;
	}
	for (size_t i = 0; i < d->n; i++)
		d->v[i] = t[i].d;
	free(t);
}

/* ---- loading ------------------------------------------------------------- */

static int
finish_load(struct policy *p, int r, unsigned flags, struct pol_diags *d, EVP_MD_CTX *sha,
    struct policy **out)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (EVP_DigestFinal_ex(sha, md, &mdlen) != 1)
		r = r ? r : POL_E_NOMEM;
	EVP_MD_CTX_free(sha);
	for (unsigned i = 0; i < 32 && i < mdlen; i++)
		snprintf(p->hash + 2 * i, 3, "%02x", md[i]);
	int r2 = pol__resolve(p, flags, d);
	if (r == 0)
		r = r2;
	if (r != 0) {
		policy_unref(p);
		return r == POL_E_IO ? POL_E_SYNTAX : r;
	}
	*out = p;
	return 0;
}

static struct policy *
new_policy(const char *path, EVP_MD_CTX **sha)
{
	struct policy *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	atomic_init(&p->refs, 1);
	p->path = strdup(path);
	*sha = EVP_MD_CTX_new();
	if (p->path == NULL || *sha == NULL || EVP_DigestInit_ex(*sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(*sha);
		free(p->path);
		free(p);
		return NULL;
	}
	return p;
}

int
policy_load(const char *path, unsigned flags, struct policy **out, struct pol_diags *d)
{
	*out = NULL;
	EVP_MD_CTX *sha;
	struct policy *p = new_policy(path, &sha);
	if (p == NULL)
		return POL_E_NOMEM;
	p->load_flags = flags;
	int r = pol__parse_file(p, path, 0, d, sha, NULL, 0, 0);
	if (r == POL_E_IO || r == POL_E_NOMEM || r == POL_E_TOOBIG) {
		EVP_MD_CTX_free(sha);
		policy_unref(p);
		return r;
	}
	return finish_load(p, r, flags, d, sha, out);
}

int
policy_load_buffer(const char *name, const char *buf, size_t len, unsigned flags,
    struct policy **out, struct pol_diags *d)
{
	*out = NULL;
	EVP_MD_CTX *sha;
	struct policy *p = new_policy(name, &sha);
	if (p == NULL)
		return POL_E_NOMEM;
	p->load_flags = flags;
	int r = pol__parse_buffer(p, name, buf, len, 0, d, sha);
	if (r == POL_E_NOMEM) {
		EVP_MD_CTX_free(sha);
		policy_unref(p);
		return r;
	}
	return finish_load(p, r, flags, d, sha, out);
}

struct policy *
policy_ref(struct policy *p)
{
	atomic_fetch_add(&p->refs, 1);
	return p;
}

void
policy_unref(struct policy *p)
{
	if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	pol__arena_free(&p->arena);
	free(p->path);
	free(p);
}

const char *
policy_hash(const struct policy *p)
{
	return p->hash;
}

const char *
policy_path(const struct policy *p)
{
	return p->path;
}

/* ---- lookups ---------------------------------------------------------------- */

const struct pol_user *
policy_user(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->nusers;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, p->users[mid]->pub.name);
		if (c == 0)
			return &p->users[mid]->pub;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct pol_target *
policy_target(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->ntargets;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, p->targets[mid]->pub.name);
		if (c == 0)
			return &p->targets[mid]->pub;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct pol_group *
pol__find_group(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->ngroups;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, p->groups[mid]->name);
		if (c == 0)
			return p->groups[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool
pol__user_in_group(const struct pol_user *u, const struct pol_group *g)
{
	const struct user_int *ui = (const struct user_int *)u;
	for (size_t i = 0; i < ui->ngroups; i++)
		if (ui->groups[i] == g)
			return true;
	return false;
}

bool
pol_user_has_key(const struct pol_user *u, const char *key)
{
	for (size_t i = 0; i < u->nkeys; i++)
		if (pol__keytext_equal(u->keys[i], key))
			return true;
	return false;
}

const char *
pol_user_attr(const struct pol_user *u, const char *key)
{
	for (size_t i = 0; i < u->nattrs; i++)
		if (strcmp(u->attrs[i].key, key) == 0)
			return u->attrs[i].value;
	return NULL;
}

const char *
pol_target_label(const struct pol_target *t, const char *key)
{
	for (size_t i = 0; i < t->nlabels; i++)
		if (strcmp(t->labels[i].key, key) == 0)
			return t->labels[i].value;
	return NULL;
}

size_t policy_nusers(const struct policy *p) { return p->nusers; }
size_t policy_ntargets(const struct policy *p) { return p->ntargets; }

const struct pol_user *
policy_user_at(const struct policy *p, size_t i)
{
	return i < p->nusers ? &p->users[i]->pub : NULL;
}

const struct pol_target *
policy_target_at(const struct policy *p, size_t i)
{
	return i < p->ntargets ? &p->targets[i]->pub : NULL;
}

size_t policy_nexpects(const struct policy *p) { return p->nexpects; }

const struct pol_expect *
policy_expect_at(const struct policy *p, size_t i)
{
	return i < p->nexpects ? &p->expects[i] : NULL;
}

const char *pol_rule_name(const struct pol_rule *r) { return r->name; }
int pol_rule_line(const struct pol_rule *r) { return r->line; }
const char *pol_rule_file(const struct pol_rule *r) { return r->file; }
bool pol_rule_is_forbid(const struct pol_rule *r) { return r->forbid; }

const char *
pol_verdict_name(enum pol_verdict v)
{
	return v == POL_ALLOW ? "allow" : v == POL_APPROVE ? "approve" : "deny";
}

const char *
pol_shell_name(enum pol_shell s)
{
	return s == POL_SHELL_STRICT ? "strict" : s == POL_SHELL_OBSERVE ? "observe" : "none";
}

const char *
pol_sftp_name(enum pol_sftp s)
{
	static const char *const n[] = { "none", "download", "upload", "both" };
	return (unsigned)s < 4 ? n[s] : "none";
}

const char *
pol_forward_name(enum pol_forward f)
{
	return f == POL_FORWARD_LOCAL ? "local" : "none";
}
