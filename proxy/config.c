/* config: line-oriented keyword parser for escort-proxy.conf. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/tlsl.h"
#include "proxy/config.h"
#include "proxy/log.h"
#include "proxy/px_error.h"

#define MAX_ARGS 8

struct cparse {
	const char *file;
	int line;                       /* 0: the message names the file only */
	char *err;
	size_t errlen;
	size_t used;                    /* bytes of err holding messages */
	int nerr;
};

/* Appends "FILE:LINE: message" (one line each) to the parse's errors. */
static int
cerr(struct cparse *p, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	p->nerr++;
	if (p->errlen == 0 || p->used + 2 >= p->errlen)
		return PX_ECONFIG;
	if (p->used > 0)
		p->err[p->used++] = '\n';
	room = p->errlen - p->used;
	n = p->line > 0 ? snprintf(p->err + p->used, room, "%s:%d: ", p->file, p->line) :
	    snprintf(p->err + p->used, room, "%s: ", p->file);
	if (n < 0 || (size_t)n >= room) {
		p->used = p->errlen - 1;
		return PX_ECONFIG;
	}
	va_start(ap, fmt);
	vsnprintf(p->err + p->used + n, room - n, fmt, ap);
	va_end(ap);
	p->used += strlen(p->err + p->used);
	return PX_ECONFIG;
}

/* Splits line into words (double quotes group, backslash escapes inside). */
static int
split(struct cparse *p, char *s, char **av, int *ac)
{
	*ac = 0;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#')
			return PX_OK;
		if (*ac == MAX_ARGS)
			return cerr(p, "too many arguments");
		if (*s == '"') {
			char *o = ++s;
			av[(*ac)++] = o;
			while (*s != '"') {
				if (*s == '\0')
					return cerr(p, "unterminated quoted string");
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*o++ = *s++;
			}
			s++;
			*o = '\0';
			if (*s != '\0' && !isspace((unsigned char)*s))
				return cerr(p, "text after closing quote");
		} else {
			av[(*ac)++] = s;
			while (*s != '\0' && !isspace((unsigned char)*s))
				s++;
			if (*s != '\0')
				*s++ = '\0';
		}
	}
}

static int
parse_int(struct cparse *p, const char *kw, const char *v, long lo, long hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
		return cerr(p, "%s: \"%s\" is not a number from %ld to %ld", kw, v, lo, hi);
	*out = (int)n;
	return PX_OK;
}

/* Seconds with an optional s/m/h suffix. */
static int
parse_secs(struct cparse *p, const char *kw, const char *v, int *out)
{
	char *end;
	long n, mul = 1;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno == 0 && end != v) {
		if (*end == 's' || *end == 'S')
			end++;
		else if (*end == 'm' || *end == 'M')
			mul = 60, end++;
		else if (*end == 'h' || *end == 'H')
			mul = 3600, end++;
	}
	if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 86400 * 7 / mul)
		return cerr(p, "%s: \"%s\" is not a duration (e.g. 30, 30s, 5m, 1h)", kw, v);
	*out = (int)(n * mul);
	return PX_OK;
}

/* Bytes with an optional K/M/G suffix (powers of 1024). */
static int
parse_size(struct cparse *p, const char *kw, const char *v, size_t *out)
{
	char *end;
	unsigned long long n, mul = 1;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno == 0 && end != v && *end != '\0') {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1ULL << 10; end++; break;
		case 'M': mul = 1ULL << 20; end++; break;
		case 'G': mul = 1ULL << 30; end++; break;
		}
		if (toupper((unsigned char)*end) == 'B' && mul > 1)
			end++;
	}
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > (1ULL << 40) / mul)
		return cerr(p, "%s: \"%s\" is not a size (e.g. 4M, 512K)", kw, v);
	*out = (size_t)(n * mul);
	return PX_OK;
}

