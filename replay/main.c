/* escort-replay: list, read and verify recordings of the store. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/evidence.h"
#include "recorder/s3.h"
#include "replay/replay.h"
#include "replay/s3store.h"

#define REPLAY_DEFAULT_STORE "/var/lib/escort/recordings"

#define RD (REPLAY_STORE | REPLAY_READS)

static const struct replay_cmd replay_cmds[] = {
	{ "list", "list [--user U] [--target T] [--since TIME] [--until TIME] [--json]",
	    replay_list, RD },
	{ "cat", "cat ID", replay_cat, RD },
	{ "verify", "verify (ID... | --all) [--key PUBLIC.pem] [--anchor FILE|s3://BUCKET/PREFIX] [--deep] [--quiet]",
	    replay_verify, REPLAY_STORE | REPLAY_KEY },
	{ "commands", "commands [ID] [--user U] [--json]", replay_commands, RD },
	{ "play", "play ID [--speed X] [--max-wait S] [--command N | --from SECONDS]", replay_play, RD },
	{ "follow", "follow (ID | --user U | --latest)", replay_follow, RD },
	{ "screen", "screen ID (--at SECONDS | --command N) [--no-cache]", replay_screen, RD },
	{ "search", "search [--json] [--matches N] [--since TIME] [--until TIME] [--no-index] [--reindex] EXPRESSION", replay_search, RD | REPLAY_HELP },
	{ "files", "files [ID] [--json]", replay_files, RD },
	{ "extract", "extract ID N", replay_extract, RD },
	{ "export", "export ID --format asciicast|json|text|html [--no-input] [--player DIR]", replay_export, RD | REPLAY_HELP },
	{ "audit", "audit [--user U] [--attr K=V] [--target T] [--since TIME] [--until TIME] [--no-index] [--json|--html]", replay_audit, RD | REPLAY_HELP },
	{ "anchor", "anchor [--key PUBLIC.pem] [--proof-from SIZE]", replay_anchor, REPLAY_STORE },
	{ "evidence", "evidence (ID... | --all | --user U | --since TIME | --until TIME) --out DIR|FILE.tar [--anchor FILE] [--key PUBLIC.pem]",
	    replay_evidence, REPLAY_STORE | REPLAY_KEY | REPLAY_HELP },
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
	    "A store in object storage is s3://BUCKET/PREFIX (credentials,\n"
	    "endpoint and region from AWS_* in the environment).\n"
	    "Every command but verify also takes [--key PUBLIC.pem] [--no-verify]:\n"
	    "it verifies what it shows with the key from --key, else $ESCORT_KEY,\n"
	    "else STORE/%s; verify finds its key the same way.\n"
	    "See escort-replay(1).\n", REPLAY_DEFAULT_STORE,
	    REPLAY_STORE_KEY);
}

/* The options main() takes out of a command's arguments, wherever they
 * stand before "--": value options (--NAME VALUE or --NAME=VALUE) and
 * switches. */
struct replay_opts {
	const char *store;
	const char *key;
	int no_verify;
};

static const struct {
	const char *name;
	int only;	/* only for commands with one of these flags (0: all) */
	size_t off;	/* of the const char * value, or of the int switch */
	int is_switch;
} replay_takes[] = {
	{ "store", 0, offsetof(struct replay_opts, store), 0 },
	{ "key", REPLAY_READS | REPLAY_KEY, offsetof(struct replay_opts, key), 0 },
	{ "no-verify", REPLAY_READS, offsetof(struct replay_opts, no_verify), 1 },
};

/* Matches argv[*i] against the option table; stores its value.  Returns
 * 1 (taken), 0 (not one of them), or -1 (value missing: *bad names it). */
