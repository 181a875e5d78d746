/* journal_heads.c: signed tree heads of the journal, appended to
 * STORE/heads.esh and handed to a witness (see journal.h, treehead.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "recorder/journal_internal.h"
#include "recorder/rec_error.h"
#include "recorder/tw_internal.h"

int
rec__journal_head_issue_locked(struct journal *j, int force, struct tree_head *out)
{
	struct tree_head h;
	char line[TREEHEAD_LINE_MAX + 1];
	size_t n, done = 0;
	ssize_t w;
	int r;

	j->head_last_mono = rec__tw_now_mono();
	if (!force && j->tree.n == j->head_size)
		return REC_OK;
	memset(&h, 0, sizeof(h));
	h.size = j->tree.n;
	rec__merkle_frontier_root(&j->tree, h.root);
	h.time_ns = rec__tw_now_wall();
	if ((r = rec__treehead_sign(j->signer, &h)) != REC_OK)
		return r;
	treehead_format(&h, line, sizeof(line) - 1);
	n = strlen(line);
	line[n++] = '\n';
	line[n] = '\0';
	while (done < n) {
		w = write(j->heads_fd, line + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return rec_from_errno(errno);
		done += (size_t)w;
	}
	if (!j->no_sync && fdatasync(j->heads_fd) != 0)
		return REC_EIO;
	j->head_size = h.size;
	j->head_last = h;
	if (out != NULL)
		*out = h;
	if (j->head_cb != NULL) {
		line[n - 1] = '\0';
		j->head_cb(j->head_arg, line);
	}
	return REC_OK;
}

int
journal_head_issue(struct journal *j, int force, struct tree_head *h)
{
	int r;

	pthread_mutex_lock(&j->lock);
	r = rec__journal_head_issue_locked(j, force, h);
	pthread_mutex_unlock(&j->lock);
	return r;
}

void
journal_set_heads(struct journal *j, uint64_t interval_ns, journal_head_cb cb,
    void *arg)
{
	pthread_mutex_lock(&j->lock);
	j->head_interval_ns = interval_ns;
	j->head_cb = cb;
	j->head_arg = arg;
	if (j->head_last_mono == 0)
		j->head_last_mono = rec__tw_now_mono();
	pthread_mutex_unlock(&j->lock);
}

int
rec__journal_head_tick(struct journal *j, uint64_t now)
{
	int r = REC_OK;

	pthread_mutex_lock(&j->lock);
	if (j->head_interval_ns != 0 &&
	    now - j->head_last_mono >= j->head_interval_ns)
		r = rec__journal_head_issue_locked(j, 0, NULL);
	pthread_mutex_unlock(&j->lock);
	return r;
}

int
journal_head_last(struct journal *j, struct tree_head *h)
{
	int r = REC_OK;

	pthread_mutex_lock(&j->lock);
	if (j->head_last.size == 0 || j->head_last.size != j->tree.n)
		r = rec__journal_head_issue_locked(j, 1, NULL);
	if (r == REC_OK)
		*h = j->head_last;
	pthread_mutex_unlock(&j->lock);
	return r;
}
