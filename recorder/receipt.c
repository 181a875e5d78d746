/* receipt.c: a session receipt as a text line (see receipt.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/sessid.h"
#include "recorder/rec_error.h"
#include "recorder/receipt.h"
#include "recorder/textfield.h"

#define RECEIPT_SEAL_LEN (4 + 8 + 8 + SEAL_KEYID_LEN + SEAL_SIG_LEN)

static uint64_t
receipt_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

int
receipt_from_closed(const char *id, size_t id_len, uint64_t seq,
    const uint8_t head[SEAL_HASH_LEN], const uint8_t *seal, size_t seal_len,
    struct seal_receipt *rc)
{
	memset(rc, 0, sizeof(*rc));
	if (seal_len != RECEIPT_SEAL_LEN || id_len == 0 || id_len > SEAL_ID_MAX)
		return REC_EFORMAT;
	rc->cp.kind = SEAL_FINAL;
	memcpy(rc->cp.id, id, id_len);
	rc->cp.last_seq = seq;
	memcpy(rc->cp.head, head, SEAL_HASH_LEN);
	rc->cp.seg_index = (uint32_t)receipt_be(seal, 4);
	rc->cp.wall_ns = receipt_be(seal + 4, 8);
	rc->cp.offset = receipt_be(seal + 12, 8);
	memcpy(rc->keyid, seal + 20, SEAL_KEYID_LEN);
	memcpy(rc->sig, seal + 20 + SEAL_KEYID_LEN, SEAL_SIG_LEN);
	return REC_OK;
}

void
receipt_format(const struct seal_receipt *rc, char *line, size_t n)
{
	char hex[2 * SEAL_HASH_LEN + 1], b64[4 * ((SEAL_SIG_LEN + 2) / 3) + 1];

	rec__field_hex(rc->cp.head, SEAL_HASH_LEN, hex);
	EVP_EncodeBlock((unsigned char *)b64, rc->sig, SEAL_SIG_LEN);
	snprintf(line, n, "escort-receipt v1 %s %" PRIu64 " %s %" PRIu32 " %"
	    PRIu64 " %" PRIu64 " %s", rc->cp.id, rc->cp.last_seq, hex,
	    rc->cp.seg_index, rc->cp.wall_ns, rc->cp.offset, b64);
}

int
receipt_parse(const char *line, struct seal_receipt *rc)
{
	char copy[RECEIPT_LINE_MAX], *f[9], *save = NULL, *t;
	uint8_t sig[SEAL_SIG_LEN + 3];
	uint64_t idx;
	size_t n = strlen(line);
	int k = 0;

	memset(rc, 0, sizeof(*rc));
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n >= sizeof(copy))
		return REC_EFORMAT;
	memcpy(copy, line, n);
	copy[n] = '\0';
	for (t = strtok_r(copy, " ", &save); t != NULL && k < 9;
	    t = strtok_r(NULL, " ", &save))
		f[k++] = t;
	if (k != 9 || t != NULL || strcmp(f[0], "escort-receipt") != 0 ||
	    strcmp(f[1], "v1") != 0 || !sessid_valid(f[2], strlen(f[2])) ||
	    rec__field_u64(f[3], &rc->cp.last_seq) != 0 ||
	    rec__field_unhex(f[4], rc->cp.head, SEAL_HASH_LEN) != 0 ||
	    rec__field_u64(f[5], &idx) != 0 || idx > UINT32_MAX ||
	    rec__field_u64(f[6], &rc->cp.wall_ns) != 0 ||
	    rec__field_u64(f[7], &rc->cp.offset) != 0 || strlen(f[8]) != 88 ||
	    EVP_DecodeBlock(sig, (const unsigned char *)f[8], 88) != 66)
		return REC_EFORMAT;
	rc->cp.kind = SEAL_FINAL;
	snprintf(rc->cp.id, sizeof(rc->cp.id), "%s", f[2]);
	rc->cp.seg_index = (uint32_t)idx;
	memcpy(rc->sig, sig, SEAL_SIG_LEN);
	return REC_OK;
}
