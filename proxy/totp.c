/* totp: RFC 6238 codes, secrets and replay refusal (see totp.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proxy/px_error.h"
#include "proxy/totp.h"

#define TOTP_WINDOW 1           /* steps accepted either side of now */
#define TOTP_LINE_MAX 1024

/* ---- secrets -------------------------------------------------------------- */

/* RFC 4648 base32 of s[0..n) into k (case, spaces and '=' ignored).
 * Returns PX_OK or PX_EINVAL with why. */
static int
base32_decode(const char *s, size_t n, struct px_totp_key *k, char *why, size_t whysz)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t acc = 0;
	int bits = 0;

	k->keylen = 0;
	for (size_t i = 0; i < n; i++) {
		int c = toupper((unsigned char)s[i]);
		const char *p;

		if (c == '=' || c == ' ' || c == '-')
			continue;
		if (c == '\0' || (p = strchr(alpha, c)) == NULL) {
			snprintf(why, whysz, "'%c' is not a base32 character", isprint(c) ? c : '?');
			return PX_EINVAL;
		}
		acc = (acc << 5) | (uint32_t)(p - alpha);
		bits += 5;
		if (bits >= 8) {
			if (k->keylen == sizeof(k->key)) {
				snprintf(why, whysz, "the secret is longer than %d bytes", PX_TOTP_KEY_MAX);
				return PX_EINVAL;
			}
			k->key[k->keylen++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (k->keylen < 10) {
		snprintf(why, whysz, "the secret is shorter than 80 bits (RFC 4226 asks for 128)");
		return PX_EINVAL;
	}
	return PX_OK;
}

/* One otpauth parameter NAME=VALUE of the query q (up to '&' or the end):
 * its value and length, or NULL. */
static const char *
query_get(const char *q, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	while (q != NULL && *q != '\0') {
		const char *end = strchr(q, '&');
		size_t l = end ? (size_t)(end - q) : strlen(q);

		if (l > nl && strncasecmp(q, name, nl) == 0 && q[nl] == '=') {
			*len = l - nl - 1;
			return q + nl + 1;
		}
		q = end ? end + 1 : NULL;
	}
	return NULL;
}

static int
query_int(const char *q, const char *name, int lo, int hi, int *out, char *why, size_t whysz)
{
	size_t len;
	const char *v = query_get(q, name, &len);
	char buf[16], *end;
	long x;

	if (v == NULL)
		return PX_OK;
	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	x = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		goto bad;
	*out = (int)x;
	return PX_OK;
bad:
	snprintf(why, whysz, "%s= must be a number from %d to %d", name, lo, hi);
	return PX_EINVAL;
}

int
px__totp_parse(const char *text, struct px_totp_key *k, char *why, size_t whysz)
{
	static const struct { const char *name; enum px_totp_alg alg; } algs[] = {
		{ "SHA1", PX_TOTP_SHA1 }, { "SHA256", PX_TOTP_SHA256 }, { "SHA512", PX_TOTP_SHA512 },
	};
	const char *q, *v;
	size_t len;
	int rc;

	memset(k, 0, sizeof(*k));
	k->alg = PX_TOTP_SHA1;
	k->digits = 6;
	k->period = 30;
	if (strncasecmp(text, "otpauth://", 10) != 0)
		return base32_decode(text, strlen(text), k, why, whysz);
	if (strncasecmp(text + 10, "totp/", 5) != 0) {
		snprintf(why, whysz, "only otpauth://totp/ URIs are TOTP secrets");
		return PX_EINVAL;
	}
	if ((q = strchr(text, '?')) == NULL || (v = query_get(q + 1, "secret", &len)) == NULL) {
		snprintf(why, whysz, "the otpauth URI has no secret=");
		return PX_EINVAL;
	}
	q++;
	if ((rc = base32_decode(v, len, k, why, whysz)) != PX_OK ||
	    (rc = query_int(q, "digits", 6, 8, &k->digits, why, whysz)) != PX_OK ||
	    (rc = query_int(q, "period", 1, 300, &k->period, why, whysz)) != PX_OK)
		return rc;
	if ((v = query_get(q, "algorithm", &len)) != NULL) {
		size_t i;
		for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
			if (strlen(algs[i].name) == len && strncasecmp(v, algs[i].name, len) == 0)
				break;
		if (i == sizeof(algs) / sizeof(algs[0])) {
			snprintf(why, whysz, "algorithm= must be SHA1, SHA256 or SHA512");
			return PX_EINVAL;
		}
		k->alg = algs[i].alg;
	}
	return PX_OK;
}

/* ---- codes ---------------------------------------------------------------- */

int
px__totp_code(const struct px_totp_key *k, uint64_t step, char *out)
{
	const EVP_MD *md = k->alg == PX_TOTP_SHA256 ? EVP_sha256() :
	    k->alg == PX_TOTP_SHA512 ? EVP_sha512() : EVP_sha1();
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	uint32_t bin, mod = 1;
	int off;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (unsigned char)(step & 0xff);
	if (HMAC(md, k->key, (int)k->keylen, msg, sizeof(msg), mac, &maclen) == NULL || maclen < 20)
		return PX_ENOMEM;
	off = mac[maclen - 1] & 0x0f;	/* dynamic truncation, RFC 4226 5.3 */
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	    ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	for (int i = 0; i < k->digits; i++)
		mod *= 10;
	snprintf(out, 9, "%0*u", k->digits, (unsigned)(bin % mod));
	return PX_OK;
}

int
px__totp_verify(const struct px_totp_key *k, const char *answer, time_t now, uint64_t *step)
{
	uint64_t t = (uint64_t)now / (uint64_t)k->period;
	char code[9];
	int found = 0;

	if (answer == NULL || strlen(answer) != (size_t)k->digits ||
	    strspn(answer, "0123456789") != (size_t)k->digits)
		return PX_EINVAL;
	/* every step of the window is computed: the time taken does not say
	 * which one matched */
	for (int d = -TOTP_WINDOW; d <= TOTP_WINDOW; d++) {
		if (d < 0 && t < (uint64_t)-d)
			continue;
		if (px__totp_code(k, t + (uint64_t)(int64_t)d, code) != PX_OK)
			return PX_ENOMEM;
		if (CRYPTO_memcmp(code, answer, (size_t)k->digits) == 0 && !found) {
			*step = t + (uint64_t)(int64_t)d;
			found = 1;
		}
	}
	OPENSSL_cleanse(code, sizeof(code));
	return found ? PX_OK : PX_EINVAL;
}

/* ---- the table ------------------------------------------------------------ */

struct totp_entry {
	char *user;
	struct px_totp_key key;
};

struct px_totp_table {
	struct totp_entry *v;
	size_t n;
};

void
px__totp_table_free(struct px_totp_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].user);
		OPENSSL_cleanse(&t->v[i].key, sizeof(t->v[i].key));
	}
	free(t->v);
	free(t);
}

