/* Unit tests for proxy/registry_redis_grant: the remote watchers a proxy
 * may stream its sessions to.  A grant binds a watcher's id to one
 * session's accepted join; it is claimed only for that session, dropped by
 * the leave (of that session), and expired when no watcher claimed it in
 * time or its session ended; the table is bounded; threads adding and
 * dropping at once leave it consistent (also under `make SAN=1`). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/registry_redis_int.h"

#define N1 "0123456789abcdef0123456789abcdef"
#define N2 "fedcba9876543210fedcba9876543210"

static void
test_claim_only_for_its_session(void **state)
{
	struct px_rr_grants g;
	char escort[PX_REG_NAME_MAX];

	(void)state;
	px__rr_grants_init(&g);
	/* nothing granted: nothing claimed */
	assert_int_equal(px__rr_grant_claim(&g, N1, "S1", escort, sizeof(escort)), PX_EPOLICY);
	assert_false(px__rr_grant_has(&g, N1));
	assert_int_equal(px__rr_grant_add(&g, N1, "S1", "bob", 0), PX_OK);
	/* once only; not an id; no session */
	assert_int_equal(px__rr_grant_add(&g, N1, "S2", "eve", 0), PX_EINVAL);
	assert_int_equal(px__rr_grant_add(&g, "S1 0", "S1", "eve", 0), PX_EINVAL);
	assert_int_equal(px__rr_grant_add(&g, N2, "", "eve", 0), PX_EINVAL);
	assert_true(px__rr_grant_has(&g, N1));
	assert_false(px__rr_grant_has(&g, N2));
	/* a key naming another session gets nothing */
	assert_int_equal(px__rr_grant_claim(&g, N1, "S2", escort, sizeof(escort)), PX_EPOLICY);
	assert_int_equal(px__rr_grant_claim(&g, N1, "S1", escort, sizeof(escort)), PX_OK);
	assert_string_equal(escort, "bob");
	assert_int_equal(px__rr_grant_unclaimed(&g), 0);
	/* a leave of another session leaves it; its own drops it */
	assert_int_equal(px__rr_grant_drop(&g, N1, "S2"), 0);
	assert_int_equal(px__rr_grant_drop(&g, N1, "S1"), 1);
	assert_false(px__rr_grant_has(&g, N1));
	assert_int_equal(px__rr_grant_drop(&g, N1, NULL), 0);
	assert_int_equal(px__rr_grant_claim(&g, N1, "S1", escort, sizeof(escort)), PX_EPOLICY);
	px__rr_grants_free(&g);
}

static void
test_expire(void **state)
{
	struct px_rr_grants g;
	struct px_reg_session live[1];
	char escort[PX_REG_NAME_MAX];

	(void)state;
	memset(live, 0, sizeof(live));
	snprintf(live[0].id, sizeof(live[0].id), "S1");
	px__rr_grants_init(&g);
	assert_int_equal(px__rr_grant_add(&g, N1, "S1", "bob", 1000), PX_OK);
	assert_int_equal(px__rr_grant_add(&g, N2, "S2", "bob", 1000), PX_OK);
	assert_int_equal(px__rr_grant_unclaimed(&g), 2);
	/* S2 ended: its grant goes; S1's stays while young */
	assert_int_equal(px__rr_grant_expire(&g, 1000 + PX_RR_GRANT_CLAIM_MS, live, 1), 1);
	assert_false(px__rr_grant_has(&g, N2));
	assert_true(px__rr_grant_has(&g, N1));
	/* unclaimed too long: gone */
	assert_int_equal(px__rr_grant_expire(&g, 1001 + PX_RR_GRANT_CLAIM_MS, live, 1), 1);
	assert_false(px__rr_grant_has(&g, N1));
	/* a claimed grant is its watcher's to drop, whatever its age */
	assert_int_equal(px__rr_grant_add(&g, N1, "S1", "bob", 1000), PX_OK);
	assert_int_equal(px__rr_grant_claim(&g, N1, "S1", escort, sizeof(escort)), PX_OK);
	assert_int_equal(px__rr_grant_expire(&g, 1000 + 10 * PX_RR_GRANT_CLAIM_MS, NULL, 0), 0);
	assert_true(px__rr_grant_has(&g, N1));
	/* released (its key went): claimable again until it expires */
	px__rr_grant_release(&g, N1, 50000);
	assert_int_equal(px__rr_grant_unclaimed(&g), 1);
	assert_int_equal(px__rr_grant_expire(&g, 50000 + PX_RR_GRANT_CLAIM_MS, live, 1), 0);
	assert_int_equal(px__rr_grant_claim(&g, N1, "S1", escort, sizeof(escort)), PX_OK);
	px__rr_grant_release(&g, N1, 50000);
	assert_int_equal(px__rr_grant_expire(&g, 50001 + PX_RR_GRANT_CLAIM_MS, live, 1), 1);
	assert_false(px__rr_grant_has(&g, N1));
	px__rr_grant_release(&g, N1, 60000);	/* none: nothing */
	assert_int_equal(px__rr_grant_unclaimed(&g), 0);
	px__rr_grants_free(&g);
}

static void
test_bounded(void **state)
{
	struct px_rr_grants g;
	char n[PX_REG_WATCHER_MAX];

	(void)state;
	px__rr_grants_init(&g);
	for (int i = 0; i < PX_RR_GRANTS_MAX; i++) {
		snprintf(n, sizeof(n), "%032x", i);
		assert_int_equal(px__rr_grant_add(&g, n, "S1", "bob", 0), PX_OK);
	}
	assert_int_equal(px__rr_grant_add(&g, N1, "S1", "bob", 0), PX_ENOMEM);
	assert_int_equal(px__rr_grant_drop(&g, "00000000000000000000000000000000", NULL), 1);
	assert_int_equal(px__rr_grant_add(&g, N1, "S1", "bob", 0), PX_OK);
	px__rr_grants_free(&g);
}

struct worker {
	struct px_rr_grants *g;
	int base;
};

static void *
churn(void *arg)
{
	struct worker *w = arg;
	char n[PX_REG_WATCHER_MAX], escort[PX_REG_NAME_MAX];

	for (int i = 0; i < 2000; i++) {
		snprintf(n, sizeof(n), "%08x%024x", w->base, i % 50);
		if (px__rr_grant_add(w->g, n, "S1", "bob", i) == PX_OK)
			(void)px__rr_grant_claim(w->g, n, "S1", escort, sizeof(escort));
		(void)px__rr_grant_has(w->g, n);
		if (i % 3 == 0)
			(void)px__rr_grant_drop(w->g, n, "S1");
		if (i % 7 == 0)
			(void)px__rr_grant_expire(w->g, i, NULL, 0);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct px_rr_grants g;
	struct worker w[4];
	pthread_t th[4];
	long left;

	(void)state;
	px__rr_grants_init(&g);
	for (int i = 0; i < 4; i++) {
		w[i].g = &g;
		w[i].base = i;
		assert_int_equal(pthread_create(&th[i], NULL, churn, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	/* every grant left is claimed (an unclaimed one expired with no live
	 * session) and counted */
	assert_int_equal(px__rr_grant_unclaimed(&g), 0);
	left = (long)g.n;
	assert_true(left >= 0 && left <= 4 * 50);
	px__rr_grants_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_only_for_its_session),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
