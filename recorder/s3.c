/* s3: requests to S3-compatible storage, signed by libcurl (see s3.h). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "recorder/rec_error.h"
#include "recorder/s3.h"
#include "recorder/s3_curl.h"

#define S3_CONNECT_SECS	5
#define S3_STALL_SECS	30	/* below 1 byte/s this long: failed */
#define S3_BODY_MAX	(1u << 20)	/* error and listing bodies kept */
#define S3_WHAT_MAX	(3 * S3_URL_MAX)	/* "GET s3://BUCKET/KEY" */

struct s3 {
	struct s3_cfg cfg;
	const struct s3_curl *cu;	/* libcurl's calls (s3_curl.h) */
	CURL *curl;
	const volatile int *abort_flag;
};

/* A response body kept in memory (listings, error documents). */
struct s3_body {
	char *p;
	size_t len, cap;
	int fd;			/* >= 0: 2xx bodies go to this file */
	int fd_error;		/* errno of a failed write to fd */
	long *status;		/* set once the headers are in */
	const struct s3_curl *cu;
	CURL *curl;
};

int
s3_is_url(const char *s)
{
	return s != NULL && strncmp(s, "s3://", 5) == 0;
}

int
s3_url_parse(const char *url, struct s3_cfg *c, char *err, size_t errlen)
{
	const char *b, *slash;
	size_t n;

	if (!s3_is_url(url)) {
		snprintf(err, errlen, "%s: not an s3://BUCKET/PREFIX address",
		    url);
		return REC_EINVAL;
	}
	b = url + 5;
	slash = strchr(b, '/');
	n = slash != NULL ? (size_t)(slash - b) : strlen(b);
	if (n == 0 || n >= sizeof(c->bucket)) {
		snprintf(err, errlen, "%s: no bucket name (s3://BUCKET/PREFIX)",
		    url);
		return REC_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)b[i]) || b[i] == '-' ||
		    b[i] == '.' || b[i] == '_')) {
			snprintf(err, errlen, "%s: a bucket name holds letters, "
			    "digits, '-', '.' and '_' only", url);
			return REC_EINVAL;
		}
	memcpy(c->bucket, b, n);
	c->bucket[n] = '\0';
	c->prefix[0] = '\0';
	if (slash != NULL) {
		const char *p = slash;

		while (*p == '/')
			p++;
		if (strlen(p) >= sizeof(c->prefix)) {
			snprintf(err, errlen, "%s: prefix too long", url);
			return REC_EINVAL;
		}
		strcpy(c->prefix, p);
		n = strlen(c->prefix);
		while (n > 0 && c->prefix[n - 1] == '/')
			c->prefix[--n] = '\0';
	}
	return REC_OK;
}

/* Copies getenv(name) into dst when set and fits. */
static void
env_copy(char *dst, size_t n, const char *name)
{
	const char *v = getenv(name);

	if (v != NULL && *v != '\0' && strlen(v) < n)
		strcpy(dst, v);
}

void
s3_cfg_env(struct s3_cfg *c)
{
	env_copy(c->access_key, sizeof(c->access_key), "AWS_ACCESS_KEY_ID");
	env_copy(c->secret_key, sizeof(c->secret_key), "AWS_SECRET_ACCESS_KEY");
	env_copy(c->session_token, sizeof(c->session_token),
	    "AWS_SESSION_TOKEN");
	if (getenv("AWS_ENDPOINT_URL_S3") != NULL)
		env_copy(c->endpoint, sizeof(c->endpoint), "AWS_ENDPOINT_URL_S3");
	else
		env_copy(c->endpoint, sizeof(c->endpoint), "AWS_ENDPOINT_URL");
	if (getenv("AWS_REGION") != NULL)
		env_copy(c->region, sizeof(c->region), "AWS_REGION");
	else
		env_copy(c->region, sizeof(c->region), "AWS_DEFAULT_REGION");
}

/* The credential names a file may use, and the field each sets. */
static const struct {
	const char *name;
	size_t off, len;
} s3_cred_names[] = {
	{ "aws_access_key_id", offsetof(struct s3_cfg, access_key),
	  sizeof(((struct s3_cfg *)0)->access_key) },
	{ "aws_secret_access_key", offsetof(struct s3_cfg, secret_key),
	  sizeof(((struct s3_cfg *)0)->secret_key) },
	{ "aws_session_token", offsetof(struct s3_cfg, session_token),
	  sizeof(((struct s3_cfg *)0)->session_token) },
};