static int
take_one(int *i, int argc, char **argv, int flags, struct replay_opts *o,
    const char **bad)
{
	const char *a = argv[*i], *name;
	size_t k, n;

	if (strncmp(a, "--", 2) != 0)
		return 0;
	for (k = 0; k < sizeof(replay_takes) / sizeof(replay_takes[0]); k++) {
		if (replay_takes[k].only && !(replay_takes[k].only & flags))
			continue;
		name = replay_takes[k].name;
		n = strlen(name);
		if (strncmp(a + 2, name, n) != 0)
			continue;
		if (replay_takes[k].is_switch) {
			if (a[2 + n] != '\0')
				continue;
			*(int *)(void *)((char *)o + replay_takes[k].off) = 1;
			return 1;
		}
		if (a[2 + n] == '=') {
			*(const char **)(void *)((char *)o + replay_takes[k].off) =
			    a + 3 + n;
			return 1;
		}
		if (a[2 + n] != '\0')
			continue;
		if (*i + 1 >= argc) {
			*bad = name;
			return -1;
		}
		*(const char **)(void *)((char *)o + replay_takes[k].off) =
		    argv[++*i];
		return 1;
	}
	return 0;
}

/* Takes main's options (--store, for readers --key and --no-verify, for
 * REPLAY_KEY commands --key) out of a command's arguments, so they may
 * also follow the command.  Stops at "--".  Returns 0, or -1 when a value
 * is missing (*bad). */
static int
take_options(int *argc, char **argv, int flags, struct replay_opts *o,
    const char **bad)
{
	int i = 1, out = 1, t;

	for (; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if ((t = take_one(&i, *argc, argv, flags, o, bad)) < 0)
			return -1;
		if (t == 0)
			argv[out++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	*argc = out;
	return 0;
}

/* 1 when argv[1..argc) asks for --help before any "--". */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

/* Runs command c with the options taken: the store check, then the
 * verification context of a reader. */
static int
run_command(const struct replay_cmd *c, int argc, char **argv,
    struct replay_opts *o)
{
	const char *bad = NULL;
	static char s3dir[1024];
	int x;

	if (take_options(&argc, argv, c->flags, o, &bad) != 0) {
		replay_err("--%s needs a %s", bad, strcmp(bad, "store") == 0 ?
		    "directory" : "file");
		return 2;
	}
	if (wants_help(argc, argv)) {	/* COMMAND --help: no store needed */
		if (c->flags & REPLAY_HELP)
			return c->run(o->store, argc, argv);
		printf("usage: escort-replay [--store DIR] %s\n"
		    "See escort-replay(1).\n", c->usage);
		return 0;
	}
	if ((!(c->flags & (REPLAY_READS | REPLAY_KEY)) && o->key != NULL) ||
	    (!(c->flags & REPLAY_READS) && o->no_verify)) {
		replay_err("%s: --key and --no-verify before the command are for the "
		    "reading commands (see --help)", c->name);
		return 2;
	}
	replay_key_give(o->key);
	if (s3_is_url(o->store)) {	/* s3store.h: read from a bucket */
		if ((x = replay_s3_store(o->store, s3dir, sizeof(s3dir))) != 0)
			return x;
		o->store = s3dir;
	}
	if ((c->flags & REPLAY_STORE) && (x = replay_store_check(o->store,
	    c->name)) != 0)
		return x;
	if (!(c->flags & REPLAY_READS))
		return c->run(o->store, argc, argv);
	if ((x = replay_check_init(o->store, c->name, o->key, o->no_verify)) == 0)
		x = c->run(o->store, argc, argv);
	replay_check_end();
	return x;
}

/* Standard output that could not be written (a full disk, a closed file)
 * is an I/O error, exit 2: what was shown is incomplete.  Returns the exit
 * status. */
static int
out_checked(const char *cmd, int status)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	replay_err("%s: standard output: %s", cmd, strerror(errno));
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay_opts o = { getenv("ESCORT_STORE"), NULL, 0 };
	size_t i;
	int c;

	if (o.store == NULL || *o.store == '\0')
		o.store = REPLAY_DEFAULT_STORE;
	/* Stop at the command: its own options follow it. */
	while ((c = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.store = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'n':
			o.no_verify = 1;
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
			return out_checked(replay_cmds[i].name,
			    run_command(&replay_cmds[i], argc, argv, &o));
		}
	}
	replay_err("unknown command \"%s\" (see --help)", argv[optind]);
	return 2;
}
