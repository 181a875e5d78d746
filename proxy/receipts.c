/* receipts: receipts and tree heads kept under StateDir (see receipts.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/receipt.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/receipts.h"

/* Appends line and a newline to STATEDIR/name in one write, then syncs. */
static int
px_receipts_append(const char *statedir, const char *name, const char *id,
    const char *line)
{
	char path[4096], buf[RECEIPT_LINE_MAX + 2];
	size_t n = strlen(line);
	ssize_t w;
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/%s", statedir, name) >=
	    (int)sizeof(path) || n + 1 >= sizeof(buf))
		return PX_EINVAL;
	memcpy(buf, line, n);
	buf[n++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		px_log(PX_LOG_ERR, id, "cannot keep the session's %s line: "
		    "%s: %s", name, path, strerror(errno));
		return PX_EIO;
	}
	do
		w = write(fd, buf, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		err = errno;
	else if ((size_t)w != n)
		err = ENOSPC;
	else if (fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		px_log(PX_LOG_ERR, id, "cannot keep the session's %s line: "
		    "%s: %s", name, path, strerror(err));
		return PX_EIO;
	}
	px_log(PX_LOG_INFO, id, "%s kept in %s: %s", name, path, line);
	return PX_OK;
}

int
px__receipts_dir(const char *statedir, const char *recorder, char *out, size_t outsz)
{
	static const char ok[] = "._:-";
	size_t n;
	int w;

	if (recorder == NULL)
		w = snprintf(out, outsz, "%s", statedir);
	else
		w = snprintf(out, outsz, "%s/recorders/", statedir);
	if (w < 0 || (size_t)w >= outsz)
		return PX_EINVAL;
	n = (size_t)w;
	for (const unsigned char *p = (const unsigned char *)recorder; p != NULL && *p; p++) {
		int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(ok, *p) != NULL;
		w = keep ? snprintf(out + n, outsz - n, "%c", *p) : snprintf(out + n, outsz - n, "%%%02X", *p);
		if (w < 0 || (size_t)w >= outsz - n)
			return PX_EINVAL;
		n += (size_t)w;
	}
	return PX_OK;
}

/* Creates STATEDIR/recorders and dir (mode 0700) when missing. */
static int
px_receipts_mkdir(const char *statedir, const char *dir)
{
	char top[4096];

	if (snprintf(top, sizeof(top), "%s/recorders", statedir) >= (int)sizeof(top))
		return PX_EINVAL;
	if ((mkdir(top, 0700) != 0 && errno != EEXIST) || (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
		px_log(PX_LOG_ERR, NULL, "cannot create %s: %s", dir, strerror(errno));
		return PX_EIO;
	}
	return PX_OK;
}

int
px__receipts_store(const char *statedir, const char *recorder, const struct sender_receipt *rc)
{
	struct seal_receipt sr;
	char line[RECEIPT_LINE_MAX], dir[4096];
	int r;

	if (px__receipts_dir(statedir, recorder, dir, sizeof(dir)) != PX_OK) {
		px_log(PX_LOG_ERR, rc->id, "StateDir %s: the path for recorder %s is too long", statedir,
		    recorder);
		return PX_EINVAL;
	}
	if (recorder != NULL && px_receipts_mkdir(statedir, dir) != PX_OK)
		return PX_EIO;
	statedir = dir;

	if (receipt_from_closed(rc->id, strlen(rc->id), rc->seq, rc->head,
	    rc->sig, rc->sig_len, &sr) != 0) {
		px_log(PX_LOG_ERR, rc->id, "the recorder's receipt is "
		    "malformed (%zu bytes of seal); not kept", rc->sig_len);
		return PX_EINVAL;
	}
	receipt_format(&sr, line, sizeof(line));
	r = px_receipts_append(statedir, PX_RECEIPTS_FILE, rc->id, line);
	if (rc->tree_head[0] == '\0') {
		px_log(PX_LOG_WARN, rc->id, "the recorder sent no tree head "
		    "with the receipt");
		return r;
	}
	if (strncmp(rc->tree_head, "escort-head v1 ", 15) != 0) {
		px_log(PX_LOG_ERR, rc->id, "the recorder's tree head is not a "
		    "tree head line; not kept");
		return PX_EINVAL;
	}
	if (px_receipts_append(statedir, PX_HEADS_FILE, rc->id,
	    rc->tree_head) != PX_OK)
		r = PX_EIO;
	return r;
}
