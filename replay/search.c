/*
 * search.c: "escort-replay search [--json] [--matches N] EXPRESSION": the
 * sessions matching an expression of predicates, with where each matched:
 *
 *   expr  = term { "or" term }
 *   term  = unary { ["and"] unary }
 *   unary = ("not" | "!") unary | "(" expr ")" | KEY VALUE
 *   KEY   = user | target | login | attr (K=V) | command (glob, any
 *           decision) | verdict (allow|deny|approve, any decision) |
 *           mode (strict|observe|exec, any decision) | input (text in a
 *           line as typed) | output (text in the output, ANSI stripped)
 *           | since | until (TIME, on the start)
 *
 * input and output match across event boundaries (search_text.h).  The
 * matches of command, input and output predicates that do not stand under
 * a "not" are listed, up to N per session in time order (default 1): one
 * line (or JSON object) each, the session's columns then the place.
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
#include "replay/search_text.h"

enum sx_op { SX_OR, SX_AND, SX_NOT, SX_PRED };
enum sx_key { K_USER, K_TARGET, K_LOGIN, K_ATTR, K_COMMAND, K_VERDICT,
	K_OUTPUT, K_SINCE, K_UNTIL, K_MODE, K_INPUT };
static const char *const sx_keys[] = { "user", "target", "login", "attr",
	"command", "verdict", "output", "since", "until", "mode", "input" };

#define SX_MATCHES_MAX 1000	/* --matches at most */