/* Trims blanks at both ends in place. */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int
s3_cfg_credentials(const char *path, struct s3_cfg *c, char *err,
    size_t errlen)
{
	char line[4096];
	FILE *f;
	int lineno = 0, r = REC_OK;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rec_from_errno(errno);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq, *name, *val;
		size_t i;

		lineno++;
		if (*s == '\0' || *s == '#' || *s == ';' || *s == '[')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: not NAME=VALUE", path,
			    lineno);
			r = REC_EFORMAT;
			break;
		}
		*eq = '\0';
		name = trim(s);
		val = trim(eq + 1);
		if (strncasecmp(name, "export ", 7) == 0)
			name = trim(name + 7);
		for (i = 0; i < sizeof(s3_cred_names) / sizeof(s3_cred_names[0]);
		    i++)
			if (strcasecmp(name, s3_cred_names[i].name) == 0)
				break;
		if (i == sizeof(s3_cred_names) / sizeof(s3_cred_names[0]))
			continue;	/* other settings of the same file */
		if (strlen(val) >= s3_cred_names[i].len) {
			snprintf(err, errlen, "%s:%d: %s is too long", path,
			    lineno, name);
			r = REC_ETOOBIG;
			break;
		}
		strcpy((char *)c + s3_cred_names[i].off, val);
	}
	if (r == REC_OK && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		r = REC_EIO;
	}
	fclose(f);
	if (r == REC_OK && (c->access_key[0] == '\0' ||
	    c->secret_key[0] == '\0')) {
		snprintf(err, errlen, "%s: needs AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY", path);
		r = REC_EINVAL;
	}
	return r;
}

int
s3_cfg_finish(struct s3_cfg *c, char *err, size_t errlen)
{
	size_t n;

	if (c->region[0] == '\0')
		strcpy(c->region, "us-east-1");
	if (c->endpoint[0] == '\0')
		snprintf(c->endpoint, sizeof(c->endpoint),
		    "https://s3.%s.amazonaws.com", c->region);
	n = strlen(c->endpoint);
	while (n > 0 && c->endpoint[n - 1] == '/')
		c->endpoint[--n] = '\0';
	if (strncmp(c->endpoint, "http://", 7) != 0 &&
	    strncmp(c->endpoint, "https://", 8) != 0) {
		snprintf(err, errlen, "object store endpoint %s: not an "
		    "http:// or https:// URL", c->endpoint);
		return REC_EINVAL;
	}
	if (c->access_key[0] == '\0' || c->secret_key[0] == '\0') {
		snprintf(err, errlen, "no object store credentials "
		    "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
		return REC_EINVAL;
	}
	return REC_OK;
}

int
s3_open(const struct s3_cfg *c, struct s3 **out, char *err, size_t errlen)
{
	const struct s3_curl *cu;
	struct s3 *s;

	if ((cu = s3_curl_get(err, errlen)) == NULL)
		return REC_ENOENT;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->curl = cu->easy_init()) == NULL) {
		free(s);
		snprintf(err, errlen, "%s", rec_strerror(REC_ENOMEM));
		return REC_ENOMEM;
	}
	s->cfg = *c;
	s->cu = cu;
	*out = s;
	return REC_OK;
}

void
s3_close(struct s3 *s)
{
	if (s == NULL)
		return;
	s->cu->easy_cleanup(s->curl);
	explicit_bzero(&s->cfg, sizeof(s->cfg));
	free(s);
}

void
s3_set_abort(struct s3 *s, const volatile int *flag)
{
	s->abort_flag = flag;
}

/* Appends the percent-encoding of src to dst[*n..cap); '/' kept when
 * keep_slash.  Returns 0, or -1 when it does not fit. */
static int
enc(char *dst, size_t cap, size_t *n, const char *src, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~' || (keep_slash && *p == '/')) {
			if (*n + 1 >= cap)
				return -1;
			dst[(*n)++] = (char)*p;
		} else {
			if (*n + 3 >= cap)
				return -1;
			dst[(*n)++] = '%';
			dst[(*n)++] = hex[*p >> 4];
			dst[(*n)++] = hex[*p & 15];
		}
	}
	dst[*n] = '\0';
	return 0;
}

