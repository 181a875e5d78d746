/* registry_redis_wire: sessions, actions and answers as text (registry_redis_wire.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/registry_redis_wire.h"

enum fkind {
	F_STR,          /* char[size] */
	F_TIME,         /* time_t */
	F_INT,          /* int */
	F_STATE,        /* enum px_reg_state, by name */
	F_VERB,         /* enum px_reg_verb, by name */
	F_ESCORTS,      /* px_reg_session.escorts and nescorts: one line each */
};

struct field {
	const char *name;
	enum fkind kind;
	size_t off;
	size_t size;
};

/* An action and where its answer goes; an answer's code and session. */
struct act_wire {
	struct px_reg_action a;
	char reply[PX_RRW_REPLY_MAX];
};

struct ans_wire {
	int rc;
	struct px_reg_session s;
};

#define SESSION_FIELDS(base) \
	{ "id", F_STR, base + offsetof(struct px_reg_session, id), PX_REG_ID_MAX }, \
	{ "user", F_STR, base + offsetof(struct px_reg_session, user), PX_REG_NAME_MAX }, \
	{ "target", F_STR, base + offsetof(struct px_reg_session, target), PX_REG_NAME_MAX }, \
	{ "start", F_TIME, base + offsetof(struct px_reg_session, start), sizeof(time_t) }, \
	{ "state", F_STATE, base + offsetof(struct px_reg_session, state), sizeof(enum px_reg_state) }, \
	{ "paused_by", F_STR, base + offsetof(struct px_reg_session, paused_by), PX_REG_NAME_MAX }, \
	{ "escort", F_ESCORTS, base, 0 }, \
	{ "pending", F_STR, base + offsetof(struct px_reg_session, pending), PX_REG_PENDING_MAX }, \
	{ "decided", F_STR, base + offsetof(struct px_reg_session, decided), PX_REG_NAME_MAX + 16 }, \
	{ "joined", F_INT, base + offsetof(struct px_reg_session, joined), sizeof(int) }, \
	{ "moderated", F_INT, base + offsetof(struct px_reg_session, moderated), sizeof(int) }, \
	{ "proxy", F_STR, base + offsetof(struct px_reg_session, proxy), PX_REG_NAME_MAX }, \
	{ "ended", F_STR, base + offsetof(struct px_reg_session, ended), PX_REG_REASON_MAX }

static const struct field session_fields[] = { SESSION_FIELDS(0) };

static const struct field action_fields[] = {
	{ "verb", F_VERB, offsetof(struct act_wire, a.verb), sizeof(enum px_reg_verb) },
	{ "id", F_STR, offsetof(struct act_wire, a.id), PX_REG_ID_MAX },
	{ "escort", F_STR, offsetof(struct act_wire, a.escort), PX_REG_NAME_MAX },
	{ "reason", F_STR, offsetof(struct act_wire, a.reason), PX_REG_REASON_MAX },
	{ "watcher", F_STR, offsetof(struct act_wire, a.watcher), PX_REG_WATCHER_MAX },
	{ "reply", F_STR, offsetof(struct act_wire, reply), PX_RRW_REPLY_MAX },
};

static const struct field answer_fields[] = {
	{ "rc", F_INT, offsetof(struct ans_wire, rc), sizeof(int) },
	SESSION_FIELDS(offsetof(struct ans_wire, s)),
};

#define NF(t) (sizeof(t) / sizeof(t[0]))

/* A bounded writer: fails (ok = 0) instead of overflowing. */
struct out {
	char *buf;
	size_t len, at;
	int ok;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (!o->ok || o->at + n + 1 > o->len) {
		o->ok = 0;
		return;
	}
	memcpy(o->buf + o->at, s, n);
	o->at += n;
	o->buf[o->at] = '\0';
}