struct sx {
	enum sx_op op;
	enum sx_key key;
	const char *value;
	uint64_t time;
	int hit;		/* K_COMMAND/K_VERDICT/K_MODE/K_OUTPUT/K_INPUT:
				   seen in the session */
	int report;		/* K_COMMAND/K_OUTPUT/K_INPUT not under "not":
				   its matches are listed */
	size_t nhits;		/* matches listed in the session */
	struct search_text_pat *pat;	/* K_INPUT/K_OUTPUT */
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
		    "verdict, mode, input, output, since, until)";
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
	if ((x->key == K_INPUT || x->key == K_OUTPUT) && (x->value[0] == '\0' ||
	    strlen(x->value) > SEARCH_TEXT_PAT_MAX)) {
		p->err = "input and output want a text of 1 to 256 bytes";
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

/* Marks the positive predicates under x (report), each below an even
 * number of "not". */
static void
sx_polarity(struct sx *x, int positive)
{
	if (x->op == SX_NOT) {
		sx_polarity(x->l, !positive);
	} else if (x->op != SX_PRED) {
		sx_polarity(x->l, positive);
		sx_polarity(x->r, positive);
	} else {
		x->report = positive && (x->key == K_COMMAND ||
		    x->key == K_INPUT || x->key == K_OUTPUT);
	}
}

/* One match to list. */
struct sx_hit {
	uint64_t t_ns;
	uint32_t ch;
	const struct sx *x;	/* the predicate */
	char *ctx;		/* malloc'd */
	size_t clen;
};

/* The matches of one session, and what the search reads it with. */
struct sx_session {
	struct sx_hit *v;
	size_t n, cap;
	size_t max;		/* --matches */
	int mem;		/* ran out of memory */
};

/* Notes that x matched at t_ns on channel ch with context ctx; returns 1
 * when x wants no more matches in this session. */
static int
sx_hit_add(struct sx_session *ss, struct sx *x, uint32_t ch, uint64_t t_ns,
    const uint8_t *ctx, size_t clen)
{
	struct sx_hit *nv;
	size_t cap;

	x->hit = 1;
	if (!x->report)
		return 1;
	if (x->nhits >= ss->max)
		return 1;
	if (ss->n == ss->cap) {
		cap = ss->cap ? 2 * ss->cap : 8;
		if ((nv = realloc(ss->v, cap * sizeof(*nv))) == NULL) {
			ss->mem = 1;
			return 1;
		}
		ss->v = nv;
		ss->cap = cap;
	}
	if ((ss->v[ss->n].ctx = malloc(clen + 1)) == NULL) {
		ss->mem = 1;
		return 1;
	}
	memcpy(ss->v[ss->n].ctx, ctx, clen);
	ss->v[ss->n].ctx[clen] = '\0';
	ss->v[ss->n].clen = clen;
	ss->v[ss->n].t_ns = t_ns;
	ss->v[ss->n].ch = ch;
	ss->v[ss->n++].x = x;
	return ++x->nhits >= ss->max;
}

static void
sx_hits_clear(struct sx_session *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++)
		free(ss->v[i].ctx);
	ss->n = 0;
}

/* search_text_hit_fn: a match of an input or output predicate. */
static void
sx_text_hit(void *arg, struct search_text_pat *p, uint32_t ch, uint64_t t_ns,
    const uint8_t *ctx, size_t clen)
{
	if (sx_hit_add(arg, p->owner, ch, t_ns, ctx, clen))
		p->done = 1;
}

/* Marks the event predicates that e satisfies (input and output go
 * through search_text). */
static void
sx_scan(struct sx_parser *p, struct sx_session *ss, const struct ev *e)
{
	char buf[4096];
	struct sx *x;
	int k;

	if (e->type != EV_DECISION)
		return;
	for (k = 0; k < p->nall; k++) {
		x = p->all[k];
		if (x->op != SX_PRED)
			continue;
		if (x->key == K_COMMAND && (!x->hit || (x->report &&
		    x->nhits < ss->max)) && ev_fields_get_str(e->data, e->len,
		    EVF_COMMAND, buf, sizeof(buf)) == REC_OK &&
		    fnmatch(x->value, buf, 0) == 0)
			sx_hit_add(ss, x, e->channel, e->t_ns, (const uint8_t *)buf,
			    strlen(buf));
		else if (x->hit)
			continue;
		else if (x->key == K_VERDICT && ev_fields_get_str(e->data,
		    e->len, EVF_VERDICT, buf, sizeof(buf)) == REC_OK)
			x->hit = strcmp(x->value, buf) == 0;
		else if (x->key == K_MODE) {
			replay_cmd_mode(e, buf, sizeof(buf));
			x->hit = strcmp(x->value, buf) == 0;
		}
	}
}

static int
sx_hit_cmp(const void *a, const void *b)
{
	const struct sx_hit *x = a, *y = b;

	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

/* A match's offset in seconds, rounded up to the millisecond (text) or
 * microsecond (JSON), so that "screen ID --at OFFSET" includes it. */
static void
sx_offset(uint64_t t_ns, uint64_t unit, int digits, char *out, size_t outsz)
{
	uint64_t u = (t_ns + unit - 1) / unit, per = 1000000000u / unit;

	snprintf(out, outsz, "%llu.%0*llu", (unsigned long long)(u / per), digits,
	    (unsigned long long)(u % per));
}

/* The context on a terminal: tabs as blanks, anything that is not
 * printable UTF-8 (C1 controls included) as '?'. */
static void
sx_print_text(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, l;

	while (i < n) {
		l = replay_utf8_len(p + i, n - i);
		if (l == 1 && p[i] >= 0x20 && p[i] != 0x7f)
			putchar(p[i]);
		else if (l == 1 && p[i] == '\t')
			putchar(' ');
		else if (l > 1 && !(l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
			fwrite(p + i, 1, l, stdout);
		else
			putchar('?');
		i += l ? l : 1;
	}
}

/* Prints the result rows of a matching session: one per listed match, or
 * one for the session when none is listed. */
static void
sx_print(const char *id, const struct sx_facts *f, struct sx_session *ss,
    int json)
{
	const struct sx_hit *h;
	char t[32], off[32];
	size_t i, n;

	if (ss->n > 1)
		qsort(ss->v, ss->n, sizeof(ss->v[0]), sx_hit_cmp);
	n = ss->n < ss->max ? ss->n : ss->max;
	for (i = 0; i < (n ? n : 1); i++) {
		h = n ? &ss->v[i] : NULL;
		replay_time(f->start + (h ? h->t_ns : 0), t, sizeof(t));
		if (json) {
			printf("{\"id\":");
			replay_json_str(stdout, id);
			printf(",\"user\":");
			replay_json_str_or_null(f->user);
			printf(",\"target\":");
			replay_json_str_or_null(f->target);
			replay_time(f->start, off, sizeof(off));
			printf(",\"start\":\"%s\",\"verify\":\"%s\",\"time\":\"%s\"",
			    off, replay_vstate_name(replay_check_state(id)), t);
			if (h == NULL) {
				printf(",\"offset\":null,\"channel\":null,"
				    "\"predicate\":null,\"value\":null,"
				    "\"match\":null}\n");
				continue;
			}
			sx_offset(h->t_ns, 1000, 6, off, sizeof(off));
			printf(",\"offset\":%s,\"channel\":%u,\"predicate\":\"%s\","
			    "\"value\":", off, h->ch, sx_keys[h->x->key]);
			replay_json_str(stdout, h->x->value);
			printf(",\"match\":");
			replay_json_bytes(stdout, (const uint8_t *)h->ctx, h->clen);
			printf("}\n");
			continue;
		}
		replay_time(f->start, t, sizeof(t));
		printf("%s%s %s %s %s", replay_check_mark(id), id,
		    f->user[0] ? f->user : "-", f->target[0] ? f->target : "-", t);
		if (h != NULL) {
			sx_offset(h->t_ns, 1000000, 3, off, sizeof(off));
			printf(" +%s ch%u %s: ", off, h->ch, sx_keys[h->x->key]);
			sx_print_text(h->ctx, h->clen);
		}
		putchar('\n');
	}
}

/* Takes search's own options out of argv (before "--"): --json and
 * --matches N.  Returns 0, or 2 after printing why. */
static int
sx_options(int *argc, char **argv, int *json, size_t *max)
{
	int i, out = 1, opts = 1;
	const char *v;
	char *end;
	unsigned long long n;

	for (i = 1; i < *argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0) {
			opts = 0;
			continue;
		}
		if (opts && strcmp(argv[i], "--json") == 0) {
			*json = 1;
			continue;
		}
		if (opts && strncmp(argv[i], "--matches", 9) == 0 &&
		    (argv[i][9] == '\0' || argv[i][9] == '=')) {
			v = argv[i][9] == '=' ? argv[i] + 10 : i + 1 < *argc ?
			    argv[++i] : "";
			n = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' || n < 1 ||
			    n > SX_MATCHES_MAX) {
				replay_err("search: --matches wants a number from 1 "
				    "to %d", SX_MATCHES_MAX);
				return 2;
			}
			*max = (size_t)n;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
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
	struct sx_session ss = { .max = 1 };
	struct search_text_pat pats[256];
	struct search_text *st = NULL;
	struct sx *root;
	char *toks[256], *copy = NULL, **ids;
	const uint8_t *meta;
	size_t n, i, used, mlen, npats = 0;
	uint64_t last_t;
	struct tr *r;
	struct ev e;
	int k, x, found = 0, bad = 0, json = 0;

	memset(&p, 0, sizeof(p));
	if ((x = sx_options(&argc, argv, &json, &ss.max)) != 0)
		return x;
	if (argc < 2) {
		fprintf(stderr, "usage: escort-replay [--store DIR] search [--json] "
		    "[--matches N] EXPRESSION\n");
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
	sx_polarity(root, 1);
	for (k = 0; k < p.nall; k++) {
		if (p.all[k]->op != SX_PRED || (p.all[k]->key != K_INPUT &&
		    p.all[k]->key != K_OUTPUT))
			continue;
		pats[npats].kind = p.all[k]->key == K_INPUT ? SEARCH_TEXT_INPUT :
		    SEARCH_TEXT_OUTPUT;
		pats[npats].text = p.all[k]->value;
		pats[npats].len = strlen(p.all[k]->value);
		pats[npats].owner = p.all[k];
		p.all[k]->pat = &pats[npats++];
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
			p.all[k]->hit = 0, p.all[k]->nhits = 0;
		for (k = 0; k < (int)npats; k++)
			pats[k].done = 0;
		sx_hits_clear(&ss);
		if (npats > 0 && (st = search_text_new(pats, npats, sx_text_hit,
		    &ss)) == NULL)
			ss.mem = 1;
		last_t = 0;
		while ((x = tr_next(r, &e)) == 1) {
			last_t = e.t_ns;
			sx_scan(&p, &ss, &e);
			if (st != NULL && search_text_event(st, &e) != 0)
				ss.mem = 1;
		}
		if (st != NULL)
			search_text_finish(st, last_t);
		search_text_free(st);
		st = NULL;
		if (ss.mem && x >= 0)
			x = REC_ENOMEM;
		if (x < 0) {
			replay_err("search: %s: %s at offset %llu (searched up to "
			    "there)", ids[i], rec_strerror(x),
			    (unsigned long long)tr_error_offset(r));
			if (replay_rec_status(x) > bad)
				bad = replay_rec_status(x);
			ss.mem = 0;
		}
		if (sx_eval(root, &f)) {
			found++;
			sx_print(ids[i], &f, &ss, json);
		}
		tr_free(r);
	}
	replay_free_ids(ids, n);
	fflush(stdout);
	if (replay_check_report() && bad == 0)
		bad = 1;
	x = bad ? bad : found ? 0 : 1;
out:
	sx_hits_clear(&ss);
	free(ss.v);
	for (k = 0; k < p.nall; k++)
		free(p.all[k]);
	free(copy);
	return x;
}
