/* registry_redis_inbox: the inbox thread of a registry shared through Redis
 * (registry_redis.h): applies the actions other proxies' escorts send for
 * this proxy's sessions, first in first applied, and answers each.  A join
 * it accepted grants, before the answer, the remote watcher it names the
 * session's stream (registry_redis_int.h, "Grants"); the leave naming that
 * watcher takes the grant back. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry_redis.h"
#include "proxy/registry_redis_int.h"
#include "proxy/registry_redis_wire.h"

#define INBOX_BLOCK "0.5"       /* seconds a BRPOP of the inbox waits */
#define REPLY_KEEP_MS 10000     /* an answer nobody took expires */

/* The grant of a's watcher: given by a join accepted (rc), taken back by a
 * leave. */
static void
inbox_grant(struct px_rr *rr, const struct px_reg_action *a, int rc)
{
	int grc;

	if (a->verb == PX_REG_LEAVE) {
		if (px__rr_grant_drop(&rr->grants, a->watcher, a->id))
			px_log(PX_LOG_DEBUG, a->id, "remote watcher %s of escort %s: its grant taken back",
			    a->watcher, a->escort);
		return;
	}
	if (a->verb != PX_REG_JOIN || rc != PX_OK)
		return;
	if ((grc = px__rr_grant_add(&rr->grants, a->watcher, a->id, a->escort, px__rr_now_ms())) != PX_OK)
		px_log(PX_LOG_WARN, a->id, "escort %s on another proxy joined, but remote watcher %s cannot be "
		    "streamed the session (%s)", a->escort, a->watcher,
		    grc == PX_ENOMEM ? "too many remote watchers, or out of memory" : "its id is in use");
}

/* Applies an action another proxy sent for a local session and answers. */
static void
inbox_handle(struct px_rr *rr, redisContext *c, const char *text, size_t len)
{
	struct px_reg_action a;
	struct px_reg_session now;
	char reply[PX_RRW_REPLY_MAX], buf[PX_RRW_MAX];
	int rc;

	if (px__rrw_action_decode(text, len, &a, reply) != PX_OK || strncmp(reply, "escort:reply:", 13) != 0 ||
	    (a.watcher[0] != '\0' && !px__reg_watcher_ok(a.watcher, strlen(a.watcher)))) {
		px_log(PX_LOG_WARN, NULL, "registry: a malformed action in escort:inbox:%s ignored", rr->name);
		return;
	}
	memset(&now, 0, sizeof(now));
	rc = px__reg_post_local(rr->reg, &a, &now);
	px_log(PX_LOG_INFO, a.id, "escort %s on another proxy: %s: %s", a.escort, px__reg_verb_name(a.verb),
	    rc == PX_OK ? "handed to the session" : rc == PX_EPOLICY ? "no such session here" :
	    "refused by its state");
	if (a.watcher[0] != '\0')
		inbox_grant(rr, &a, rc);
	if (px__rrw_answer_encode(rc, rc == PX_EPOLICY ? NULL : &now, buf, sizeof(buf)) < 0)
		return;
	redisAppendCommand(c, "LPUSH %s %s", reply, buf);
	redisAppendCommand(c, "PEXPIRE %s %d", reply, REPLY_KEEP_MS);
	for (int i = 0; i < 2; i++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK)
			break;
		freeReplyObject(r);
	}
}

void *
px__rr_inbox_main(void *arg)
{
	struct px_rr *rr = arg;
	redisContext *c = NULL;
	char key[128];

	snprintf(key, sizeof(key), "escort:inbox:%s", rr->name);
	for (;;) {
		redisReply *r;
		pthread_mutex_lock(&rr->mu);
		if (rr->stop) {
			pthread_mutex_unlock(&rr->mu);
			break;
		}
		pthread_mutex_unlock(&rr->mu);
		if (c == NULL && (c = px__rr_connect(rr, PX_RR_CALL_MS + 500)) == NULL) {
			px__rr_wait_until(rr, px__rr_now_ms() + 500, 0);
			pthread_mutex_unlock(&rr->mu);
			continue;
		}
		if ((r = redisCommand(c, "BRPOP %s " INBOX_BLOCK, key)) == NULL) {
			px__rr_down(rr, "inbox", c->errstr);
			redisFree(c);
			c = NULL;
			continue;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
			inbox_handle(rr, c, r->element[1]->str, r->element[1]->len);
		freeReplyObject(r);
	}
	if (c != NULL)
		redisFree(c);
	return NULL;
}
