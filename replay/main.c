/* escort-replay: list, read and verify recordings of the store. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay.h"

#define REPLAY_DEFAULT_STORE "/var/lib/escort/recordings"

static const struct replay_cmd replay_cmds[] = {
	{ "list", "list [--user U] [--target T] [--since TIME] [--until TIME] [--json]",
	    replay_list },
	{ "cat", "cat ID", replay_cat },
	{ "verify", "verify (ID... | --all) --key PUBLIC.pem [--deep] [--quiet]",
	    replay_verify },
	{ "commands", "commands [ID] [--user U] [--json]", replay_commands },
	{ "play", "play ID [--speed X] [--max-wait S]", replay_play },
	{ "follow", "follow ID", replay_follow },
	{ "screen", "screen ID --at SECONDS", replay_screen },
	{ "search", "search EXPRESSION", replay_search },
	{ "files", "files [ID] [--json]", replay_files },
	{ "extract", "extract ID N", replay_extract },
	{ "export", "export ID --format asciicast|json|text", replay_export },
	{ "audit", "audit [--user U] [--attr K=V] [--since TIME]", replay_audit },
	{ "anchor", "anchor [--key PUBLIC.pem] [--proof-from SIZE]", replay_anchor },
};

void
replay_err(const char *fmt, ...)
{
	va_list ap;

	fputs("escort-replay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: escort-replay [--store DIR] COMMAND [ARGS]\n"
	    "       escort-replay --help | --version\n\ncommands:\n");
	for (i = 0; i < sizeof(replay_cmds) / sizeof(replay_cmds[0]); i++)
		fprintf(f, "  %s\n", replay_cmds[i].usage);
	fprintf(f, "\nThe store is --store DIR, else $ESCORT_STORE, else %s.\n"
	    "See escort-replay(1).\n", REPLAY_DEFAULT_STORE);
}

/* Takes "--store DIR" or "--store=DIR" out of a command's arguments, so the
 * store may also be named after the command.  Stops at "--".  Returns 0, or -1
 * when --store has no value. */
static int
take_store_option(int *argc, char **argv, const char **store)
{
	int i = 1, o = 1;
	for (; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--store=", 8) == 0) {
			*store = argv[i] + 8;
			continue;
		}
		if (strcmp(argv[i], "--store") == 0) {
			if (i + 1 >= *argc)
				return -1;
			*store = argv[++i];
			continue;
		}
		argv[o++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[o++] = argv[i];
	argv[o] = NULL;
	*argc = o;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = getenv("ESCORT_STORE");
	size_t i;
	int c;

	if (store == NULL || *store == '\0')
		store = REPLAY_DEFAULT_STORE;
	/* Stop at the command: its own options follow it. */
	while ((c = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("escort-replay %s\n", ESCORT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(replay_cmds) / sizeof(replay_cmds[0]); i++) {
		if (strcmp(argv[optind], replay_cmds[i].name) == 0) {
			argv += optind;
			argc -= optind;
			optind = 0;	/* reset getopt for the command */
			if (take_store_option(&argc, argv, &store) != 0) {
				replay_err("--store needs a directory");
				return 2;
			}
			return replay_cmds[i].run(store, argc, argv);
		}
	}
	replay_err("unknown command \"%s\" (see --help)", argv[optind]);
	return 2;
}