/* ENDPOINT/BUCKET/PREFIX/name into url. */
static int
object_url(const struct s3 *s, const char *name, char *url, size_t cap)
{
	size_t n = 0;
	int x = snprintf(url, cap, "%s/%s/", s->cfg.endpoint, s->cfg.bucket);

	if (x < 0 || (size_t)x >= cap)
		return -1;
	n = (size_t)x;
	if (s->cfg.prefix[0] != '\0' && (enc(url, cap, &n, s->cfg.prefix, 1) < 0
	    || enc(url, cap, &n, "/", 1) < 0))
		return -1;
	return enc(url, cap, &n, name, 1);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct s3_body *b = arg;
	size_t n = size * nmemb;
	long st = 0;

	b->cu->easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &st);
	if (b->fd >= 0 && st >= 200 && st < 300) {
		size_t done = 0;

		while (done < n) {
			ssize_t w = write(b->fd, data + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				b->fd_error = errno;
				return 0;
			}
			done += (size_t)w;
		}
		return n;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > S3_BODY_MAX + 1)
			return 0;
		if ((p = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const struct s3 *s = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return s->abort_flag != NULL && *s->abort_flag;
}

/* The text of <tag>...</tag> at or after p, into out (NUL-terminated,
 * the five XML entities decoded).  Returns the position after the closing
 * tag, or NULL when absent. */
static const char *
xml_tag(const char *p, const char *tag, char *out, size_t cap)
{
	char open[64], close[64];
	const char *a, *e;
	size_t n = 0;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (p == NULL || (a = strstr(p, open)) == NULL)
		return NULL;
	a += strlen(open);
	if ((e = strstr(a, close)) == NULL)
		return NULL;
	for (const char *q = a; q < e && n + 1 < cap; q++) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
			{ "&quot;", '"' }, { "&apos;", '\'' },
		};
		size_t k;

		for (k = 0; k < 5; k++)
			if (strncmp(q, ents[k].ent, strlen(ents[k].ent)) == 0)
				break;
		if (k < 5) {
			out[n++] = ents[k].c;
			q += strlen(ents[k].ent) - 1;
		} else {
			out[n++] = *q;
		}
	}
	out[n] = '\0';
	return e + strlen(close);
}

/* Hex SHA-256 and base64 MD5 of data. */
static int
digests(const void *data, size_t len, char sha_hex[65], char md5_b64[32])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;

	if (EVP_Digest(data, len, h, &hl, EVP_sha256(), NULL) != 1)
		return REC_ECRYPTO;
	for (unsigned i = 0; i < hl; i++)
		snprintf(sha_hex + 2 * i, 3, "%02x", h[i]);
	if (md5_b64 == NULL)
		return REC_OK;
	if (EVP_Digest(data, len, h, &hl, EVP_md5(), NULL) != 1)
		return REC_ECRYPTO;
	EVP_EncodeBlock((unsigned char *)md5_b64, h, (int)hl);
	return REC_OK;
}

/*
 * One request: method on url with body (may be NULL) and extra headers
 * (NULL-terminated list, may be NULL); a 2xx body goes to fd (>= 0) or
 * into *b.  Returns REC_OK for 2xx, else the mapped error with err set
 * ("what: reason").
 */
static int
request(struct s3 *s, const char *method, const char *url, const void *body,
    size_t len, const char *const *hdrs, int fd, struct s3_body *b,
    const char *what, char *err, size_t errlen)
{
	struct curl_slist *h = NULL, *t;
	char line[2200], sha[65];
	long st = 0;
	CURLcode cc;
	int r;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->cu = s->cu;
	b->curl = s->curl;
	if ((r = digests(body != NULL ? body : "", len, sha, NULL)) != REC_OK) {
		snprintf(err, errlen, "%s: hashing the payload failed", what);
		return r;
	}
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", sha);
	h = s->cu->slist_append(h, line);
	if (s->cfg.session_token[0] != '\0') {
		snprintf(line, sizeof(line), "x-amz-security-token: %s",
		    s->cfg.session_token);
		h = s->cu->slist_append(h, line);
	}
	for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
		h = s->cu->slist_append(h, hdrs[i]);
	for (t = h; t != NULL && t->next != NULL; t = t->next)
		;
	if (t == NULL) {
		s->cu->slist_free_all(h);
		snprintf(err, errlen, "%s: out of memory", what);
		return REC_ENOMEM;
	}
	s->cu->easy_reset(s->curl);
	snprintf(line, sizeof(line), "aws:amz:%s:s3", s->cfg.region);
	s->cu->easy_setopt(s->curl, CURLOPT_AWS_SIGV4, line);
	s->cu->easy_setopt(s->curl, CURLOPT_USERNAME, s->cfg.access_key);
	s->cu->easy_setopt(s->curl, CURLOPT_PASSWORD, s->cfg.secret_key);
	s->cu->easy_setopt(s->curl, CURLOPT_URL, url);
	s->cu->easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
	s->cu->easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	s->cu->easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, (long)S3_CONNECT_SECS);
	s->cu->easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	s->cu->easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, (long)S3_STALL_SECS);
	s->cu->easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
	s->cu->easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	s->cu->easy_setopt(s->curl, CURLOPT_XFERINFODATA, s);
	s->cu->easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
	s->cu->easy_setopt(s->curl, CURLOPT_WRITEDATA, b);
	s->cu->easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (strcmp(method, "PUT") == 0) {
		s->cu->easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, "PUT");
		s->cu->easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		s->cu->easy_setopt(s->curl, CURLOPT_POSTFIELDS,
		    body != NULL ? body : "");
	} else if (strcmp(method, "GET") != 0) {
		s->cu->easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = s->cu->easy_perform(s->curl);
	s->cu->easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &st);
	s->cu->slist_free_all(h);
	if (cc != CURLE_OK) {
		if (b->fd_error != 0) {
			snprintf(err, errlen, "%s: writing the download: %s",
			    what, strerror(b->fd_error));
			return rec_from_errno(b->fd_error);
		}
		snprintf(err, errlen, "%s: %s", what,
		    cc == CURLE_ABORTED_BY_CALLBACK ? "stopped" :
		    s->cu->easy_strerror(cc));
		return REC_EIO;
	}
	if (st >= 200 && st < 300)
		return REC_OK;
	{
		char code[128] = "", msg[256] = "";

		xml_tag(b->p, "Code", code, sizeof(code));
		xml_tag(b->p, "Message", msg, sizeof(msg));
		snprintf(err, errlen, "%s: HTTP %ld%s%s%s%s", what, st,
		    code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
	}
	free(b->p);
	b->p = NULL;
	return st == 404 ? REC_ENOENT : (st == 401 || st == 403) ? REC_EPERM :
	    REC_EIO;
}

