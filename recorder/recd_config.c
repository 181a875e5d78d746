/* recd_config: escort-recorder.conf(5), one row of recd_keywords[] a keyword,
 * read by common/cfg. */
#include <ctype.h>
#include <sched.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cfg.h"
#include "common/esc_error.h"
#include "recorder/recd_config.h"

const char *
recd_fsync_name(enum recd_fsync f)
{
	switch (f) {
	case RECD_FSYNC_ALWAYS:
		return "always";
	case RECD_FSYNC_INTERVAL:
		return "interval";
	default:
		return "never";
	}
}

/* Copies a string argument that must fit dst. */
static int
copy(struct cfg *p, char *dst, size_t dstsz, const char *src,
    const char *what)
{
	if (strlen(src) >= dstsz)
		return cfg_error(p, "%s is too long (at most %zu bytes)", what,
		    dstsz - 1);
	strcpy(dst, src);
	return ESC_OK;
}

/* Parses a decimal number in [min, max]. */
static int
number(struct cfg *p, const char *s, unsigned long min, unsigned long max,
    const char *what, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		return cfg_error(p, "%s must be a number from %lu to %lu, not "
		    "\"%s\"", what, min, max, s);
	*out = (unsigned)v;
	return ESC_OK;
}

/* Parses unix:PATH or tls://HOST:PORT into a new listener. */
static int
listen_spec(struct cfg *p, struct recd_config *c, const char *s)
{
	struct recd_listen_cfg *l;
	const char *hp, *colon;
	int i;

	for (i = 0; i < c->nlisten; i++)
		if (strcmp(c->listen[i].spec, s) == 0)
			return cfg_error(p, "Listen %s given twice (first at line "
			    "%d)", s, c->listen[i].line);
	if (c->nlisten == RECD_LISTEN_MAX)
		return cfg_error(p, "too many Listen lines (at most %d)",
		    RECD_LISTEN_MAX);
	l = &c->listen[c->nlisten];
	memset(l, 0, sizeof(*l));
	l->line = cfg_line(p);
	if (copy(p, l->spec, sizeof(l->spec), s, "Listen address") < 0)
		return ESC_ECONFIG;
	if (strncmp(s, "unix:", 5) == 0) {
		l->kind = RECD_LISTEN_UNIX;
		if (s[5] != '/')
			return cfg_error(p, "Listen unix: needs an absolute path, "
			    "not \"%s\"", s + 5);
		if (strlen(s + 5) >= 108)
			return cfg_error(p, "unix socket path is too long (at most "
			    "107 bytes)");
		strcpy(l->path, s + 5);
	} else if (strncmp(s, "tls://", 6) == 0) {
		l->kind = RECD_LISTEN_TLS;
		hp = s + 6;
		if (hp[0] == '[') {
			const char *rb = strchr(hp, ']');

			if (rb == NULL || rb[1] != ':')
				return cfg_error(p, "bad address \"%s\": expected "
				    "tls://[IPV6]:PORT", s);
			if ((size_t)(rb - hp - 1) >= sizeof(l->host))
				return cfg_error(p, "host name is too long");
			memcpy(l->host, hp + 1, rb - hp - 1);
			colon = rb + 1;
		} else {
			colon = strrchr(hp, ':');
			if (colon == NULL || colon == hp)
				return cfg_error(p, "bad address \"%s\": expected "
				    "tls://HOST:PORT", s);
			if ((size_t)(colon - hp) >= sizeof(l->host))
				return cfg_error(p, "host name is too long");
			memcpy(l->host, hp, colon - hp);
		}
		{
			unsigned port;

			if (number(p, colon + 1, 1, 65535, "port", &port) < 0)
				return ESC_ECONFIG;
			snprintf(l->port, sizeof(l->port), "%u", port);
		}
	} else
		return cfg_error(p, "unknown Listen address \"%s\": expected "
		    "unix:PATH or tls://HOST:PORT", s);
	c->nlisten++;
	return ESC_OK;
}

