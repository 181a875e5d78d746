/* recd_config: parser for escort-recorder.conf(5). */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recorder/recd_config.h"

#define MAX_WORDS 4

struct parse {
	const char	*file;
	int		 line;
	char		*err;
	size_t		 errlen;
	struct recd_config *cfg;
	int		 seen[32];	/* line of first use, per keyword */
};

/* Writes "FILE:LINE: message" to err; returns -1. */
static int
perr(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

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
copy(struct parse *p, char *dst, size_t dstsz, const char *src,
    const char *what)
{
	if (strlen(src) >= dstsz)
		return perr(p, "%s is too long (at most %zu bytes)", what,
		    dstsz - 1);
	strcpy(dst, src);
	return 0;
}

/* Parses a decimal number in [min, max]. */
static int
number(struct parse *p, const char *s, unsigned long min, unsigned long max,
    const char *what, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		return perr(p, "%s must be a number from %lu to %lu, not "
		    "\"%s\"", what, min, max, s);
	*out = (unsigned)v;
	return 0;
}

/* Parses unix:PATH or tls://HOST:PORT into a new listener. */
static int
listen_spec(struct parse *p, const char *s)
{
	struct recd_config *c = p->cfg;
	struct recd_listen_cfg *l;
	const char *hp, *colon;

	if (c->nlisten == RECD_LISTEN_MAX)
		return perr(p, "too many Listen lines (at most %d)",
		    RECD_LISTEN_MAX);
	l = &c->listen[c->nlisten];
	memset(l, 0, sizeof(*l));
	l->line = p->line;
	if (copy(p, l->spec, sizeof(l->spec), s, "Listen address") < 0)
		return -1;
	if (strncmp(s, "unix:", 5) == 0) {
		l->kind = RECD_LISTEN_UNIX;
		if (s[5] != '/')
			return perr(p, "Listen unix: needs an absolute path, "
			    "not \"%s\"", s + 5);
		if (strlen(s + 5) >= 108)
			return perr(p, "unix socket path is too long (at most "
			    "107 bytes)");
		strcpy(l->path, s + 5);
	} else if (strncmp(s, "tls://", 6) == 0) {
		l->kind = RECD_LISTEN_TLS;
		hp = s + 6;
		if (hp[0] == '[') {
			const char *rb = strchr(hp, ']');

			if (rb == NULL || rb[1] != ':')
				return perr(p, "bad address \"%s\": expected "
				    "tls://[IPV6]:PORT", s);
			if ((size_t)(rb - hp - 1) >= sizeof(l->host))
				return perr(p, "host name is too long");
			memcpy(l->host, hp + 1, rb - hp - 1);
			colon = rb + 1;
		} else {
			colon = strrchr(hp, ':');
			if (colon == NULL || colon == hp)
				return perr(p, "bad address \"%s\": expected "
				    "tls://HOST:PORT", s);
			if ((size_t)(colon - hp) >= sizeof(l->host))
				return perr(p, "host name is too long");
			memcpy(l->host, hp, colon - hp);
		}
		{
			unsigned port;

			if (number(p, colon + 1, 1, 65535, "port", &port) < 0)
				return -1;
			snprintf(l->port, sizeof(l->port), "%u", port);
		}
	} else
		return perr(p, "unknown Listen address \"%s\": expected "
		    "unix:PATH or tls://HOST:PORT", s);
	c->nlisten++;
	return 0;
}

enum kw { K_LISTEN, K_STORE, K_KEY, K_FSYNC, K_CERT, K_TLSKEY, K_CA, K_USER,
	K_MAXSESS, K_RESUME, K_PIDFILE, K_COMPRESSION, K_CLIENTS, K_HEADS, K_WITNESS,
	K_NKW };

static const struct {
	const char	*name;
	int		 min, max;	/* argument count */
} keywords[K_NKW] = {
	[K_LISTEN] = { "Listen", 1, 1 },
	[K_STORE] = { "Store", 1, 1 },
	[K_KEY] = { "SigningKey", 1, 1 },
	[K_FSYNC] = { "Fsync", 1, 2 },
	[K_CERT] = { "TLSCertificate", 1, 1 },
	[K_TLSKEY] = { "TLSKey", 1, 1 },
	[K_CA] = { "TLSClientCA", 1, 1 },
	[K_USER] = { "User", 1, 1 },
	[K_MAXSESS] = { "MaxSessions", 1, 1 },
	[K_RESUME] = { "ResumeTimeout", 1, 1 },
	[K_PIDFILE] = { "PidFile", 1, 1 },
	[K_COMPRESSION] = { "Compression", 1, 1 },
	[K_CLIENTS] = { "UnixClients", 1, RECD_CLIENTS_MAX },
	[K_HEADS] = { "TreeHeadInterval", 1, 1 },
	[K_WITNESS] = { "Witness", 1, 1 },
};

/* UnixClients: user names and @group names, resolved now. */
static int
clients(struct parse *p, char **w, int nw)
{
	struct recd_config *c = p->cfg;

	for (int i = 1; i < nw; i++) {
		if (w[i][0] == '@') {
			struct group *g = getgrnam(w[i] + 1);
			if (g == NULL)
				return perr(p, "UnixClients: no such group \"%s\"", w[i] + 1);
			c->client_gid[c->nclient_gid++] = (unsigned)g->gr_gid;
		} else {
			struct passwd *pw = getpwnam(w[i]);
			if (pw == NULL)
				return perr(p, "UnixClients: no such user \"%s\"", w[i]);
			c->client_uid[c->nclient_uid++] = (unsigned)pw->pw_uid;
		}
	}
	return 0;
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

/* Applies one configuration line. */
static int
keyword(struct parse *p, char **w, int nw)
{
	struct recd_config *c = p->cfg;
	int k;

	for (k = 0; k < K_NKW; k++)
		if (strcasecmp(w[0], keywords[k].name) == 0)
			break;
	if (k == K_NKW)
		return perr(p, "unknown keyword \"%s\"", w[0]);
	if (nw - 1 < keywords[k].min || nw - 1 > keywords[k].max)
		return perr(p, "%s takes %s argument%s", keywords[k].name,
		    k == K_FSYNC ? "always, interval MS or never as" :
		    k == K_CLIENTS ? "1 to 16 user or @group" : "one",
		    k == K_CLIENTS ? "s" : "");
	if (k != K_LISTEN && p->seen[k])
		return perr(p, "%s given twice (first at line %d)",
		    keywords[k].name, p->seen[k]);
	p->seen[k] = p->line;
	switch (k) {
	case K_LISTEN:
		return listen_spec(p, w[1]);
	case K_STORE:
		if (w[1][0] != '/')
			return perr(p, "Store needs an absolute path");
		return copy(p, c->store, sizeof(c->store), w[1], "Store");
	case K_KEY:
		return copy(p, c->signing_key, sizeof(c->signing_key), w[1],
		    "SigningKey");
	case K_FSYNC:
		if (strcasecmp(w[1], "always") == 0 && nw == 2)
			c->fsync = RECD_FSYNC_ALWAYS;
		else if (strcasecmp(w[1], "never") == 0 && nw == 2)
			c->fsync = RECD_FSYNC_NEVER;
		else if (strcasecmp(w[1], "interval") == 0 && nw == 3) {
			c->fsync = RECD_FSYNC_INTERVAL;
			return number(p, w[2], 1, 60000, "Fsync interval (ms)",
			    &c->fsync_ms);
		} else
			return perr(p, "Fsync takes always, interval MS or "
			    "never");
		return 0;
	case K_CERT:
		return copy(p, c->tls_cert, sizeof(c->tls_cert), w[1],
		    "TLSCertificate");
	case K_TLSKEY:
		return copy(p, c->tls_key, sizeof(c->tls_key), w[1], "TLSKey");
	case K_CA:
		return copy(p, c->tls_client_ca, sizeof(c->tls_client_ca),
		    w[1], "TLSClientCA");
	case K_USER:
		return copy(p, c->user, sizeof(c->user), w[1], "User");
	case K_MAXSESS:
		return number(p, w[1], 1, 1000000, "MaxSessions",
		    &c->max_sessions);
	case K_RESUME:
		return number(p, w[1], 1, 86400 * 7, "ResumeTimeout",
		    &c->resume_timeout);
	case K_COMPRESSION:
		if (strcasecmp(w[1], "default") == 0) {
			c->compression = 0;
			return 0;
		}
		return number(p, w[1], 1, 19, "Compression (default or a zstd "
		    "level)", &c->compression);
	case K_CLIENTS:
		return clients(p, w, nw);
	case K_HEADS: {
		size_t n = strlen(w[1]);

		if (n > 1 && w[1][n - 1] == 's')	/* "60s" */
			w[1][n - 1] = '\0';
		return number(p, w[1], 0, 86400, "TreeHeadInterval (seconds, "
		    "0: only at session closes)", &c->head_interval);
	}
	case K_WITNESS:
		if (w[1][0] != '/')
			return perr(p, "Witness needs an absolute path to a "
			    "command");
		return copy(p, c->witness, sizeof(c->witness), w[1], "Witness");
	case K_PIDFILE:
		if (w[1][0] != '/')
			return perr(p, "PidFile needs an absolute path");
		return copy(p, c->pid_file, sizeof(c->pid_file), w[1],
		    "PidFile");
	}
	return 0;
}

/* Splits line into words; "double quoted" words may hold spaces. */
static int
split(struct parse *p, char *line, char **w, int *nw)
{
	char *s = line, *o;

	*nw = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '\0' || *s == '#' || *s == '\n')
			return 0;
		if (*nw == MAX_WORDS)
			return perr(p, "too many words");
		if (*s == '"') {
			w[(*nw)++] = o = ++s;
			while (*s != '"') {
				if (*s == '\0' || *s == '\n')
					return perr(p, "unterminated quote");
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*o++ = *s++;
			}
			s++;
			*o = '\0';
			if (*s != '\0' && !isspace((unsigned char)*s))
				return perr(p, "text after a closing quote");
			if (*s != '\0')
				s++;
			continue;
		}
		w[(*nw)++] = s;
		while (*s != '\0' && !isspace((unsigned char)*s) && *s != '#')
			s++;
		if (*s == '#') {
			*s = '\0';
			return 0;
		}
		if (*s == '\0')
			return 0;
		*s++ = '\0';
	}
}