/* "NAME VALUE\n", the value escaped. */
static void
put_line(struct out *o, const char *name, const char *v)
{
	put(o, name, strlen(name));
	put(o, " ", 1);
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			put(o, "\\\\", 2);
		else if (*v == '\n')
			put(o, "\\n", 2);
		else if (*v == '\r')
			put(o, "\\r", 2);
		else
			put(o, v, 1);
	}
	put(o, "\n", 1);
}

static long
encode(const char *head, const struct field *f, size_t nf, const void *base, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 1 };
	const char *b = base;
	char num[32];

	if (len == 0)
		return PX_EINVAL;
	buf[0] = '\0';
	put(&o, head, strlen(head));
	put(&o, "\n", 1);
	for (size_t i = 0; i < nf; i++) {
		const void *p = b + f[i].off;
		switch (f[i].kind) {
		case F_STR:
			put_line(&o, f[i].name, p);
			break;
		case F_TIME:
			snprintf(num, sizeof(num), "%lld", (long long)*(const time_t *)p);
			put_line(&o, f[i].name, num);
			break;
		case F_INT:
			snprintf(num, sizeof(num), "%d", *(const int *)p);
			put_line(&o, f[i].name, num);
			break;
		case F_STATE:
			put_line(&o, f[i].name, px__reg_state_name(*(const enum px_reg_state *)p));
			break;
		case F_VERB:
			put_line(&o, f[i].name, px__reg_verb_name(*(const enum px_reg_verb *)p));
			break;
		case F_ESCORTS: {
			const struct px_reg_session *s = p;
			for (int k = 0; k < s->nescorts && k < PX_REG_ESCORTS_MAX; k++)
				put_line(&o, f[i].name, s->escorts[k]);
			break;
		}
		}
	}
	return o.ok ? (long)o.at : PX_EINVAL;
}

long
px__rrw_session_encode(const struct px_reg_session *s, char *buf, size_t len)
{
	return encode("escort-session 1", session_fields, NF(session_fields), s, buf, len);
}

long
px__rrw_action_encode(const struct px_reg_action *a, const char *reply, char *buf, size_t len)
{
	struct act_wire w;

	memset(&w, 0, sizeof(w));
	w.a = *a;
	snprintf(w.reply, sizeof(w.reply), "%s", reply);
	return encode("escort-action 1", action_fields, NF(action_fields), &w, buf, len);
}

long
px__rrw_answer_encode(int rc, const struct px_reg_session *s, char *buf, size_t len)
{
	struct ans_wire w;

	memset(&w, 0, sizeof(w));
	w.rc = rc;
	if (s != NULL)
		w.s = *s;
	return encode("escort-answer 1", answer_fields, NF(answer_fields), &w, buf, len);
}

/* Unescapes v (n bytes) into dst (size bytes, cut to fit, NUL-terminated).
 * PX_OK or PX_EINVAL (an unknown escape, a NUL). */
static int
unescape(const char *v, size_t n, char *dst, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c == '\0')
			return PX_EINVAL;
		if (c == '\\') {
			if (++i == n)
				return PX_EINVAL;
			c = v[i] == '\\' ? '\\' : v[i] == 'n' ? '\n' : v[i] == 'r' ? '\r' : '\0';
			if (c == '\0')
				return PX_EINVAL;
		}
		if (o + 1 < size)
			dst[o++] = c;
	}
	if (size > 0)
		dst[o] = '\0';
	return PX_OK;
}

static int
parse_ll(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi ? PX_OK : PX_EINVAL;
}

/* Copies v into dst (size bytes), cut to fit; the rest of dst zeroed (a
 * field given twice leaves nothing of its first value). */
static void
copy_cut(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	memset(dst + n, 0, size - n);
}