int
s3_put(struct s3 *s, const char *name, const void *data, size_t len,
    time_t retain_until, char *err, size_t errlen)
{
	char url[2 * S3_URL_MAX + 600], md5[32], sha[65], what[S3_WHAT_MAX];
	char h_md5[64], h_until[96];
	const char *hdrs[5] = { "Content-Type: application/octet-stream", h_md5,
	    NULL, NULL, NULL };
	struct s3_body b;
	struct tm tm;
	int r;

	snprintf(what, sizeof(what), "PUT s3://%s/%s%s%s", s->cfg.bucket,
	    s->cfg.prefix, s->cfg.prefix[0] ? "/" : "", name);
	if (object_url(s, name, url, sizeof(url)) < 0) {
		snprintf(err, errlen, "%s: name too long", what);
		return REC_EINVAL;
	}
	if ((r = digests(data, len, sha, md5)) != REC_OK) {
		snprintf(err, errlen, "%s: hashing failed", what);
		return r;
	}
	snprintf(h_md5, sizeof(h_md5), "Content-MD5: %s", md5);
	if (retain_until > 0) {
		gmtime_r(&retain_until, &tm);
		strftime(h_until, sizeof(h_until),
		    "x-amz-object-lock-retain-until-date: %Y-%m-%dT%H:%M:%SZ",
		    &tm);
		hdrs[2] = "x-amz-object-lock-mode: COMPLIANCE";
		hdrs[3] = h_until;
	}
	r = request(s, "PUT", url, data, len, hdrs, -1, &b, what, err, errlen);
	free(b.p);
	return r;
}

int
s3_get_fd(struct s3 *s, const char *name, int fd, char *err, size_t errlen)
{
	char url[2 * S3_URL_MAX + 600], what[S3_WHAT_MAX];
	struct s3_body b;
	int r;

	snprintf(what, sizeof(what), "GET s3://%s/%s%s%s", s->cfg.bucket,
	    s->cfg.prefix, s->cfg.prefix[0] ? "/" : "", name);
	if (object_url(s, name, url, sizeof(url)) < 0) {
		snprintf(err, errlen, "%s: name too long", what);
		return REC_EINVAL;
	}
	r = request(s, "GET", url, NULL, 0, NULL, fd, &b, what, err, errlen);
	free(b.p);
	return r;
}

/* Calls cb for every <Contents> of one ListObjectsV2 page; *next gets
 * the continuation token ("" on the last page). */