int
recd_config_load(const char *path, struct recd_config *cfg, char *err,
    size_t errlen)
{
	struct parse p = { .file = path, .err = err, .errlen = errlen,
	    .cfg = cfg };
	char line[4096], *w[MAX_WORDS];
	FILE *f;
	int nw, rc = -1, i, tls = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->fsync = RECD_FSYNC_INTERVAL;
	cfg->fsync_ms = 1000;
	cfg->max_sessions = 1024;
	cfg->resume_timeout = 600;
	cfg->head_interval = 60;
	snprintf(cfg->file, sizeof(cfg->file), "%s", path);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		p.line++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			perr(&p, "line too long");
			goto out;
		}
		if (split(&p, line, w, &nw) < 0)
			goto out;
		if (nw > 0 && keyword(&p, w, nw) < 0)
			goto out;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	p.line++;
	if (cfg->nlisten == 0) {
		snprintf(err, errlen, "%s: no Listen line", path);
		goto out;
	}
	if (cfg->store[0] == '\0') {
		snprintf(err, errlen, "%s: no Store line", path);
		goto out;
	}
	if (cfg->signing_key[0] == '\0') {
		snprintf(err, errlen, "%s: no SigningKey line", path);
		goto out;
	}
	for (i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].kind == RECD_LISTEN_TLS)
			tls = cfg->listen[i].line;
	if (tls && (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0' ||
	    cfg->tls_client_ca[0] == '\0')) {
		snprintf(err, errlen, "%s:%d: a tls listener needs "
		    "TLSCertificate, TLSKey and TLSClientCA", path, tls);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}
