/* verify.c: "escort-replay verify": integrity check of recordings against
 * the public key (--key, ESCORT_KEY or the store's, as every reader finds
 * it: replay_key_find), and of the store against tree
 * heads kept elsewhere (--anchor) (see escort-replay(1)).  Exit 0: every
 * session intact (a session recovered after a restart is intact and shown
 * as "recovered, N bytes cut at OFFSET"); 1: a problem (tampering, damage);
 * 2: could not run, or a file could not be read (an I/O error, named with
 * its reason on stderr, never counted as tampering; outranks 1). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/verify.h"
#include "recorder/s3.h"
#include "replay/replay.h"
#include "replay/s3store.h"

struct replay_verify_ctx {
	int quiet;
	int sessions;
	int recovered;
	int problems;
	int unreadable;		/* VERIFY_IOERR lines: exit 2 */
};

static void
replay_verify_report(void *arg, int ok, const char *session, uint32_t index,
    uint64_t offset, const char *msg)
{
	struct replay_verify_ctx *c = arg;

	/* an id or a file name from sessions/ may hold control bytes */
	session = replay_esc(session);
	msg = replay_esc(msg);

	if (ok == VERIFY_NOTICE) {
		/* Not tampering, but always shown: a cut after a restart, a
		 * rebuilt journal. */
		if (strcmp(session, "journal") != 0) {
			c->sessions++;
			c->recovered++;
		}
		printf("%s: %s\n", session, msg);
		return;
	}
	if (ok == VERIFY_INTACT) {
		if (strcmp(session, "anchor") != 0)
			c->sessions++;
		if (!c->quiet || strcmp(session, "anchor") == 0)
			printf("%s: %s\n", session, msg);
		return;
	}
	if (ok == VERIFY_IOERR) {
		c->unreadable++;
		replay_err("verify: %s: cannot read %s", session, msg);
		return;
	}
	c->problems++;
	if (index != UINT32_MAX && offset != UINT64_MAX)
		printf("%s: FAILED at segment %" PRIu32 ", offset %" PRIu64 ": %s\n",
		    session, index, offset, msg);
	else if (offset != UINT64_MAX)
		printf("%s: FAILED at offset %" PRIu64 ": %s\n", session, offset, msg);
	else if (index != UINT32_MAX)
		printf("%s: FAILED at segment %" PRIu32 ": %s\n", session, index, msg);
	else
		printf("%s: FAILED: %s\n", session, msg);
}

/* 1 when the anchor file holds a tree head line, or cannot be read (the
 * store check then says why); 0 for a file of receipts only. */
static int
replay_verify_has_heads(const char *path)
{
	char line[600];
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "re")) == NULL)
		return 1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strncmp(line, "escort-head ", 12) == 0;
	fclose(f);
	return found;
}

int
replay_verify(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'k' },
		{ "deep", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "anchor", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay_verify_ctx ctx;
	struct seal_verifier *v = NULL;
	const char *key = NULL, *anchor = NULL, *src;
	char kbuf[4096], s3anchor[1024];
	int all = 0, flags = VERIFY_WAIT_LIVE, c, r, heads = 0;

	memset(&ctx, 0, sizeof(ctx));
	while ((c = getopt_long(argc, argv, "ak:dq", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'k':
			key = optarg;
			break;
		case 'd':
			flags |= VERIFY_DEEP;
			break;
		case 'q':
			ctx.quiet = 1;
			break;
		case 'A':
			anchor = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (all == (optind < argc)) {
		replay_err("verify: %s", all ? "give IDs or --all, not both" :
		    "name the sessions (ID...) or give --all");
		goto usage;
	}
	if (s3_is_url(anchor)) {	/* s3store.h: the bucket's heads */
		if (replay_s3_heads(anchor, s3anchor, sizeof(s3anchor)) != 0)
			return 2;
		anchor = s3anchor;
	}
	if (anchor != NULL && access(anchor, R_OK) != 0) {
		replay_err("verify: --anchor %s: %s", anchor, strerror(errno));
		return 2;
	}
	if ((r = replay_key_find(store, "verify", key, kbuf, sizeof(kbuf),
	    &key, &src)) == 2)
		return 2;
	if (r == 1) {
		replay_err("verify: no public key to check the signatures with: "
		    "give --key PUBLIC.pem, or set ESCORT_KEY to its file, or "
		    "keep it as %s (the recorder writes it there at start)",
		    kbuf);
		return 2;
	}
	if ((r = seal_verifier_load(key, &v)) != REC_OK) {
		replay_err("verify: public key %s (%s): %s", key, src,
		    r == REC_EKEY ? "not a PEM Ed25519 public key" :
		    r == REC_ENOENT ? strerror(ENOENT) :
		    r == REC_EPERM ? strerror(EACCES) : rec_strerror(r));
		return 2;
	}
	if (strcmp(src, "--key") != 0 && strcmp(src, "ESCORT_KEY") != 0)
		replay_err("verify: note: the public key is the store's own "
		    "(%s): it proves only that the store agrees with itself; "
		    "against someone who can write the store, give --key or "
		    "ESCORT_KEY from a copy kept elsewhere", key);
	r = verify_store_anchored(store, v, (const char *const *)argv + optind,
	    all ? 0 : (size_t)(argc - optind), flags,
	    anchor != NULL && replay_verify_has_heads(anchor) ? anchor : NULL,
	    replay_verify_report, &ctx);
	if (r >= 0 && anchor != NULL)
		r = replay_verify_receipts(store, v, anchor,
		    replay_verify_report, &ctx, &heads);
	seal_verifier_free(v);
	if (r < 0) {
		replay_err("verify: %s: %s", store, rec_strerror(r));
		return 2;
	}
	printf("verify: %d session%s intact (%d recovered after a restart), "
	    "%d problem%s", ctx.sessions, ctx.sessions == 1 ? "" : "s",
	    ctx.recovered, ctx.problems, ctx.problems == 1 ? "" : "s");
	if (ctx.unreadable > 0)
		printf(", %d not readable (not checked)", ctx.unreadable);
	putchar('\n');
	/* a problem found wins: an unreadable file never hides tampering */
	return ctx.problems > 0 ? 1 : ctx.unreadable > 0 ? 2 : 0;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] verify (ID... | --all) "
	    "[--key PUBLIC.pem] [--anchor FILE|s3://BUCKET/PREFIX] [--deep] "
	    "[--quiet]\n");
	return 2;
}