/* Stores one field's value (already unescaped) into base. */
static int
store(const struct field *f, const char *v, char *base)
{
	void *p = base + f->off;
	long long n;

	switch (f->kind) {
	case F_STR:
		copy_cut(p, f->size, v);
		return PX_OK;
	case F_TIME:
		if (parse_ll(v, 0, (long long)1 << 40, &n) != PX_OK)
			return PX_EINVAL;
		*(time_t *)p = (time_t)n;
		return PX_OK;
	case F_INT:
		if (parse_ll(v, -1000000, 1000000, &n) != PX_OK)
			return PX_EINVAL;
		*(int *)p = (int)n;
		return PX_OK;
	case F_STATE:
		for (int k = PX_REG_RUNNING; k <= PX_REG_ENDED; k++)
			if (strcmp(v, px__reg_state_name((enum px_reg_state)k)) == 0) {
				*(enum px_reg_state *)p = (enum px_reg_state)k;
				return PX_OK;
			}
		return PX_EINVAL;
	case F_VERB:
		for (int k = PX_REG_PAUSE; k <= PX_REG_LEAVE; k++)
			if (strcmp(v, px__reg_verb_name((enum px_reg_verb)k)) == 0) {
				*(enum px_reg_verb *)p = (enum px_reg_verb)k;
				return PX_OK;
			}
		return PX_EINVAL;
	case F_ESCORTS: {
		struct px_reg_session *s = p;
		if (s->nescorts < PX_REG_ESCORTS_MAX)
			copy_cut(s->escorts[s->nescorts++], sizeof(s->escorts[0]), v);
		return PX_OK;
	}
	}
	return PX_EINVAL;
}

static int
decode(const char *head, const struct field *f, size_t nf, const char *text, size_t len, void *base)
{
	const char *p = text, *end = text + len, *nl;
	size_t hl = strlen(head);
	char v[PX_RRW_MAX];

	if (len < hl + 1 || memcmp(text, head, hl) != 0 || text[hl] != '\n')
		return PX_EINVAL;
	for (p = text + hl + 1; p < end; p = nl + 1) {
		const char *sp;
		size_t i;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return PX_EINVAL;	/* every line ends in a newline */
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL)
			return PX_EINVAL;
		for (i = 0; i < nf; i++)
			if (strlen(f[i].name) == (size_t)(sp - p) && memcmp(f[i].name, p, (size_t)(sp - p)) == 0)
				break;
		if (i == nf)
			continue;	/* a newer proxy's field */
		if (unescape(sp + 1, (size_t)(nl - sp - 1), v, sizeof(v)) != PX_OK ||
		    store(&f[i], v, base) != PX_OK)
			return PX_EINVAL;
	}
	return PX_OK;
}

int
px__rrw_session_decode(const char *text, size_t len, struct px_reg_session *out)
{
	memset(out, 0, sizeof(*out));
	return decode("escort-session 1", session_fields, NF(session_fields), text, len, out);
}

int
px__rrw_action_decode(const char *text, size_t len, struct px_reg_action *out, char *reply)
{
	struct act_wire w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.a.verb = (enum px_reg_verb)-1;
	rc = decode("escort-action 1", action_fields, NF(action_fields), text, len, &w);
	if (rc == PX_OK && ((int)w.a.verb < 0 || w.a.id[0] == '\0' || w.reply[0] == '\0'))
		rc = PX_EINVAL;	/* verb, id and reply are required */
	memcpy(out, &w.a, sizeof(*out));	/* padding too: copies compare equal */
	memcpy(reply, w.reply, sizeof(w.reply));
	return rc;
}

int
px__rrw_answer_decode(const char *text, size_t len, int *rc, struct px_reg_session *out)
{
	struct ans_wire w;
	int r;

	memset(&w, 0, sizeof(w));
	w.rc = 1;	/* no rc line: not an answer */
	r = decode("escort-answer 1", answer_fields, NF(answer_fields), text, len, &w);
	if (r == PX_OK && w.rc > 0)
		r = PX_EINVAL;
	*rc = w.rc;
	memcpy(out, &w.s, sizeof(*out));
	return r;
}
