/* strict_boot: the exec command that starts the strict-mode loop on the
 * target, and the lines the proxy sends to it (contract in strict_boot.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/buf.h"
#include "proxy/strict_boot.h"

/* Variables kept from the login environment when they are set; everything
 * else (BASH_ENV, ENV, exported functions, LESSOPEN, LD_*, ...) is dropped
 * by env -i. */
static const char *const sb_keep[] = {
	"HOME", "USER", "LOGNAME", "PATH", "SHELL", "TERM", "TZ", "LANG",
	"LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE",
	"LC_MONETARY", "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS",
	"LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
};

/* Variables set for every command: pagers that cannot run commands, open
 * other files or read LESSOPEN.  LESS stays unset so that git, systemd and
 * man keep their own pager options (git's FRX, systemd's FRSXMK); their -R
 * lets colours (and hyperlinks) through, never other escape sequences such
 * as a forged marker. */
static const char *const sb_set[] = {
	"LESSSECURE=1", "SYSTEMD_PAGERSECURE=1", "PAGER=less", "MANPAGER=less",
	"GIT_PAGER=less", "SYSTEMD_PAGER=less",
};

/* The loop (bash).  Written without single quotes: px__sb_command passes it as
 * one single-quoted word to the login shell.  Its variables and functions
 * start with _sb_; the nonce, the terminal states and the functions are
 * read-only once set.  See strict_boot.h for what it does. */
