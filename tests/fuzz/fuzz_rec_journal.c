/* libFuzzer harness for the store journal reader and store verification:
 * arbitrary bytes as STORE/journal.esj, read and cross-checked (with no
 * sessions, and with no key: structure only). */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/verify.h"

static char fuzz_store[64];

static int
fuzz_count(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	(void)e;
	(void)index;
	(void)offset;
	(*(int *)arg)++;
	return 0;
}

static void
fuzz_cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", fuzz_store, JOURNAL_FILE);
	unlink(path);
	rmdir(fuzz_store);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	uint64_t bad = 0;
	int torn = 0, n = 0;
	FILE *f;

	if (fuzz_store[0] == '\0') {
		snprintf(fuzz_store, sizeof(fuzz_store), "/tmp/fuzz-journal-XXXXXX");
		if (mkdtemp(fuzz_store) == NULL)
			abort();
		atexit(fuzz_cleanup);
	}
	snprintf(path, sizeof(path), "%s/%s", fuzz_store, JOURNAL_FILE);
	if ((f = fopen(path, "wb")) == NULL)
		return 0;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);
	journal_read(fuzz_store, NULL, fuzz_count, &n, &bad, &torn);
	verify_store(fuzz_store, NULL, NULL, 0, 0, NULL, NULL);
	return 0;
}
