/*
 * parse.c: reads escort-policy(5) text into a policy object.  The lexer
 * (lex.c) feeds statements to a small state machine: top level, or inside
 * one user / target / rule / forbid block (rule statements: parse_rule.c).
 * Every mistake is reported with FILE:LINE:COL and parsing goes on with the
 * next statement.  References are checked later (resolve.c), once every
 * file is read.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/keytext.h"
#include "policy/pathnorm.h"
#include "policy/parse_int.h"

/* True when s is a valid name (letters, digits, _ - . @). */
static bool
is_ident(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("_-.@", *s)))
			return false;
	return true;
}

/* Parses a duration like 90s, 30m, 2h, 1d, 1h30m.  Returns seconds or -1. */

bool
pol__want_args(struct pstate *S, struct tok *v, int n, int lo, int hi, const char *usage)
{
	if (n - 1 < lo || n - 1 > hi) {
		int col = n - 1 > hi ? v[hi + 1].col : v[0].col;
		int line = n - 1 > hi ? v[hi + 1].line : v[0].line;
		pol__perr(S, line, col, "%s: usage: %s", v[0].s, usage);
		return false;
	}
	return true;
}


static void
stmt_user(struct pstate *S, struct tok *v, int n)
{
	struct user_int *u = S->user;
	struct arena *A = &S->p->arena;
	if (strcmp(v[0].s, "key") == 0) {
		if (!pol__want_args(S, v, n, 1, 1, "key \"TYPE BASE64 [COMMENT]\""))
			return;
		char *norm = NULL;
		const char *why = pol__keytext_normalize(A, v[1].s, &norm);
		if (why != NULL) {
			pol__pkeyerr(S, v[1].line, v[1].col, "key", why);
			return;
		}
		const char **e = pol__arena_push(A, &u->pub.keys, &u->pub.nkeys, &u->kcap, sizeof(char *));
		if (e)
			*e = norm;
	} else if (strcmp(v[0].s, "attr") == 0) {
		if (!pol__want_args(S, v, n, 2, 2, "attr KEY VALUE"))
			return;
		struct pol_kv *e = pol__arena_push(A, &u->pub.attrs, &u->pub.nattrs, &u->acap, sizeof(*e));
		if (e) {
			e->key = v[1].s;
			e->value = v[2].s;
		}
	} else {
		pol__perr(S, v[0].line, v[0].col, "unknown keyword '%s' in user '%s' (expected key or attr)",
		    v[0].s, u->pub.name);
	}
}

static void
stmt_target(struct pstate *S, struct tok *v, int n)
{
	struct target_int *t = S->target;
	struct arena *A = &S->p->arena;
	const char *kw = v[0].s;
	if (strcmp(kw, "address") == 0) {
		if (!pol__want_args(S, v, n, 1, 1, "address HOST[:PORT]"))
			return;
		const char *s = v[1].s, *host = s, *port = NULL;
		size_t hl;
		if (s[0] == '[') {
			const char *rb = strchr(s, ']');
			if (rb == NULL || (rb[1] != '\0' && rb[1] != ':')) {
				pol__perr(S, v[1].line, v[1].col, "bad address '%s': expected [IPV6]:PORT", s);
				return;
			}
			host = s + 1;
			hl = (size_t)(rb - host);
			if (rb[1] == ':')
				port = rb + 2;
		} else {
			const char *c = strrchr(s, ':');
			if (c != NULL && strchr(s, ':') != c) {
				pol__perr(S, v[1].line, v[1].col, "bad address '%s': write IPv6 as [ADDR]:PORT", s);
				return;
			}
			hl = c ? (size_t)(c - s) : strlen(s);
			if (c)
				port = c + 1;
		}
		if (hl == 0) {
			pol__perr(S, v[1].line, v[1].col, "bad address '%s': no host", s);
			return;
		}
		long pn = 22;
		if (port != NULL) {
			char *end;
			errno = 0;
			pn = strtol(port, &end, 10);
			if (*port == '\0' || *end != '\0' || errno || pn < 1 || pn > 65535) {
				pol__perr(S, v[1].line, v[1].col + (int)(port - s), "bad port '%s': expected 1-65535", port);
				return;
			}
		}
		t->pub.host = pol__arena_strndup(A, host, hl);
		t->pub.port = (uint16_t)pn;
	} else if (strcmp(kw, "login") == 0) {
		if (pol__want_args(S, v, n, 1, 1, "login ACCOUNT"))
			t->pub.login = v[1].s;
	} else if (strcmp(kw, "home") == 0) {
		if (!pol__want_args(S, v, n, 1, 1, "home /ABSOLUTE/PATH"))
			return;
		char *norm = NULL;
		if (v[1].s[0] != '/' || pol_path_normalise(v[1].s, strlen(v[1].s), &norm, NULL) != 0) {
			pol__perr(S, v[1].line, v[1].col, "home: expected an absolute path");
			free(norm);
			return;
		}
		t->pub.home = pol__arena_strdup(A, norm);
		free(norm);
	} else if (strcmp(kw, "identity") == 0) {
		if (pol__want_args(S, v, n, 1, 1, "identity PATH")) {
			t->pub.identity = v[1].s;
			t->identity_line = v[1].line;
			t->identity_col = v[1].col;
		}
	} else if (strcmp(kw, "hostkey") == 0) {
		if (!pol__want_args(S, v, n, 1, 1, "hostkey \"TYPE BASE64\""))
			return;
		char *norm = NULL;
		const char *why = pol__keytext_normalize(A, v[1].s, &norm);
		if (why != NULL)
			pol__pkeyerr(S, v[1].line, v[1].col, "hostkey", why);
		else
			t->pub.hostkey = norm;
	} else if (strcmp(kw, "label") == 0) {
		if (!pol__want_args(S, v, n, 2, 2, "label KEY VALUE"))
			return;
		struct pol_kv *e = pol__arena_push(A, &t->pub.labels, &t->pub.nlabels, &t->lcap, sizeof(*e));
		if (e) {
			e->key = v[1].s;
			e->value = v[2].s;
		}
	} else {
		pol__perr(S, v[0].line, v[0].col, "unknown keyword '%s' in target '%s' (expected address, "
		    "login, home, identity, hostkey or label)", kw, t->pub.name);
	}
}