static const char *const sb_loop[] = {
	"set +H +o history +a +m",
	"shopt -u expand_aliases",
	"unalias -a",
	"unset HISTFILE",
	"trap \"\" TSTP TTIN TTOU",
	"trap : INT QUIT",
	"_sb_stty() { command -p stty \"$@\" 2>/dev/null; }",
	"_sb_stty susp undef",
	"_sb_s0=$(command -p stty -g) || exit 1",
	"_sb_stty -echo -echonl icanon isig -iexten -ixon -istrip -inlcr -igncr icrnl -parmrk intr \"^C\" quit \"^\\\\\" erase \"^?\" kill \"^U\" eof undef eol undef susp undef || exit 1",
	"_sb_stty eol2 undef",
	"_sb_stty -iuclc",
	"_sb_rg=$(command -p stty -g) || exit 1",
	"printf -v _sb_ku \"\\\\025\"",
	"readonly _sb_s0 _sb_rg _sb_ku",
	"_sb_len() { local LC_ALL=C; _sb_n=${#1}; }",
	"_sb_discard() {",
	"\t[[ -n $_sb_nonce ]] || return 0",
	"\t_sb_len \"$1\"",
	"\tprintf \"\\\\033]5379;d;%s;%s;%s\\\\a\" \"$_sb_nonce\" \"$_sb_seq\" \"$_sb_n\"",
	"}",
	"_sb_hex() {",
	"\tlocal LC_ALL=C _sb_i _sb_a=()",
	"\t_sb_h=",
	"\t(( ${#PWD} <= 1024 )) || return 0",
	"\tfor (( _sb_i = 0; _sb_i < ${#PWD}; _sb_i++ )); do _sb_a+=(\"\\\"${PWD:_sb_i:1}\"); done",
	"\t(( ${#_sb_a[@]} == 0 )) || printf -v _sb_h %02x \"${_sb_a[@]}\"",
	"}",
	"_sb_drain() {",
	"\tlocal _sb_i _sb_r",
	"\tfor (( _sb_i = 0; _sb_i < 64; _sb_i++ )); do",
	"\t\t_sb_l=",
	"\t\tIFS= read -r -t 0.01 _sb_l",
	"\t\t_sb_r=$?",
	"\t\t[[ -z $_sb_l ]] || _sb_discard \"$_sb_l\"",
	"\t\t(( _sb_r <= 128 || ${#_sb_l} > 0 )) || return 0",
	"\tdone",
	"}",
	"_sb_reap() {",
	"\tlocal IFS=\" \" _sb_s",
	"\t[[ -r /proc/$$/stat ]] || return 0",
	"\tread -r _sb_s < \"/proc/$$/stat\" || return 0",
	"\t_sb_s=(${_sb_s##*\") \"})",
	"\t[[ ${_sb_s[2]} == \"$$\" ]] || return 0",
	"\ttrap \"\" TERM",
	"\tkill -TERM 0 2>/dev/null",
	"\ttrap - TERM",
	"}",
	"_sb_read_mode() {",
	"\t_sb_stty -icanon",
	"\t_sb_stty \"$_sb_rg\" || _sb_stty \"$_sb_rg\" || exit 1",
	"\t_sb_drain",
	"}",
	"_sb_eof() {",
	"\t_sb_e=$(( _sb_e + 1 ))",
	"\tif [[ -t 0 ]]; then (( _sb_e < 100 )) || exit \"$_sb_st\"",
	"\telse (( _sb_e < 3 )) || exit \"$_sb_st\"; fi",
	"}",
	"_sb_first() {",
	"\tlocal LC_ALL=C",
	"\t_sb_l=",
	"\tIFS= read -r _sb_l || { _sb_eof; return 1; }",
	"\t_sb_l=${_sb_l#\"$_sb_ku\"}",
	"\t[[ $_sb_l =~ ^[0-9a-f]{32}$ ]] || exit 1",
	"}",
	"_sb_take() {",
	"\tlocal LC_ALL=C _sb_x _sb_q",
	"\t_sb_act=d",
	"\t_sb_x=${_sb_l#\"$_sb_ku\"}",
	"\tcase $_sb_x in \"$_sb_nonce \"*) ;; *) return 0;; esac",
	"\t_sb_x=${_sb_x#\"$_sb_nonce \"}",
	"\t_sb_q=${_sb_x%% *}",
	"\t[[ $_sb_q == \"$(( _sb_seq + 1 ))\" ]] || return 0",
	"\tif [[ $_sb_x == *\" \"* ]]; then _sb_c=${_sb_x#* }; _sb_act=r; else _sb_act=x; fi",
	"}",
	"_sb_get() {",
	"\t_sb_l=",
	"\t_sb_act=w",
	"\tIFS= read -r _sb_l",
	"\tcase $? in",
	"\t0) _sb_e=0; _sb_take ;;",
	"\t1) _sb_eof ;;",
	"\tesac",
	"\tif [[ $_sb_act == d || ( $_sb_act == w && -n $_sb_l ) ]]; then",
	"\t\t_sb_discard \"$_sb_l\"",
	"\t\t_sb_act=w",
	"\tfi",
	"}",
	"_sb_purge() {",
	"\tPOSIXLY_CORRECT=y",
	"\t[[ :$SHELLOPTS: == *:posix:* ]] || exit 1",
	"\tunset -f builtin command declare enable hash kill local printf read shopt stty unalias || exit 1",
	"\tenable printf read kill unset trap set shopt unalias hash command enable readonly local declare || exit 1",
	"\tset +e +u +v +x",
	"\texec 0</dev/tty 1>/dev/tty 2>/dev/tty || exit 1",
	"\ttrap : INT QUIT",
	"\tlocal _sb_f _sb_q=$_sb_seq _sb_r=$_sb_rs",
	"\t_sb_f=$(declare -F)",
	"\t[[ -z $_sb_f ]] || while IFS= read -r _sb_f; do",
	"\t\t_sb_f=${_sb_f##* }",
	"\t\t[[ $_sb_f == _sb_* ]] || unset -f \"$_sb_f\"",
	"\tdone <<< \"$_sb_f\"",
	"\tcase $_sb_q in \"\" | *[!0-9]*) exit 1;; esac",
	"\tcase $_sb_r in [0-9] | [0-9][0-9] | [0-9][0-9][0-9]) ;; *) _sb_r=1;; esac",
	"\tunset -n _sb_l _sb_c _sb_act _sb_e _sb_h _sb_n _sb_st _sb_seq _sb_rs 2>/dev/null",
	"\tunset -v _sb_l _sb_c _sb_act _sb_e _sb_h _sb_n _sb_st _sb_seq _sb_rs TMOUT || exit 1",
	"\t_sb_st=$_sb_r _sb_seq=$_sb_q _sb_e=0",
	"\tunset POSIXLY_CORRECT",
	"}",
	"_sb_run() {",
	"\ttrap \"return 130\" INT",
	"\ttrap \"return 131\" QUIT",
	"\teval \"$_sb_c\"",
	"}",
	"readonly -f _sb_stty _sb_len _sb_discard _sb_hex _sb_drain _sb_reap _sb_read_mode _sb_eof _sb_first _sb_take _sb_get _sb_purge _sb_run",
	"_sb_seq=0 _sb_st=0 _sb_e=0 _sb_nonce=",
	"_sb_read_mode",
	"printf \"\\\\033]5379;h;1\\\\a\"",
	"until _sb_first; do :; done",
	"_sb_nonce=$_sb_l",
	"_sb_l=",
	"readonly _sb_nonce",
	"_sb_rs=0",
	"while :; do",
	"\t_sb_purge",
	"\ttrap - DEBUG RETURN ERR EXIT HUP TERM ALRM USR1 USR2 PIPE CHLD WINCH CONT URG VTALRM PROF 2>/dev/null",
	"\tset +H +o history +a +b +e +f +m +u +v +x +o pipefail",
	"\tshopt -u expand_aliases nocasematch extdebug",
	"\tunalias -a",
	"\thash -r",
	"\ttrap \"\" TSTP TTIN TTOU",
	"\tdeclare +x _sb_nonce",
	"\t_sb_reap",
	"\t_sb_read_mode",
	"\t_sb_hex",
	"\tprintf \"\\\\033]5379;p;%s;%s;%s;%s\\\\a\" \"$_sb_nonce\" \"$_sb_seq\" \"$_sb_st\" \"$_sb_h\"",
	"\t_sb_act=w",
	"\twhile [[ $_sb_act == w ]]; do _sb_get; done",
	"\t[[ $_sb_act == r ]] || exit \"$_sb_st\"",
	"\t_sb_seq=$(( _sb_seq + 1 ))",
	"\t_sb_l=",
	"\t_sb_stty \"$_sb_s0\"",
	"\t_sb_rs=1",
	"\t_sb_run",
	"\t_sb_rs=$?",
	"done",
	"exit 1",
};

