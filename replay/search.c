/*
 * search.c: "escort-replay search EXPRESSION": the sessions matching an
 * expression of predicates:
 *
 *   expr  = term { "or" term }
 *   term  = unary { ["and"] unary }
 *   unary = ("not" | "!") unary | "(" expr ")" | KEY VALUE
 *   KEY   = user | target | login | attr (K=V) | command (glob, any
 *           decision) | verdict (allow|deny|approve, any decision) |
 *           output (text in the output, within one event) | since | until
 *           (TIME, on the start)
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"

enum sx_op { SX_OR, SX_AND, SX_NOT, SX_PRED };
enum sx_key { K_USER, K_TARGET, K_LOGIN, K_ATTR, K_COMMAND, K_VERDICT,
	K_OUTPUT, K_SINCE, K_UNTIL, K_MODE };
static const char *const sx_keys[] = { "user", "target", "login", "attr",
	"command", "verdict", "output", "since", "until", "mode" };

struct sx {
	enum sx_op op;
	enum sx_key key;
	const char *value;
	uint64_t time;
	int hit;		/* K_COMMAND/K_VERDICT/K_MODE/K_OUTPUT: seen in
				   the session */
	struct sx *l, *r;
};

struct sx_parser {
	char **tok;
	int n, i;
	const char *err;
	struct sx *all[256];	/* every node, for freeing */
	int nall;
};

static struct sx *sx_expr(struct sx_parser *p);

static struct sx *
sx_node(struct sx_parser *p, enum sx_op op)
{
	struct sx *x;

	if (p->nall == (int)(sizeof(p->all) / sizeof(p->all[0])) ||
	    (x = calloc(1, sizeof(*x))) == NULL) {
		p->err = "expression too large";
		return NULL;
	}
	x->op = op;
	p->all[p->nall++] = x;
	return x;
}

static const char *
sx_peek(struct sx_parser *p)
{
	return p->i < p->n ? p->tok[p->i] : NULL;
}

static struct sx *
sx_unary(struct sx_parser *p)
{
	const char *t = sx_peek(p);
	struct sx *x;
	size_t k;

	if (t == NULL) {
		p->err = "expression ends too early";
		return NULL;
	}
	p->i++;
	if (strcmp(t, "not") == 0 || strcmp(t, "!") == 0) {
		if ((x = sx_node(p, SX_NOT)) != NULL && (x->l = sx_unary(p)) == NULL)
			return NULL;
		return x;
	}
	if (strcmp(t, "(") == 0) {
		if ((x = sx_expr(p)) == NULL)
			return NULL;
		if (sx_peek(p) == NULL || strcmp(sx_peek(p), ")") != 0) {
			p->err = "missing )";
			return NULL;
		}
		p->i++;
		return x;
	}
	for (k = 0; k < sizeof(sx_keys) / sizeof(sx_keys[0]); k++)
		if (strcmp(t, sx_keys[k]) == 0)
			break;
	if (k == sizeof(sx_keys) / sizeof(sx_keys[0])) {
		p->err = "unknown predicate (user, target, login, attr, command, "
		    "verdict, mode, output, since, until)";
		return NULL;
	}
	if ((x = sx_node(p, SX_PRED)) == NULL)
		return NULL;
	x->key = (enum sx_key)k;
	if ((x->value = sx_peek(p)) == NULL) {
		p->err = "predicate without a value";
		return NULL;
	}
	p->i++;
	if ((x->key == K_SINCE || x->key == K_UNTIL) &&
	    replay_parse_time(x->value, &x->time) != 0) {
		p->err = "bad time (YYYY-MM-DD[THH:MM[:SS]] UTC or @SECONDS)";
		return NULL;
	}
	return x;
}

static struct sx *
sx_term(struct sx_parser *p)
{
	struct sx *x, *y, *a;
	const char *t;

	if ((x = sx_unary(p)) == NULL)
		return NULL;
	while ((t = sx_peek(p)) != NULL && strcmp(t, "or") != 0 &&
	    strcmp(t, ")") != 0) {
		if (strcmp(t, "and") == 0)
			p->i++;
		if ((y = sx_unary(p)) == NULL || (a = sx_node(p, SX_AND)) == NULL)
			return NULL;
		a->l = x;
		a->r = y;
		x = a;
	}
	return x;
}

