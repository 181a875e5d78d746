/*
 * pathnorm.h: lexical path normalisation, as the policy compares paths.
 *
 * The normal form of a path removes empty components ("//"), "."
 * components and a trailing "/", and lets ".." remove the component before
 * it; ".." at the root stays at the root ("/../etc" is "/etc").  A relative
 * path stays relative; ".." that climbs above its start is kept ("../x").
 * The empty path and a relative path that cancels out are ".".
 *
 * The normal form is lexical: it reads no file system.  Where ".." removed
 * a directory name (POL_PATH_POPPED), a symbolic link on the way can make
 * the kernel resolve the path elsewhere (/var/run/../etc/shadow is
 * /etc/shadow where /var/run links to /run): callers that enforce a boundary
 * must then treat the path as "anywhere below an unknown directory" (the
 * policy engine matches it as any directory followed by the rest after the
 * last such "..").  The same holds for POL_PATH_ABOVE.  The text after the last "..", which is all that
 * is certain, starts at the offset given in *tail (see below).
 *
 * For file transfers: an SFTP or scp path that is relative is relative to
 * the login directory, which the proxy does not know; like a relative path
 * after cd, it can only be matched as "any directory" then the path.
 * Inside libescort-policy, the engine's own matching of such a path is
 * pol__pathnorm_cwords() + pol__pattern_match() (pol_int.h), which apply all of the
 * above to a word.
 *
 * Pure functions, no global state, thread-safe.
 */
#ifndef ESCORT_POLICY_PATHNORM_H
#define ESCORT_POLICY_PATHNORM_H

#include <stddef.h>

/* Flags of a normalised path. */
#define POL_PATH_RELATIVE 0x1	/* the input does not start with '/' */
#define POL_PATH_POPPED   0x2	/* a ".." removed a directory name: symlinks may
				 * make the real path differ */
#define POL_PATH_ABOVE    0x4	/* relative, and ".." climbs above its start */

/*
 * Writes the normal form of in[0..len) to out, which must hold len + 2
 * bytes (the form is never longer than the input, or than "." for an empty
 * one), NUL-terminated.  Returns its length.  When `flags` is not NULL it
 * gets POL_PATH_* bits; when `tail` is not NULL it gets the offset in out
 * of the part that follows the last ".." that set POL_PATH_POPPED or
 * POL_PATH_ABOVE (0 when none did; out + *tail may then be "" or start
 * with '/').  NUL bytes are taken as ordinary bytes.
 */
size_t pol_path_clean(const char *in, size_t len, char *out, unsigned *flags, size_t *tail);

/*
 * pol_path_clean into a new malloc'd string: returns 0 and sets *out (the
 * caller frees it), POL_E_INVAL when `in` or `out` is NULL or the path holds
 * a NUL byte (no path can), or POL_E_NOMEM.  `flags` may be NULL.
 */
int pol_path_normalise(const char *in, size_t len, char **out, unsigned *flags);

#endif
