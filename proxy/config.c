/* config: escort-proxy.conf(5), one row of px_keywords[] a keyword, read by
 * common/cfg. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/esc_error.h"
#include "common/tlsl.h"
#include "proxy/config.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/recpick.h"
#include "proxy/registry_redis.h"
#include "proxy/totp.h"

static int
parse_int(struct cfg *p, const char *kw, const char *v, long lo, long hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
		return cfg_error(p, "%s: \"%s\" is not a number from %ld to %ld", kw, v, lo, hi);
	*out = (int)n;
	return ESC_OK;
}

/* Seconds with an optional s/m/h suffix. */
static int
parse_secs(struct cfg *p, const char *kw, const char *v, int *out)
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
		return cfg_error(p, "%s: \"%s\" is not a duration (e.g. 30, 30s, 5m, 1h)", kw, v);
	*out = (int)(n * mul);
	return ESC_OK;
}

/* Bytes with an optional K/M/G suffix (powers of 1024). */
static int
parse_size(struct cfg *p, const char *kw, const char *v, size_t *out)
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
		return cfg_error(p, "%s: \"%s\" is not a size (e.g. 4M, 512K)", kw, v);
	*out = (size_t)(n * mul);
	return ESC_OK;
}

static int
parse_listen(struct cfg *p, const char *v, struct px_listen *l)
{
	const char *colon;
	size_t hl;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');
		if (rb == NULL || rb[1] != ':')
			return cfg_error(p, "Listen: \"%s\" is not [ADDRESS]:PORT", v);
		hl = (size_t)(rb - v - 1);
		v++;
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return cfg_error(p, "Listen: \"%s\" is not ADDRESS:PORT", v);
		hl = (size_t)(colon - v);
	}
	if (hl == 0 || hl >= sizeof(l->host))
		return cfg_error(p, "Listen: bad address in \"%s\"", v);
	memcpy(l->host, v, hl);
	l->host[hl] = '\0';
	return parse_int(p, "Listen", colon + 1, 1, 65535, &l->port);
}

/* A path or address keyword: strdup into the char * at k->off. */
static int
kw_str(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	char **dst = (char **)((char *)obj + k->off);

	(void)p, (void)ac;
	if ((*dst = strdup(av[0])) == NULL)
		return ESC_ENOMEM;
	return ESC_OK;
}

/* PidFile: an absolute path (the daemon may change directory). */
static int
kw_pidfile(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	if (av[0][0] != '/')
		return cfg_error(p, "PidFile: \"%s\" is not an absolute path", av[0]);
	return kw_str(p, k, obj, av, ac);
}

/* A file read at start: an absolute path (named by its keyword). */
static int
kw_abs_path(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	if (av[0][0] != '/')
		return cfg_error(p, "%s: \"%s\" is not an absolute path", k->name, av[0]);
	return kw_str(p, k, obj, av, ac);
}

/* Registry redis://HOST:PORT: the shared live-session registry (registry_redis.h). */
static int
kw_registry(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	char host[256];
	int port;

	if (px__rr_parse_url(av[0], host, sizeof(host), &port) != PX_OK)
		return cfg_error(p, "Registry: \"%s\" is not redis://HOST:PORT", av[0]);
	return kw_str(p, k, obj, av, ac);
}

/* ProxyName NAME: this proxy's name in the shared registry. */
static int
kw_proxy_name(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	if (!px__rr_name_ok(av[0]))
		return cfg_error(p, "ProxyName: \"%s\" is not 1 to %d letters, digits, '.', '-', '_' or ':'",
		    av[0], PX_RR_NAME_MAX);
	return kw_str(p, k, obj, av, ac);
}

/* A duration keyword: seconds into the int at k->off. */
static int
kw_secs(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	(void)ac;
	return parse_secs(p, k->name, av[0], (int *)((char *)obj + k->off));
}