static struct sx *
sx_expr(struct sx_parser *p)
{
	struct sx *x, *y, *o;

	if ((x = sx_term(p)) == NULL)
		return NULL;
	while (sx_peek(p) != NULL && strcmp(sx_peek(p), "or") == 0) {
		p->i++;
		if ((y = sx_term(p)) == NULL || (o = sx_node(p, SX_OR)) == NULL)
			return NULL;
		o->l = x;
		o->r = y;
		x = o;
	}
	return x;
}

/* Facts of one session needed by the predicates. */
struct sx_facts {
	char user[128], target[128], login[128];
	const uint8_t *meta;	/* META payload (fields) */
	size_t mlen;
	uint64_t start;
};

static int
sx_has_attr(const struct sx_facts *f, const char *kv)
{
	struct ev_fields_iter it;
	const uint8_t *v;
	size_t len;
	uint16_t tag;

	ev_fields_begin(&it, f->meta, f->mlen);
	while (ev_fields_next(&it, &tag, &v, &len) == 1)
		if (tag == EVF_ATTR && len == strlen(kv) && memcmp(v, kv, len) == 0)
			return 1;
	return 0;
}

static int
sx_eval(const struct sx *x, const struct sx_facts *f)
{
	switch (x->op) {
	case SX_OR:
		return sx_eval(x->l, f) || sx_eval(x->r, f);
	case SX_AND:
		return sx_eval(x->l, f) && sx_eval(x->r, f);
	case SX_NOT:
		return !sx_eval(x->l, f);
	default:
		break;
	}
	switch (x->key) {
	case K_USER:
		return strcmp(f->user, x->value) == 0;
	case K_TARGET:
		return fnmatch(x->value, f->target, 0) == 0;
	case K_LOGIN:
		return strcmp(f->login, x->value) == 0;
	case K_ATTR:
		return sx_has_attr(f, x->value);
	case K_SINCE:
		return f->start >= x->time;
	case K_UNTIL:
		return f->start <= x->time;
	default:
		return x->hit;
	}
}

/* Marks the event predicates that e satisfies. */
static void
sx_scan(struct sx_parser *p, const struct ev *e)
{
	char buf[4096];
	struct sx *x;
	int k;

	for (k = 0; k < p->nall; k++) {
		x = p->all[k];
		if (x->op != SX_PRED || x->hit)
			continue;
		if (x->key == K_OUTPUT && (e->type == EV_OUTPUT || e->type == EV_STDERR))
			x->hit = memmem(e->data, e->len, x->value, strlen(x->value)) != NULL;
		else if (x->key == K_COMMAND && e->type == EV_DECISION &&
		    ev_fields_get_str(e->data, e->len, EVF_COMMAND, buf,
		    sizeof(buf)) == REC_OK)
			x->hit = fnmatch(x->value, buf, 0) == 0;
		else if (x->key == K_VERDICT && e->type == EV_DECISION &&
		    ev_fields_get_str(e->data, e->len, EVF_VERDICT, buf,
		    sizeof(buf)) == REC_OK)
			x->hit = strcmp(x->value, buf) == 0;
		else if (x->key == K_MODE && e->type == EV_DECISION) {
			replay_cmd_mode(e, buf, sizeof(buf));
			x->hit = strcmp(x->value, buf) == 0;
		}
	}
}

/* Splits one expression string into tokens: words separated by blanks,
 * quotes ('...' or "...") grouping, parentheses standing alone.  out must
 * hold 3 * strlen(s) + 1 bytes; the tokens point into it. */
