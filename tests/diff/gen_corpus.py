#!/usr/bin/env python3
"""Command lines for the differential test of the policy's shell parser
against bash (tests/diff/bash_diff.py).

Writes tests/diff/corpus/*.txt:
  generated.txt  lines built by a seeded generator from a grammar of shell
                 fragments (quoting, escapes, line continuations, expansions,
                 arithmetic contexts, redirections, here-documents, operators,
                 odd bytes), deterministic for a given seed;
  constructs.txt hand-written lines for every construct of issue 7 and the
                 classes of command-enforcement.md, each in several forms;
  tables.txt     every string constant of tests/unit/test_pol_*.c and of the
                 tables of tests/integration/*.py (command lines and more),
                 but for strings of only word characters (one literal word).

Corpus file format: one command line per line.  A line starting with "hex:"
holds the command line hex-encoded (used for lines with a newline, CR, a
byte >= 0x80 that is not UTF-8, or a leading "hex:"); any other line is the
command line itself, byte for byte.  Empty lines are skipped.

usage: gen_corpus.py [--seed S] [--count N] [--out DIR]
       gen_corpus.py --random N --seed S   (lines to stdout, corpus format)
"""
import argparse
import ast
import glob
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# ---- corpus encoding -----------------------------------------------------------


def encode(line):
    """One corpus line (str, no newline) for the command line `line` (bytes)."""
    plain = (not line.startswith(b"hex:") and line.strip(b" \t") == line
             and not any(c < 0x20 and c != 9 or c == 0x7f for c in line))
    if plain:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return "hex:" + line.hex()


def decode(text):
    """The command line (bytes) of one corpus line (str without newline)."""
    if text.startswith("hex:"):
        return bytes.fromhex(text[4:])
    return text.encode("utf-8", "surrogateescape")


def read_corpus(path):
    """[(file:line, bytes)] of one corpus file."""
    out = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f.read().split(b"\n"), 1):
            if raw == b"":
                continue
            out.append(("%s:%d" % (os.path.basename(path), n),
                        decode(raw.decode("utf-8", "surrogateescape"))))
    return out


def write_corpus(path, lines):
    seen, out = set(), []
    for ln in lines:
        if isinstance(ln, str):
            ln = ln.encode("utf-8")
        if ln in seen or b"\0" in ln or ln == b"":
            continue
        seen.add(ln)
        out.append(encode(ln))
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    return len(out)

# ---- the grammar ----------------------------------------------------------------

# Command names: external programs (traced, never run) and builtins, above all
# those that evaluate a string or a subscript as code.
EXTERNALS = ["ls", "cat", "rm", "touch", "id", "grep", "find", "xargs", "env", "sudo",
             "sh", "bash", "tar", "cp", "mv", "systemctl", "sleep", "uptime", "awk",
             "sed", "git", "python3", "timeout", "nice", "watch", "script", "sg"]
BUILTINS = ["echo", "printf", "test", "[", "let", "declare", "typeset", "local",
            "readonly", "export", "read", "unset", "cd", "pwd", "true", "false", ":",
            "type", "command", "builtin", "eval", "source", ".", "trap", "mapfile",
            "compgen", "hash", "alias", "enable", "exec", "wait", "getopts", "shift",
            "kill", "times", "umask", "ulimit", "dirs", "pushd", "popd", "shopt",
            "caller", "help", "history", "jobs", "disown", "set", "return", "exit"]
# Builtins the random generator may put in command position: not those that
# end the shell or switch tracing off (they only hide later commands).
SAFE_BUILTINS = [b for b in BUILTINS if b not in ("exec", "exit", "return", "set", "trap",
                                                   "shopt", "ulimit", "enable", "kill",
                                                   "source", ".", "history", "cd", "pushd",
                                                   "popd", "umask", "hash", "alias")]
# The payload: if bash runs it and the parser did not report it, that is a
# disagreement.
PAYLOAD = "id"

PLAIN = ["a", "b", "x", "-l", "-v", "--x=y", "/tmp/x", "x.y", "1", "0", "-", "--", "%s",
         "a=b", "a,b", "@", "+", "^", "%", "/", ".", "..", "a:b", "a]b", "a}b", "}",
         "{}", "a{", "=", "-p", "-n", "-c", "-e", "-i", "-f", "-s", "u", "x/y"]