static int
parse_listen(struct cparse *p, const char *v, struct px_listen *l)
{
	const char *colon;
	size_t hl;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');
		if (rb == NULL || rb[1] != ':')
			return cerr(p, "Listen: \"%s\" is not [ADDRESS]:PORT", v);
		hl = (size_t)(rb - v - 1);
		v++;
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return cerr(p, "Listen: \"%s\" is not ADDRESS:PORT", v);
		hl = (size_t)(colon - v);
	}
	if (hl == 0 || hl >= sizeof(l->host))
		return cerr(p, "Listen: bad address in \"%s\"", v);
	memcpy(l->host, v, hl);
	l->host[hl] = '\0';
	return parse_int(p, "Listen", colon + 1, 1, 65535, &l->port);
}

static int
set_str(struct cparse *p, char **dst, const char *kw, const char *v)
{
	if (*dst != NULL)
		return cerr(p, "%s given twice", kw);
	if ((*dst = strdup(v)) == NULL)
		return PX_ENOMEM;
	return PX_OK;
}

static int
apply(struct cparse *p, struct px_config *c, char **av, int ac)
{
	const char *kw = av[0];
	int one = ac == 2;

#define NEED1() do { if (!one) return cerr(p, "%s takes exactly one argument", kw); } while (0)
	if (strcasecmp(kw, "Listen") == 0) {
		NEED1();
		if (c->nlisten == PX_MAX_LISTEN)
			return cerr(p, "Listen: at most %d addresses", PX_MAX_LISTEN);
		return parse_listen(p, av[1], &c->listen[c->nlisten++]);
	}
	if (strcasecmp(kw, "HostKey") == 0) { NEED1(); return set_str(p, &c->hostkey, kw, av[1]); }
	if (strcasecmp(kw, "Policy") == 0) { NEED1(); return set_str(p, &c->policy, kw, av[1]); }
	if (strcasecmp(kw, "Recorder") == 0) {
		NEED1();
		if (strncmp(av[1], "unix:", 5) != 0 && strncmp(av[1], "tls://", 6) != 0)
			return cerr(p, "Recorder: \"%s\" is neither unix:PATH nor tls://HOST:PORT", av[1]);
		return set_str(p, &c->recorder, kw, av[1]);
	}
	if (strcasecmp(kw, "RecorderCA") == 0) { NEED1(); return set_str(p, &c->recorder_ca, kw, av[1]); }
	if (strcasecmp(kw, "RecorderCertificate") == 0) { NEED1(); return set_str(p, &c->recorder_cert, kw, av[1]); }
	if (strcasecmp(kw, "RecorderKey") == 0) { NEED1(); return set_str(p, &c->recorder_key, kw, av[1]); }
	if (strcasecmp(kw, "StateDir") == 0) { NEED1(); return set_str(p, &c->statedir, kw, av[1]); }
	if (strcasecmp(kw, "Workers") == 0) { NEED1(); return parse_int(p, kw, av[1], 1, 64, &c->workers); }
	if (strcasecmp(kw, "LoginGraceTime") == 0) {
		NEED1();
		if (parse_secs(p, kw, av[1], &c->login_grace_time) < 0)
			return PX_ECONFIG;
		if (c->login_grace_time == 0)
			return cerr(p, "LoginGraceTime must be at least 1 second");
		return PX_OK;
	}
	if (strcasecmp(kw, "RecorderTimeout") == 0) { NEED1(); return parse_secs(p, kw, av[1], &c->recorder_timeout); }
	if (strcasecmp(kw, "ClientAliveInterval") == 0) { NEED1(); return parse_secs(p, kw, av[1], &c->keepalive_interval); }
	if (strcasecmp(kw, "ClientAliveCountMax") == 0) { NEED1(); return parse_int(p, kw, av[1], 1, 1000, &c->keepalive_count_max); }
	if (strcasecmp(kw, "TargetAliveInterval") == 0) { NEED1(); return parse_secs(p, kw, av[1], &c->target_alive_interval); }
	if (strcasecmp(kw, "TargetAliveCountMax") == 0) { NEED1(); return parse_int(p, kw, av[1], 1, 1000, &c->target_alive_count_max); }
	if (strcasecmp(kw, "SpoolLimit") == 0) {
		NEED1();
		if (parse_size(p, kw, av[1], &c->spool_limit) < 0)
			return PX_ECONFIG;
		if (c->spool_limit < 64 * 1024)
			return cerr(p, "SpoolLimit must be at least 64K");
		return PX_OK;
	}
	if (strcasecmp(kw, "FileContentLimit") == 0) {
		NEED1();
		if (parse_size(p, kw, av[1], &c->file_content_limit) < 0)
			return PX_ECONFIG;
		if (c->file_content_limit > (64u << 20))
			return cerr(p, "FileContentLimit must be at most 64M");
		return PX_OK;
	}
	if (strcasecmp(kw, "MaxAuthTries") == 0) { NEED1(); return parse_int(p, kw, av[1], 1, 100, &c->max_auth_tries); }
	if (strcasecmp(kw, "MaxStartups") == 0) {
		int a, b = 100, f;
		char *s1, *s2;
		NEED1();
		s1 = strchr(av[1], ':');
		if (s1 == NULL) {
			if (parse_int(p, kw, av[1], 1, 100000, &a) < 0)
				return PX_ECONFIG;
			f = a;
		} else {
			*s1++ = '\0';
			s2 = strchr(s1, ':');
			if (s2 == NULL)
				return cerr(p, "MaxStartups: expected START or START:RATE:FULL");
			*s2++ = '\0';
			if (parse_int(p, kw, av[1], 1, 100000, &a) < 0 ||
			    parse_int(p, kw, s1, 1, 100, &b) < 0 ||
			    parse_int(p, kw, s2, 1, 100000, &f) < 0)
				return PX_ECONFIG;
			if (f < a)
				return cerr(p, "MaxStartups: FULL must not be below START");
		}
		c->max_startups_start = a;
		c->max_startups_rate = b;
		c->max_startups_full = f;
		return PX_OK;
	}
	if (strcasecmp(kw, "PerSourceMaxFailures") == 0) { NEED1(); return parse_int(p, kw, av[1], 1, 100000, &c->per_source_max_failures); }
	if (strcasecmp(kw, "PerSourcePenalty") == 0) { NEED1(); return parse_secs(p, kw, av[1], &c->per_source_penalty); }
	if (strcasecmp(kw, "LogLevel") == 0) {
		static const char *lv[] = { "error", "warning", "info", "debug" };
		NEED1();
		for (int i = 0; i < 4; i++)
			if (strcasecmp(av[1], lv[i]) == 0) {
				c->log_level = i;
				return PX_OK;
			}
		return cerr(p, "LogLevel: \"%s\" is not error, warning, info or debug", av[1]);
	}
#undef NEED1
	return cerr(p, "unknown keyword \"%s\"", kw);
}