const struct px_totp_key *
px__totp_lookup(const struct px_totp_table *t, const char *user)
{
	if (t == NULL || user == NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].user, user) == 0)
			return &t->v[i].key;
	return NULL;
}

/* Adds one "USER SECRET" line to t.  Returns PX_OK, PX_EINVAL after
 * reporting, or PX_ENOMEM. */
static int
load_line(struct px_totp_table *t, char *line, int lineno,
    void (*report)(void *, int, const char *), void *ctx)
{
	char *user, *secret, *extra, *save = NULL, why[160], msg[256];
	struct totp_entry *nv;

	line[strcspn(line, "\r\n")] = '\0';
	if ((user = strtok_r(line, " \t", &save)) == NULL || user[0] == '#')
		return PX_OK;
	secret = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (secret == NULL || (extra != NULL && extra[0] != '#')) {
		report(ctx, lineno, "expected USER SECRET (base32 or an otpauth://totp/ URI)");
		return PX_EINVAL;
	}
	if (px__totp_lookup(t, user) != NULL) {
		snprintf(msg, sizeof(msg), "user %.64s is given twice", user);
		report(ctx, lineno, msg);
		return PX_EINVAL;
	}
	if ((nv = realloc(t->v, (t->n + 1) * sizeof(*nv))) == NULL)
		return PX_ENOMEM;
	t->v = nv;
	if (px__totp_parse(secret, &nv[t->n].key, why, sizeof(why)) != PX_OK) {
		snprintf(msg, sizeof(msg), "secret of %.64s: %s", user, why);
		report(ctx, lineno, msg);
		return PX_EINVAL;
	}
	if ((nv[t->n].user = strdup(user)) == NULL)
		return PX_ENOMEM;
	t->n++;
	return PX_OK;
}

int
px__totp_load(const char *path, struct px_totp_table **out,
    void (*report)(void *ctx, int line, const char *msg), void *ctx)
{
	struct px_totp_table *t;
	char line[TOTP_LINE_MAX], msg[300];
	struct stat st;
	int lineno = 0, bad = 0, rc = PX_OK;
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
		report(ctx, 0, msg);
		return PX_ECONFIG;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
		/* as sshd treats a private key others can read */
		snprintf(msg, sizeof(msg), "mode %03o: the secrets must not be readable or writable by "
		    "group or others (chmod 600)", (unsigned)(st.st_mode & 0777));
		report(ctx, 0, msg);
		bad = 1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		fclose(f);
		return PX_ENOMEM;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			report(ctx, lineno, "line longer than 1023 bytes");
			bad = 1;
			break;
		}
		rc = load_line(t, line, lineno, report, ctx);
		if (rc == PX_ENOMEM)
			break;
		if (rc != PX_OK)
			bad = 1, rc = PX_OK;
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	if (rc == PX_OK && bad)
		rc = PX_ECONFIG;
	if (rc != PX_OK || t->n == 0) {
		px__totp_table_free(t);
		return rc;
	}
	*out = t;
	return PX_OK;
}

/* ---- replay refusal ------------------------------------------------------- */

struct px_totp_last {
	char user[128];
	uint64_t step;
};

void
px_totp_used_init(struct px_totp_used *u)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->mu, NULL);
}

void
px_totp_used_free(struct px_totp_used *u)
{
	free(u->v);
	pthread_mutex_destroy(&u->mu);
	memset(u, 0, sizeof(*u));
}

int
px__totp_claim(struct px_totp_used *u, const char *user, uint64_t step)
{
	size_t i;
	int rc = PX_OK;

	if (strlen(user) >= sizeof(u->v[0].user))
		return PX_EINVAL;
	pthread_mutex_lock(&u->mu);
	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i].user, user) == 0)
			break;
	if (i < u->n) {
		if (step <= u->v[i].step)
			rc = PX_EINVAL;		/* this code, or an older one, was used */
		else
			u->v[i].step = step;
	} else {
		if (u->n == u->cap) {
			size_t cap = u->cap ? u->cap * 2 : 16;
			struct px_totp_last *nv = realloc(u->v, cap * sizeof(*nv));
			if (nv == NULL) {
				pthread_mutex_unlock(&u->mu);
				return PX_ENOMEM;
			}
			u->v = nv;
			u->cap = cap;
		}
		snprintf(u->v[u->n].user, sizeof(u->v[u->n].user), "%s", user);
		u->v[u->n++].step = step;
	}
	pthread_mutex_unlock(&u->mu);
	return rc;
}