#define SB_NELEM(a) (sizeof(a) / sizeof((a)[0]))

char *
px__sb_command(void)
{
	struct buf b;
	size_t i;
	int r = 0;

	buf_init(&b, 0);
	r |= buf_put(&b, "exec /usr/bin/env -i", 20);
	for (i = 0; i < SB_NELEM(sb_keep); i++) {
		char w[96];
		int n = snprintf(w, sizeof(w), " ${%s+\"%s=$%s\"}", sb_keep[i],
		    sb_keep[i], sb_keep[i]);

		r |= buf_put(&b, w, (size_t)n);
	}
	for (i = 0; i < SB_NELEM(sb_set); i++) {
		r |= buf_put_u8(&b, ' ');
		r |= buf_put(&b, sb_set[i], strlen(sb_set[i]));
	}
	r |= buf_put(&b, " bash --noprofile --norc -c '", 29);
	for (i = 0; i < SB_NELEM(sb_loop); i++) {
		r |= buf_put(&b, sb_loop[i], strlen(sb_loop[i]));
		r |= buf_put_u8(&b, '\n');
	}
	/* $0, which names the shell in its error messages */
	r |= buf_put(&b, "' bash", 6);
	if (r != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take_str(&b, NULL);
}

int
px__sb_nonce_new(char nonce[SB_NONCE_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SB_NONCE_HEX / 2];
	size_t got = 0;
	int tries;

	for (tries = 0; got < sizeof(raw) && tries < 16; tries++) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	if (got < sizeof(raw)) {
		nonce[0] = '\0';
		return SB_EINVAL;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		nonce[2 * i] = hex[raw[i] >> 4];
		nonce[2 * i + 1] = hex[raw[i] & 15];
	}
	nonce[SB_NONCE_HEX] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return SB_OK;
}

/* 1 when s is exactly SB_NONCE_HEX lower-case hex digits. */
static int
sb_nonce_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < SB_NONCE_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

/* 1 when the byte may be sent inside a line: no control character but TAB
 * (the loop reads with the terminal's line discipline, where they edit,
 * end the line or send signals). */
static int
sb_byte_ok(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Appends Ctrl-U NONCE [SP SEQ [SP CMD]] LF in one buf_put, so that a failure
 * leaves out unchanged. */
static int
sb_line(const char *nonce, int with_seq, uint64_t seq, const char *cmd, size_t len,
    struct buf *out)
{
	char line[1 + SB_NONCE_HEX + 1 + 20 + 1 + SB_LINE_MAX + 1];
	size_t n = 0;

	if (!sb_nonce_ok(nonce))
		return SB_EINVAL;
	line[n++] = 0x15;
	memcpy(line + n, nonce, SB_NONCE_HEX);
	n += SB_NONCE_HEX;
	if (with_seq)
		n += (size_t)snprintf(line + n, 22, " %llu", (unsigned long long)seq);
	if (cmd != NULL) {
		line[n++] = ' ';
		memcpy(line + n, cmd, len);
		n += len;
	}
	line[n++] = '\n';
	return buf_put(out, line, n) == 0 ? SB_OK : SB_ENOMEM;
}

int
px__sb_nonce_line(const char *nonce, struct buf *out)
{
	return sb_line(nonce, 0, 0, NULL, 0, out);
}

int
px__sb_run_line(const char *nonce, uint64_t seq, const char *cmd, size_t len, struct buf *out)
{
	size_t i;

	if (seq == 0 || cmd == NULL)
		return SB_EINVAL;
	if (len > SB_LINE_MAX)
		return SB_ETOOLONG;
	for (i = 0; i < len; i++)
		if (!sb_byte_ok((unsigned char)cmd[i]))
			return SB_EINVAL;
	return sb_line(nonce, 1, seq, cmd, len, out);
}

int
px__sb_exit_line(const char *nonce, uint64_t seq, struct buf *out)
{
	if (seq == 0)
		return SB_EINVAL;
	return sb_line(nonce, 1, seq, NULL, 0, out);
}
