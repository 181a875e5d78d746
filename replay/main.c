/* escort-replay: placeholder entry point, replaced by the real program. */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("escort-replay %s\n", ESCORT_VERSION);
		return 0;
	}
	fprintf(stderr, "escort-replay: not implemented yet\n");
	return 1;
}
