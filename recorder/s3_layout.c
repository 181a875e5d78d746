/* s3_layout: object names of a Store in a bucket (see s3_layout.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/sessid.h"
#include "recorder/s3_layout.h"
#include "recorder/transcript.h"

int
s3_part_name(const char *id, uint64_t offset, char *out, size_t n)
{
	int w = snprintf(out, n, "%s/%s%s%s%0*" PRIu64, TR_SESSIONS_DIR, id,
	    TR_SUFFIX, S3_PART_TAG, S3_OFFSET_DIGITS, offset);

	if (w < 0 || (size_t)w >= n) {
		if (n > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/* Copies name[0..len) into id when it is a valid session id. */
static int
take_id(const char *name, size_t len, char id[SEAL_ID_MAX + 1])
{
	if (len > SEAL_ID_MAX || !sessid_valid(name, len))
		return -1;
	memcpy(id, name, len);
	id[len] = '\0';
	return 0;
}

enum s3_session_obj
s3_session_parse(const char *name, char id[SEAL_ID_MAX + 1], uint64_t *offset)
{
	static const char dir[] = TR_SESSIONS_DIR "/";
	static const char tail[] = TR_SUFFIX S3_PART_TAG;
	const size_t sl = sizeof(TR_SUFFIX) - 1, tl = sizeof(tail) - 1;
	size_t n;

	*offset = 0;
	id[0] = '\0';
	if (strncmp(name, dir, sizeof(dir) - 1) != 0)
		return S3_SESSION_NONE;
	name += sizeof(dir) - 1;
	n = strlen(name);
	if (n > sl && strcmp(name + n - sl, TR_SUFFIX) == 0)
		return take_id(name, n - sl, id) == 0 ? S3_SESSION_WHOLE :
		    S3_SESSION_NONE;
	if (n > tl + S3_OFFSET_DIGITS &&
	    memcmp(name + n - S3_OFFSET_DIGITS - tl, tail, tl) == 0) {
		uint64_t off = 0;

		for (size_t i = n - S3_OFFSET_DIGITS; i < n; i++) {
			uint64_t d = (uint64_t)(name[i] - '0');

			if (name[i] < '0' || name[i] > '9' ||
			    off > (UINT64_MAX - d) / 10)
				return S3_SESSION_NONE;
			off = off * 10 + d;
		}
		if (take_id(name, n - S3_OFFSET_DIGITS - tl, id) != 0)
			return S3_SESSION_NONE;
		*offset = off;
		return S3_SESSION_PART;
	}
	return S3_SESSION_NONE;
}