int
px_config_load(const char *file, struct px_config *c, char *err, size_t errlen)
{
	struct cparse p = { file, 0, err, errlen, 0, 0 };
	char line[4096], *av[MAX_ARGS];
	FILE *f;
	int ac, rc = PX_OK, skip = 0;

	memset(c, 0, sizeof(*c));
	if (errlen > 0)
		err[0] = '\0';
	c->workers = 2;
	c->login_grace_time = 30;
	c->max_startups_start = 10;
	c->max_startups_rate = 30;
	c->max_startups_full = 100;
	c->max_auth_tries = 6;
	c->per_source_max_failures = 10;
	c->per_source_penalty = 30;
	c->recorder_timeout = 30;
	c->spool_limit = 16u << 20;
	c->file_content_limit = 1u << 20;
	c->keepalive_interval = 0;
	c->keepalive_count_max = 3;
	c->target_alive_interval = 0;
	c->target_alive_count_max = 3;
	c->log_level = PX_LOG_INFO;
	if ((f = fopen(file, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return PX_ECONFIG;
	}
	/* Every line is read: each mistake is reported, not only the first. */
	while (fgets(line, sizeof(line), f) != NULL) {
		int whole = strchr(line, '\n') != NULL || feof(f);
		if (skip) {              /* the rest of a line too long */
			skip = !whole;
			continue;
		}
		p.line++;
		if (!whole) {
			cerr(&p, "line too long");
			skip = 1;
			continue;
		}
		if (split(&p, line, av, &ac) < 0 || ac == 0)
			continue;
		if ((rc = apply(&p, c, av, ac)) == PX_ENOMEM)
			goto out;
	}
	rc = PX_OK;
	p.line = 0;
	if (c->nlisten == 0)
		cerr(&p, "no Listen address");
	if (c->hostkey == NULL)
		cerr(&p, "HostKey is required");
	if (c->policy == NULL)
		cerr(&p, "Policy is required");
	if (c->recorder == NULL)
		cerr(&p, "Recorder is required");
	else if (strncmp(c->recorder, "tls://", 6) == 0 &&
	    (c->recorder_ca == NULL || c->recorder_cert == NULL || c->recorder_key == NULL))
		cerr(&p, "Recorder tls:// needs RecorderCA, RecorderCertificate and RecorderKey");
	if ((c->path = strdup(file)) == NULL) {
		rc = PX_ENOMEM;
		goto out;
	}
	if (p.nerr == 0 && strncmp(c->recorder, "tls://", 6) == 0) {
		const char *kw[3] = { "RecorderCA", "RecorderCertificate", "RecorderKey" };
		const char *fn[3] = { c->recorder_ca, c->recorder_cert, c->recorder_key };
		char terr[512];
		int bad = 0;
		for (int i = 0; i < 3; i++)
			if (access(fn[i], R_OK) != 0)
				bad = 1, cerr(&p, "%s %s: %s", kw[i], fn[i], strerror(errno));
		if (!bad && tlsl_ctx_client(c->recorder_ca, c->recorder_cert, c->recorder_key, &c->recorder_tls,
		    terr, sizeof(terr)) != 0)
			cerr(&p, "Recorder %s: %s", c->recorder, terr);
	}
	if (p.nerr > 0)
		rc = PX_ECONFIG;
out:
	fclose(f);
	if (rc == PX_ENOMEM)
		px_config_free(c);
	return rc;
}

void
px_config_free(struct px_config *c)
{
	free(c->path);
	free(c->hostkey);
	free(c->policy);
	free(c->recorder);
	free(c->recorder_ca);
	free(c->recorder_cert);
	free(c->recorder_key);
	free(c->statedir);
	tlsl_ctx_free(c->recorder_tls);
	memset(c, 0, sizeof(*c));
}

void
px_config_dump(const struct px_config *c, FILE *f)
{
	for (int i = 0; i < c->nlisten; i++)
		fprintf(f, strchr(c->listen[i].host, ':') ? "listen [%s]:%d\n" : "listen %s:%d\n",
		    c->listen[i].host, c->listen[i].port);
	fprintf(f, "hostkey %s\npolicy %s\nrecorder %s\n", c->hostkey, c->policy, c->recorder);
	if (c->recorder_ca)
		fprintf(f, "recorderca %s\nrecordercertificate %s\nrecorderkey %s\n",
		    c->recorder_ca, c->recorder_cert, c->recorder_key);
	if (c->statedir)
		fprintf(f, "statedir %s\n", c->statedir);
	fprintf(f, "workers %d\nlogingracetime %d\nmaxstartups %d:%d:%d\n"
	    "maxauthtries %d\npersourcemaxfailures %d\npersourcepenalty %d\n"
	    "recordertimeout %d\nspoollimit %zu\nfilecontentlimit %zu\nclientaliveinterval %d\n"
	    "clientalivecountmax %d\ntargetaliveinterval %d\ntargetalivecountmax %d\nloglevel %s\n",
	    c->workers, c->login_grace_time,
	    c->max_startups_start, c->max_startups_rate, c->max_startups_full,
	    c->max_auth_tries, c->per_source_max_failures, c->per_source_penalty,
	    c->recorder_timeout, c->spool_limit, c->file_content_limit, c->keepalive_interval,
	    c->keepalive_count_max, c->target_alive_interval, c->target_alive_count_max,
	    c->log_level == 0 ? "error" : c->log_level == 1 ? "warning" : c->log_level == 2 ? "info" : "debug");
}