QUOTED = ["'a b'", '"a b"', "'r'm", "r''m", "\\rm", '"a\\"b"', '"a\\\\b"', '"a\\$b"',
          '"a\\`b"', "'it'\\''s'", "a\\ b", '""', "''", "'$(id)'", '"\\$(id)"',
          "\\$(id)", "'`id`'", '"a\'b"', "'a\"b'", '"\\a"', '"\\n"', "\\\\", "\\'",
          '\\"', "\\;", "\\&", "\\|", "\\#", "\\$x", "\\*", "\\?", "\\[a]", "\\{a,b}",
          "\\~", "'~'", '"~"', "\\!", "'#'", '"#"', "'a\tb'", "$'x'", '$"x"',
          "\"'\"", "'\"'", "\\(", "\\)", "\\<", "\\>", '"a"b\'c\'', "\\\\\\$x"]

EXPANSIONS = ["$x", "${x}", "$HOME", "$1", "$@", "$*", "$#", "$?", "$$", "$!", "$-", "$0",
              "${x:-y}", "${#x}", "${x[0]}", "${x[1]}", "${!x}", "${x/a/b}", "${x:0:1}",
              "${x:y}", "${x[y]}", "${x@Q}", "${x:-$(id)}", "${x:-`id`}", "${x-'a'}",
              "$(id)", "`id`", '"$(id)"', '"`id`"', "$(echo $(id))", "$(id)x", "x$(id)",
              "<(id)", ">(id)", '"$x"', '"${x}"', "$[1+1]", "$[$(id)]", "$[x]",
              "$((1+1))", "$(( $(id) ))", "$(( x ))", "$x$y", "${x}y", "$_", "${#}",
              "$(#)", "$(id #)", "$(:)", "$( id )", "$(id;id)", "$(id|id)", "$(id&)",
              "$(id\n)", "`id;id`", "`echo \\`id\\``", "$(echo ')')", '$(echo ")")',
              "$(echo \\))", "$(case x in x) id;; esac)", "$(echo # )\nid)",
              "${x:-a b}", "${x=y}", "${x?}", "${x:?err}", "${x+alt}", "${x^^}", "${x,}",
              "${x%a}", "${x#a}", "${x##*/}", "${@:1}", "${x:0:y}", "$x[1]", "${x[@]}",
              "${!x[@]}", "${!x*}"]

GLOBS = ["*", "?", "a*", "*.c", "[ab]", "[!a]", "[^a]", "a[", "[a", "]", "a]", "[]]",
         "[a-z]", "[[:alpha:]]", "/e*/pas?wd", "/etc/ss?/sshd_config", "*/*", "\\*",
         '"*"', "'*'", "a\\*", "@(a|b)", "!(a)", "+(a)", "*(a)", "?(a)", "[$x]",
         "[\\]]", "x[1]", "a[$(id)]", "'a[$(id)]'", '"a[$(id)]"', "a[\\$(id)]",
         "a[`id`]", "a[$x]"]

BRACES = ["{a,b}", "{1..3}", "{a..c}", "{,}", "a{b,c}d", "{a}", "{}", "{ls,-l}",
          "{id,x}", "{a,b}{c,d}", "{1..10..2}", "{a,{b,c}}", "'{a,b}'", "{a\\,b}",
          "{$x,y}", "{\"a\",b}", "{a,b", "a,b}", "{..}", "{1..}", "x{,}"]

TILDES = ["~", "~/x", "~root", "~root/x", "~+", "~-", "~nosuchuser", "a~", "x=~/y",
          "a:~/b", "~/'x'", "~'root'", "\"~\"", "~\\/x"]

ODD = ["\r", "x\r", "\t", "a\tb", "é", "\u00a0", "ls\u00a0-l", "＊", "；", "“x”",
       "\u2028", "\x7f", "\x01", "\x1b[0m", "a\x0bb", "a\x0cb"]

