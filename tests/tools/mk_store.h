/* mk_store.h: what the test tools that write sessions into a store
 * without a recorder (rec-mkstore.c, rec-mksession.c) share: the signing
 * key and the store's journal, the META event of a session, and the final
 * chain head printed in hex.  Header only: static functions.
 *
 *   mk_store_open: loads the PEM private key and opens (creating) the
 *     store's journal; REC_OK or the error (what was opened stays in m for
 *     mk_store_close).
 *   mk_store_close: frees both; m may be half open or zeroed.
 *   mk_store_meta: meta := a META event (seq 1, time 0) with user, target,
 *     login "ops" and the attributes attrs[0..nattrs); f is scratch.  Both
 *     are reset first.
 *   mk_store_print_head: prints st's chain head in hex and a newline. */
#ifndef ESCORT_TEST_MK_STORE_H
#define ESCORT_TEST_MK_STORE_H

#include <stdio.h>

#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"

struct mk_store {
	struct seal_signer *signer;
	struct journal *j;
};

static int
mk_store_open(struct mk_store *m, const char *store, const char *key)
{
	int r;

	if ((r = seal_signer_load(key, &m->signer)) != REC_OK)
		return r;
	return rec__journal_open(store, m->signer, 1, &m->j);
}

static void
mk_store_close(struct mk_store *m)
{
	journal_close(m->j);
	seal_signer_free(m->signer);
	m->j = NULL;
	m->signer = NULL;
}

static void
mk_store_meta(struct buf *meta, struct buf *f, const char *user,
    const char *target, const char *const *attrs, int nattrs)
{
	int i;

	buf_reset(meta);
	buf_reset(f);
	ev_fields_put_str(f, EVF_USER, user);
	ev_fields_put_str(f, EVF_TARGET, target);
	ev_fields_put_str(f, EVF_LOGIN, "ops");
	for (i = 0; i < nattrs; i++)
		ev_fields_put_str(f, EVF_ATTR, attrs[i]);
	ev_encode_parts(meta, 1, 0, EV_META, 0, buf_ptr(f), buf_len(f));
}

static void
mk_store_print_head(const struct tw_state *st)
{
	int i;

	for (i = 0; i < SEAL_HASH_LEN; i++)
		printf("%02x", st->head[i]);
	printf("\n");
}

#endif
