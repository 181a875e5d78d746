/* journal_internal.h: the journal's state, shared by journal.c (entries),
 * journal_heads.c (tree heads) and journal_rebuild.c. */
#ifndef ESCORT_JOURNAL_INTERNAL_H
#define ESCORT_JOURNAL_INTERNAL_H

#include <pthread.h>

#include "recorder/journal.h"
#include "recorder/merkle.h"

#define JOURNAL_CHAIN_ID "journal"

struct jsess {
	char id[SEAL_ID_MAX + 1];	/* "" for a free slot */
	uint64_t order;			/* order of the first entry */
	struct journal_session js;
};

struct journal {
	pthread_mutex_t lock;
	int fd;
	int no_sync;
	int failed;
	const struct seal_signer *signer;
	char store[4096];
	uint8_t head[SEAL_HASH_LEN];
	uint32_t nseg;
	uint64_t size;
	struct jsess *tab;
	size_t tabn, tabcap;
	uint64_t order;
	struct merkle_frontier tree;
	/* tree heads */
	int heads_fd;
	uint64_t head_size;		/* size of the last head issued */
	struct tree_head head_last;	/* the last head issued (size 0: none
					   since the journal was opened) */
	uint64_t head_interval_ns;
	uint64_t head_last_mono;
	journal_head_cb head_cb;
	void *head_arg;
};

int rec__journal_scan(int fd, const struct seal_verifier *v,
    struct journal_cover *cover, journal_cb cb, void *arg, uint64_t *end,
    uint32_t *nseg, uint8_t head[SEAL_HASH_LEN], uint64_t *bad_offset,
    int *torn);
int rec__journal_append_locked(struct journal *j, const struct journal_entry *e);
int rec__journal_head_issue_locked(struct journal *j, int force,
    struct tree_head *h);
int rec__journal_new(const char *store, const struct seal_signer *signer,
    int no_sync, int fd, struct journal **out);
int rec__journal_open_file(const char *path, int create, int *fdp);

#endif