CONTINUED = ["a\\\nb", '"a\\\nb"', "'a\\\nb'", "l\\\ns", "\\\n", '"$(\\\nid)"',
             "$\\\n(id)", "$(\\\nid)", "`\\\nid`", "$\\\n{x}", "\\\n$(id)",
             "a\\\n\\\nb", "'a\\'\\\nb", '"a\\\\\nb"', "\\\\\\\nb"]

ASSIGNS = ["a=1", "a=", "a+=1", "a=$(id)", "a=`id`", "a='$(id)'", "a='a[$(id)]'",
           "x='a[$(id)]'", "y='a[$(id)]'", "a[1]=x", "a[$(id)]=1", "a[x]=1", "a=~/x",
           "A=1", "PATH=/tmp", "IFS=x", "a=b=c", "a=\"b c\"", "_a=1", "a1=1", "1a=1",
           "a=$x", "a=${x}", "a=*", "a={b,c}", "a=x\\\ny", "BASH_ENV=/tmp/x",
           "a[$x]=1", "a=(1)", "a=$[1]", "x=y"]

REDIRS = [">x", ">>x", "<x", "2>x", "2>&1", "&>x", "&>>x", ">&x", ">&2", "<&0", "<>x",
          ">|x", "<&-", ">&-", "1>&2-", "3<x", "10>x", "{fd}>x", "{fd}<&0", "{a}>&2",
          "{x[$(id)]}>x", "{a[1]}>x", "{fd}>&-", "> $(id)", ">\"$(id)\"", ">/dev/null",
          "2>/dev/null", "< /dev/null", ">$x", ">~/x", ">*", "<<<x", "<<<$(id)",
          "<<< 'a b'", "<<<\"$x\"", "2>x&1", "0<x", "99999>x", ">", ">(id)", "< <(id)",
          "> >(id)", ">\\\n>x", ">\\\nx", "\\>x", "'>'x", "9>&1", "&>/dev/null",
          "1>/dev/null", "-1>x", "a>x", "2> x"]

OPS = ["; ", ";", " && ", " || ", " | ", " |& ", " & ", "\n", " ;\n", " &&\n", " |\n",
       "&&", "||", "|", "&", " &\\\n& ", " |\\\n| ", ";\\\n", " \\\n; ", "\r\n", " ;; ",
       " ; ; ", "\n\n"]

