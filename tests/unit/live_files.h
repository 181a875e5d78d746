/*
 * live_files.h: helpers shared by the unit tests that run the real sftp/scp
 * clients through a transfer parser (test_proxy_*_live.c): whole writes, a
 * deterministic byte pattern, files under the test's temp dir `dir`, hex.
 * Include after the C library headers and <cmocka.h>.
 */
#ifndef TESTS_UNIT_LIVE_FILES_H
#define TESTS_UNIT_LIVE_FILES_H

static char dir[256];		/* the test's temp dir, set by its setup */

static inline int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static inline void
pattern(uint8_t *b, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		b[i] = (uint8_t)(seed >> 16);
	}
}

static inline void
put_file(const char *rel, const uint8_t *b, size_t n)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_non_null(f = fopen(p, "wb"));
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* Returns the file's bytes (malloc'd) and size, or NULL if absent. */
static inline uint8_t *
get_file(const char *rel, size_t *n)
{
	char p[512];
	struct stat st;
	uint8_t *b;
	FILE *f;

	*n = 0;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (stat(p, &st) < 0)
		return NULL;
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(f = fopen(p, "rb"));
	*n = fread(b, 1, (size_t)st.st_size, f);
	fclose(f);
	return b;
}

static inline void
hex(const uint8_t *d, size_t n, char out[65])
{
	uint8_t md[32];
	int i;

	SHA256(d, n, md);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

#endif
