/*
 * export_html_player: the asciinema-player that "export --format html"
 * embeds in its page, so that the page plays the session with nothing
 * fetched.  The player is the npm registry's package asciinema-player,
 * unpacked into a directory (scripts/deps.sh installs a pinned version at
 * REPLAY_PLAYER_DIR); escort-replay reads its standalone bundle,
 * DIR/dist/bundle/asciinema-player.min.js and asciinema-player.css, and
 * the version from DIR/package.json.  It is never fetched at run time and
 * the repository holds no copy.
 */
#ifndef REPLAY_EXPORT_HTML_PLAYER_H
#define REPLAY_EXPORT_HTML_PLAYER_H

#include <stddef.h>

#define REPLAY_PLAYER_DIR "/usr/local/share/escort/asciinema-player"
#define REPLAY_PLAYER_ENV "ESCORT_PLAYER"	/* overrides the default */
#define REPLAY_PLAYER_VERSION "3.17.0"	/* the version scripts/deps.sh
					   installs (said in the error) */

struct replay_player {
	char *js, *css;		/* NUL-terminated, owned */
	char version[32];	/* from package.json, "" when not found */
	char dir[4096];
};

/*
 * Loads the player from dir (--player), else from $ESCORT_PLAYER when set
 * and not empty, else from REPLAY_PLAYER_DIR.  A bundle that could not
 * stand inside an HTML <script> or <style> element as it is ("</script",
 * "<!--", "</style") is refused.  Returns 0 (release with
 * replay_player_free), or prints why, naming the file and how to install
 * the player, and returns 2.
 */
int replay_player_load(const char *dir, struct replay_player *p);

void replay_player_free(struct replay_player *p);

#endif