# Whole lines for the arithmetic family and other constructs that run code
# from data: bash must not run `id` unless the parser reported it.
ARITH_LINES = [
    "let 'a[$(id)]=1'", "let a[\\$(id)]=1", "let \"a[\\$(id)]=1\"", "let x", "let 'x=1'",
    "printf -v 'a[$(id)]' x", "printf -v a[\\$(id)] %s x", "printf -v x %s y",
    "declare 'a[$(id)]=1'", "declare -a 'a[$(id)]'", "typeset 'a[$(id)]=1'",
    "local 'a[$(id)]=1'", "readonly 'a[$(id)]=1'", "export 'a[$(id)]=1'",
    "declare -n r='a[$(id)]'", "read 'a[$(id)]' <<< x", "read -a 'a[$(id)]' <<< x",
    "mapfile 'a[$(id)]' < /dev/null", "test -v 'a[$(id)]'", "[ -v 'a[$(id)]' ]",
    "test -v a[\\$(id)]", "[[ -v a[$(id)] ]]", "[[ -v 'a[$(id)]' ]]", "unset 'a[$(id)]'",
    "unset -v 'a[$(id)]'", "getopts a 'a[$(id)]'", "wait -p 'a[$(id)]'",
    "echo $[1+1]", "echo $[$(id)]", "echo $[a[$(id)]]", "echo $[ 1 ]", "echo \"$[1]\"",
    "x='a[$(id)]'; echo $[x]", "x='a[$(id)]'; echo ${y:x}", "x='a[$(id)]'; echo ${y[x]}",
    "x='a[$(id)]'; echo ${!x}", "x='a[$(id)]'; test -v \"$x\"",
    "x='a[$(id)]'; let x", "x='a[$(id)]'; echo ${y:0:x}", "x='a[$(id)]'; declare -i y=x",
    "x='a[$(id)]'; printf -v \"$x\" z", "x='a[$(id)]'; read \"$x\" <<< z",
    "x='a[$(id)]'; echo $(( x ))", "x='a[$(id)]'; (( x ))", "declare -i y; y='a[$(id)]'",
    "x='a[$(id)]' ; cat <<E\n$[x]\nE", "x='a[$(id)]'; echo ${x[@]:x}",
    "x='a[$(id)]'; echo ${y::x}", "x='a[$(id)]'; shift x", "x='a[$(id)]'; return x",
    "x='a[$(id)]'; exit x", "x='a[$(id)]'; ulimit -n x", "x='a[$(id)]'; echo ${#y[x]}",
    "x='a[$(id)]'; [ 1 -eq x ]", "x='a[$(id)]'; test 1 -eq \"$x\"", "x='a[$(id)]'; wait x",
    "x='a[$(id)]'; kill -0 x", "x='a[$(id)]'; printf %d x", "x='a[$(id)]'; printf '%d' \"$x\"",
    "x='a[$(id)]'; set -- a; echo ${@:x}", "x='a[$(id)]'; jobs %x", "x='a[$(id)]'; cd -L x",
    "x='a[$(id)]'; echo {1..x}", "x='a[$(id)]'; [[ $x -eq 1 ]]", "x='a[$(id)]'; pushd +x",
    "x='a[$(id)]'; dirs +x", "x='a[$(id)]'; history x", "x='a[$(id)]'; fc -l x",
    "x='a[$(id)]'; caller x", "x='a[$(id)]'; read -t x y", "x='a[$(id)]'; read -n x y",
    "x='a[$(id)]'; mapfile -n x y", "x='a[$(id)]'; mapfile -u x y", "x='a[$(id)]'; echo ${y: x}",
    "x='a[$(id)]'; echo \"${y:x:1}\"", "x='a[$(id)]'; echo ${x[x]}", "a=1; echo ${a[a[$(id)]]}",
    "x='a[$(id)]'; echo ${y[x]:-z}", "x='a[$(id)]'; echo \"${y[x]}\"", "x='a[$(id)]'; a[x]=1",
    "x='a[$(id)]'; declare a[x]=1", "x='a[$(id)]'; echo ${@:0:x}",
    "ls {fd}>x", "exec {fd}>x", "ls {x[$(id)]}>x", "ls {a[$(id)]}>&2", "echo {fd}<&0",
    "echo x {fd}>&-", "x='a[$(id)]'; ls {y[x]}>f", "time ls", "time ! ls", "time coproc ls",
    "time -p ls", "time", "time -- ls", "! ls", "time ls | cat", "time echo $(id)",
    "coproc ls", "coproc id", "time\tls", "\\time ls", "'time' ls", "time\\\n ls",
    "echo $(echo # )\nid)", "echo $(# )\nid)", "echo $(echo a #)\nid)", "echo $(ls #)\n)",
    "echo `echo # `id", "echo $(echo '#' ) x", "echo $( #\nid)", "x=$(# )\nid)",
    "echo a #$(id)", "echo a#$(id)", "echo a \\#$(id)", "ls;#x\nid", "ls #\\\nid",
    "echo x #\\\nid", "echo x \\\n# y\nid", "echo $(echo $# )", "echo ${#} $#x",
    "eval id", "eval 'id'", "eval \"id\"", "builtin eval id", "command eval id",
    "command id", "builtin id", "exec id", "source /dev/null", ". /dev/null",
    "trap id EXIT", "trap 'id' DEBUG; ls", "trap -- id RETURN", "mapfile -C id -c 1 <<< x",
    "compgen -C id x", "compgen -W '$(id)' x", "complete -C id x", "hash -p /usr/bin/id ls; ls",
    "alias ls=id; ls", "enable -n echo; echo", "fc -s", "bind -x '\"a\":id'",
    "printf -v x '%s' '$(id)'; eval $x", "declare -f x", "type id", "command -v id",
    "command -p id", "builtin command id", "env id", "sudo id", "xargs id", "sh -c id",
    "bash -c id", "find . -exec id \\;", "exec -a x id", "nice id", "timeout 1 id",
    "declare x=$(id)", "local x=$(id)", "export x=$(id)", "a=$(id) ls", "ls > $(id)",
    "a[$(id)]=1", "a[x]=1", "a[$(id)]+=1", "a[`id`]=1", "a[\\$(id)]=1",
    "declare -A m; m[$(id)]=1", "echo ${x[$(id)]}", "echo $x[$(id)]", "echo ${x:-$[1]}",
    "cat <<E\n$\\\n(id)\nE", "cat <<E\n`\\\nid`\nE", "cat <<E\n$[$(id)]\nE", "cat <<E\n$((1))\nE",
    "cat <<E\n${x:-$(id)}\nE", "cat <<E\n\\$(id)\nE", "cat <<'E'\n$(id)\nE", "cat <<\"E\"\n$(id)\nE",
    "cat <<E\n$x\nE", "cat <<E\nE", "cat <<-E\n\t$(id)\n\tE", "cat <<-E\n\tx\n\tE", "cat <<E; id\nx\nE",
    "cat <<E | id\nx\nE", "cat <<A <<B\na\nA\nb\nB", "cat <<E\nx\nE\nid", "cat << E\nx\nE",
    "cat <<E\n$\\\n{x:-$(id)}\nE", "cat <<E\n$\\\n\\\n(id)\nE", "cat <<E\n\\\\$(id)\nE",
    "cat <<E\nx\\\nE\nE", "cat <<E\nE\\\nE", "cat <<E \\\n| id\nx\nE", "cat <<E\n$[x]\nE",
    "cat <<E\n$(\nE", "cat <<E\nx\n E\nE", "cat <<\\E\n$(id)\nE", "cat <<E''\n$(id)\nE",
    "cat <<$x\n$(id)\n$x", "cat <<E\r\nx\r\nE", "cat <<-E\n\t$\\\n(id)\n\tE",
    "cat <<E\n${x:-`id`}\nE", "cat <<E\n${x/a/$(id)}\nE", "cat <<E\n$[`id`]\nE",
    "cat <<<$(id)", "cat <<<`id`", "cat <<< $[1]", "cat <<<\"$(id)\"",
    "ls &\\\n& id", "ls |\\\n| id", "ls |\\\n id", "ls;\\\nid", "ls \\\n;id", "ls \\\n&& id",
    "ls >\\\n> f", "ls <\\\n< E\nx\nE", "ls 2\\\n>x", "ls \\\n2>x", "l\\\ns", "echo \"a\\\nb\"",
    "echo \"$\\\n(id)\"", "echo $\\\n(id)", "echo $(\\\nid)", "echo `\\\nid`", "echo \"`\\\nid`\"",
    "echo '\\\n'", "echo \\\\\\\nid", "echo \"\\\\\\\nid\"", "echo a\\\n", "\\\nls", "\\\n\\\nls",
    "echo $\\\n{x}", "echo ${\\\nx}", "echo $\\\nx", "echo \"$\\\nx\"", "echo x\\\n#y", "echo x \\\n#y",
    "a\\\n=1 ls", "a=\\\n1 ls", "echo \\\n$[1]", "ls -\\\nl", "echo $\\\n[1]", "echo \"$\\\n[1]\"",
    "echo !!", "echo !x", "!ls", "echo \"!\"", "echo a!", "echo !#", "^a^b", "echo !$", "echo !-1",
    "echo \\!!", "echo '!!'", "echo ${!x}", "echo $!", "!", "! ", "echo x !", "[ ! -f x ]",
    "ls\r", "ls -l\r\nid", "echo a\rb", "ls\r\n", "\rls", "ls\r;id", "echo \"a\rb\"",
    "ls\t-l", "\tls", "ls\t\t-l\t", "echo\ta\tb", "echo '\t'", "ls\u00a0-l", "ls\u3000-l",
    "echo é", "echo ＊", "echo a；id", "echo “x”", "é", "ls é*", "echo \u2028id",
    "echo\x0bid", "echo\x0cid", "echo\x1cid", "echo \x85id", "ls\x00id",
    "echo $'a' ", "echo $\"a\"", "echo $'\\x27'", "echo x$'\\n'y", "echo $'$(id)'",
    "diff <(ls) <(id)", "cat < <(id)", "echo >(id)", "tee >(id) < x", "echo <(id)x",
    "echo x<(id)", "echo \"<(id)\"", "ls <(id", "echo >(id) >(id)", "echo <( id )",
    "ls >&x", "ls >& x", "ls &>x", "ls &> x", "ls >&2", "ls 2>&1-", "ls 1>&2-", "ls >&-",
    "ls <&-", "ls <>x", "ls >|x", "ls 3<x", "ls 10>x", "ls 2>x&1", "ls >x y", ">x ls",
    "2>x ls", "ls>x", "ls>>x", "ls 2>&$x", "ls >&$x", "ls > \"$x\"", "ls > *", "ls > ~/x",
    "ls > {a,b}", "ls 2>'&1'", "ls 2>\\&1", "ls >&/dev/null", "ls &>/dev/null", "ls 0<&1",
    "ls {fd}>/dev/null", "ls >$'x'", "ls 1>&2 2>&1", "echo 1>&2x", "ls 2>&1x",
    "(id)", "{ id; }", "if id; then id; fi", "while id; do id; done", "for i in 1; do id; done",
    "case x in x) id;; esac", "f() { id; }", "function f { id; }", "select x in a; do id; done",
    "[[ -f x ]]", "(( 1 ))", "until id; do id; done", "f() (id)", "x() id", "ls()",
    "echo a(b)", "echo a)", "echo (a)", "ls ( )", "echo a\\(b\\)", "echo 'a(b)'",
    "{ls,-l}", "{id,x}", "echo {a,b}", "echo {1..3}", "{a,b}", "echo a{b,c}d", "{", "}",
    "ls {", "echo }", "echo {}", "find . -exec ls {} \\;", "find . -exec ls {} +",
    "echo ~", "echo ~/x", "echo ~root", "cd ~", "echo a=~/x", "x=~/y ls", "echo ~+", "~/bin/x",
    "echo a:~/b", "echo ~nosuchuser/x", "ls ~\\/x", "echo \"~\"", "x=a:~/b", "echo ~-",
    "ls *", "ls a?", "ls [ab]", "ls [!a]", "ls \\*", "ls \"*\"", "ls *.{c,h}", "ls a[", "ls ]",
    "ls [a", "ls @(a|b)", "ls /e*/pas?wd", "r* x", "/bin/r? x", "/usr/bin/i[d]", "i[d]", "i?",
    "/usr/bin/id", "/bin/id", "./id", "../id", "~/id", "env /usr/bin/r[m] x",
    "echo ${x:-y}", "echo ${x:=y}", "echo ${#x}", "echo ${!x}", "echo ${x/a/b}", "echo ${x@Q}",
    "echo ${x:0:1}", "echo ${x^^}", "echo ${x[@]}", "echo ${#x[@]}", "echo ${x%%a*}",
    "echo ${x?err}", "echo ${x:?}", "echo ${x+y}", "echo ${@}", "echo ${*}", "echo ${10}",
    "echo $10", "echo ${x:-a b}", "echo ${x:-}", "echo ${x-}", "echo ${x:-\\}}",
    # shell options that change how later words are read or globbed
    "shopt -s nocaseglob; cat /etc/SHADO?", "shopt -s dotglob; ls /root/*", "set -f; ls /e*",
    "shopt -s globstar; ls /etc/**", "shopt -s extglob; ls /etc/@(passwd)",
    "shopt -s extglob\nls /etc/@(passwd)", "shopt -s expand_aliases\nalias ls=id\nls",
    "shopt -u extquote; echo x", "set -o noglob; ls *", "GLOBIGNORE=x; ls *", "IFS=/; ls $x",
    "shopt -s failglob; ls /nonexistent*", "shopt -s nullglob; ls /nonexistent* x",
    "echo x<(id)", "echo x>(id)", "export u<(id)", "python3 \"$(echo # )\nid)\"",
    "ls 2\\\n>x", "cat x$HOME\\\na", "echo ${x}\\\ny", "echo $x\\\ny",
]

