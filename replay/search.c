/*
 * search.c: "escort-replay search [--json] [--matches N] [--since T]
 * [--until T] [--no-index|--reindex] EXPRESSION": the sessions matching an
 * expression of predicates, with where each matched:
 *
 *   expr  = term { "or" term }
 *   term  = unary { ["and"] unary }
 *   unary = ("not" | "!") unary | "(" expr ")" | KEY VALUE
 *   KEY   = user | target | login | attr (K=V) | command (glob, any
 *           decision) | decision, verdict (allow|deny|approve, any
 *           decision) | mode (strict|observe|exec, any decision) | file
 *           (a path glob, or a SHA-256 in hex, of any FILE record) | input
 *           (text in a line as typed) | output (text in the output, ANSI
 *           stripped) | since | until (TIME, on the start)
 *
 * input and output match across event boundaries (search_text.h).  The
 * matches of command, decision, file, input and output predicates that do
 * not stand under a "not" are listed, up to N per session in time order
 * (default 1): one line (or JSON object) each, the session's columns then
 * the place.
 *
 * Through the index (search_index.h), a session whose record rules the
 * expression out is skipped; every other one (and every one the index
 * does not hold for its file as it is) is verified, read and evaluated
 * again on what it holds: the index decides what is read, never what is
 * shown.  Sealed sessions read whole are added to the index, which is
 * saved at the end.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"
#include "replay/search_index.h"
#include "replay/search_text.h"

enum sx_op { SX_OR, SX_AND, SX_NOT, SX_PRED };
enum sx_key { K_USER, K_TARGET, K_LOGIN, K_ATTR, K_COMMAND, K_VERDICT,
	K_OUTPUT, K_SINCE, K_UNTIL, K_MODE, K_INPUT, K_FILE, K_DECISION };
static const char *const sx_keys[] = { "user", "target", "login", "attr",
	"command", "verdict", "output", "since", "until", "mode", "input",
	"file", "decision" };

#define SX_MATCHES_MAX 1000	/* --matches at most */

/* The values decision, verdict and mode take (escort-replay(1)); any other
 * is a bad expression, not a search that finds nothing. */
static const struct {
	enum sx_key key;
	const char *values[3];
	const char *err;
} sx_enums[] = {
	{ K_VERDICT, { "allow", "deny", "approve" },
	    "decision and verdict want allow, deny or approve" },
	{ K_DECISION, { "allow", "deny", "approve" },
	    "decision and verdict want allow, deny or approve" },
	{ K_MODE, { "strict", "observe", "exec" },
	    "mode wants strict, observe or exec" },
};

struct sx {
	enum sx_op op;
	enum sx_key key;
	const char *value;
	uint64_t time;
	char hex[65];		/* K_FILE: a SHA-256 in lower-case hex, or "" */
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

/* K_FILE: a value of 64 hex digits is a SHA-256 (x->hex), else a path
 * pattern. */
static void
sx_file_hex(struct sx *x)
{
	size_t i;

	x->hex[0] = '\0';
	if (strlen(x->value) != 64)
		return;
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)x->value[i])) {
			x->hex[0] = '\0';
			return;
		}
		x->hex[i] = (char)tolower((unsigned char)x->value[i]);
	}
	x->hex[64] = '\0';
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
		    "decision, verdict, mode, input, output, file, since, until)";
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
	for (k = 0; k < sizeof(sx_enums) / sizeof(sx_enums[0]); k++)
		if (sx_enums[k].key == x->key &&
		    strcmp(x->value, sx_enums[k].values[0]) != 0 &&
		    strcmp(x->value, sx_enums[k].values[1]) != 0 &&
		    strcmp(x->value, sx_enums[k].values[2]) != 0) {
			p->err = sx_enums[k].err;
			return NULL;
		}
	if (x->key == K_FILE)
		sx_file_hex(x);
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
		    x->key == K_INPUT || x->key == K_OUTPUT || x->key == K_FILE ||
		    x->key == K_VERDICT || x->key == K_DECISION);
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

/* 1 when predicate x still wants to see matches in this session. */
static int
sx_wants(const struct sx *x, const struct sx_session *ss)
{
	return !x->hit || (x->report && x->nhits < ss->max);
}

/* The FILE record e against the file predicates: PATH fields against a
 * path pattern, the SHA256 field against a hash. */