static int
list_page(const char *xml, size_t strip, s3_list_cb cb, void *arg,
    char *next, size_t nextcap)
{
	char trunc[16] = "", key[1200], size[32];
	const char *p = xml;

	next[0] = '\0';
	xml_tag(xml, "IsTruncated", trunc, sizeof(trunc));
	if (strcmp(trunc, "true") == 0)
		xml_tag(xml, "NextContinuationToken", next, nextcap);
	while ((p = strstr(p, "<Contents>")) != NULL) {
		const char *end = strstr(p, "</Contents>");
		int r;

		if (end == NULL)
			break;
		if (xml_tag(p, "Key", key, sizeof(key)) == NULL ||
		    xml_tag(p, "Size", size, sizeof(size)) == NULL)
			return REC_EFORMAT;
		if (strlen(key) >= strip && (r = cb(arg, key + strip,
		    strtoull(size, NULL, 10))) != 0)
			return r;
		p = end;
	}
	return REC_OK;
}

int
s3_list(struct s3 *s, const char *sub, s3_list_cb cb, void *arg, char *err,
    size_t errlen)
{
	char pfx[S3_URL_MAX + 256], token[1024] = "", url[4 * S3_URL_MAX + 2048];
	char what[S3_WHAT_MAX];
	size_t n, strip;
	int r, pages = 0;

	snprintf(pfx, sizeof(pfx), "%s%s%s", s->cfg.prefix,
	    s->cfg.prefix[0] ? "/" : "", sub);
	strip = strlen(s->cfg.prefix) + (s->cfg.prefix[0] ? 1 : 0);
	snprintf(what, sizeof(what), "list s3://%s/%s", s->cfg.bucket, pfx);
	do {
		struct s3_body b;

		/* the query in SigV4's canonical form: names sorted, values
		 * percent-encoded, '/' too */
		n = (size_t)snprintf(url, sizeof(url), "%s/%s?", s->cfg.endpoint,
		    s->cfg.bucket);
		if (token[0] != '\0') {
			if (n + 40 >= sizeof(url))
				goto toolong;
			strcpy(url + n, "continuation-token=");
			n += strlen("continuation-token=");
			if (enc(url, sizeof(url), &n, token, 0) < 0 ||
			    n + 2 >= sizeof(url))
				goto toolong;
			url[n++] = '&';
			url[n] = '\0';
		}
		if (n + 20 >= sizeof(url))
			goto toolong;
		strcpy(url + n, "list-type=2&prefix=");
		n += strlen("list-type=2&prefix=");
		if (enc(url, sizeof(url), &n, pfx, 0) < 0)
			goto toolong;
		r = request(s, "GET", url, NULL, 0, NULL, -1, &b, what, err,
		    errlen);
		if (r != REC_OK)
			return r;
		r = list_page(b.p != NULL ? b.p : "", strip, cb, arg, token,
		    sizeof(token));
		free(b.p);
		if (r == REC_EFORMAT)
			snprintf(err, errlen, "%s: the listing is not "
			    "ListObjectsV2 XML", what);
		if (r != REC_OK)
			return r;
		if (++pages > 1000000) {
			snprintf(err, errlen, "%s: more than a million pages",
			    what);
			return REC_ETOOBIG;
		}
	} while (token[0] != '\0');
	return REC_OK;
toolong:
	snprintf(err, errlen, "%s: address too long", what);
	return REC_EINVAL;
}

/* "2026-12-06T23:00:00Z" or with fractions of a second, as UTC. */
static int
iso_time(const char *s, time_t *out)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n == 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

int
s3_retention(struct s3 *s, const char *name, char *mode, size_t modelen,
    time_t *until, char *err, size_t errlen)
{
	char url[2 * S3_URL_MAX + 640], what[S3_WHAT_MAX], date[64];
	size_t n;
	struct s3_body b;
	int r;

	snprintf(what, sizeof(what), "GET retention of s3://%s/%s%s%s",
	    s->cfg.bucket, s->cfg.prefix, s->cfg.prefix[0] ? "/" : "", name);
	if (object_url(s, name, url, sizeof(url)) < 0 ||
	    (n = strlen(url)) + sizeof("?retention=") > sizeof(url)) {
		snprintf(err, errlen, "%s: name too long", what);
		return REC_EINVAL;
	}
	memcpy(url + n, "?retention=", sizeof("?retention="));
	r = request(s, "GET", url, NULL, 0, NULL, -1, &b, what, err, errlen);
	if (r != REC_OK)
		return r;
	if (xml_tag(b.p, "Mode", mode, modelen) == NULL ||
	    xml_tag(b.p, "RetainUntilDate", date, sizeof(date)) == NULL ||
	    iso_time(date, until) != 0) {
		snprintf(err, errlen, "%s: the answer holds no Mode and "
		    "RetainUntilDate", what);
		r = REC_EFORMAT;
	}
	free(b.p);
	return r;
}
