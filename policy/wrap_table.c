/*
 * wrap_table.c: one model per program that runs another command, with the
 * option grammar of its manual page (coreutils env/nice/nohup/stdbuf/
 * timeout/chroot, findutils find/xargs, util-linux setsid/su/runuser/
 * script/flock/ionice/taskset/chrt, procps watch, GNU time, sudo(8),
 * OpenBSD doas(1), shadow sg(1), bash(1) and the other shells).  The option
 * strings are those the programs give getopt(3); an option that is not in
 * its model is denied by the engine, so a new option is added here after
 * reading what it does.  Programs whose options are not modelled
 * (WHOW_SUFFIXES) have every tail of their words checked as a command.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/wrap_int.h"

#define L_END { NULL, 0, 0 }
#define A_END { 0, WACT_NONE, NULL }

/* long-only option values */
enum { LO_HELP = 256, LO_VERSION, LO_A, LO_B, LO_C, LO_D, LO_E, LO_F, LO_G };

static const char SHELL_WHY[] = "starts an interactive shell";

/* ---- coreutils ---------------------------------------------------------- */
static const struct wrap_long env_l[] = {
	{ "ignore-environment", WARG_NO, 'i' }, { "null", WARG_NO, '0' },
	{ "unset", WARG_REQ, 'u' }, { "chdir", WARG_REQ, 'C' },
	{ "split-string", WARG_REQ, 'S' }, { "debug", WARG_NO, 'v' },
	{ "block-signal", WARG_OPT, LO_A }, { "default-signal", WARG_OPT, LO_B },
	{ "ignore-signal", WARG_OPT, LO_C }, { "list-signal-handling", WARG_NO, LO_D },
	{ "help", WARG_NO, LO_HELP }, { "version", WARG_NO, LO_VERSION }, L_END
};
static const struct wrap_actdef env_a[] = {
	{ 'S', WACT_DENY, "-S splits its argument into a command that is not checked" },
	{ LO_HELP, WACT_NOCMD, NULL }, { LO_VERSION, WACT_NOCMD, NULL }, A_END
};

static const struct wrap_long nice_l[] = {
	{ "adjustment", WARG_REQ, 'n' }, { "help", WARG_NO, LO_HELP },
	{ "version", WARG_NO, LO_VERSION }, L_END
};
static const struct wrap_long help_l[] = {
	{ "help", WARG_NO, LO_HELP }, { "version", WARG_NO, LO_VERSION }, L_END
};
static const struct wrap_actdef help_a[] = {
	{ LO_HELP, WACT_NOCMD, NULL }, { LO_VERSION, WACT_NOCMD, NULL }, A_END
};

static const struct wrap_long timeout_l[] = {
	{ "preserve-status", WARG_NO, LO_A }, { "foreground", WARG_NO, LO_B },
	{ "kill-after", WARG_REQ, 'k' }, { "signal", WARG_REQ, 's' },
	{ "verbose", WARG_NO, 'v' }, { "help", WARG_NO, LO_HELP },
	{ "version", WARG_NO, LO_VERSION }, L_END
};

static const struct wrap_long stdbuf_l[] = {
	{ "input", WARG_REQ, 'i' }, { "output", WARG_REQ, 'o' }, { "error", WARG_REQ, 'e' },
	{ "help", WARG_NO, LO_HELP }, { "version", WARG_NO, LO_VERSION }, L_END
};

static const struct wrap_long chroot_l[] = {
	{ "userspec", WARG_REQ, LO_A }, { "groups", WARG_REQ, LO_B },
	{ "skip-chdir", WARG_NO, LO_C }, { "help", WARG_NO, LO_HELP },
	{ "version", WARG_NO, LO_VERSION }, L_END
};