# Templates for whole lines: {c} a command, {w} a word, {a} an assignment,
# {r} a redirection, {o} an operator, {e} an expansion, {p} the payload.
TEMPLATES = [
    "{c} {w}", "{c} {w} {w}", "{c} {w}{w}", "{a} {c} {w}", "{c} {w} {r}", "{r} {c} {w}",
    "{c} {e}", "{c} {w}{e}", "{c} \"{e}\"", "{c} {w} {o}{c} {w}", "{c}{o}{c}{o}{c}",
    "{a}", "{a} {a}", "{a}{o}{c} {e}", "{c} {w} {w} {w}", "{c} {w}{o}{c} {w} {r}",
    "{c} '{w}'", "{c} \"{w}\"", "{c} \"{w}{e}\"", "{c} {w}\\\n{w}", "{c} {w} # {w}",
    "{c} {w}#{w}", "{c} $({c} {w})", "{c} `{c} {w}`", "{c} \"$({c} {w})\"",
    "{c} $({c} {w}{o}{c})", "{c} <({c} {w})", "{c} {w} <<<{w}", "{c} <<E\n{w}\nE",
    "{c} <<'E'\n{w}{e}\nE", "{c} <<E\n{w}{e}\nE{o}{c}", "{c} {w}{o}\n{c} {w}",
]