static void
open_block(struct pstate *S, struct tok *v, int n, enum tok_kind end)
{
	const char *kw = v[0].s;
	struct arena *A = &S->p->arena;
	struct policy *p = S->p;
	if (end != T_LBRACE) {
		pol__perr(S, v[0].line, v[n - 1].col + (int)v[n - 1].len + (v[n - 1].kind == T_STRING ? 2 : 0),
		    "expected '{' after %s %s", kw, n > 1 ? v[1].s : "NAME");
		S->block = B_SKIP;
		return;
	}
	S->block_line = v[0].line;
	S->block_col = v[0].col;
	if (n != 2 || !is_ident(v[1].s)) {
		pol__perr(S, n > 1 ? v[1].line : v[0].line, n > 1 ? v[1].col : v[0].col,
		    "%s: expected one name (letters, digits, _ - . @) before '{'", kw);
		S->block = B_SKIP;
		return;
	}
	if (strcmp(kw, "user") == 0) {
		struct user_int *u = pol__arena_alloc(A, sizeof(*u));
		struct user_int **e = ARENA_PUSH(A, p->users, p->nusers, p->cusers);
		if (!u || !e)
			return;
		*e = u;
		u->pub.name = v[1].s;
		u->pub.file = S->file;
		u->pub.line = v[0].line;
		u->col = v[1].col;
		S->user = u;
		S->block = B_USER;
	} else if (strcmp(kw, "target") == 0) {
		struct target_int *t = pol__arena_alloc(A, sizeof(*t));
		struct target_int **e = ARENA_PUSH(A, p->targets, p->ntargets, p->ctargets);
		if (!t || !e)
			return;
		*e = t;
		t->pub.name = v[1].s;
		t->pub.file = S->file;
		t->pub.line = v[0].line;
		t->col = v[1].col;
		S->target = t;
		S->block = B_TARGET;
	} else {
		struct pol_rule *r = pol__arena_alloc(A, sizeof(*r));
		struct pol_rule **e = ARENA_PUSH(A, p->rules, p->nrules, p->crules);
		if (!r || !e)
			return;
		*e = r;
		r->name = v[1].s;
		r->forbid = strcmp(kw, "forbid") == 0;
		r->file = S->file;
		r->line = v[0].line;
		r->col = v[1].col;
		r->shell = r->exec = r->sftp = r->forward = -1;
		r->passwords = r->observe_deny = -1;
		r->max_session = -1;
		S->rule = r;
		S->block = r->forbid ? B_FORBID : B_RULE;
	}
}

