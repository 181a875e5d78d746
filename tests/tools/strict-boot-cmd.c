/* strict-boot-cmd: prints px__sb_command(), the exec command that starts the
 * strict-mode loop on a target, for tests that run it under a real bash.
 * With an argument, prints the argument's run line instead (nonce from
 * argv[1], seq argv[2], command argv[3]) with the exit status of
 * px__sb_run_line as a negative number on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proxy/strict_boot.h"

int
main(int argc, char **argv)
{
	struct buf b;
	char *c;
	int r;

	if (argc == 1) {
		if ((c = px__sb_command()) == NULL)
			return 1;
		fputs(c, stdout);
		free(c);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: strict-boot-cmd [NONCE SEQ COMMAND]\n");
		return 2;
	}
	buf_init(&b, 0);
	r = px__sb_run_line(argv[1], strtoull(argv[2], NULL, 10), argv[3], strlen(argv[3]), &b);
	if (r == SB_OK)
		fwrite(buf_ptr(&b), 1, buf_len(&b), stdout);
	buf_free(&b);
	return r == SB_OK ? 0 : 1;
}
