/* treehead.c: signed tree heads and their text form (see treehead.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "recorder/rec_error.h"
#include "recorder/textfield.h"
#include "recorder/treehead.h"

static const char treehead_label[] = "escort-tree-head-v1";

static int
treehead_message(const struct tree_head *h, struct buf *m)
{
	int r;

	if ((r = buf_put(m, treehead_label, sizeof(treehead_label))) != REC_OK ||
	    (r = buf_put_u64(m, h->size)) != REC_OK ||
	    (r = buf_put(m, h->root, SEAL_HASH_LEN)) != REC_OK ||
	    (r = buf_put_u64(m, h->time_ns)) != REC_OK)
		return r;
	return REC_OK;
}

int
rec__treehead_sign(const struct seal_signer *s, struct tree_head *h)
{
	struct buf m;
	int r;

	buf_init(&m, 0);
	if ((r = treehead_message(h, &m)) == REC_OK)
		r = seal_sign(s, buf_ptr(&m), buf_len(&m), h->sig);
	buf_free(&m);
	return r;
}

int
treehead_verify(const struct seal_verifier *v, const struct tree_head *h)
{
	struct buf m;
	int r;

	buf_init(&m, 0);
	if ((r = treehead_message(h, &m)) == REC_OK)
		r = rec__seal_verify(v, buf_ptr(&m), buf_len(&m), h->sig);
	buf_free(&m);
	return r == REC_OK ? REC_OK : REC_ESIG;
}

void
treehead_format(const struct tree_head *h, char *line, size_t n)
{
	char hex[2 * SEAL_HASH_LEN + 1], b64[4 * ((SEAL_SIG_LEN + 2) / 3) + 1];

	rec__field_hex(h->root, SEAL_HASH_LEN, hex);
	EVP_EncodeBlock((unsigned char *)b64, h->sig, SEAL_SIG_LEN);
	snprintf(line, n, "escort-head v1 %" PRIu64 " %s %" PRIu64 " %s",
	    h->size, hex, h->time_ns, b64);
}

int
rec__treehead_parse(const char *line, struct tree_head *h)
{
	char copy[TREEHEAD_LINE_MAX], *f[7], *save = NULL, *t;
	uint8_t sig[SEAL_SIG_LEN + 3];
	size_t n = strlen(line);
	int k = 0;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n >= sizeof(copy))
		return REC_EFORMAT;
	memcpy(copy, line, n);
	copy[n] = '\0';
	for (t = strtok_r(copy, " ", &save); t != NULL && k < 7;
	    t = strtok_r(NULL, " ", &save))
		f[k++] = t;
	if (k != 6 || t != NULL || strcmp(f[0], "escort-head") != 0 ||
	    strcmp(f[1], "v1") != 0 || rec__field_u64(f[2], &h->size) != 0 ||
	    rec__field_unhex(f[3], h->root, SEAL_HASH_LEN) != 0 ||
	    rec__field_u64(f[4], &h->time_ns) != 0 || strlen(f[5]) != 88 ||
	    EVP_DecodeBlock(sig, (const unsigned char *)f[5], 88) != 66)
		return REC_EFORMAT;
	memcpy(h->sig, sig, SEAL_SIG_LEN);
	return REC_OK;
}

int
treehead_read(const char *path, int torn_ok, treehead_cb cb, void *arg,
    int *bad_line)
{
	char line[TREEHEAD_LINE_MAX + 2];
	struct tree_head h;
	FILE *f;
	size_t n;
	int lineno = 0, r = REC_OK;

	if ((f = fopen(path, "re")) == NULL)
		return rec_from_errno(errno);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		n = strlen(line);
		if (strncmp(line, "escort-receipt ", 15) == 0) {
			/* a receipt line (receipt.h), longer than a head:
			 * read by whoever checks receipts */
			while (n > 0 && line[n - 1] != '\n' &&
			    fgets(line, sizeof(line), f) != NULL)
				n = strlen(line);
			continue;
		}
		if (n == 0 || line[n - 1] != '\n') {
			if (torn_ok && feof(f))
				break;
			r = REC_EFORMAT;
			break;
		}
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (rec__treehead_parse(line, &h) != REC_OK) {
			r = REC_EFORMAT;
			break;
		}
		if ((r = cb(arg, &h, lineno)) != 0)
			break;
	}
	if (r == REC_OK && ferror(f))
		r = REC_EIO;
	if (r == REC_EFORMAT && bad_line != NULL)
		*bad_line = lineno;
	fclose(f);
	return r;
}
