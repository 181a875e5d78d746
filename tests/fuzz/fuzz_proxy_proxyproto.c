/*
 * Fuzzer: proxyproto, the PROXY protocol v2 header parser.
 *
 * Input: the first bytes of a connection.  Checks what the contract
 * promises: a whole header is never longer than the input or than
 * PXPP_MAX_LEN; a correct beginning asks for more than it was given and at
 * most PXPP_MAX_LEN; an error names its fault; the result does not change
 * when the input arrives in two pieces (every prefix of an accepted input
 * is a correct beginning, and every prefix shorter than a header gives 0);
 * the source taken is of the family announced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy/proxyproto.h"
#include "proxy/px_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct pxpp_hdr h, hp;
	int rc = px__pxpp_parse(d, n, &h);

	if (rc > 0) {
		if ((size_t)rc > n || rc > PXPP_MAX_LEN || (size_t)rc != h.need || rc < PXPP_FIXED_LEN)
			abort();
		if (h.family != AF_UNSPEC && h.src.ss_family != h.family)
			abort();
		if (h.family == AF_UNSPEC && h.addrlen != 0)
			abort();
		for (size_t i = 0; i < (size_t)rc; i += 7)
			if (px__pxpp_parse(d, i, &hp) != 0)
				abort();
		if (px__pxpp_parse(d, (size_t)rc, &hp) != rc || memcmp(&hp.src, &h.src, sizeof(h.src)) != 0)
			abort();
	} else if (rc == 0) {
		if (h.need <= n || h.need > PXPP_MAX_LEN)
			abort();
	} else {
		if (rc != PX_EINVAL || h.why == NULL)
			abort();
	}
	(void)px__pxpp_looks_like(d, n);
	return 0;
}
