/* registry_redis_stream: the entries of a remote watcher's stream
 * (registry_redis_wire.h): encoded to XADD's field/value pairs, decoded
 * from an XREAD reply's, by one table of fields. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/registry_redis_wire.h"

enum efield { E_V, E_K, E_SEQ, E_ROWS, E_COLS, E_DATA, E_WHY };

struct efield_def {
	const char *name;
	enum efield f;
};

static const struct efield_def efields[] = {
	{ "v", E_V }, { "k", E_K }, { "seq", E_SEQ }, { "rows", E_ROWS }, { "cols", E_COLS },
	{ "data", E_DATA }, { "why", E_WHY },
};

static const char *const kinds[] = {
	[PX_RRWE_SCREEN] = "screen",
	[PX_RRWE_OUT] = "out",
	[PX_RRWE_END] = "end",
};

#define NE (sizeof(efields) / sizeof(efields[0]))
#define NK (sizeof(kinds) / sizeof(kinds[0]))

size_t
px__rrwe_encode(const struct px_rrwe *e, const char **names, const char **vals, size_t *vlens,
    char nums[3][24])
{
	size_t n = 0;

	snprintf(nums[0], 24, "%llu", e->seq);
	snprintf(nums[1], 24, "%d", e->rows);
	snprintf(nums[2], 24, "%d", e->cols);
	for (size_t i = 0; i < NE; i++) {
		const char *v = NULL;
		size_t len = 0;

		switch (efields[i].f) {
		case E_V:
			v = PX_RRWE_VERSION;
			break;
		case E_K:
			v = (unsigned)e->kind < NK ? kinds[e->kind] : "?";
			break;
		case E_SEQ:
			v = nums[0];
			break;
		case E_ROWS:
			v = e->rows > 0 ? nums[1] : NULL;
			break;
		case E_COLS:
			v = e->cols > 0 ? nums[2] : NULL;
			break;
		case E_DATA:
			v = e->kind != PX_RRWE_END ? (e->data != NULL ? e->data : "") : NULL;
			len = e->data != NULL ? e->len : 0;
			break;
		case E_WHY:
			v = e->kind == PX_RRWE_END ? e->why : NULL;
			break;
		}
		if (v == NULL)
			continue;
		names[n] = efields[i].name;
		vals[n] = v;
		vlens[n] = efields[i].f == E_DATA ? len : strlen(v);
		n++;
	}
	return n;
}

/* A decimal of len bytes in lo..hi. */
static int
num(const char *v, size_t len, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char buf[24], *end;

	if (len == 0 || len >= sizeof(buf) || v[0] < '0' || v[0] > '9')
		return PX_EINVAL;
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return errno == 0 && *end == '\0' && *out >= lo && *out <= hi ? PX_OK : PX_EINVAL;
}

/* Stores one known field's value. */
static int
store(enum efield f, const char *v, size_t len, struct px_rrwe *out)
{
	unsigned long long n;
	size_t k;

	switch (f) {
	case E_V:
		return len == strlen(PX_RRWE_VERSION) && memcmp(v, PX_RRWE_VERSION, len) == 0 ? PX_OK : PX_EINVAL;
	case E_K:
		for (k = 0; k < NK; k++)
			if (strlen(kinds[k]) == len && memcmp(kinds[k], v, len) == 0) {
				out->kind = (enum px_rrwe_kind)k;
				return PX_OK;
			}
		return PX_EINVAL;
	case E_SEQ:
		if (num(v, len, 1, (unsigned long long)1 << 62, &n) != PX_OK)
			return PX_EINVAL;
		out->seq = n;
		return PX_OK;
	case E_ROWS:
	case E_COLS:
		if (num(v, len, 2, f == E_ROWS ? 500 : 1000, &n) != PX_OK)
			return PX_EINVAL;
		*(f == E_ROWS ? &out->rows : &out->cols) = (int)n;
		return PX_OK;
	case E_DATA:
		out->data = v;
		out->len = len;
		return PX_OK;
	case E_WHY:
		k = len < sizeof(out->why) - 1 ? len : sizeof(out->why) - 1;
		if (memchr(v, '\0', k) != NULL)
			return PX_EINVAL;
		memcpy(out->why, v, k);
		out->why[k] = '\0';
		return PX_OK;
	}
	return PX_EINVAL;
}

int
px__rrwe_decode(size_t n, const char *const *names, const size_t *nlens, const char *const *vals,
    const size_t *vlens, struct px_rrwe *out)
{
	unsigned seen = 0;

	memset(out, 0, sizeof(*out));
	out->kind = (enum px_rrwe_kind)-1;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < NE; k++)
			if (strlen(efields[k].name) == nlens[i] && memcmp(efields[k].name, names[i], nlens[i]) == 0)
				break;
		if (k == NE)
			continue;	/* a newer proxy's field */
		if ((seen & (1u << efields[k].f)) != 0 || store(efields[k].f, vals[i], vlens[i], out) != PX_OK)
			return PX_EINVAL;
		seen |= 1u << efields[k].f;
	}
	if ((seen & (1u << E_V)) == 0 || (seen & (1u << E_K)) == 0 || (seen & (1u << E_SEQ)) == 0)
		return PX_EINVAL;
	if (out->kind == PX_RRWE_SCREEN && (out->rows == 0 || out->cols == 0))
		return PX_EINVAL;
	return PX_OK;
}