static void
sx_scan_file(struct sx_parser *p, struct sx_session *ss, const struct ev *e)
{
	struct ev_fields_iter it;
	const uint8_t *v;
	char path[4096], hex[65], ctx[4300], dir[32];
	size_t len, i;
	uint16_t tag;
	struct sx *x;
	int k, m;

	path[0] = hex[0] = dir[0] = '\0';
	ev_fields_get_str(e->data, e->len, EVF_DIRECTION, dir, sizeof(dir));
	for (k = 0; k < p->nall; k++) {
		x = p->all[k];
		if (x->op != SX_PRED || x->key != K_FILE || !sx_wants(x, ss))
			continue;
		m = 0;
		ev_fields_begin(&it, e->data, e->len);
		while (!m && ev_fields_next(&it, &tag, &v, &len) == 1) {
			if (tag == EVF_PATH && x->hex[0] == '\0' && len < sizeof(path)) {
				memcpy(path, v, len);
				path[len] = '\0';
				m = fnmatch(x->value, path, 0) == 0;
			} else if (tag == EVF_SHA256 && x->hex[0] != '\0' && len == 32) {
				for (i = 0; i < 32; i++)
					snprintf(hex + 2 * i, 3, "%02x", v[i]);
				m = strcmp(hex, x->hex) == 0;
			}
		}
		if (!m)
			continue;
		if (ev_fields_get_str(e->data, e->len, EVF_PATH, path,
		    sizeof(path)) != REC_OK)
			strcpy(path, "-");
		snprintf(ctx, sizeof(ctx), "%s %s%s%s", dir[0] ? dir : "file", path,
		    hex[0] ? " sha256 " : "", hex);
		if (hex[0] == '\0' && ev_fields_find(e->data, e->len, EVF_SHA256, &v,
		    &len) == REC_OK && len == 32) {
			strcat(ctx, " sha256 ");
			for (i = 0; i < 32; i++)
				snprintf(ctx + strlen(ctx), 3, "%02x", v[i]);
		}
		sx_hit_add(ss, x, e->channel, e->t_ns, (const uint8_t *)ctx,
		    strlen(ctx));
	}
}

/* Marks the event predicates that e satisfies (input and output go
 * through search_text), noting the matches to list. */