/* The config a handler fills, at k->off for shared handlers. */
#define CFG(obj)	((struct recd_config *)(obj))
#define FIELD(obj, k)	((char *)(obj) + (k)->off)

static int
kw_listen(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)k, (void)ac;
	return listen_spec(p, CFG(obj), av[0]);
}

/* A file name into the char[512] at k->off. */
static int
kw_file(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)ac;
	return copy(p, FIELD(obj, k), 512, av[0], k->name);
}

/* An absolute path into the char[512] at k->off. */
static int
kw_abs(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)ac;
	if (av[0][0] != '/')
		return cfg_error(p, "%s needs an absolute path", k->name);
	return copy(p, FIELD(obj, k), 512, av[0], k->name);
}

static int
kw_fsync(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	struct recd_config *c = CFG(obj);

	(void)k;
	if (strcasecmp(av[0], "always") == 0 && ac == 1)
		c->fsync = RECD_FSYNC_ALWAYS;
	else if (strcasecmp(av[0], "never") == 0 && ac == 1)
		c->fsync = RECD_FSYNC_NEVER;
	else if (strcasecmp(av[0], "interval") == 0 && ac == 2) {
		c->fsync = RECD_FSYNC_INTERVAL;
		return number(p, av[1], 1, 60000, "Fsync interval (ms)",
		    &c->fsync_ms);
	} else
		return cfg_error(p, "Fsync takes always, interval MS or never");
	return ESC_OK;
}

static int
kw_user(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)k, (void)ac;
	CFG(obj)->user_line = cfg_line(p);
	return copy(p, CFG(obj)->user, sizeof(CFG(obj)->user), av[0], "User");
}

static int
kw_max_sessions(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	(void)k, (void)ac;
	return number(p, av[0], 1, 1000000, "MaxSessions",
	    &CFG(obj)->max_sessions);
}

static int
kw_resume_timeout(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	(void)k, (void)ac;
	return number(p, av[0], 1, 86400 * 7, "ResumeTimeout",
	    &CFG(obj)->resume_timeout);
}

static int
kw_compression(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	(void)k, (void)ac;
	if (strcasecmp(av[0], "default") == 0) {
		CFG(obj)->compression = 0;
		return ESC_OK;
	}
	return number(p, av[0], 1, 19, "Compression (default or a zstd level)",
	    &CFG(obj)->compression);
}

/* UnixClients: user names and @group names, resolved now. */
static int
kw_clients(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	struct recd_config *c = CFG(obj);

	(void)k;
	for (int i = 0; i < ac; i++) {
		if (av[i][0] == '@') {
			struct group *g = getgrnam(av[i] + 1);
			if (g == NULL)
				return cfg_error(p, "UnixClients: no such group \"%s\"", av[i] + 1);
			c->client_gid[c->nclient_gid++] = (unsigned)g->gr_gid;
		} else {
			struct passwd *pw = getpwnam(av[i]);
			if (pw == NULL)
				return cfg_error(p, "UnixClients: no such user \"%s\"", av[i]);
			c->client_uid[c->nclient_uid++] = (unsigned)pw->pw_uid;
		}
	}
	return ESC_OK;
}

static int
kw_heads(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	size_t n = strlen(av[0]);

	(void)k, (void)ac;
	if (n > 1 && av[0][n - 1] == 's')	/* "60s" */
		av[0][n - 1] = '\0';
	return number(p, av[0], 0, 86400, "TreeHeadInterval (seconds, "
	    "0: only at session closes)", &CFG(obj)->head_interval);
}

static int
kw_witness(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)ac;
	if (av[0][0] != '/')
		return cfg_error(p, "Witness needs an absolute path to a "
		    "command");
	return copy(p, FIELD(obj, k), 512, av[0], k->name);
}

static int
kw_audit_syslog(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	(void)k, (void)ac;
	if (strcasecmp(av[0], "yes") == 0)
		CFG(obj)->audit_syslog = 1;
	else if (strcasecmp(av[0], "no") == 0)
		CFG(obj)->audit_syslog = 0;
	else
		return cfg_error(p, "AuditSyslog takes yes or no, not \"%s\"",
		    av[0]);
	return ESC_OK;
}

