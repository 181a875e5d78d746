/*
 * screenprog.c: programs that take over the screen (or read commands from
 * the person typing) and can run other commands from inside: editors with
 * a shell escape, pagers with '!', interpreters, debuggers, file-transfer
 * and remote-login clients, terminal multiplexers.  Once such a program
 * runs, what the technician types goes to it, not to the policy, so it
 * runs only where a rule names it: an allow (or approve) pattern whose
 * first word is the program's name, literally (pol__screenprog_check).
 * `escort-policy check` warns about every rule that names one (lint.c).
 *
 * Pagers started by allowed commands (systemctl status, journalctl, git
 * log -> less) are not listed by their parent: the strict shell's
 * environment (LESSSECURE=1, SYSTEMD_PAGERSECURE=1, PAGER=cat ...) keeps
 * them from shelling out.
 *
 * Each entry says, in one short phrase, how the program runs commands; the
 * phrase is shown in check's warning and in the reason of a denial.
 * Names are matched against the command's base name; a `versioned` entry
 * also matches the name followed by a version (python3, python3.11,
 * perl5.36, tclsh8.6).  The table is sorted by name (strcmp order).
 */
#include <stdio.h>
#include <string.h>

#include "policy/wrap_int.h"

static const struct screenprog screenprogs[] = {
	{ "awk", "an interpreter", "system() and print | run commands", false },
	{ "busybox-vi", "an editor", ":! runs a shell command", false },
	{ "ed", "an editor", "!CMD runs a shell command", false },
	{ "emacs", "an editor", "M-! and M-x shell run commands", true },
	{ "ex", "an editor", ":! runs a shell command", false },
	{ "expect", "an interpreter", "spawn and exec run commands", false },
	{ "ftp", "a file-transfer client", "! runs a shell", false },
	{ "gawk", "an interpreter", "system() and print | run commands", false },
	{ "gdb", "a debugger", "shell and ! run commands", false },
	{ "gvim", "an editor", ":! runs a shell command", false },
	{ "irb", "an interpreter", "runs any Ruby code, system() included", false },
	{ "less", "a pager", "! runs a shell and v an editor", false },
	{ "lftp", "a file-transfer client", "! runs a shell", false },
	{ "lua", "an interpreter", "os.execute() runs commands", true },
	{ "luajit", "an interpreter", "os.execute() runs commands", false },
	{ "lynx", "a browser", "! runs a shell", false },
	{ "man", "a pager", "shows pages in a pager (less) whose ! runs a shell", false },
	{ "mawk", "an interpreter", "system() and print | run commands", false },
	{ "mc", "a file manager", "its command line runs commands", false },
	{ "more", "a pager", "! runs a shell", false },
	{ "most", "a pager", "its shell and editor commands run programs", false },
	{ "mysql", "a database client", "\\! and system run shell commands", false },
	{ "nano", "an editor", "^T (execute) runs a command", false },
	{ "nawk", "an interpreter", "system() and print | run commands", false },
	{ "node", "an interpreter", "child_process runs commands", false },
	{ "nodejs", "an interpreter", "child_process runs commands", false },
	{ "nvim", "an editor", ":! and :terminal run commands", false },
	{ "perl", "an interpreter", "system() and backticks run commands", true },
	{ "pg", "a pager", "! runs a shell", false },
	{ "php", "an interpreter", "system() runs commands", true },
	{ "psql", "a database client", "\\! runs a shell command", false },
	{ "pypy", "an interpreter", "os.system() runs commands", true },
	{ "python", "an interpreter", "os.system() runs commands", true },
	{ "ruby", "an interpreter", "system() and backticks run commands", true },
	{ "screen", "a terminal multiplexer", "starts shells in new windows", false },
	{ "script", "a terminal recorder", "starts a shell", false },
	{ "sftp", "a file-transfer client", "! runs a shell", false },
	{ "sqlite3", "a database client", ".shell and .system run commands", false },
	{ "ssh", "a remote-login client", "opens a shell elsewhere; ~C and LocalCommand run "
	    "commands", false },
	{ "tclsh", "an interpreter", "exec runs commands", true },
	{ "telnet", "a remote-login client", "opens a shell elsewhere; ! runs a shell", false },
	{ "tmux", "a terminal multiplexer", "starts shells in new windows", false },
	{ "vi", "an editor", ":! runs a shell command", false },
	{ "view", "an editor", ":! runs a shell command", false },
	{ "vigr", "an editor", "runs an editor (vi) whose :! runs a shell command", false },
	{ "vim", "an editor", ":! runs a shell command", false },
	{ "vimdiff", "an editor", ":! runs a shell command", false },
	{ "vipw", "an editor", "runs an editor (vi) whose :! runs a shell command", false },
	{ "visudo", "an editor", "runs an editor (vi) whose :! runs a shell command", false },
	{ "w3m", "a browser", "! runs a shell", false },
	{ "wish", "an interpreter", "exec runs commands", true },
};

#define NSCREENPROGS (sizeof(screenprogs) / sizeof(screenprogs[0]))

bool
pol__screenprog_table_sorted(void)
{
	for (size_t i = 1; i < NSCREENPROGS; i++)
		if (strcmp(screenprogs[i - 1].name, screenprogs[i].name) >= 0)
			return false;
	return true;
}

size_t
pol__screenprog_count(void)
{
	return NSCREENPROGS;
}

const struct screenprog *
pol__screenprog_at(size_t i)
{
	return i < NSCREENPROGS ? &screenprogs[i] : NULL;
}

/* Whether b[0..bl) is `name`, or `name` and a version ("3", "3.11", "5.36",
 * "-5.3" is not one) when versioned. */
static bool
name_is(const struct screenprog *e, const char *b, size_t bl)
{
	size_t l = strlen(e->name);
	if (bl < l || memcmp(b, e->name, l) != 0)
		return false;
	if (bl == l)
		return true;
	return e->versioned && b[l] >= '0' && b[l] <= '9' &&
	    strspn(b + l, "0123456789.") == bl - l;
}

const struct screenprog *
pol__screenprog_find(const char *b, size_t bl)
{
	if (bl == 0 || memchr(b, '\0', bl) != NULL)
		return NULL;
	/* a handful of dozen entries: a linear scan is as fast as it needs */
	for (size_t i = 0; i < NSCREENPROGS; i++)
		if (name_is(&screenprogs[i], b, bl))
			return &screenprogs[i];
	return NULL;
}

bool
pol__screenprog_check(const struct cword *w, size_t n, struct wrap_literal *lit)
{
	memset(lit, 0, sizeof(*lit));
	if (n == 0)
		return false;
	size_t bl;
	const char *b = pol__wrap_base(&w[0], &bl);
	const struct screenprog *e = pol__screenprog_find(b, bl);
	if (e == NULL)
		return false;
	snprintf(lit->why, sizeof(lit->why), "%.*s can run other commands; a rule must name it "
	    "to allow it (%s: %s)", (int)(bl > 40 ? 40 : bl), b, e->name, e->reason);
	return true;
}