static void
sx_scan(struct sx_parser *p, struct sx_session *ss, const struct ev *e)
{
	char buf[4096], verdict[32], ctx[4200];
	struct sx *x;
	int k, has_cmd;

	if (e->type == EV_FILE) {
		sx_scan_file(p, ss, e);
		return;
	}
	if (e->type != EV_DECISION)
		return;
	has_cmd = ev_fields_get_str(e->data, e->len, EVF_COMMAND, buf,
	    sizeof(buf)) == REC_OK;
	if (!has_cmd)
		buf[0] = '\0';
	if (ev_fields_get_str(e->data, e->len, EVF_VERDICT, verdict,
	    sizeof(verdict)) != REC_OK)
		verdict[0] = '\0';
	for (k = 0; k < p->nall; k++) {
		x = p->all[k];
		if (x->op != SX_PRED || !sx_wants(x, ss))
			continue;
		switch (x->key) {
		case K_COMMAND:
			if (has_cmd && fnmatch(x->value, buf, 0) == 0)
				sx_hit_add(ss, x, e->channel, e->t_ns,
				    (const uint8_t *)buf, strlen(buf));
			break;
		case K_VERDICT:
		case K_DECISION:
			if (strcmp(x->value, verdict) != 0)
				break;
			snprintf(ctx, sizeof(ctx), "%s: %s", verdict, buf[0] ? buf :
			    "-");
			sx_hit_add(ss, x, e->channel, e->t_ns, (const uint8_t *)ctx,
			    strlen(ctx));
			break;
		case K_MODE:
			replay_cmd_mode(e, ctx, sizeof(ctx));
			x->hit |= strcmp(x->value, ctx) == 0;
			break;
		default:
			break;
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

#define SX_USAGE "usage: escort-replay [--store DIR] search [--json] " \
    "[--matches N] [--since TIME] [--until TIME] [--no-index | --reindex] " \
    "EXPRESSION\n"

/* search's own options (before "--"). */
struct sx_opts {
	int json;
	size_t max;		/* --matches */
	int no_index;		/* --no-index */
	int reindex;		/* --reindex */
	uint64_t since, until;	/* --since, --until (on the start) */
};

/* Takes search's own options out of argv (before "--").  Returns 0, -1
 * after printing the usage for --help, or 2 after printing why. */
static int
sx_options(int *argc, char **argv, struct sx_opts *o)
{
	static const char *const timeopt[] = { "--since", "--until" };
	int i, out = 1, opts = 1, t;
	const char *v;
	char *end;
	unsigned long long n;
	size_t l;

	for (i = 1; i < *argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0) {
			opts = 0;
			continue;
		}
		if (opts && strcmp(argv[i], "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (opts && (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)) {
			fputs(SX_USAGE "EXPRESSION: KEY VALUE predicates joined by and, "
			    "or, not and parentheses;\nKEY: user, target, login, attr, "
			    "command, decision (or verdict), mode, file,\ninput, "
			    "output, since, until.  See escort-replay(1).\n", stdout);
			return -1;
		}
		if (opts && strcmp(argv[i], "--no-index") == 0) {
			o->no_index = 1;
			continue;
		}
		if (opts && strcmp(argv[i], "--reindex") == 0) {
			o->reindex = 1;
			continue;
		}
		for (t = 0; opts && t < 2; t++) {
			l = strlen(timeopt[t]);
			if (strncmp(argv[i], timeopt[t], l) != 0 ||
			    (argv[i][l] != '\0' && argv[i][l] != '='))
				continue;
			v = argv[i][l] == '=' ? argv[i] + l + 1 : i + 1 < *argc ?
			    argv[++i] : "";
			if (replay_parse_time(v, t ? &o->until : &o->since) != 0) {
				replay_err("search: %s: bad time \"%s\" (YYYY-MM-DD"
				    "[THH:MM[:SS]] UTC or @SECONDS)", timeopt[t], v);
				return 2;
			}
			break;
		}
		if (opts && t < 2)
			continue;
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
			o->max = (size_t)n;
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

/* ---- through the index (search_index.h) ------------------------------- */

enum sx_tri { SX_NO, SX_MAYBE, SX_YES };

struct sx_idx_arg {
	const struct sx *x;
	int maybe;		/* a value was cut: cannot say no */
};

/* search_index_each: 1 when the fact matches predicate a->x. */
static int
sx_idx_match(void *arg, const char *v)
{
	struct sx_idx_arg *a = arg;
	const struct sx *x = a->x;

	if (strlen(v) >= 4095)
		a->maybe = 1;
	switch (x->key) {
	case K_ATTR:
	case K_VERDICT:
	case K_DECISION:
	case K_MODE:
		return strcmp(v, x->value) == 0;
	case K_COMMAND:
		return fnmatch(x->value, v, 0) == 0;
	case K_FILE:
		return x->hex[0] != '\0' ? strcmp(v, x->hex) == 0 :
		    fnmatch(x->value, v, 0) == 0;
	default:
		return 0;
	}
}

/* Whether the session of record r may satisfy x, from its record alone:
 * SX_YES and SX_NO where the record says for certain, else SX_MAYBE. */
static enum sx_tri
sx_idx_eval(const struct sx *x, const struct search_index_rec *r)
{
	static const char fact_key[] = {
		[K_ATTR] = 'a', [K_COMMAND] = 'c', [K_VERDICT] = 'v',
		[K_DECISION] = 'v', [K_MODE] = 'm', [K_FILE] = 'f',
	};
	struct sx_idx_arg a = { x, 0 };
	char v[128];
	enum sx_tri l, rr;
	char key;

	switch (x->op) {
	case SX_OR:
		l = sx_idx_eval(x->l, r);
		rr = sx_idx_eval(x->r, r);
		return l > rr ? l : rr;
	case SX_AND:
		l = sx_idx_eval(x->l, r);
		rr = sx_idx_eval(x->r, r);
		return l < rr ? l : rr;
	case SX_NOT:
		return (enum sx_tri)(SX_YES - sx_idx_eval(x->l, r));
	default:
		break;
	}
	switch (x->key) {
	case K_USER:
	case K_TARGET:
	case K_LOGIN:
		/* as the session's reader gets them: cut to 127 bytes */
		search_index_get(r, x->key == K_USER ? 'u' : x->key == K_TARGET ?
		    't' : 'l', v, sizeof(v));
		if (x->key == K_TARGET)
			return fnmatch(x->value, v, 0) == 0 ? SX_YES : SX_NO;
		return strcmp(v, x->value) == 0 ? SX_YES : SX_NO;
	case K_SINCE:
		return r->start >= x->time ? SX_YES : SX_NO;
	case K_UNTIL:
		return r->start <= x->time ? SX_YES : SX_NO;
	case K_INPUT:
	case K_OUTPUT:
		return search_index_text_may(r, x->key == K_INPUT ? 'i' : 'o',
		    x->value, strlen(x->value)) ? SX_MAYBE : SX_NO;
	default:
		break;
	}
	key = x->key == K_FILE && x->hex[0] != '\0' ? 'h' : fact_key[x->key];
	if (search_index_each(r, key, sx_idx_match, &a))
		return SX_YES;
	return a.maybe ? SX_MAYBE : SX_NO;
}

/* The size and status change time of session id's file, through dfd
 * (STORE/sessions; 0 and 0 when it cannot be read: it is then read
 * directly, and its error shown). */
static void
sx_stamp(int dfd, const char *id, uint64_t *size, uint64_t *ctime_ns)
{
	char name[256];
	struct stat st;

	*size = *ctime_ns = 0;
	if (snprintf(name, sizeof(name), "%s%s", id, TR_SUFFIX) >=
	    (int)sizeof(name) || fstatat(dfd, name, &st, 0) != 0)
		return;
	*size = (uint64_t)st.st_size;
	*ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000u +
	    (uint64_t)st.st_ctim.tv_nsec;
}

/* What one search reads with. */
struct sx_run {
	const char *store;
	struct sx_parser *p;
	struct sx *root;
	struct sx_session ss;
	struct search_text_pat *pats;
	size_t npats;
	struct sx_opts o;
	struct search_index *ix;	/* NULL: --no-index */
	int dfd;			/* STORE/sessions, or -1 */
	int found, bad;
};

/* Reads session id (stamp: its file before reading, when it is to be
 * indexed; NULL when it is in the index) and prints its rows when it
 * matches. */
static void
sx_read(struct sx_run *run, const char *id, const uint64_t *stamp)
{
	struct search_index_build *b = NULL;
	struct search_text *st = NULL;
	struct sx_session *ss = &run->ss;
	struct sx_parser *p = run->p;
	struct sx_facts f;
	const uint8_t *meta;
	uint64_t last_t = 0, now[2];
	size_t used, mlen;
	struct tr *r;
	struct ev e;
	int x, k;

	if ((x = replay_open_quiet(run->store, id, &r)) != REC_OK) {
		if (x == REC_EAGAIN)
			return;	/* created this instant */
		replay_err("search: %s: %s", replay_esc(id), x == REC_ENOENT ?
		    "removed while searching" : rec_strerror(x));
		if (replay_rec_status(x) > run->bad)
			run->bad = replay_rec_status(x);
		return;
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
	for (k = 0; k < p->nall; k++)
		p->all[k]->hit = 0, p->all[k]->nhits = 0;
	for (k = 0; k < (int)run->npats; k++)
		run->pats[k].done = 0;
	sx_hits_clear(ss);
	if (run->npats > 0 && (st = search_text_new(run->pats, run->npats,
	    sx_text_hit, ss)) == NULL)
		ss->mem = 1;
	if (stamp != NULL && run->ix != NULL && stamp[0] != 0)
		b = search_index_build_new(r);
	while ((x = tr_next(r, &e)) == 1) {
		last_t = e.t_ns;
		sx_scan(p, ss, &e);
		if (st != NULL && search_text_event(st, &e) != 0)
			ss->mem = 1;
		if (b != NULL && search_index_build_event(b, &e) != 0) {
			search_index_build_free(b);
			b = NULL;
		}
	}
	if (st != NULL)
		search_text_finish(st, last_t);
	search_text_free(st);
	if (ss->mem && x >= 0)
		x = REC_ENOMEM;
	if (x < 0) {
		replay_err("search: %s: %s at offset %llu (searched up to "
		    "there)", id, rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
		if (replay_rec_status(x) > run->bad)
			run->bad = replay_rec_status(x);
		ss->mem = 0;
	}
	/* indexed once: a sealed session, read whole, that verified and did
	 * not change while it was read */
	if (b != NULL && x == 0 && tr_finished(r) &&
	    replay_check_state(id) != REPLAY_V_FAILED) {
		sx_stamp(run->dfd, id, &now[0], &now[1]);
		if (now[0] == stamp[0] && now[1] == stamp[1]) {
			(void)search_index_build_add(run->ix, b, id, stamp[0],
			    stamp[1], last_t);
			b = NULL;
		}
	}
	search_index_build_free(b);
	if (sx_eval(run->root, &f) && f.start >= run->o.since &&
	    f.start <= run->o.until) {
		run->found++;
		sx_print(id, &f, ss, run->o.json);
	}
	tr_free(r);
}

/* The sessions to read: the ones the index cannot rule out, and those it
 * does not hold (new, live, changed).  *stamps[i] is 0 0 for one in the
 * index.  Returns 0 or -1 (out of memory). */
static int
sx_candidates(struct sx_run *run, char **ids, size_t n, const char ***cand,
    uint64_t **stamps, size_t *ncand)
{
	const struct search_index_rec *rec;
	uint64_t size, ct;
	size_t i, k = 0;

	*cand = calloc(n ? n : 1, sizeof(**cand));
	*stamps = calloc(n ? 2 * n : 1, sizeof(**stamps));
	if (*cand == NULL || *stamps == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		size = ct = 0;
		rec = NULL;
		if (run->ix != NULL) {
			sx_stamp(run->dfd, ids[i], &size, &ct);
			rec = search_index_find(run->ix, ids[i], size, ct);
		}
		if (rec != NULL && (rec->start < run->o.since ||
		    rec->start > run->o.until ||
		    sx_idx_eval(run->root, rec) == SX_NO))
			continue;
		(*cand)[k] = ids[i];
		(*stamps)[2 * k] = rec != NULL ? 0 : size;
		(*stamps)[2 * k + 1] = rec != NULL ? 0 : ct;
		k++;
	}
	*ncand = k;
	return 0;
}

/* Loads the index of the store (rebuilt with --reindex), keeping only
 * the records of sessions in ids.  NULL with --no-index or when out of
 * memory. */
static struct search_index *
sx_index_load(const char *store, const struct sx_opts *o, char **ids,
    size_t n)
{
	struct search_index *ix = NULL;
	char note[4400];

	if (o->no_index)
		return NULL;
	if (search_index_open(store, &ix, note, sizeof(note)) != 0)
		return NULL;
	if (o->reindex)
		search_index_keep(ix, NULL, 0);	/* every record dropped */
	if (note[0] != '\0' && !o->reindex)
		replay_err("search: index %s: not used, rebuilt from the sessions",
		    note);
	search_index_keep(ix, ids, n);
	return ix;
}

int
replay_search(const char *store, int argc, char **argv)
{
	struct sx_parser p;
	struct sx_run run;
	struct search_text_pat pats[256];
	char *toks[256], *copy = NULL, **ids, note[4400];
	const char **cand = NULL;
	uint64_t *stamps = NULL;
	size_t n, i, ncand = 0, npats = 0;
	int k, x;

	memset(&p, 0, sizeof(p));
	memset(&run, 0, sizeof(run));
	run.ss.max = 1;
	run.o.max = 1;
	run.o.until = UINT64_MAX;
	if ((x = sx_options(&argc, argv, &run.o)) != 0)
		return x < 0 ? 0 : x;
	run.ss.max = run.o.max;
	if (argc < 2) {
		fputs(SX_USAGE, stderr);
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
	run.root = sx_expr(&p);
	if (run.root != NULL && p.i < p.n) {
		p.err = "unexpected word";
		p.i++;		/* named: the word itself */
	}
	if (run.root == NULL || p.err != NULL) {
		replay_err("search: %s%s%s", p.err ? p.err : "bad expression",
		    p.i <= p.n && p.i > 0 ? " near " : "",
		    p.i <= p.n && p.i > 0 ? p.tok[p.i - 1] : "");
		x = 2;
		goto out;
	}
	sx_polarity(run.root, 1);
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
	run.store = store;
	run.p = &p;
	run.pats = pats;
	run.npats = npats;
	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("search: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		x = 2;
		goto out;
	}
	run.ix = sx_index_load(store, &run.o, ids, n);
	snprintf(note, sizeof(note), "%s/%s", store, TR_SESSIONS_DIR);
	run.dfd = open(note, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sx_candidates(&run, ids, n, &cand, &stamps, &ncand) != 0) {
		replay_err("search: out of memory");
		x = 2;
		goto done;
	}
	/* what is shown is verified: with the index, the sessions read */
	if ((x = run.ix != NULL ? replay_check_ids(store, cand, ncand) :
	    replay_check_all(store)) != 0)
		goto done;
	for (i = 0; i < ncand; i++)
		sx_read(&run, cand[i], stamps[2 * i] != 0 ? &stamps[2 * i] : NULL);
	fflush(stdout);
	if (run.ix != NULL && search_index_save(store, run.ix, note,
	    sizeof(note)) != 0)
		replay_err("search: the index could not be kept (%s): the next "
		    "search reads every session again", note);
	if (replay_check_report() && run.bad == 0)
		run.bad = 1;
	x = run.bad ? run.bad : run.found ? 0 : 1;
done:
	if (run.dfd >= 0)
		close(run.dfd);
	free(cand);
	free(stamps);
	search_index_free(run.ix);
	replay_free_ids(ids, n);
out:
	sx_hits_clear(&run.ss);
	free(run.ss.v);
	for (k = 0; k < p.nall; k++)
		free(p.all[k]);
	free(copy);
	return x;
}