static int
kw_listen(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;

	(void)k, (void)ac;
	if (c->nlisten == PX_MAX_LISTEN)
		return cfg_error(p, "Listen: at most %d addresses", PX_MAX_LISTEN);
	c->listen[c->nlisten].line = cfg_line(p);
	return parse_listen(p, av[0], &c->listen[c->nlisten++]);
}

/* Recorder ADDRESS ...: unix:PATH or tls://HOST:PORT each; may be given more
 * than once, the lists add up (the order is the order sessions try them). */
static int
kw_recorder(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;

	(void)k;
	for (int i = 0; i < ac; i++) {
		if (strncmp(av[i], "unix:", 5) != 0 && strncmp(av[i], "tls://", 6) != 0)
			return cfg_error(p, "Recorder: \"%s\" is neither unix:PATH nor tls://HOST:PORT", av[i]);
		if (strncmp(av[i], "unix:", 5) == 0 && (av[i][5] == '\0' ||
		    strlen(av[i] + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
			return cfg_error(p, "Recorder: \"%s\": the socket path is empty or too long", av[i]);
		for (int j = 0; j < c->nrecorders; j++)
			if (strcmp(c->recorders[j], av[i]) == 0)
				return cfg_error(p, "Recorder: \"%s\" is listed twice", av[i]);
		if (c->nrecorders == PX_MAX_RECORDERS)
			return cfg_error(p, "Recorder: at most %d addresses", PX_MAX_RECORDERS);
		if ((c->recorders[c->nrecorders] = strdup(av[i])) == NULL)
			return ESC_ENOMEM;
		c->nrecorders++;
	}
	return ESC_OK;
}

static int
kw_workers(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	(void)ac;
	return parse_int(p, k->name, av[0], 1, 64, &((struct px_config *)obj)->workers);
}

static int
kw_login_grace(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;

	(void)ac;
	if (parse_secs(p, k->name, av[0], &c->login_grace_time) < 0)
		return ESC_ECONFIG;
	if (c->login_grace_time == 0)
		return cfg_error(p, "LoginGraceTime must be at least 1 second");
	return ESC_OK;
}

/* EscortWaitTimeout, EscortLeaveTimeout: a duration of at least 1 second
 * into the int at k->off (0 would end every moderated session at once). */
static int
kw_secs_min1(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	int *v = (int *)((char *)obj + k->off);

	(void)ac;
	if (parse_secs(p, k->name, av[0], v) < 0)
		return ESC_ECONFIG;
	if (*v == 0)
		return cfg_error(p, "%s must be at least 1 second", k->name);
	return ESC_OK;
}

/* ClientAliveCountMax, TargetAliveCountMax: 1..1000 into the int at k->off. */
static int
kw_count_max(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	(void)ac;
	return parse_int(p, k->name, av[0], 1, 1000, (int *)((char *)obj + k->off));
}

static int
kw_spool_limit(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;

	(void)ac;
	if (parse_size(p, k->name, av[0], &c->spool_limit) < 0)
		return ESC_ECONFIG;
	if (c->spool_limit < 64 * 1024)
		return cfg_error(p, "SpoolLimit must be at least 64K");
	return ESC_OK;
}

static int
kw_file_content_limit(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;

	(void)ac;
	if (parse_size(p, k->name, av[0], &c->file_content_limit) < 0)
		return ESC_ECONFIG;
	if (c->file_content_limit > (64u << 20))
		return cfg_error(p, "FileContentLimit must be at most 64M");
	return ESC_OK;
}

static int
kw_max_auth_tries(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	(void)ac;
	return parse_int(p, k->name, av[0], 1, 100, &((struct px_config *)obj)->max_auth_tries);
}

/* MaxStartups START or START:RATE:FULL. */
static int
kw_max_startups(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;
	const char *kw = k->name;
	int a, b = 100, f;
	char *s1, *s2;

	(void)ac;
	s1 = strchr(av[0], ':');
	if (s1 == NULL) {
		if (parse_int(p, kw, av[0], 1, 100000, &a) < 0)
			return ESC_ECONFIG;
		f = a;
	} else {
		*s1++ = '\0';
		s2 = strchr(s1, ':');
		if (s2 == NULL)
			return cfg_error(p, "MaxStartups: expected START or START:RATE:FULL");
		*s2++ = '\0';
		if (parse_int(p, kw, av[0], 1, 100000, &a) < 0 ||
		    parse_int(p, kw, s1, 1, 100, &b) < 0 ||
		    parse_int(p, kw, s2, 1, 100000, &f) < 0)
			return ESC_ECONFIG;
		if (f < a)
			return cfg_error(p, "MaxStartups: FULL must not be below START");
	}
	c->max_startups_start = a;
	c->max_startups_rate = b;
	c->max_startups_full = f;
	return ESC_OK;
}

static int
kw_per_source_max_failures(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)ac;
	return parse_int(p, k->name, av[0], 1, 100000,
	    &((struct px_config *)obj)->per_source_max_failures);
}

static int
kw_log_level(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	static const char *lv[] = { "error", "warning", "info", "debug" };

	(void)k, (void)ac;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(av[0], lv[i]) == 0) {
			((struct px_config *)obj)->log_level = i;
			return ESC_OK;
		}
	return cfg_error(p, "LogLevel: \"%s\" is not error, warning, info or debug", av[0]);
}

/* KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms (algos.h). */
static int
kw_algo(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;
	int kind = px__algo_by_keyword(k->name), rc;
	char msg[512];

	(void)ac;
	rc = px__algo_resolve((enum px_algo_kind)kind, av[0], &c->algos[kind], msg, sizeof(msg));
	if (rc == PX_ENOMEM)
		return ESC_ENOMEM;
	if (rc != PX_OK)
		return cfg_error(p, "%s", msg);
	return ESC_OK;
}

/* TOTPSecrets FILE: the users asked for a TOTP code after their key, read
 * now (totp.h); each problem of the file is reported at this line as
 * "TOTPSecrets FILE:LINE: message". */
struct totp_report {
	struct cfg *p;
	const char *path;
};

static void
totp_report(void *ctx, int line, const char *msg)
{
	struct totp_report *r = ctx;

	if (line > 0)
		cfg_error(r->p, "TOTPSecrets %s:%d: %s", r->path, line, msg);
	else
		cfg_error(r->p, "TOTPSecrets %s: %s", r->path, msg);
}

static int
kw_totp(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;
	struct totp_report r = { p, av[0] };
	int rc = kw_str(p, k, obj, av, ac);

	if (rc != ESC_OK)
		return rc;
	rc = px__totp_load(av[0], &c->totp, totp_report, &r);
	if (rc == PX_ENOMEM)
		return ESC_ENOMEM;
	if (rc == PX_OK && c->totp == NULL)
		cfg_error(p, "TOTPSecrets %s: no user in the file", av[0]);
	return ESC_OK;	/* problems were reported; the rest of the file is read */
}

/* ProxyProtocol ADDR[/PREFIX] ...: the load balancers (proxyproto.h);
 * may be given more than once, the lists add up. */
static int
kw_proxy_protocol(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av, int ac)
{
	struct px_config *c = obj;

	(void)k;
	for (int i = 0; i < ac; i++) {
		if (c->nlb == PX_MAX_LB)
			return cfg_error(p, "ProxyProtocol: at most %d addresses", PX_MAX_LB);
		if (px__pxpp_net_parse(av[i], &c->lb[c->nlb]) != PX_OK)
			return cfg_error(p, "ProxyProtocol: \"%s\" is not ADDRESS or ADDRESS/PREFIX "
			    "(numeric, no host bits past the prefix)", av[i]);
		c->nlb++;
	}
	return ESC_OK;
}

#define ONE	1, 1, 0, "exactly one argument"
#define AT(f)	offsetof(struct px_config, f)

/* escort-proxy.conf(5): one row a keyword; only Listen, Recorder and
 * ProxyProtocol may repeat. */
static const struct cfg_keyword px_keywords[] = {
	{ "Listen", kw_listen, 1, 1, 1, "exactly one argument", 0 },
	{ "HostKey", kw_str, ONE, AT(hostkey) },
	{ "Policy", kw_str, ONE, AT(policy) },
	{ "Recorder", kw_recorder, 1, PX_MAX_RECORDERS, 1, "one or more addresses", 0 },
	{ "RecorderCA", kw_str, ONE, AT(recorder_ca) },
	{ "RecorderCertificate", kw_str, ONE, AT(recorder_cert) },
	{ "RecorderKey", kw_str, ONE, AT(recorder_key) },
	{ "StateDir", kw_str, ONE, AT(statedir) },
	{ "PidFile", kw_pidfile, ONE, AT(pidfile) },
	{ "Workers", kw_workers, ONE, 0 },
	{ "LoginGraceTime", kw_login_grace, ONE, 0 },
	{ "RecorderTimeout", kw_secs, ONE, AT(recorder_timeout) },
	{ "ApprovalTimeout", kw_secs, ONE, AT(approval_timeout) },
	{ "EscortWaitTimeout", kw_secs_min1, ONE, AT(escort_wait_timeout) },
	{ "EscortLeaveTimeout", kw_secs_min1, ONE, AT(escort_leave_timeout) },
	{ "ClientAliveInterval", kw_secs, ONE, AT(keepalive_interval) },
	{ "ClientAliveCountMax", kw_count_max, ONE, AT(keepalive_count_max) },
	{ "TargetAliveInterval", kw_secs, ONE, AT(target_alive_interval) },
	{ "TargetAliveCountMax", kw_count_max, ONE, AT(target_alive_count_max) },
	{ "SpoolLimit", kw_spool_limit, ONE, 0 },
	{ "FileContentLimit", kw_file_content_limit, ONE, 0 },
	{ "MaxAuthTries", kw_max_auth_tries, ONE, 0 },
	{ "MaxStartups", kw_max_startups, ONE, 0 },
	{ "PerSourceMaxFailures", kw_per_source_max_failures, ONE, 0 },
	{ "PerSourcePenalty", kw_secs, ONE, AT(per_source_penalty) },
	{ "LogLevel", kw_log_level, ONE, 0 },
	{ "TOTPSecrets", kw_totp, ONE, AT(totp_secrets) },
	{ "KexAlgorithms", kw_algo, ONE, 0 },
	{ "Ciphers", kw_algo, ONE, 0 },
	{ "MACs", kw_algo, ONE, 0 },
	{ "HostKeyAlgorithms", kw_algo, ONE, 0 },
	{ "ProxyProtocol", kw_proxy_protocol, 1, PX_MAX_LB, 1, "one or more addresses", 0 },
	{ "Registry", kw_registry, ONE, AT(registry) },
	{ "ProxyName", kw_proxy_name, ONE, AT(proxy_name) },
	{ "RegistryPasswordFile", kw_abs_path, ONE, AT(registry_password_file) },
};

#undef ONE
#undef AT

/* Defaults for the keywords a file may leave out. */
static void
px_config_defaults(struct px_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 2;
	c->login_grace_time = 30;
	c->max_startups_start = 10;
	c->max_startups_rate = 30;
	c->max_startups_full = 100;
	c->max_auth_tries = 6;
	c->per_source_max_failures = 10;
	c->per_source_penalty = 30;
	c->recorder_timeout = 30;
	c->approval_timeout = 120;
	c->escort_wait_timeout = 300;
	c->escort_leave_timeout = 120;
	c->spool_limit = 16u << 20;
	c->file_content_limit = 1u << 20;
	c->keepalive_interval = 0;
	c->keepalive_count_max = 3;
	c->target_alive_interval = 0;
	c->target_alive_count_max = 3;
	c->log_level = PX_LOG_INFO;
}

/* Whole-file checks: required keywords (unless given but wrong: that was
 * reported at its line), and the tls:// client context. */
static void
px_config_check(struct cfg *p, struct px_config *c)
{
	if (c->nlisten == 0 && !cfg_seen(p, "Listen"))
		cfg_error(p, "no Listen address");
	c->hostkey_line = cfg_seen(p, "HostKey");
	if (c->hostkey == NULL && !c->hostkey_line)
		cfg_error(p, "HostKey is required");
	if (c->policy == NULL && !cfg_seen(p, "Policy"))
		cfg_error(p, "Policy is required");
	const char *tls = NULL;

	for (int i = 0; i < c->nrecorders && tls == NULL; i++)
		if (strncmp(c->recorders[i], "tls://", 6) == 0)
			tls = c->recorders[i];
	if (c->nrecorders == 0) {
		if (!cfg_seen(p, "Recorder"))
			cfg_error(p, "Recorder is required");
	} else if (tls != NULL &&
	    (c->recorder_ca == NULL || c->recorder_cert == NULL || c->recorder_key == NULL))
		cfg_error(p, "Recorder tls:// needs RecorderCA, RecorderCertificate and RecorderKey");
	if (c->proxy_name != NULL && c->registry == NULL)
		cfg_error(p, "ProxyName without Registry: it names this proxy in a shared registry");
	if (c->registry_password_file != NULL && c->registry == NULL)
		cfg_error(p, "RegistryPasswordFile without Registry: it is the shared registry's password");
	if (c->registry != NULL && c->proxy_name == NULL && c->nlisten > 0) {
		char host[256], name[PX_RR_NAME_MAX + 1];
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "proxy");
		host[sizeof(host) - 1] = '\0';
		snprintf(name, sizeof(name), "%.50s:%d", host, c->listen[0].port);
		if (!px__rr_name_ok(name))
			cfg_error(p, "Registry without ProxyName: the host name \"%s\" cannot name this proxy; "
			    "set ProxyName", host);
		else if ((c->proxy_name = strdup(name)) == NULL)
			cfg_error(p, "out of memory");
	}
	if (cfg_nerrors(p) == 0 && tls != NULL) {
		const char *kw[3] = { "RecorderCA", "RecorderCertificate", "RecorderKey" };
		const char *fn[3] = { c->recorder_ca, c->recorder_cert, c->recorder_key };
		char terr[512];
		int bad = 0;
		for (int i = 0; i < 3; i++)
			if (access(fn[i], R_OK) != 0)
				bad = 1, cfg_error(p, "%s %s: %s", kw[i], fn[i], strerror(errno));
		if (!bad && tlsl_ctx_client(c->recorder_ca, c->recorder_cert, c->recorder_key, &c->recorder_tls,
		    terr, sizeof(terr)) != 0)
			cfg_error(p, "Recorder %s: %s", tls, terr);
	}
}

