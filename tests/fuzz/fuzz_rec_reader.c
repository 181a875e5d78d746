/* libFuzzer harness for the transcript file reader: tr_open, tr_next,
 * seeking, summaries and deep verification of arbitrary file contents. */
#include <stdint.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "recorder/verify.h"

static int
fuzz_fd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;
	ssize_t w;

	if (fd < 0)
		return -1;
	while (off < size) {
		if ((w = write(fd, data + off, size - off)) <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verify_file_result vr;
	struct tr_summary s;
	struct tr *r;
	struct ev e;
	int fd, n;

	if ((fd = fuzz_fd(data, size)) < 0)
		return 0;
	if (verify_file(fd, NULL, NULL, VERIFY_DEEP, &vr) == REC_OK)
		verify_file_result_free(&vr);
	if (rec__tr_open_fd(fd, &r) != REC_OK)
		return 0;	/* rec__tr_open_fd closed fd */
	for (n = 0; n < 100000 && tr_next(r, &e) == 1; n++)
		;
	if (tr_seek_seq(r, 3) == REC_OK)
		for (n = 0; n < 1000 && tr_next(r, &e) == 1; n++)
			;
	if (tr_seek_time(r, 5000) == REC_OK)
		for (n = 0; n < 1000 && tr_next(r, &e) == 1; n++)
			;
	tr_summarize(r, &s);
	tr_free(r);
	return 0;
}
