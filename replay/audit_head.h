/* audit_head: what audit knows of a session before it reads it (its id,
 * user, target and start, from its head or the search index), the order in
 * which audit shows sessions, and the attribute test of --attr; shared by
 * the text/JSON audit (audit.c) and the HTML page (audit_html.c). */
#ifndef REPLAY_AUDIT_HEAD_H
#define REPLAY_AUDIT_HEAD_H

#include <stddef.h>
#include <stdint.h>

struct tr;

struct replay_audit_head {
	const char *id;			/* borrowed: the caller's list of ids */
	char user[128], target[128];
	uint64_t start;			/* ns since the epoch */
};

/* qsort's comparison of two struct replay_audit_head: by user name
 * (strcmp), then by start. */
int replay_audit_head_cmp(const void *a, const void *b);

/* In ss[0..n) sorted by replay_audit_head_cmp: 1 when ss[i] is its user's
 * first session (resp. last), else 0. */
int replay_audit_head_first(const struct replay_audit_head *ss, size_t i);
int replay_audit_head_last(const struct replay_audit_head *ss, size_t i, size_t n);

/* 1 when r's META event carries the attribute kv ("K=V", byte for byte),
 * else 0 (also when the META event cannot be decoded). */
int replay_audit_has_attr(struct tr *r, const char *kv);

#endif
