/* xfer_record: transfer records, their names, and the record queue. */
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/xfer_record.h"

int
xfer_record_set_str(char **dst, const void *p, size_t n)
{
	char *s;
	size_t i;

	if ((s = malloc(n + 1)) == NULL)
		return PX_ENOMEM;
	if (n > 0)
		memcpy(s, p, n);
	for (i = 0; i < n; i++)
		if (s[i] == '\0')
			s[i] = '?';
	s[n] = '\0';
	free(*dst);
	*dst = s;
	return PX_OK;
}

struct xfer_record *
xfer_record_new(enum xfer_op op, enum xfer_dir dir, enum xfer_outcome outcome,
    const void *path, size_t pathlen)
{
	struct xfer_record *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->op = op;
	r->dir = dir;
	r->outcome = outcome;
	if (xfer_record_set_str(&r->path, path, pathlen) != PX_OK) {
		free(r);
		return NULL;
	}
	return r;
}

uint64_t
xfer_ids_take(const struct xfer_ids *ids)
{
	return ids != NULL && ids->next != NULL ? ++*ids->next : 0;
}

struct xfer_record *
xfer_record_start(enum xfer_op op, enum xfer_dir dir, const void *path, size_t pathlen,
    uint64_t file_id)
{
	struct xfer_record *r = xfer_record_new(op, dir, XFER_OUT_STARTED, path, pathlen);

	if (r != NULL)
		r->file_id = file_id;
	return r;
}

void
xfer_record_free(struct xfer_record *r)
{
	if (r == NULL)
		return;
	free(r->message);
	free(r->path);
	free(r->target);
	free(r->name);
	free(r->content);
	free(r);
}

const char *
xfer_op_name(enum xfer_op op)
{
	switch (op) {
	case XFER_OP_FILE:	return "file";
	case XFER_OP_LISTDIR:	return "listdir";
	case XFER_OP_REMOVE:	return "remove";
	case XFER_OP_RENAME:	return "rename";
	case XFER_OP_MKDIR:	return "mkdir";
	case XFER_OP_RMDIR:	return "rmdir";
	case XFER_OP_SETSTAT:	return "setstat";
	case XFER_OP_SYMLINK:	return "symlink";
	case XFER_OP_LINK:	return "link";
	case XFER_OP_EXTENDED:	return "extended";
	case XFER_OP_STAT:	return "stat";
	case XFER_OP_READLINK:	return "readlink";
	case XFER_OP_REALPATH:	return "realpath";
	}
	return "unknown";
}

const char *
xfer_dir_name(enum xfer_dir dir)
{
	switch (dir) {
	case XFER_DIR_NONE:	return "none";
	case XFER_DIR_DOWNLOAD:	return "download";
	case XFER_DIR_UPLOAD:	return "upload";
	}
	return "unknown";
}

const char *
xfer_outcome_name(enum xfer_outcome o)
{
	switch (o) {
	case XFER_OUT_OK:		return "ok";
	case XFER_OUT_DENIED:		return "denied";
	case XFER_OUT_FAILED:		return "failed";
	case XFER_OUT_INCOMPLETE:	return "incomplete";
	case XFER_OUT_STARTED:		return "started";
	}
	return "unknown";
}

static const char *const mode_names[] = { "none", "download", "upload", "both" };

const char *
xfer_mode_name(enum xfer_mode m)
{
	if ((unsigned)m > XFER_MODE_BOTH)
		return "unknown";
	return mode_names[m];
}

int
xfer_mode_parse(const char *s, enum xfer_mode *out)
{
	unsigned i;

	for (i = 0; i <= XFER_MODE_BOTH; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum xfer_mode)i;
			return PX_OK;
		}
	return PX_EINVAL;
}

void
xfer_queue_init(struct xfer_queue *q)
{
	q->head = q->tail = NULL;
	q->count = 0;
}

void
xfer_queue_push(struct xfer_queue *q, struct xfer_record *r)
{
	r->next = NULL;
	if (q->tail != NULL)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	q->count++;
}

struct xfer_record *
xfer_queue_take(struct xfer_queue *q)
{
	struct xfer_record *r = q->head;

	if (r == NULL)
		return NULL;
	q->head = r->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->count--;
	r->next = NULL;
	return r;
}

void
xfer_queue_clear(struct xfer_queue *q)
{
	struct xfer_record *r;

	while ((r = xfer_queue_take(q)) != NULL)
		xfer_record_free(r);
}
