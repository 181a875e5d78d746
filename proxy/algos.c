/* algos: the listener's SSH algorithm lists.  See algos.h. */
#include "proxy/algos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/px_error.h"

struct algo_row {
	const char *keyword;
	const char *def;
	enum ssh_bind_options_e opt, opt2;	/* opt2: the other direction, or opt */
};

static const struct algo_row algo_rows[PX_ALGO_N] = {
	[PX_ALGO_KEX] = { "KexAlgorithms",
	    "curve25519-sha256,curve25519-sha256@libssh.org,"
	    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512",
	    SSH_BIND_OPTIONS_KEY_EXCHANGE, SSH_BIND_OPTIONS_KEY_EXCHANGE },
	[PX_ALGO_CIPHERS] = { "Ciphers",
	    "chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr",
	    SSH_BIND_OPTIONS_CIPHERS_C_S, SSH_BIND_OPTIONS_CIPHERS_S_C },
	[PX_ALGO_MACS] = { "MACs",
	    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com",
	    SSH_BIND_OPTIONS_HMAC_C_S, SSH_BIND_OPTIONS_HMAC_S_C },
	[PX_ALGO_HOSTKEYS] = { "HostKeyAlgorithms", "",
	    SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS },
};

const char *
px__algo_keyword(enum px_algo_kind k)
{
	return algo_rows[k].keyword;
}

int
px__algo_by_keyword(const char *keyword)
{
	for (int k = 0; k < PX_ALGO_N; k++)
		if (strcasecmp(keyword, algo_rows[k].keyword) == 0)
			return k;
	return -1;
}

const char *
px__algo_default(enum px_algo_kind k)
{
	return algo_rows[k].def;
}

/* Whether libssh offers name for kind k (a throwaway listener accepts it). */
static int
algo_known(enum px_algo_kind k, const char *name)
{
	ssh_bind b = ssh_bind_new();
	int ok;

	if (b == NULL)
		return 0;
	ok = ssh_bind_options_set(b, algo_rows[k].opt, name) == SSH_OK;
	ssh_bind_free(b);
	return ok;
}

/* Whether the comma list l holds name. */
static int
list_has(const char *l, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = l; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, name, n) == 0)
			return 1;
		p += len + (e != NULL);
	}
	return 0;
}

/* Appends name to the comma list in out (cap bytes) unless present. */
static int
list_add(char *out, size_t cap, const char *name)
{
	size_t ol = strlen(out), nl = strlen(name);

	if (list_has(out, name))
		return 0;
	if (ol + (ol > 0) + nl + 1 > cap)
		return -1;
	if (ol > 0)
		out[ol++] = ',';
	memcpy(out + ol, name, nl + 1);
	return 0;
}

/* Appends each name of the comma list l to res (cap bytes), skipping those
 * in skip (may be NULL). */
static int
list_merge(char *res, size_t cap, const char *l, const char *skip)
{
	char *d = strdup(l), *save = NULL;

	if (d == NULL)
		return -1;
	for (char *n = strtok_r(d, ",", &save); n; n = strtok_r(NULL, ",", &save))
		if (skip == NULL || !list_has(skip, n))
			(void)list_add(res, cap, n);
	free(d);
	return 0;
}

/* Checks every name of the comma list l; 0, or -1 with err filled. */
static int
list_check(enum px_algo_kind k, const char *l, char *err, size_t errlen)
{
	const char *kw = algo_rows[k].keyword;
	char *d = strdup(l), *save = NULL;
	int rc = 0;

	if (d == NULL)
		return -2;
	if (l[0] == '\0' || l[strlen(l) - 1] == ',' || strstr(l, ",,") != NULL || l[0] == ',') {
		snprintf(err, errlen, "%s: \"%s\" is not a comma-separated list of names", kw, l);
		rc = -1;
	}
	for (char *n = strtok_r(d, ",", &save); rc == 0 && n; n = strtok_r(NULL, ",", &save)) {
		if (strpbrk(n, "*?!") != NULL) {
			snprintf(err, errlen, "%s: \"%s\": patterns are not supported, name each algorithm",
			    kw, n);
			rc = -1;
		} else if (!algo_known(k, n)) {
			snprintf(err, errlen, "%s: \"%s\" is not an algorithm this proxy offers", kw, n);
			rc = -1;
		}
	}
	free(d);
	return rc;
}

int
px__algo_resolve(enum px_algo_kind k, const char *spec, char **out, char *err, size_t errlen)
{
	const char *def = algo_rows[k].def;
	char op = (spec[0] == '+' || spec[0] == '-' || spec[0] == '^') ? spec[0] : 0;
	const char *given = spec + (op != 0);
	size_t cap = strlen(spec) + strlen(def) + 2;
	char *res;
	int rc;

	*out = NULL;
	if (k == PX_ALGO_HOSTKEYS && op != 0) {
		snprintf(err, errlen, "%s: give the whole list (its default is the host key's own "
		    "algorithms, so +, - and ^ have nothing to change)", algo_rows[k].keyword);
		return PX_EINVAL;
	}
	if ((rc = list_check(k, given, err, errlen)) != 0)
		return rc == -2 ? PX_ENOMEM : PX_EINVAL;
	if ((res = calloc(1, cap)) == NULL)
		return PX_ENOMEM;
	switch (op) {
	case '+': rc = list_merge(res, cap, def, NULL) | list_merge(res, cap, given, NULL); break;
	case '^': rc = list_merge(res, cap, given, NULL) | list_merge(res, cap, def, NULL); break;
	case '-': rc = list_merge(res, cap, def, given); break;
	default: rc = list_merge(res, cap, given, NULL); break;
	}
	if (rc != 0) {
		free(res);
		return PX_ENOMEM;
	}
	if (res[0] == '\0') {
		snprintf(err, errlen, "%s: \"%s\" leaves no algorithm", algo_rows[k].keyword, spec);
		free(res);
		return PX_EINVAL;
	}
	*out = res;
	return PX_OK;
}

int
px__algo_apply(ssh_bind b, char *const lists[PX_ALGO_N], char *err, size_t errlen)
{
	for (int k = 0; k < PX_ALGO_N; k++) {
		const char *l = lists[k] ? lists[k] : algo_rows[k].def;
		if (l[0] == '\0')
			continue;
		if (ssh_bind_options_set(b, algo_rows[k].opt, l) != SSH_OK ||
		    ssh_bind_options_set(b, algo_rows[k].opt2, l) != SSH_OK) {
			snprintf(err, errlen, "%s %s: %s", algo_rows[k].keyword, l, ssh_get_error(b));
			return PX_ESSH;
		}
	}
	return PX_OK;
}