/* ObjectStore s3://BUCKET[/PREFIX] (checked fully by s3_url_parse at
 * start-up), ObjectStoreEndpoint http(s)://..., ObjectStoreRegion. */
static int
kw_objstore(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)ac;
	if (strncmp(av[0], "s3://", 5) != 0 || av[0][5] == '\0' ||
	    av[0][5] == '/')
		return cfg_error(p, "ObjectStore takes s3://BUCKET/PREFIX, not "
		    "\"%s\"", av[0]);
	return copy(p, FIELD(obj, k), 512, av[0], k->name);
}

static int
kw_objstore_endpoint(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	(void)ac;
	if (strncmp(av[0], "http://", 7) != 0 &&
	    strncmp(av[0], "https://", 8) != 0)
		return cfg_error(p, "ObjectStoreEndpoint takes an http:// or "
		    "https:// URL, not \"%s\"", av[0]);
	return copy(p, FIELD(obj, k), 512, av[0], k->name);
}

static int
kw_objstore_region(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	(void)k, (void)ac;
	return copy(p, CFG(obj)->objstore_region,
	    sizeof(CFG(obj)->objstore_region), av[0], "ObjectStoreRegion");
}

static int
kw_objstore_retention(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	(void)k, (void)ac;
	return number(p, av[0], 1, 36500, "ObjectStoreRetention (days)",
	    &CFG(obj)->objstore_retention);
}

/* ObjectStorePartInterval SECONDS[s]: a live session's part at least this
 * often (ship_parts.h). */
static int
kw_objstore_part_interval(struct cfg *p, const struct cfg_keyword *k,
    void *obj, char **av, int ac)
{
	size_t n = strlen(av[0]);

	(void)k, (void)ac;
	if (n > 1 && av[0][n - 1] == 's')	/* "60s" */
		av[0][n - 1] = '\0';
	return number(p, av[0], 1, 86400, "ObjectStorePartInterval (seconds)",
	    &CFG(obj)->objstore_part_interval);
}

/* ObjectStorePartSize BYTES[K|M|G]: ... or once this much waits. */
static int
kw_objstore_part_size(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	static const char units[] = "KMG";
	const char *u;
	char *end;
	unsigned long long v;

	(void)k, (void)ac;
	errno = 0;
	v = strtoull(av[0], &end, 10);
	if (isdigit((unsigned char)av[0][0]) && errno == 0 && *end != '\0' &&
	    end[1] == '\0' && (u = strchr(units, toupper((unsigned char)*end)))
	    != NULL && v <= (1ull << 30)) {
		v <<= 10 * (u - units + 1);
		end++;
	}
	if (!isdigit((unsigned char)av[0][0]) || errno != 0 || *end != '\0' ||
	    v < (64u << 10) || v > (1u << 30))
		return cfg_error(p, "ObjectStorePartSize takes 64K to 1G (bytes, "
		    "or with K, M or G), not \"%s\"", av[0]);
	CFG(obj)->objstore_part_size = (unsigned)v;
	return ESC_OK;
}

