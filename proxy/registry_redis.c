/* registry_redis: this proxy's side of a registry shared through Redis:
 * configuration, connections, outage logging, start and stop
 * (registry_redis.h); the threads are in registry_redis_beat.c and
 * registry_redis_inbox.c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry_redis.h"
#include "proxy/registry_redis_int.h"

int
px__rr_parse_url(const char *url, char *host, size_t hostlen, int *port)
{
	const char *h, *colon, *end;
	size_t n;
	long p;
	char *pe;

	if (strncmp(url, "redis://", 8) != 0)
		return PX_EINVAL;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			return PX_EINVAL;
		h++;
		colon = end + 1;
	} else {
		if ((colon = strrchr(h, ':')) == NULL || memchr(h, ':', (size_t)(colon - h)) != NULL)
			return PX_EINVAL;
		end = colon;
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= hostlen || memchr(h, '@', n) != NULL || memchr(h, '/', n) != NULL)
		return PX_EINVAL;
	errno = 0;
	p = strtol(colon + 1, &pe, 10);
	if (errno != 0 || pe == colon + 1 || *pe != '\0' || p < 1 || p > 65535)
		return PX_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int)p;
	return PX_OK;
}

int
px__rr_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PX_RR_NAME_MAX)
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || *p == '_' || *p == ':'))
			return 0;
	return 1;
}

void
px__rr_down(struct px_rr *rr, const char *what, const char *why)
{
	int log;

	pthread_mutex_lock(&rr->mu);
	log = !rr->down_logged;
	rr->down_logged = 1;
	pthread_mutex_unlock(&rr->mu);
	if (log)
		px_log(PX_LOG_WARN, NULL, "registry redis://%s:%d does not answer (%s: %s): escorts see only "
		    "this proxy's sessions, and other proxies do not see them, until it does", rr->host,
		    rr->port, what, why);
}

void
px__rr_up(struct px_rr *rr)
{
	int log;

	pthread_mutex_lock(&rr->mu);
	log = rr->down_logged;
	rr->down_logged = 0;
	pthread_mutex_unlock(&rr->mu);
	if (log)
		px_log(PX_LOG_INFO, NULL, "registry redis://%s:%d answers again", rr->host, rr->port);
}

redisContext *
px__rr_connect(struct px_rr *rr, int timeout_ms)
{
	struct timeval tv = { PX_RR_CALL_MS / 1000, (PX_RR_CALL_MS % 1000) * 1000 };
	struct timeval cmd = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(rr->host, rr->port, tv);
	redisReply *r;

	if (c == NULL || c->err != 0 || redisSetTimeout(c, cmd) != REDIS_OK) {
		px__rr_down(rr, "connect", c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	if (rr->password[0] != '\0') {
		r = redisCommand(c, "AUTH %s", rr->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			px__rr_down(rr, "AUTH with RegistryPasswordFile's password", r != NULL ? r->str : c->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

int64_t
px__rr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
px__rr_wait_until(struct px_rr *rr, int64_t deadline, int wake_dirty)
{
	pthread_mutex_lock(&rr->mu);
	while (!rr->stop && !(wake_dirty && rr->dirty)) {
		int64_t left = deadline - px__rr_now_ms();
		struct timespec ts;
		if (left <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&rr->cv, &rr->mu, &ts);
	}
}

/* registry.h's changed: wakes the heartbeat thread to publish. */
static void
rr_changed(void *ud)
{
	struct px_rr *rr = ud;

	pthread_mutex_lock(&rr->mu);
	rr->dirty = 1;
	pthread_cond_signal(&rr->cv);
	pthread_mutex_unlock(&rr->mu);
}

/* What registry.c calls for other proxies' sessions. */
static const struct px_reg_remote rr_remote = {
	rr_changed, px__rr_list, px__rr_get, px__rr_post,
	px__rr_follow, px__rr_follow_get, px__rr_follow_close,
};

/* Reads the password on the first line of file into rr->password. */
static int
rr_read_password(struct px_rr *rr, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	size_t n = 0;

	if (f == NULL) {
		snprintf(err, errlen, "RegistryPasswordFile %s: %s", file, strerror(errno));
		return PX_EINVAL;
	}
	if (fgets(rr->password, sizeof(rr->password), f) != NULL)
		n = strcspn(rr->password, "\r\n");
	rr->password[n] = '\0';
	fclose(f);
	if (n == 0) {
		snprintf(err, errlen, "RegistryPasswordFile %s:1: no password on the first line", file);
		return PX_EINVAL;
	}
	return PX_OK;
}

int
px_rr_start(struct px_rr **out, struct px_registry *reg, struct px_watches *watches, const char *url,
    const char *password_file, const char *name, char *err, size_t errlen)
{
	struct px_rr *rr;
	pthread_condattr_t ca;
	char host[256];

	*out = NULL;
	if ((rr = calloc(1, sizeof(*rr))) == NULL)
		return PX_ENOMEM;
	if (px__rr_parse_url(url, rr->host, sizeof(rr->host), &rr->port) != PX_OK || !px__rr_name_ok(name)) {
		snprintf(err, errlen, "Registry %s / ProxyName %s: not redis://HOST:PORT and a name", url, name);
		free(rr);
		return PX_EINVAL;
	}
	if (password_file != NULL && rr_read_password(rr, password_file, err, errlen) != PX_OK) {
		free(rr);
		return PX_EINVAL;
	}
	rr->reg = reg;
	rr->watches = watches;
	snprintf(rr->name, sizeof(rr->name), "%s", name);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(rr->run, sizeof(rr->run), "%ld@%.40s %lld", (long)getpid(), host, (long long)time(NULL));
	pthread_mutex_init(&rr->mu, NULL);
	px__rr_grants_init(&rr->grants);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rr->cv, &ca);
	pthread_condattr_destroy(&ca);
	px__reg_attach(reg, name, &rr_remote, rr);
	px_log(PX_LOG_INFO, NULL, "registry redis://%s:%d shared as proxy %s", rr->host, rr->port, rr->name);
	if (pthread_create(&rr->beat, NULL, px__rr_beat_main, rr) == 0)
		rr->nthreads++;
	if (rr->nthreads == 1 && pthread_create(&rr->inbox, NULL, px__rr_inbox_main, rr) == 0)
		rr->nthreads++;
	if (rr->nthreads < 2 || px__rr_pubw_start(rr) != PX_OK) {
		snprintf(err, errlen, "Registry %s: cannot start its threads", url);
		px_rr_stop(rr);
		return PX_EIO;
	}
	*out = rr;
	return PX_OK;
}

void
px_rr_stop(struct px_rr *rr)
{
	if (rr == NULL)
		return;
	pthread_mutex_lock(&rr->mu);
	rr->stop = 1;
	pthread_cond_broadcast(&rr->cv);
	while (rr->nfollow > 0)	/* each sees stop within its XREAD's wait */
		pthread_cond_wait(&rr->cv, &rr->mu);
	pthread_mutex_unlock(&rr->mu);
	px__rr_pubw_stop(rr);
	if (rr->nthreads >= 1)
		pthread_join(rr->beat, NULL);
	if (rr->nthreads >= 2)
		pthread_join(rr->inbox, NULL);
	rr->reg->remote = NULL;
	rr->reg->remote_ud = NULL;
	px__rr_pub_free(rr->pub, rr->npub);
	px__rr_grants_free(&rr->grants);
	explicit_bzero(rr->password, sizeof(rr->password));
	pthread_cond_destroy(&rr->cv);
	pthread_mutex_destroy(&rr->mu);
	free(rr);
}