/* ---- GNU time ----------------------------------------------------------- */
static const struct wrap_long time_l[] = {
	{ "format", WARG_REQ, 'f' }, { "output", WARG_REQ, 'o' }, { "append", WARG_NO, 'a' },
	{ "portability", WARG_NO, 'p' }, { "verbose", WARG_NO, 'v' }, { "quiet", WARG_NO, 'q' },
	{ "help", WARG_NO, LO_HELP }, { "version", WARG_NO, 'V' }, L_END
};
static const struct wrap_actdef time_a[] = {
	{ LO_HELP, WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};

/* ---- findutils xargs ---------------------------------------------------- */
static const struct wrap_long xargs_l[] = {
	{ "null", WARG_NO, '0' }, { "arg-file", WARG_REQ, 'a' }, { "delimiter", WARG_REQ, 'd' },
	{ "eof", WARG_OPT, 'e' }, { "replace", WARG_OPT, 'i' }, { "max-lines", WARG_OPT, 'l' },
	{ "max-args", WARG_REQ, 'n' }, { "max-procs", WARG_REQ, 'P' },
	{ "open-tty", WARG_NO, 'o' }, { "interactive", WARG_NO, 'p' },
	{ "process-slot-var", WARG_REQ, LO_A }, { "no-run-if-empty", WARG_NO, 'r' },
	{ "max-chars", WARG_REQ, 's' }, { "show-limits", WARG_NO, LO_B },
	{ "verbose", WARG_NO, 't' }, { "exit", WARG_NO, 'x' },
	{ "help", WARG_NO, LO_HELP }, { "version", WARG_NO, LO_VERSION }, L_END
};
static const struct wrap_actdef xargs_a[] = {
	{ 'I', WACT_REPLACE, NULL }, { 'i', WACT_REPLACE, NULL },
	{ LO_HELP, WACT_NOCMD, NULL }, { LO_VERSION, WACT_NOCMD, NULL }, A_END
};

/* ---- util-linux --------------------------------------------------------- */
static const struct wrap_long setsid_l[] = {
	{ "ctty", WARG_NO, 'c' }, { "fork", WARG_NO, 'f' }, { "wait", WARG_NO, 'w' },
	{ "version", WARG_NO, 'V' }, { "help", WARG_NO, 'h' }, L_END
};
static const struct wrap_actdef hv_a[] = {
	{ 'h', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};

/* su and runuser share util-linux su-common.c */
static const struct wrap_long su_l[] = {
	{ "command", WARG_REQ, 'c' }, { "session-command", WARG_REQ, 'C' },
	{ "fast", WARG_NO, 'f' }, { "group", WARG_REQ, 'g' }, { "supp-group", WARG_REQ, 'G' },
	{ "login", WARG_NO, 'l' }, { "preserve-environment", WARG_NO, 'p' },
	{ "pty", WARG_NO, 'P' }, { "shell", WARG_REQ, 's' },
	{ "whitelist-environment", WARG_REQ, 'w' }, { "help", WARG_NO, 'h' },
	{ "version", WARG_NO, 'V' }, L_END
};
static const struct wrap_long runuser_l[] = {
	{ "command", WARG_REQ, 'c' }, { "session-command", WARG_REQ, 'C' },
	{ "fast", WARG_NO, 'f' }, { "group", WARG_REQ, 'g' }, { "supp-group", WARG_REQ, 'G' },
	{ "login", WARG_NO, 'l' }, { "preserve-environment", WARG_NO, 'p' },
	{ "pty", WARG_NO, 'P' }, { "shell", WARG_REQ, 's' },
	{ "whitelist-environment", WARG_REQ, 'w' }, { "user", WARG_REQ, 'u' },
	{ "help", WARG_NO, 'h' }, { "version", WARG_NO, 'V' }, L_END
};
static const struct wrap_actdef su_a[] = {
	{ 'c', WACT_TEXT, NULL }, { 'C', WACT_TEXT, NULL },
	{ 's', WACT_DENY, "-s chooses the program that runs the command" },
	{ 'h', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};
static const struct wrap_actdef runuser_a[] = {
	{ 'c', WACT_TEXT, NULL }, { 'C', WACT_TEXT, NULL }, { 'u', WACT_USER, NULL },
	{ 's', WACT_DENY, "-s chooses the program that runs the command" },
	{ 'h', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};

static const struct wrap_long script_l[] = {
	{ "append", WARG_NO, 'a' }, { "command", WARG_REQ, 'c' }, { "echo", WARG_REQ, 'E' },
	{ "return", WARG_NO, 'e' }, { "flush", WARG_NO, 'f' }, { "force", WARG_NO, LO_A },
	{ "log-io", WARG_REQ, 'B' }, { "log-in", WARG_REQ, 'I' }, { "log-out", WARG_REQ, 'O' },
	{ "log-timing", WARG_REQ, 'T' }, { "logging-format", WARG_REQ, 'm' },
	{ "output-limit", WARG_REQ, 'o' }, { "quiet", WARG_NO, 'q' },
	{ "timing", WARG_OPT, 't' }, { "help", WARG_NO, 'h' }, { "version", WARG_NO, 'V' }, L_END
};
static const struct wrap_actdef script_a[] = {
	{ 'c', WACT_TEXT, NULL }, { 'h', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};

static const struct wrap_long flock_l[] = {
	{ "shared", WARG_NO, 's' }, { "exclusive", WARG_NO, 'x' }, { "unlock", WARG_NO, 'u' },
	{ "nonblock", WARG_NO, 'n' }, { "nb", WARG_NO, 'n' }, { "no-fork", WARG_NO, 'F' },
	{ "close", WARG_NO, 'o' }, { "timeout", WARG_REQ, 'w' }, { "wait", WARG_REQ, 'w' },
	{ "conflict-exit-code", WARG_REQ, 'E' }, { "verbose", WARG_NO, LO_A },
	{ "help", WARG_NO, 'h' }, { "version", WARG_NO, 'V' }, L_END
};

static const struct wrap_long ionice_l[] = {
	{ "class", WARG_REQ, 'c' }, { "classdata", WARG_REQ, 'n' }, { "pid", WARG_REQ, 'p' },
	{ "pgid", WARG_REQ, 'P' }, { "ignore", WARG_NO, 't' }, { "uid", WARG_REQ, 'u' },
	{ "help", WARG_NO, 'h' }, { "version", WARG_NO, 'V' }, L_END
};
static const struct wrap_actdef ionice_a[] = {
	{ 'p', WACT_NOCMD, NULL }, { 'P', WACT_NOCMD, NULL }, { 'u', WACT_NOCMD, NULL },
	{ 'h', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};

static const struct wrap_long taskset_l[] = {
	{ "all-tasks", WARG_NO, 'a' }, { "cpu-list", WARG_NO, 'c' }, { "pid", WARG_NO, 'p' },
	{ "help", WARG_NO, 'h' }, { "version", WARG_NO, 'V' }, L_END
};
static const struct wrap_actdef pid_a[] = {
	{ 'p', WACT_NOCMD, NULL }, { 'm', WACT_NOCMD, NULL },
	{ 'h', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};

static const struct wrap_long chrt_l[] = {
	{ "all-tasks", WARG_NO, 'a' }, { "batch", WARG_NO, 'b' }, { "deadline", WARG_NO, 'd' },
	{ "fifo", WARG_NO, 'f' }, { "idle", WARG_NO, 'i' }, { "other", WARG_NO, 'o' },
	{ "rr", WARG_NO, 'r' }, { "reset-on-fork", WARG_NO, 'R' },
	{ "sched-runtime", WARG_REQ, 'T' }, { "sched-period", WARG_REQ, 'P' },
	{ "sched-deadline", WARG_REQ, 'D' }, { "max", WARG_NO, 'm' }, { "pid", WARG_NO, 'p' },
	{ "verbose", WARG_NO, 'v' }, { "help", WARG_NO, 'h' }, { "version", WARG_NO, 'V' }, L_END
};

/* ---- procps watch ------------------------------------------------------- */
static const struct wrap_long watch_l[] = {
	{ "beep", WARG_NO, 'b' }, { "color", WARG_NO, 'c' }, { "no-color", WARG_NO, 'C' },
	{ "differences", WARG_OPT, 'd' }, { "errexit", WARG_NO, 'e' }, { "chgexit", WARG_NO, 'g' },
	{ "interval", WARG_REQ, 'n' }, { "precise", WARG_NO, 'p' }, { "equexit", WARG_REQ, 'q' },
	{ "no-rerun", WARG_NO, 'r' }, { "no-title", WARG_NO, 't' }, { "no-wrap", WARG_NO, 'w' },
	{ "exec", WARG_NO, 'x' }, { "help", WARG_NO, 'h' }, { "version", WARG_NO, 'v' }, L_END
};
static const struct wrap_actdef watch_a[] = {
	{ 'x', WACT_EXECV, NULL }, { 'h', WACT_NOCMD, NULL }, { 'v', WACT_NOCMD, NULL }, A_END
};

/* ---- sudo(8), doas(1) --------------------------------------------------- */
static const struct wrap_long sudo_l[] = {
	{ "askpass", WARG_NO, 'A' }, { "bell", WARG_NO, 'B' }, { "background", WARG_NO, 'b' },
	{ "close-from", WARG_REQ, 'C' }, { "chdir", WARG_REQ, 'D' },
	{ "preserve-env", WARG_OPT, 'E' }, { "edit", WARG_NO, 'e' }, { "group", WARG_REQ, 'g' },
	{ "set-home", WARG_NO, 'H' }, { "help", WARG_NO, LO_HELP }, { "host", WARG_REQ, LO_A },
	{ "login", WARG_NO, 'i' }, { "remove-timestamp", WARG_NO, 'K' },
	{ "reset-timestamp", WARG_NO, 'k' }, { "list", WARG_NO, 'l' },
	{ "no-update", WARG_NO, 'N' }, { "non-interactive", WARG_NO, 'n' },
	{ "preserve-groups", WARG_NO, 'P' }, { "prompt", WARG_REQ, 'p' },
	{ "chroot", WARG_REQ, 'R' }, { "role", WARG_REQ, 'r' }, { "stdin", WARG_NO, 'S' },
	{ "shell", WARG_NO, 's' }, { "command-timeout", WARG_REQ, 'T' },
	{ "type", WARG_REQ, 't' }, { "other-user", WARG_REQ, 'U' }, { "user", WARG_REQ, 'u' },
	{ "version", WARG_NO, 'V' }, { "validate", WARG_NO, 'v' },
	{ "login-class", WARG_REQ, 'c' }, L_END
};
static const struct wrap_actdef sudo_a[] = {
	{ 'e', WACT_DENY, "-e edits files as another user" },
	{ 's', WACT_SHELL, NULL }, { 'i', WACT_SHELL, NULL },
	{ 'l', WACT_NOCMD, NULL }, { 'v', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL },
	{ LO_HELP, WACT_NOCMD, NULL }, A_END
};
static const struct wrap_actdef doas_a[] = {
	{ 's', WACT_SHELL, NULL }, { 'C', WACT_NOCMD, NULL }, { 'L', WACT_NOCMD, NULL }, A_END
};

/* ---- bash builtins that run a command ----------------------------------- */
static const struct wrap_actdef command_a[] = {
	{ 'v', WACT_NOCMD, NULL }, { 'V', WACT_NOCMD, NULL }, A_END
};

static const struct wrap_actdef trap_a[] = {
	{ 'l', WACT_NOCMD, NULL }, { 'p', WACT_NOCMD, NULL }, A_END
};

static const struct wrap_actdef none_a[] = { A_END };

/*
 * Sorted by name (bsearch).  Shells are in wrap_shells below; find and sg
 * parse their own words.
 */
static const struct wrap_model models[] = {
	{ "builtin", "+", NULL, none_a, WHOW_ARGV, 0, WRAPF_EXACT, NULL },
	{ "busybox", "+", help_l, help_a, WHOW_ARGV, 0, WRAPF_EXACT, NULL },
	{ "capsh", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "catchsegv", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "cgexec", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "chpst", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "chroot", "+", chroot_l, help_a, WHOW_ARGV, 1, 0, SHELL_WHY },
	{ "chrt", "+abdD:fimoP:prRT:vhV", chrt_l, pid_a, WHOW_ARGV, 1, 0, NULL },
	{ "command", "+pVv", NULL, command_a, WHOW_ARGV, 0, WRAPF_EXACT, NULL },
	{ "dbus-launch", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "doas", "+C:Lnsu:", NULL, doas_a, WHOW_ARGV, 0, WRAPF_EXACT, SHELL_WHY },
	{ "env", "+0C:iS:u:v", env_l, env_a, WHOW_ARGV, 0, WRAPF_DASH | WRAPF_ASSIGN, NULL },
	{ "eval", "+", NULL, none_a, WHOW_WATCH, 0, WRAPF_EXACT, NULL },
	{ "exec", "+a:cl", NULL, none_a, WHOW_ARGV, 0, WRAPF_EXACT, NULL },
	{ "expect", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "fakeroot", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "faketime", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "find", NULL, NULL, NULL, WHOW_FIND, 0, 0, NULL },
	{ "firejail", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "flock", "+sexnFouw:E:hV", flock_l, hv_a, WHOW_FLOCK, 0, 0, NULL },
	{ "gdb", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "ionice", "+c:n:p:P:tu:hV", ionice_l, ionice_a, WHOW_ARGV, 0, 0, NULL },
	{ "ip", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "ltrace", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "nice", "+n:", nice_l, help_a, WHOW_ARGV, 0, WRAPF_NUMERIC, NULL },
	{ "nocache", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "nohup", "+", help_l, help_a, WHOW_ARGV, 0, 0, NULL },
	{ "nsenter", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "numactl", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "perf", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "pkexec", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "prlimit", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "proxychains", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "proxychains4", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "rlwrap", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "runuser", "c:fg:G:lmpPs:u:hVw:", runuser_l, runuser_a, WHOW_SU, 0, WRAPF_DASH, SHELL_WHY },
	{ "script", "aB:c:eE:fI:O:o:qm:T:t::Vh", script_l, script_a, WHOW_SCRIPT, 0, 0, SHELL_WHY },
	{ "setpriv", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "setsid", "+cfwVh", setsid_l, hv_a, WHOW_ARGV, 0, 0, NULL },
	{ "sg", NULL, NULL, NULL, WHOW_SG, 0, 0, SHELL_WHY },
	{ "ssh-agent", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "stdbuf", "+i:o:e:", stdbuf_l, help_a, WHOW_ARGV, 0, 0, NULL },
	{ "strace", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "su", "c:fg:G:lmpPs:hVw:", su_l, su_a, WHOW_SU, 0, WRAPF_DASH, SHELL_WHY },
	{ "sudo", "+Aa:BbC:c:D:Eeg:Hh:iKklNnPp:R:r:SsT:t:U:u:Vv", sudo_l, sudo_a, WHOW_ARGV, 0,
	  WRAPF_ASSIGN, SHELL_WHY },
	{ "sudoedit", NULL, NULL, NULL, WHOW_DENY, 0, 0, NULL },
	{ "systemd-run", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "taskset", "+acphV", taskset_l, pid_a, WHOW_ARGV, 1, 0, NULL },
	{ "time", "+af:o:pqvV", time_l, time_a, WHOW_ARGV, 0, WRAPF_BANG | WRAPF_ASSIGN, NULL },
	{ "timeout", "+k:s:v", timeout_l, help_a, WHOW_ARGV, 1, 0, NULL },
	{ "torsocks", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "trap", "+lp", NULL, trap_a, WHOW_TEXT1, 0, WRAPF_EXACT, NULL },
	{ "unbuffer", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "unshare", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "valgrind", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
	{ "watch", "+bcCd::eghn:pq:rtvwx", watch_l, watch_a, WHOW_WATCH, 0, 0, NULL },
	{ "xargs", "+0a:d:E:e::I:i::L:l::n:oP:prs:tx", xargs_l, xargs_a, WHOW_XARGS, 0, 0, NULL },
	{ "xvfb-run", NULL, NULL, NULL, WHOW_SUFFIXES, 0, 0, NULL },
};

/*
 * Shells: the option letters each accepts (bash(1), dash(1), zsh(1), ...).
 * 'c' makes the first operand the command text; 'o' and 'O' take the next
 * word; 's' and 'i' read commands from the terminal or standard input.
 */
static const struct wrap_long bash_l[] = {
	{ "debugger", WARG_NO, LO_A }, { "dump-po-strings", WARG_NO, LO_B },
	{ "dump-strings", WARG_NO, LO_B }, { "help", WARG_NO, LO_HELP },
	{ "init-file", WARG_REQ, LO_C }, { "rcfile", WARG_REQ, LO_C },
	{ "login", WARG_NO, LO_D }, { "noediting", WARG_NO, LO_D },
	{ "noprofile", WARG_NO, LO_D }, { "norc", WARG_NO, LO_D }, { "posix", WARG_NO, LO_D },
	{ "pretty-print", WARG_NO, LO_E }, { "restricted", WARG_NO, LO_D },
	{ "verbose", WARG_NO, LO_D }, { "version", WARG_NO, LO_VERSION }, L_END
};
static const struct wrap_actdef shell_a[] = {
	{ 'c', WACT_TEXT, NULL }, { 's', WACT_NAMED, "reads commands from its input" },
	{ 'i', WACT_NAMED, SHELL_WHY }, { LO_HELP, WACT_NOCMD, NULL },
	{ LO_VERSION, WACT_NOCMD, NULL }, A_END
};
#define SHF (WRAPF_EXACT | WRAPF_PLUS | WRAPF_DASHEND)
static const struct wrap_model shells[] = {
	{ "ash", "+abCefhimnuvxEVcso:", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "bash", "+abefhkmnptuvxBCEHPTcilrsDo:O:", bash_l, shell_a, WHOW_SHELL, 0, SHF,
	  SHELL_WHY },
	{ "csh", "+bcefimnstvVxX", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "dash", "+aCefnuvxIimqVEbpcso:", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "fish", "+cilnNpPv", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "ksh", "+abcefhikmnprstuvxBCDEGHo:", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "lksh", "+abcefhiklmnprstuvxXUo:", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "mksh", "+abcefhiklmnprstuvxXUo:", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "posh", "+aCefnuvxIimqVEbpcso:", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "rbash", "+abefhkmnptuvxBCEHPTcilrsDo:O:", bash_l, shell_a, WHOW_SHELL, 0, SHF,
	  SHELL_WHY },
	{ "sh", "+abefhkmnptuvxBCEHPTcilrsDIqVo:O:", bash_l, shell_a, WHOW_SHELL, 0, SHF,
	  SHELL_WHY },
	{ "tcsh", "+bcdefFilmnqstvVxX", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "yash", "+abcefhilmnsuvxCo:", NULL, shell_a, WHOW_SHELL, 0, SHF, SHELL_WHY },
	{ "zsh", "+abcdefghiklmnprstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789o:", NULL, shell_a,
	  WHOW_SHELL, 0, SHF, SHELL_WHY },
};

static int
model_cmp(const void *key, const void *elem)
{
	const struct wrap_model *m = elem;
	return strcmp(key, m->name);
}

const struct wrap_model *
pol__wrap_model_find(const char *name, size_t len)
{
	char k[32];
	if (len == 0 || len >= sizeof(k) || memchr(name, '\0', len) != NULL)
		return NULL;
	memcpy(k, name, len);
	k[len] = '\0';
	const struct wrap_model *m = bsearch(k, models, sizeof(models) / sizeof(models[0]),
	    sizeof(models[0]), model_cmp);
	if (m == NULL)
		m = bsearch(k, shells, sizeof(shells) / sizeof(shells[0]), sizeof(shells[0]),
		    model_cmp);
	return m;
}

size_t
pol__wrap_model_count(void)
{
	return sizeof(models) / sizeof(models[0]) + sizeof(shells) / sizeof(shells[0]);
}

const struct wrap_model *
pol__wrap_model_at(size_t i)
{
	size_t nm = sizeof(models) / sizeof(models[0]);
	return i < nm ? &models[i] : &shells[i - nm];
}