/* ObjectStorePruneAfter DAYS, or N followed by d, h, m or s. */
static int
kw_prune_after(struct cfg *p, const struct cfg_keyword *k, void *obj,
    char **av, int ac)
{
	static const struct { char unit; unsigned secs; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t n = strlen(av[0]);
	unsigned mul = 86400, v = 0;
	char num[32];

	(void)k, (void)ac;
	for (size_t i = 0; n > 1 && i < sizeof(units) / sizeof(units[0]); i++)
		if (av[0][n - 1] == units[i].unit) {
			mul = units[i].secs;
			n--;
		}
	if (n >= sizeof(num))
		n = sizeof(num) - 1;
	memcpy(num, av[0], n);
	num[n] = '\0';
	int r = number(p, num, 1, 36500u * (86400 / mul),
	    "ObjectStorePruneAfter (days, or a number with d, h, m or s)", &v);

	if (r != ESC_OK)
		return r;
	CFG(obj)->objstore_prune_after = v * mul;
	return ESC_OK;
}

static int
kw_workers(struct cfg *p, const struct cfg_keyword *k, void *obj, char **av,
    int ac)
{
	(void)k, (void)ac;
	return number(p, av[0], 1, RECD_WORKERS_MAX, "Workers",
	    &CFG(obj)->workers);
}

#define ONE	1, 1, 0, "one argument"
#define AT(f)	offsetof(struct recd_config, f)

/* escort-recorder.conf(5): one row a keyword; only Listen may repeat.
 * Handlers that write at k->off write char[512] fields. */
static const struct cfg_keyword recd_keywords[] = {
	{ "Listen", kw_listen, 1, 1, 1, "one argument", 0 },
	{ "Store", kw_abs, ONE, AT(store) },
	{ "SigningKey", kw_file, ONE, AT(signing_key) },
	{ "Fsync", kw_fsync, 1, 2, 0, "always, interval MS or never", 0 },
	{ "TLSCertificate", kw_file, ONE, AT(tls_cert) },
	{ "TLSKey", kw_file, ONE, AT(tls_key) },
	{ "TLSClientCA", kw_file, ONE, AT(tls_client_ca) },
	{ "User", kw_user, ONE, 0 },
	{ "MaxSessions", kw_max_sessions, ONE, 0 },
	{ "ResumeTimeout", kw_resume_timeout, ONE, 0 },
	{ "PidFile", kw_abs, ONE, AT(pid_file) },
	{ "Compression", kw_compression, ONE, 0 },
	{ "UnixClients", kw_clients, 1, RECD_CLIENTS_MAX, 0,
	  "1 to 16 user or @group arguments", 0 },
	{ "TreeHeadInterval", kw_heads, ONE, 0 },
	{ "Witness", kw_witness, ONE, AT(witness) },
	{ "AuditLog", kw_abs, ONE, AT(audit_log) },
	{ "AuditSyslog", kw_audit_syslog, ONE, 0 },
	{ "ObjectStore", kw_objstore, ONE, AT(objstore) },
	{ "ObjectStoreEndpoint", kw_objstore_endpoint, ONE,
	  AT(objstore_endpoint) },
	{ "ObjectStoreRegion", kw_objstore_region, ONE, 0 },
	{ "ObjectStoreCredentials", kw_abs, ONE, AT(objstore_credentials) },
	{ "ObjectStoreRetention", kw_objstore_retention, ONE, 0 },
	{ "ObjectStorePartInterval", kw_objstore_part_interval, ONE, 0 },
	{ "ObjectStorePartSize", kw_objstore_part_size, ONE, 0 },
	{ "ObjectStorePruneAfter", kw_prune_after, ONE, 0 },
	{ "Workers", kw_workers, ONE, 0 },
};

#undef ONE
#undef AT
#undef CFG
#undef FIELD

_Static_assert(sizeof(((struct recd_config *)0)->store) == 512 &&
    sizeof(((struct recd_config *)0)->signing_key) == 512 &&
    sizeof(((struct recd_config *)0)->tls_cert) == 512 &&
    sizeof(((struct recd_config *)0)->tls_key) == 512 &&
    sizeof(((struct recd_config *)0)->tls_client_ca) == 512 &&
    sizeof(((struct recd_config *)0)->pid_file) == 512 &&
    sizeof(((struct recd_config *)0)->witness) == 512 &&
    sizeof(((struct recd_config *)0)->audit_log) == 512 &&
    sizeof(((struct recd_config *)0)->objstore) == 512 &&
    sizeof(((struct recd_config *)0)->objstore_endpoint) == 512 &&
    sizeof(((struct recd_config *)0)->objstore_credentials) == 512,
    "recd_keywords[] rows with an offset name char[512] fields");

unsigned
recd_config_workers(const struct recd_config *cfg)
{
	long n;

	if (cfg->workers > 0)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	{
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
		    CPU_COUNT(&set) > 0 && CPU_COUNT(&set) < n)
			n = CPU_COUNT(&set);
	}
	if (n < 1)
		n = 1;
	return n > RECD_WORKERS_MAX ? RECD_WORKERS_MAX : (unsigned)n;
}

