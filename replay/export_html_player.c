/* export_html_player.c: finds and reads the asciinema-player bundle
 * (export_html_player.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replay/export_html_player.h"
#include "replay/replay.h"

#define PLAYER_FILE_MAX (16u << 20)	/* a bundle larger is refused */

/* The files read, and what each must not hold to be inlined. */
static const struct {
	const char *name;
	const char *bad[2];
} player_files[] = {
	{ "dist/bundle/asciinema-player.min.js", { "</script", "<!--" } },
	{ "dist/bundle/asciinema-player.css", { "</style", NULL } },
};

/* Reads path whole into *out (NUL-terminated).  Returns 0, or -1 with
 * errno (EFBIG when larger than PLAYER_FILE_MAX). */
static int
player_read(const char *path, char **out)
{
	FILE *f;
	char *b = NULL, *nb;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= PLAYER_FILE_MAX) {
				fclose(f);
				free(b);
				errno = EFBIG;
				return -1;
			}
			cap = cap ? cap * 2 : 262144;
			if ((nb = realloc(b, cap + 1)) == NULL) {
				fclose(f);
				free(b);
				errno = ENOMEM;
				return -1;
			}
			b = nb;
		}
		if ((n = fread(b + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		fclose(f);
		free(b);
		errno = EIO;
		return -1;
	}
	fclose(f);
	b[len] = '\0';
	if (strlen(b) != len) {		/* a NUL inside: not a text bundle */
		free(b);
		errno = EINVAL;
		return -1;
	}
	*out = b;
	return 0;
}

/* 1 when s holds needle, ASCII case ignored. */
static int
player_holds(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return 1;
	return 0;
}

/* The "version" of DIR/package.json into p->version ("" when not found). */
static void
player_version(struct replay_player *p)
{
	char path[4200], *pkg = NULL, *v, *e;

	p->version[0] = '\0';
	snprintf(path, sizeof(path), "%s/package.json", p->dir);
	if (player_read(path, &pkg) != 0)
		return;
	if ((v = strstr(pkg, "\"version\"")) != NULL &&
	    (v = strchr(v + 9, '"')) != NULL && (e = strchr(v + 1, '"')) != NULL &&
	    (size_t)(e - v - 1) < sizeof(p->version) && strspn(v + 1,
	    "0123456789.-abcdefghijklmnopqrstuvwxyz") >= (size_t)(e - v - 1))
		snprintf(p->version, sizeof(p->version), "%.*s", (int)(e - v - 1),
		    v + 1);
	free(pkg);
}

int
replay_player_load(const char *dir, struct replay_player *p)
{
	const char *env = getenv(REPLAY_PLAYER_ENV);
	char path[4200], **slot;
	size_t i, k;

	memset(p, 0, sizeof(*p));
	if (dir == NULL)
		dir = env != NULL && env[0] ? env : REPLAY_PLAYER_DIR;
	if (strlen(dir) >= sizeof(p->dir)) {
		replay_err("export: --format html: player directory name too long");
		return 2;
	}
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	for (i = 0; i < sizeof(player_files) / sizeof(player_files[0]); i++) {
		slot = i == 0 ? &p->js : &p->css;
		snprintf(path, sizeof(path), "%s/%s", p->dir, player_files[i].name);
		if (player_read(path, slot) != 0) {
			replay_err("export: --format html needs the asciinema-player "
			    "package: %s: %s; install it with scripts/deps.sh --player (npm "
			    "package asciinema-player@%s unpacked into %s), or name "
			    "its directory with --player DIR or %s", path,
			    strerror(errno), REPLAY_PLAYER_VERSION, REPLAY_PLAYER_DIR,
			    REPLAY_PLAYER_ENV);
			replay_player_free(p);
			return 2;
		}
		for (k = 0; k < 2; k++)
			if (player_files[i].bad[k] != NULL &&
			    player_holds(*slot, player_files[i].bad[k])) {
				replay_err("export: %s holds \"%s\": it cannot be "
				    "embedded in a page as it is", path,
				    player_files[i].bad[k]);
				replay_player_free(p);
				return 2;
			}
	}
	player_version(p);
	return 0;
}

void
replay_player_free(struct replay_player *p)
{
	free(p->js);
	free(p->css);
	p->js = p->css = NULL;
}