static void
stmt_include(struct pstate *S, struct tok *v, int n)
{
	if (!pol__want_args(S, v, n, 1, 1, "include GLOB"))
		return;
	if (S->depth >= 8) {
		pol__perr(S, v[0].line, v[0].col, "includes nested more than 8 deep");
		return;
	}
#ifdef ESCORT_FUZZING
	pol__perr(S, v[0].line, v[0].col, "include: disabled while fuzzing");
	return;
#endif
	char pat[PATH_MAX];
	if (v[1].s[0] == '/' || strchr(S->file, '/') == NULL) {
		snprintf(pat, sizeof(pat), "%s", v[1].s);
	} else {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", S->file);
		snprintf(pat, sizeof(pat), "%s/%s", dirname(dir), v[1].s);
	}
	glob_t g;
	int gr = glob(pat, GLOB_ERR, NULL, &g);
	if (gr == GLOB_NOMATCH) {
		if (strpbrk(v[1].s, "*?[") == NULL)
			pol__perr(S, v[1].line, v[1].col, "include: cannot read '%s': no such file", pat);
		return;
	}
	if (gr != 0) {
		pol__perr(S, v[1].line, v[1].col, "include: cannot read '%s'", pat);
		return;
	}
	for (size_t k = 0; k < g.gl_pathc; k++)
		pol__parse_file(S->p, g.gl_pathv[k], S->depth + 1, S->d, S->sha, S->file,
		    v[1].line, v[1].col);
	globfree(&g);
}

static void
stmt_expect(struct pstate *S, struct tok *v, int n)
{
	if (!pol__want_args(S, v, n, 4, 4, "expect allow|deny|approve USER TARGET \"COMMAND\""))
		return;
	enum pol_verdict vd;
	if (strcmp(v[1].s, "allow") == 0)
		vd = POL_ALLOW;
	else if (strcmp(v[1].s, "deny") == 0)
		vd = POL_DENY;
	else if (strcmp(v[1].s, "approve") == 0)
		vd = POL_APPROVE;
	else {
		pol__perr(S, v[1].line, v[1].col, "bad expectation '%s': expected allow, deny or approve", v[1].s);
		return;
	}
	struct pol_expect *e = ARENA_PUSH(&S->p->arena, S->p->expects, S->p->nexpects,
	    S->p->cexpects);
	if (e == NULL)
		return;
	e->want = vd;
	e->user = v[2].s;
	e->target = v[3].s;
	e->command = v[4].s;
	e->file = S->file;
	e->line = v[0].line;
	e->col = v[0].col;
}

static void
stmt_group(struct pstate *S, struct tok *v, int n)
{
	if (n < 2 || !is_ident(v[1].s)) {
		pol__perr(S, n > 1 ? v[1].line : v[0].line, n > 1 ? v[1].col : v[0].col,
		    "group: usage: group NAME USER...");
		return;
	}
	struct arena *A = &S->p->arena;
	struct pol_group *g = pol__arena_alloc(A, sizeof(*g));
	struct pol_group **e = ARENA_PUSH(A, S->p->groups, S->p->ngroups, S->p->cgroups);
	if (!g || !e)
		return;
	*e = g;
	g->name = v[1].s;
	g->file = S->file;
	g->line = v[0].line;
	g->col = v[1].col;
	g->members = pol__arena_alloc(A, sizeof(char *) * (size_t)n);
	g->member_cols = pol__arena_alloc(A, sizeof(int) * (size_t)n);
	if (!g->members || !g->member_cols)
		return;
	for (int k = 2; k < n; k++) {
		g->member_cols[g->nmembers] = v[k].col;
		g->members[g->nmembers++] = v[k].s;
	}
}

static void
statement(struct pstate *S, struct tok *v, int n, enum tok_kind end)
{
	for (int k = 0; k < n; k++)
		if (k == 0 && v[k].kind == T_STRING) {
			pol__perr(S, v[k].line, v[k].col, "expected a keyword, found a string");
			return;
		}
	const char *kw = v[0].s;
	switch (S->block) {
	case B_SKIP:
		return;
	case B_TOP:
		if (strcmp(kw, "user") == 0 || strcmp(kw, "target") == 0 ||
		    strcmp(kw, "rule") == 0 || strcmp(kw, "forbid") == 0) {
			open_block(S, v, n, end);
			return;
		}
		if (end == T_LBRACE) {
			pol__perr(S, v[0].line, v[0].col, "unknown block '%s' (expected user, target, rule or forbid)", kw);
			S->block = B_SKIP;
			return;
		}
		if (strcmp(kw, "group") == 0)
			stmt_group(S, v, n);
		else if (strcmp(kw, "expect") == 0)
			stmt_expect(S, v, n);
		else if (strcmp(kw, "include") == 0)
			stmt_include(S, v, n);
		else
			pol__perr(S, v[0].line, v[0].col, "unknown keyword '%s' (expected user, group, target, "
			    "rule, forbid, expect or include)", kw);
		return;
	default:
		break;
	}
	if (end == T_LBRACE) {
		pol__perr(S, v[0].line, v[0].col, "'%s {' inside a block: blocks do not nest (missing '}'?)", kw);
		return;
	}
	if (S->block == B_USER)
		stmt_user(S, v, n);
	else if (S->block == B_TARGET)
		stmt_target(S, v, n);
	else
		pol__stmt_rule(S, v, n);
}