int
recd_config_peer_allowed(const struct recd_config *cfg, unsigned uid, unsigned gid)
{
	if (uid == 0 || uid == (unsigned)geteuid())
		return 1;
	for (int i = 0; i < cfg->nclient_uid; i++)
		if (cfg->client_uid[i] == uid)
			return 1;
	if (cfg->nclient_gid == 0)
		return 0;
	for (int i = 0; i < cfg->nclient_gid; i++)
		if (cfg->client_gid[i] == gid)
			return 1;
	/* supplementary groups of that user */
	struct passwd pwb, *pw = NULL;
	char buf[4096];
	if (getpwuid_r((uid_t)uid, &pwb, buf, sizeof(buf), &pw) != 0 || pw == NULL)
		return 0;
	gid_t groups[256];
	int ng = 256;
	if (getgrouplist(pw->pw_name, (gid_t)gid, groups, &ng) < 0)
		return 0;
	for (int k = 0; k < ng; k++)
		for (int i = 0; i < cfg->nclient_gid; i++)
			if ((unsigned)groups[k] == cfg->client_gid[i])
				return 1;
	return 0;
}

/* Whole-file checks: required keywords, and what a tls listener needs. */
static void
recd_config_check(struct cfg *p, const struct recd_config *cfg)
{
	int i, tls = 0;

	if (cfg->nlisten == 0 && !cfg_seen(p, "Listen"))
		cfg_error(p, "no Listen line");
	if (cfg->store[0] == '\0' && !cfg_seen(p, "Store"))
		cfg_error(p, "no Store line");
	if (cfg->signing_key[0] == '\0' && !cfg_seen(p, "SigningKey"))
		cfg_error(p, "no SigningKey line");
	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].kind == RECD_LISTEN_TLS)
			tls = cfg->listen[i].line;
	if (tls && (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0' ||
	    cfg->tls_client_ca[0] == '\0'))
		cfg_error_at(p, tls, "a tls listener needs TLSCertificate, "
		    "TLSKey and TLSClientCA");
	if (cfg->objstore[0] != '\0' && cfg->objstore_retention == 0 &&
	    !cfg_seen(p, "ObjectStoreRetention"))
		cfg_error(p, "ObjectStore needs ObjectStoreRetention DAYS (the "
		    "Object Lock period)");
	if (cfg->objstore[0] == '\0' && !cfg_seen(p, "ObjectStore") &&
	    (cfg_seen(p, "ObjectStoreEndpoint") ||
	    cfg_seen(p, "ObjectStoreRegion") ||
	    cfg_seen(p, "ObjectStoreCredentials") ||
	    cfg_seen(p, "ObjectStoreRetention") ||
	    cfg_seen(p, "ObjectStorePartInterval") ||
	    cfg_seen(p, "ObjectStorePartSize") ||
	    cfg_seen(p, "ObjectStorePruneAfter")))
		cfg_error(p, "ObjectStore* settings without an ObjectStore "
		    "line");
}

int
recd_config_load(const char *path, struct recd_config *cfg, char *err,
    size_t errlen)
{
	struct cfg p;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->fsync = RECD_FSYNC_INTERVAL;
	cfg->fsync_ms = 1000;
	cfg->max_sessions = 1024;
	cfg->resume_timeout = 600;
	cfg->head_interval = 60;
	cfg->objstore_part_interval = 60;		/* ship_parts.h */
	cfg->objstore_part_size = 16u << 20;
	snprintf(cfg->file, sizeof(cfg->file), "%s", path);
	cfg_init(&p, path, err, errlen);
	rc = cfg_read(&p, recd_keywords,
	    sizeof(recd_keywords) / sizeof(recd_keywords[0]), cfg);
	if (rc == ESC_ENOMEM)
		cfg_error(&p, "out of memory");
	if (rc != ESC_OK)
		return -1;
	recd_config_check(&p, cfg);
	return cfg_nerrors(&p) > 0 ? -1 : 0;
}