class Gen:
    """A seeded generator of command lines from the fragments above."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def pick(self, xs):
        return xs[self.r.randrange(len(xs))]

    def cmd(self):
        k = self.r.random()
        if k < 0.45:
            return self.pick(EXTERNALS)
        if k < 0.85:
            return self.pick(SAFE_BUILTINS)
        if k < 0.92:
            return self.pick(QUOTED[:6] + ["\\ls", "l's'", '"id"', "i\\d"])
        return self.word()

    def word(self):
        k = self.r.random()
        if k < 0.30:
            base = self.pick(PLAIN)
        elif k < 0.50:
            base = self.pick(QUOTED)
        elif k < 0.62:
            base = self.pick(EXPANSIONS)
        elif k < 0.72:
            base = self.pick(GLOBS)
        elif k < 0.79:
            base = self.pick(BRACES)
        elif k < 0.84:
            base = self.pick(TILDES)
        elif k < 0.90:
            base = self.pick(CONTINUED)
        elif k < 0.95:
            base = self.pick(ODD)
        else:
            base = self.binary()
        if self.r.random() < 0.25:
            base += self.pick(PLAIN + QUOTED + EXPANSIONS[:12] + GLOBS[:6])
        return base

    def binary(self):
        n = self.r.randrange(1, 6)
        return "".join("\udc00" + chr(self.r.randrange(1, 256)) for _ in range(n))

    def line(self):
        t = self.pick(TEMPLATES)
        out = []
        i = 0
        while i < len(t):
            if t[i] == "{" and i + 2 < len(t) and t[i + 2] == "}" and t[i + 1] in "cwaroep":
                kind = t[i + 1]
                out.append({"c": self.cmd, "w": self.word,
                            "a": lambda: self.pick(ASSIGNS),
                            "r": lambda: self.pick(REDIRS),
                            "o": lambda: self.pick(OPS),
                            "e": lambda: self.pick(EXPANSIONS),
                            "p": lambda: PAYLOAD}[kind]())
                i += 3
            else:
                out.append(t[i])
                i += 1
        return "".join(out)


def to_bytes(s):
    """Strings from Gen.line: "\\udc00" marks the next character as one raw byte."""
    out = bytearray()
    raw = False
    for c in s:
        if c == "\udc00":
            raw = True
            continue
        if raw:
            out.append(ord(c))
            raw = False
        else:
            out += c.encode("utf-8")
    return bytes(out)


def generate(n, seed):
    g = Gen(seed)
    return [to_bytes(g.line()) for _ in range(n)]


def constructs():
    """The hand-written lines, each also with a payload after an operator and
    inside a substitution."""
    out = []
    for ln in ARITH_LINES:
        out.append(ln)
        out.append(ln + "; ls")
        out.append("ls && " + ln)
        out.append("echo $(" + ln.replace(")", ")") + ")")
    for w in PLAIN + QUOTED + EXPANSIONS + GLOBS + BRACES + TILDES + CONTINUED + ODD:
        out.append("echo " + w)
        out.append("ls " + w + " x")
        out.append(w)
    for a in ASSIGNS:
        out.append(a)
        out.append(a + " ls")
        out.append(a + "; echo $a")
    for r in REDIRS:
        out.append("ls " + r)
        out.append(r + " ls")
        out.append("echo x " + r + " y")
    for o in OPS:
        out.append("ls" + o + "id")
        out.append("ls x" + o + "echo y" + o + "id")
    for b in BUILTINS:
        out.append(b)
        out.append(b + " x")
        out.append(b + " 'a[$(id)]'")
    return [to_bytes(s) for s in out]

# ---- lines from the test tables ---------------------------------------------------


C_STRING = re.compile(rb'"((?:[^"\\\n]|\\.)*)"', re.S)


def c_unescape(b):
    out = bytearray()
    i = 0
    while i < len(b):
        c = b[i]
        if c != 0x5c:
            out.append(c)
            i += 1
            continue
        i += 1
        e = b[i:i + 1]
        simple = {b"n": 10, b"t": 9, b"r": 13, b"a": 7, b"b": 8, b"f": 12, b"v": 11,
                  b"\\": 92, b"'": 39, b'"': 34, b"?": 63, b"e": 27}
        if e in simple:
            out.append(simple[e])
            i += 1
        elif e == b"x":
            j = i + 1
            while j < len(b) and chr(b[j]) in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(b[i + 1:j], 16) & 0xff)
            i = j
        elif e and chr(e[0]) in "01234567":
            j = i
            while j < len(b) and j < i + 3 and chr(b[j]) in "01234567":
                j += 1
            out.append(int(b[i:j], 8) & 0xff)
            i = j
        else:
            out.append(0x5c)
    return bytes(out)


def c_strings(path):
    """Every string literal of a C file, adjacent literals joined."""
    src = open(path, "rb").read()
    src = re.sub(rb"/\*.*?\*/", b" ", src, flags=re.S)
    src = re.sub(rb"//[^\n]*", b" ", src)
    src = re.sub(rb"'(?:[^'\\\n]|\\.)+'", b"0", src)
    out, cur, last_end = [], None, None
    for m in C_STRING.finditer(src):
        s = c_unescape(m.group(1))
        if cur is not None and src[last_end:m.start()].strip() == b"":
            cur += s
        else:
            if cur is not None:
                out.append(cur)
            cur = s
        last_end = m.end()
    if cur is not None:
        out.append(cur)
    return out


def py_strings(path):
    """Every plain string constant of a Python file (f-strings left out)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    fstr = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for v in ast.walk(node):
                fstr.add(id(v))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in fstr:
            if isinstance(node.value, str):
                out.append(node.value.encode("utf-8", "surrogateescape"))
            elif isinstance(node.value, bytes):
                out.append(node.value)
    return out


def tables():
    out = []
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "test_pol_*.c"))):
        out += c_strings(p)
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "integration", "*.py"))):
        if os.path.basename(p) == "test_policy_bash_diff.py":
            continue
        out += py_strings(p)
    # a string of only word characters is one literal word to any shell:
    # nothing to learn from running it (names, paths, messages' ids)
    plain = re.compile(rb"[A-Za-z0-9_./:@%+,=-]*\Z")
    return [s for s in out if 0 < len(s) <= 4096 and b"\0" not in s and not plain.match(s)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=4000)
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--random", type=int, default=0, help="print N generated lines")
    a = ap.parse_args()
    if a.random:
        import sys
        for ln in generate(a.random, a.seed):
            if b"\0" not in ln and ln:
                sys.stdout.write(encode(ln) + "\n")
        return 0
    os.makedirs(a.out, exist_ok=True)
    n1 = write_corpus(os.path.join(a.out, "generated.txt"), generate(a.count, a.seed))
    n2 = write_corpus(os.path.join(a.out, "constructs.txt"), constructs())
    n3 = write_corpus(os.path.join(a.out, "tables.txt"), tables())
    print("generated.txt %d, constructs.txt %d, tables.txt %d lines" % (n1, n2, n3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