int
px_config_load(const char *file, struct px_config *c, char *err, size_t errlen)
{
	struct cfg p;
	int rc;

	px_config_defaults(c);
	cfg_init(&p, file, err, errlen);
	rc = cfg_read(&p, px_keywords, sizeof(px_keywords) / sizeof(px_keywords[0]), c);
	if (rc == ESC_EIO)
		return PX_ECONFIG;
	if (rc == ESC_OK && (c->path = strdup(file)) == NULL)
		rc = ESC_ENOMEM;
	if (rc == ESC_ENOMEM) {
		px_config_free(c);
		return PX_ENOMEM;
	}
	px_config_check(&p, c);
	if (cfg_nerrors(&p) > 0)
		return PX_ECONFIG;
	if (px__recpick_new(c->nrecorders, &c->recpick) != PX_OK) {
		px_config_free(c);
		return PX_ENOMEM;
	}
	return PX_OK;
}

void
px_config_free(struct px_config *c)
{
	free(c->path);
	free(c->hostkey);
	free(c->policy);
	for (int i = 0; i < c->nrecorders; i++)
		free(c->recorders[i]);
	px__recpick_free(c->recpick);
	free(c->recorder_ca);
	free(c->recorder_cert);
	free(c->recorder_key);
	free(c->statedir);
	free(c->pidfile);
	free(c->totp_secrets);
	free(c->registry);
	free(c->proxy_name);
	free(c->registry_password_file);
	px__totp_table_free(c->totp);
	tlsl_ctx_free(c->recorder_tls);
	for (int k = 0; k < PX_ALGO_N; k++)
		free(c->algos[k]);
	memset(c, 0, sizeof(*c));
}