int
pol__parse_buffer(struct policy *p, const char *name, const char *buf, size_t len,
    int depth, struct pol_diags *d, void *sha)
{
	struct pstate S = { .p = p, .d = d, .buf = buf, .len = len, .line = 1,
		.depth = depth, .sha = sha, .block = B_TOP };
	S.file = pol__arena_strdup(&p->arena, name);
	if (S.file == NULL)
		return POL_E_NOMEM;
	if (sha != NULL) {
		char hdr[64];
		int hl = snprintf(hdr, sizeof(hdr), "%zu\n", len);
		EVP_DigestUpdate(sha, hdr, (size_t)hl);
		EVP_DigestUpdate(sha, buf, len);
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		S.i = 3;	/* UTF-8 byte order mark */
		S.line_start = 3;
	}
	struct tok v[MAXARGS + 1];
	int n = 0, r;
	bool too_many = false;
	for (;;) {
		struct tok t;
		if ((r = pol__lex(&S, &t)) != 0)
			return r;
		if (t.kind == T_WORD || t.kind == T_STRING) {
			if (n < MAXARGS)
				v[n++] = t;
			else if (!too_many) {
				pol__perr(&S, t.line, t.col, "more than %d words in one statement", MAXARGS);
				too_many = true;
			}
			continue;
		}
		if (n > 0)
			statement(&S, v, n, t.kind);
		else if (t.kind == T_LBRACE)
			pol__perr(&S, t.line, t.col, "unexpected '{'");
		if (t.kind == T_LBRACE && n > 0 && S.block == B_TOP)
			S.block = B_SKIP;	/* failed opener: skip its body */
		n = 0;
		too_many = false;
		if (t.kind == T_RBRACE) {
			if (S.block == B_TOP)
				pol__perr(&S, t.line, t.col, "unexpected '}'");
			S.block = B_TOP;
			S.user = NULL;
			S.target = NULL;
			S.rule = NULL;
		}
		if (t.kind == T_EOF)
			break;
	}
	if (S.block != B_TOP && S.block != B_SKIP)
		pol__perr(&S, S.block_line, S.block_col, "block not closed: missing '}'");
	else if (S.block == B_SKIP)
		pol__perr(&S, S.line, 1, "unexpected end of file: missing '}'");
	return S.nerr ? POL_E_SYNTAX : 0;
}

static int parse_file_read(struct policy *p, const char *path, int depth,
    struct pol_diags *d, void *sha, const char *from, int line, int col);

int
pol__parse_file(struct policy *p, const char *path, int depth, struct pol_diags *d,
    void *sha, const char *from, int line, int col)
{
	char *real = realpath(path, NULL);
	for (int k = 0; real != NULL && k < p->nreading; k++)
		if (strcmp(p->reading[k], real) == 0) {
			if (d)
				pol_diags_add(d, POL_SEV_ERROR, from ? from : path, line, col,
				    "include cycle: '%s' is already being read", path);
			free(real);
			return POL_E_SYNTAX;
		}
	if (real != NULL && p->nreading < (int)(sizeof(p->reading) / sizeof(p->reading[0])))
		p->reading[p->nreading++] = real;
	else
		free(real);
	int r = parse_file_read(p, path, depth, d, sha, from, line, col);
	if (real != NULL && p->nreading > 0 && p->reading[p->nreading - 1] == real)
		free(p->reading[--p->nreading]);
	return r;
}

static int
parse_file_read(struct policy *p, const char *path, int depth, struct pol_diags *d,
    void *sha, const char *from, int line, int col)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		if (d)
		{
			if (from)
				pol_diags_add(d, POL_SEV_ERROR, from, line, col,
				    "cannot read '%s': %s", path, strerror(e));
			else	/* the whole file is meant: no line or column */
				pol_diags_add(d, POL_SEV_ERROR, path, 0, 0, "cannot read: %s",
				    strerror(e));
		}
		return POL_E_IO;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > 64u << 20) {
				r = POL_E_TOOBIG;
				break;
			}
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				r = POL_E_NOMEM;
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int e = errno;
	if (ferror(f) && r == 0)
		r = POL_E_IO;
	fclose(f);
	if (r == 0)
		r = pol__parse_buffer(p, path, buf ? buf : "", len, depth, d, sha);
	else if (d)
		pol_diags_add(d, POL_SEV_ERROR, path, 0, 0, "cannot read: %s",
		    r == POL_E_IO ? strerror(e) : pol_strerror(r));
	free(buf);
	return r;
}