static int
sx_split(const char *s, char *out, char **tok, int max)
{
	char *w = out, q = 0;
	int n = 0, in = 0;

	for (; *s != '\0'; s++) {
		if (q != 0) {
			if (*s == q)
				q = 0;
			else
				*w++ = *s;
			continue;
		}
		if (isspace((unsigned char)*s) || *s == '(' || *s == ')') {
			if (in) {
				*w++ = '\0';
				in = 0;
			}
			if ((*s == '(' || *s == ')') && n < max) {
				tok[n++] = w;
				*w++ = *s;
				*w++ = '\0';
			}
			continue;
		}
		if (!in) {
			if (n == max)
				break;
			tok[n++] = w;
			in = 1;
		}
		if (*s == '"' || *s == '\'')
			q = *s;
		else
			*w++ = *s;
	}
	*w = '\0';
	return n;
}

int
replay_search(const char *store, int argc, char **argv)
{
	struct sx_parser p;
	struct sx_facts f;
	struct sx *root;
	char *toks[256], *copy = NULL, **ids, t[32];
	const uint8_t *meta;
	size_t n, i, used, mlen;
	struct tr *r;
	struct ev e;
	int k, x, found = 0, bad = 0;

	memset(&p, 0, sizeof(p));
	if (argc < 2) {
		fprintf(stderr, "usage: escort-replay [--store DIR] search EXPRESSION\n");
		return 2;
	}
	if (argc == 2) {
		if ((copy = malloc(3 * strlen(argv[1]) + 1)) == NULL)
			return 2;
		p.n = sx_split(argv[1], copy, toks, 256);
		p.tok = toks;
	} else {
		p.tok = argv + 1;
		p.n = argc - 1;
	}
	root = sx_expr(&p);
	if (root != NULL && p.i < p.n)
		p.err = "unexpected word";
	if (root == NULL || p.err != NULL) {
		replay_err("search: %s%s%s", p.err ? p.err : "bad expression",
		    p.i <= p.n && p.i > 0 ? " near " : "",
		    p.i <= p.n && p.i > 0 ? p.tok[p.i - 1] : "");
		x = 2;
		goto out;
	}
	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("search: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		x = 2;
		goto out;
	}
	if ((x = replay_check_all(store)) != 0) {
		replay_free_ids(ids, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((x = replay_open_quiet(store, ids[i], &r)) != REC_OK) {
			if (x == REC_EAGAIN)
				continue;	/* created this instant */
			replay_err("search: %s: %s", ids[i], x == REC_ENOENT ?
			    "removed while searching" : rec_strerror(x));
			if (replay_rec_status(x) > bad)
				bad = replay_rec_status(x);
			continue;
		}
		memset(&f, 0, sizeof(f));
		replay_meta(r, f.user, sizeof(f.user), f.target, sizeof(f.target));
		tr_meta(r, &meta, &mlen);
		if (ev_decode(meta, mlen, &e, &used) == REC_OK && e.type == EV_META) {
			f.meta = e.data;
			f.mlen = e.len;
			ev_fields_get_str(e.data, e.len, EVF_LOGIN, f.login, sizeof(f.login));
		}
		f.start = tr_start_wall_ns(r);
		for (k = 0; k < p.nall; k++)
			p.all[k]->hit = 0;
		while ((x = tr_next(r, &e)) == 1)
			sx_scan(&p, &e);
		if (x < 0) {
			replay_err("search: %s: %s at offset %llu (searched up to "
			    "there)", ids[i], rec_strerror(x),
			    (unsigned long long)tr_error_offset(r));
			if (replay_rec_status(x) > bad)
				bad = replay_rec_status(x);
		}
		if (sx_eval(root, &f)) {
			found++;
			replay_time(f.start, t, sizeof(t));
			printf("%s%s %s %s %s\n", replay_check_mark(ids[i]), ids[i],
			    f.user[0] ? f.user : "-", f.target[0] ? f.target : "-", t);
		}
		tr_free(r);
	}
	replay_free_ids(ids, n);
	fflush(stdout);
	if (replay_check_report() && bad == 0)
		bad = 1;
	x = bad ? bad : found ? 0 : 1;
out:
	for (k = 0; k < p.nall; k++)
		free(p.all[k]);
	free(copy);
	return x;
}