void
px_config_dump(const struct px_config *c, FILE *f)
{
	for (int i = 0; i < c->nlisten; i++)
		fprintf(f, strchr(c->listen[i].host, ':') ? "listen [%s]:%d\n" : "listen %s:%d\n",
		    c->listen[i].host, c->listen[i].port);
	fprintf(f, "hostkey %s\npolicy %s\n", c->hostkey, c->policy);
	for (int i = 0; i < c->nrecorders; i++)
		fprintf(f, "recorder %s\n", c->recorders[i]);
	if (c->recorder_ca)
		fprintf(f, "recorderca %s\nrecordercertificate %s\nrecorderkey %s\n",
		    c->recorder_ca, c->recorder_cert, c->recorder_key);
	if (c->statedir)
		fprintf(f, "statedir %s\n", c->statedir);
	if (c->pidfile)
		fprintf(f, "pidfile %s\n", c->pidfile);
	if (c->totp_secrets)
		fprintf(f, "totpsecrets %s\n", c->totp_secrets);
	if (c->registry)
		fprintf(f, "registry %s\nproxyname %s\n", c->registry, c->proxy_name ? c->proxy_name : "");
	if (c->registry_password_file)
		fprintf(f, "registrypasswordfile %s\n", c->registry_password_file);
	fprintf(f, "workers %d\nlogingracetime %d\nmaxstartups %d:%d:%d\n"
	    "maxauthtries %d\npersourcemaxfailures %d\npersourcepenalty %d\n"
	    "recordertimeout %d\napprovaltimeout %d\nspoollimit %zu\nfilecontentlimit %zu\nclientaliveinterval %d\n"
	    "clientalivecountmax %d\ntargetaliveinterval %d\ntargetalivecountmax %d\nloglevel %s\n",
	    c->workers, c->login_grace_time,
	    c->max_startups_start, c->max_startups_rate, c->max_startups_full,
	    c->max_auth_tries, c->per_source_max_failures, c->per_source_penalty,
	    c->recorder_timeout, c->approval_timeout, c->spool_limit, c->file_content_limit, c->keepalive_interval,
	    c->keepalive_count_max, c->target_alive_interval, c->target_alive_count_max,
	    c->log_level == 0 ? "error" : c->log_level == 1 ? "warning" : c->log_level == 2 ? "info" : "debug");
	fprintf(f, "escortwaittimeout %d\nescortleavetimeout %d\n", c->escort_wait_timeout,
	    c->escort_leave_timeout);
	for (int i = 0; i < c->nlb; i++) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(c->lb[i].family, c->lb[i].addr, a, sizeof(a));
		fprintf(f, "proxyprotocol %s/%d\n", a, c->lb[i].prefix);
	}
	for (int k = 0; k < PX_ALGO_N; k++) {
		const char *l = c->algos[k] ? c->algos[k] : px__algo_default((enum px_algo_kind)k);
		char kw[32];
		size_t i;
		for (i = 0; px__algo_keyword((enum px_algo_kind)k)[i] && i + 1 < sizeof(kw); i++)
			kw[i] = (char)tolower((unsigned char)px__algo_keyword((enum px_algo_kind)k)[i]);
		kw[i] = '\0';
		if (l[0] != '\0')	/* HostKeyAlgorithms by default: the key's own */
			fprintf(f, "%s %s\n", kw, l);
	}
}
