/* scp_watch: legacy scp protocol parsed in passing, and classification of
 * scp exec command lines.  The contract is in xfer_scp.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/esc_error.h"
#include "policy/cmdline.h"
#include "policy/policy.h"
#include "proxy/px_error.h"
#include "proxy/xfer_scp.h"
#include "proxy/xfer_stream.h"

#define SCP_LINE_MAX	8192		/* longest control or message line */
#define SCP_AHEAD_MAX	(64u * 1024)	/* bytes buffered ahead of an ack */

/* ---- command lines ---------------------------------------------------- */

struct words {
	char **v;
	size_t n;
};

static void
words_free(struct words *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static int
words_add(struct words *w, const char *s, size_t n)
{
	char **nv, *c;

	if ((c = strndup(s, n)) == NULL)
		return PX_ENOMEM;
	if ((nv = realloc(w->v, (w->n + 1) * sizeof(*nv))) == NULL) {
		free(c);
		return PX_ENOMEM;
	}
	w->v = nv;
	w->v[w->n++] = c;
	return PX_OK;
}

/* Splits s into plain words with the policy's command-line parser
 * (policy/cmdline.h): quotes and backslashes removed, '#' an ordinary
 * character; globs, braces and tildes stay literal text (the relay renders
 * the paths quoted).  Assignment prefixes come first, as words.  Returns
 * PX_OK, PX_ENOMEM, or PX_EINVAL with *why set: what the parser could not
 * read (an unbalanced quote, ...), more than one command, a redirection, a
 * variable or command substitution, or a carriage return. */
static int
split_words(const char *s, struct words *out, const char **why)
{
	struct pol_cmdline *c = NULL;
	const struct pol_simple *sc;
	size_t i;
	int r;

	r = pol_cmdline_parse_opts(s, strlen(s), POL_PARSE_NO_COMMENTS, &c);
	if (r == POL_E_NOMEM)
		return PX_ENOMEM;
	if (r != 0) {
		*why = "not a command line the proxy can read";
		r = PX_EINVAL;
		goto out;
	}
	r = PX_EINVAL;
	if (c->nsimple == 0) {
		r = PX_OK;
		goto out;
	}
	sc = &c->simple[0];
	if (c->nsimple > 1 || sc->sep[0] != '\0' || sc->nredirs > 0 ||
	    strchr(s, '\r') != NULL) {
		*why = "shell syntax in the command";
		goto out;
	}
	for (i = 0; i < sc->nassign + sc->nwords; i++) {
		const struct pol_word *w = i < sc->nassign ? &sc->assignw[i] :
		    &sc->words[i - sc->nassign];

		if (w->flags & (POL_W_VAR | POL_W_SUBST)) {
			*why = "shell expansion in the command";
			goto out;
		}
		if ((r = words_add(out, w->s, w->len)) != PX_OK)
			goto out;
		r = PX_EINVAL;
	}
	r = PX_OK;
out:
	pol_cmdline_free(c);
	return r;
}

/* The options a remote scp is run with (OpenSSH's client sends -v -r -p
 * -d, then -t or -f); anything else is refused. */
static const char scp_opts[] = "tfrdpvq";

/* Whether word a is an option word ("-x..." before "--"). */
static int
is_opt_word(const char *a)
{
	return a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0;
}

int
scp_cmd_parse(const char *line, struct scp_cmd *out)
{
	struct words w = { 0 };
	const char *why = NULL;
	size_t i, first, k;
	int t = 0, f = 0, r, mentions = 0;

	memset(out, 0, sizeof(*out));
	out->kind = SCP_CMD_NONE;
	r = split_words(line, &w, &why);
	if (r == PX_ENOMEM)
		return r;
	if (r != PX_OK || w.n == 0) {
		/* an invalid line that starts with the word scp concerns us;
		 * anything else is for the exec policy */
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (r != PX_OK && strncmp(p, "scp", 3) == 0 &&
		    strchr(" \t", p[3]) != NULL && p[3] != '\0') {
			out->kind = SCP_CMD_INVALID;
			out->reason = why;
		}
		words_free(&w);
		return PX_OK;
	}
	/* exactly the program name "scp": a path to a program is a command */
	if (strcmp(w.v[0], "scp") != 0) {
		words_free(&w);
		return PX_OK;
	}
	/* a transfer when any option word before "--" or the first operand
	 * holds -t or -f */
	for (i = 1; i < w.n && is_opt_word(w.v[i]); i++)
		if (strpbrk(w.v[i] + 1, "tf") != NULL)
			mentions = 1;
	if (!mentions)
		goto done;		/* scp as a client on the target */
	for (i = 1; i < w.n; i++) {
		const char *a = w.v[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (!is_opt_word(a))
			break;
		for (a++; *a; a++) {
			if (strchr(scp_opts, *a) == NULL) {
				out->kind = SCP_CMD_INVALID;
				out->reason = "scp option not accepted for a transfer";
				goto done;
			}
			switch (*a) {
			case 't': t = 1; break;
			case 'f': f = 1; break;
			case 'r': out->recursive = 1; break;
			case 'd': out->dir_target = 1; break;
			case 'p': out->preserve = 1; break;
			case 'v': out->verbose = 1; break;
			case 'q': out->quiet = 1; break;
			}
		}
	}
	first = i;
	out->npaths = w.n - first;
	out->kind = t ? SCP_CMD_UPLOAD : SCP_CMD_DOWNLOAD;
	if (t && f)
		out->reason = "both -t and -f";
	else if (out->npaths == 0)
		out->reason = "no path";
	else if (out->npaths > 1)
		out->reason = "more than one path";
	for (i = first; i < w.n && out->reason == NULL; i++)
		if (w.v[i][0] == '-')
			out->reason = "a path starting with '-'";
		else if (w.v[i][0] == '\0')
			out->reason = "an empty path";
	if (out->reason != NULL) {
		out->kind = SCP_CMD_INVALID;
		out->npaths = 0;
		goto done;
	}
	if ((out->paths = calloc(out->npaths, sizeof(*out->paths))) == NULL)
		goto nomem;
	for (k = 0; k < out->npaths; k++)
		if ((out->paths[k] = strdup(w.v[first + k])) == NULL)
			goto nomem;
	if ((out->path = strdup(w.v[first])) == NULL)
		goto nomem;
done:
	words_free(&w);
	return PX_OK;
nomem:
	words_free(&w);
	scp_cmd_free(out);
	return PX_ENOMEM;
}

/* Appends s to b single-quoted for a POSIX shell.  "~" and a leading "~/"
 * name the home, where the command starts: they become "." and a relative
 * path, as the remote shell would have expanded them. */
static int
put_quoted(struct buf *b, const char *s)
{
	if (strcmp(s, "~") == 0 || strcmp(s, "~/") == 0)
		s = ".";
	else if (strncmp(s, "~/", 2) == 0)
		s += 2;
	if (buf_put(b, "'", 1) != PX_OK)
		return PX_ENOMEM;
	if (*s == '-' && buf_put(b, "./", 2) != PX_OK)
		return PX_ENOMEM;	/* "~/-x" is the file -x, never an option */
	for (; *s; s++) {
		if (*s == '\'') {
			if (buf_put(b, "'\\''", 4) != PX_OK)
				return PX_ENOMEM;
		} else if (buf_put(b, s, 1) != PX_OK)
			return PX_ENOMEM;
	}
	return buf_put(b, "'", 1) == PX_OK ? PX_OK : PX_ENOMEM;
}

int
scp_cmd_render(const struct scp_cmd *c, char **out)
{
	struct buf b;
	const uint8_t *p;
	size_t n, i;
	int r = PX_OK;

	*out = NULL;
	if (c->kind != SCP_CMD_UPLOAD && c->kind != SCP_CMD_DOWNLOAD)
		return PX_EINVAL;
	buf_init(&b, 0);
	if (buf_put(&b, "scp", 3) != PX_OK ||
	    (c->verbose && buf_put(&b, " -v", 3) != PX_OK) ||
	    (c->quiet && buf_put(&b, " -q", 3) != PX_OK) ||
	    (c->recursive && buf_put(&b, " -r", 3) != PX_OK) ||
	    (c->preserve && buf_put(&b, " -p", 3) != PX_OK) ||
	    (c->dir_target && buf_put(&b, " -d", 3) != PX_OK) ||
	    buf_put(&b, c->kind == SCP_CMD_UPLOAD ? " -t --" : " -f --",
	    6) != PX_OK)
		r = PX_ENOMEM;
	for (i = 0; i < c->npaths && r == PX_OK; i++)
		if (buf_put(&b, " ", 1) != PX_OK ||
		    put_quoted(&b, c->paths[i]) != PX_OK)
			r = PX_ENOMEM;
	if (r == PX_OK) {
		p = buf_peek(&b, &n);
		if ((*out = strndup((const char *)p, n)) == NULL)
			r = PX_ENOMEM;
	}
	buf_free(&b);
	return r;
}

int
scp_cmd_target_is_dir(const struct scp_cmd *c)
{
	const char *p = c->path ? c->path : ".";
	size_t len = strlen(p);

	return c->dir_target || c->recursive || len == 0 || p[len - 1] == '/' ||
	    strcmp(p, ".") == 0 || strcmp(p, "~") == 0;
}

void
scp_cmd_free(struct scp_cmd *c)
{
	size_t i;

	if (c->paths != NULL)
		for (i = 0; i < c->npaths; i++)
			free(c->paths[i]);
	free(c->paths);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* ---- the watcher ------------------------------------------------------ */

enum src_state {
	SRC_LINE,	/* reading a control line */
	SRC_AWAIT,	/* waiting for the sink's answer */
	SRC_DATA,	/* file bytes */
	SRC_DATA_END,	/* the byte after the file: \0, or \1/\2 message */
	SRC_ERRLINE,	/* the message after a failed file */
	SRC_DONE	/* one side gave up; nothing more to follow */
};

enum await_kind { AW_START, AW_T, AW_C, AW_D, AW_E, AW_DATA };

struct scp_watch {
	int upload;
	char *target;		/* -t path, or the directory of the -f path */
	int target_is_dir;
	char **dirs;		/* full paths of the directories entered */
	size_t depth;
	enum src_state st;
	enum await_kind aw;
	struct buf line;	/* control line being read */
	struct buf held;	/* source bytes sent ahead of an answer */
	struct buf sink;	/* sink bytes not yet paired */
	/* the file or directory the current line announced */
	struct xfer_record *cur;
	struct xfer_stream stream;
	int stream_live;
	uint64_t left;
	int src_failed;		/* the source reported a read error */
	size_t content_limit;
	struct xfer_queue records;
	int err;
	int finished;
	char errmsg[256];
	/* filter mode (scp_watch_set_check): what may pass */
	struct xfer_check check;
	int filtering;
	struct buf to_sink;	/* source bytes released */
	struct buf to_source;	/* sink answers and refusals */
	struct xfer_ids ids;		/* start records (scp_watch_set_ids) */
	struct xfer_tap tap;		/* file bytes (scp_watch_set_tap) */
};

static int
wfail(struct scp_watch *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->err != PX_OK)
		return w->err;
	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	w->err = code;
	return code;
}

static const char *
src_name(const struct scp_watch *w)
{
	return w->upload ? "scp client" : "scp server";
}

static const char *
sink_name(const struct scp_watch *w)
{
	return w->upload ? "scp server" : "scp client";
}

/* Filter mode: releases n source bytes toward the sink. */
static int
pass_source(struct scp_watch *w, const void *p, size_t n)
{
	if (!w->filtering || n == 0)
		return PX_OK;
	if (buf_put(&w->to_sink, p, n) != PX_OK)
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	return PX_OK;
}

/* Filter mode: a line "\1msg\n" toward the source (to_source) or the
 * sink; control bytes of msg become '?'. */
static int
put_refusal(struct scp_watch *w, struct buf *b, const char *msg)
{
	char line[XFER_CHECK_MSG_MAX + 4];
	size_t n = 0;

	line[n++] = 1;
	for (; *msg && n < sizeof(line) - 2; msg++)
		line[n++] = (unsigned char)*msg < 0x20 || *msg == 0x7f ? '?' : *msg;
	line[n++] = '\n';
	if (buf_put(b, line, n) != PX_OK)
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	return PX_OK;
}

/* The directory new names are relative to. */
static const char *
cur_dir(const struct scp_watch *w)
{
	return w->depth > 0 ? w->dirs[w->depth - 1] : w->target;
}

/* Builds the path for a name at the current depth (malloc'd). */
static char *
path_for(const struct scp_watch *w, const char *name)
{
	const char *d = cur_dir(w);
	char *p;
	size_t dl;

	if (w->depth == 0 && w->upload && !w->target_is_dir)
		return strdup(w->target);
	if (d[0] == '\0')
		return strdup(name);
	dl = strlen(d);
	if (asprintf(&p, "%s%s%s", d, d[dl - 1] == '/' ? "" : "/", name) < 0)
		return NULL;
	return p;
}

static void
drop_cur(struct scp_watch *w)
{
	if (w->stream_live)
		xfer_stream_free(&w->stream);
	w->stream_live = 0;
	xfer_record_free(w->cur);
	w->cur = NULL;
}

/* Queues the current record with this outcome. */
static int
emit_cur(struct scp_watch *w, enum xfer_outcome out, uint32_t status,
    const uint8_t *msg, size_t msglen)
{
	struct xfer_record *r = w->cur;

	if (r == NULL)
		return PX_OK;
	w->cur = NULL;
	if (w->stream_live) {
		xfer_stream_finish(&w->stream, r);
		xfer_stream_free(&w->stream);
		w->stream_live = 0;
	}
	r->outcome = out;
	r->status = status;
	if (msg != NULL && xfer_record_set_str(&r->message, msg, msglen) !=
	    PX_OK) {
		xfer_record_free(r);
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	}
	xfer_queue_push(&w->records, r);
	return PX_OK;
}

/* Parses "Cmmmm size name" / "Dmmmm 0 name" (without the newline) the way
 * the OpenSSH sink does.  Returns PX_OK or PX_EINVAL. */
static int
parse_cd(struct scp_watch *w, const char *s)
{
	uint32_t mode = 0;
	uint64_t size = 0;
	const char *p = s + 1, *name;
	int i;
	char *path;

	for (i = 0; i < 4; i++, p++) {
		if (*p < '0' || *p > '7')
			return wfail(w, PX_EINVAL, "%s: bad mode in \"%.40s\"",
			    src_name(w), s);
		mode = mode << 3 | (uint32_t)(*p - '0');
	}
	if (*p++ != ' ')
		return wfail(w, PX_EINVAL, "%s: mode not delimited in "
		    "\"%.40s\"", src_name(w), s);
	if (*p < '0' || *p > '9')
		return wfail(w, PX_EINVAL, "%s: bad size in \"%.40s\"",
		    src_name(w), s);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (size > (UINT64_MAX - 9) / 10 || size * 10 + (uint64_t)(*p -
		    '0') > (uint64_t)INT64_MAX)
			return wfail(w, PX_EINVAL, "%s: size out of range in "
			    "\"%.40s\"", src_name(w), s);
		size = size * 10 + (uint64_t)(*p - '0');
	}
	if (*p++ != ' ')
		return wfail(w, PX_EINVAL, "%s: size not delimited in "
		    "\"%.40s\"", src_name(w), s);
	name = p;
	if (*name == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return wfail(w, PX_EINVAL, "%s: unexpected file name \"%.60s\"",
		    src_name(w), name);
	if ((path = path_for(w, name)) == NULL)
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	drop_cur(w);
	w->cur = xfer_record_new(s[0] == 'C' ? XFER_OP_FILE : XFER_OP_MKDIR,
	    w->upload ? XFER_DIR_UPLOAD : XFER_DIR_DOWNLOAD, XFER_OUT_INCOMPLETE,
	    path, strlen(path));
	free(path);
	if (w->cur == NULL || xfer_record_set_str(&w->cur->name, name,
	    strlen(name)) != PX_OK)
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	w->cur->file_mode = mode;
	w->cur->size = size;
	w->left = size;
	return PX_OK;
}

/* Checks "Tmtime musec atime ausec" like the OpenSSH sink. */
static int
parse_t(struct scp_watch *w, const char *s)
{
	const char *p = s + 1;
	int i;

	for (i = 0; i < 4; i++) {
		if (*p < '0' || *p > '9')
			return wfail(w, PX_EINVAL, "%s: bad time line "
			    "\"%.40s\"", src_name(w), s);
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p != (i < 3 ? ' ' : '\0'))
			return wfail(w, PX_EINVAL, "%s: bad time line "
			    "\"%.40s\"", src_name(w), s);
		if (i < 3)
			p++;
	}
	return PX_OK;
}

/* Whether an upload target names the home, where the command starts. */
static int
target_is_home(const char *t)
{
	return strcmp(t, ".") == 0 || strcmp(t, "./") == 0 || strcmp(t, "~") == 0 ||
	    strcmp(t, "~/") == 0;
}

/* Filter mode: asks the transfer rules about the file or directory the
 * C/D line in w->cur announced (name `name`).  Returns 1 when it may pass,
 * 0 when it was refused (DENIED record made, "\1escort: ...\n" queued to
 * the source, and for downloads to the technician too), or an error. */
static int
check_cd(struct scp_watch *w, int is_dir, const char *name)
{
	enum pol_xfer_op op = w->upload ? (is_dir ? POL_XFER_MKDIR : POL_XFER_WRITE) :
	    (is_dir ? POL_XFER_LIST : POL_XFER_READ);
	char msg[XFER_CHECK_MSG_MAX], *alt = NULL;
	const char *paths[2];
	int n = 0, ok = 1, i;

	if (!w->filtering || w->check.fn == NULL)
		return 1;
	paths[n++] = w->cur->path;
	if (w->upload && w->depth == 0 && !w->target_is_dir) {
		/* the target may be an existing directory the proxy cannot
		 * see: the name inside it is checked too */
		if (asprintf(&alt, "%s/%s", w->target, name) < 0)
			return wfail(w, PX_ENOMEM, "scp watch: out of memory");
		paths[n++] = alt;
	} else if (w->upload && w->depth == 0 && is_dir && !target_is_home(w->target)) {
		/* scp -r creates the target itself when it does not exist */
		paths[n++] = w->target;
	}
	for (i = 0; i < n && ok; i++) {
		msg[0] = '\0';
		ok = w->check.fn(w->check.ctx, op, paths[i], NULL, msg, sizeof(msg));
		/* the record names the path that was refused */
		if (!ok && paths[i] != w->cur->path && xfer_record_set_str(&w->cur->path,
		    paths[i], strlen(paths[i])) != PX_OK) {
			free(alt);
			return wfail(w, PX_ENOMEM, "scp watch: out of memory");
		}
	}
	free(alt);
	if (ok)
		return 1;
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "escort: refused by policy");
	if (emit_cur(w, XFER_OUT_DENIED, 0, (const uint8_t *)msg, strlen(msg)) != PX_OK ||
	    put_refusal(w, &w->to_source, msg) != PX_OK ||
	    (!w->upload && put_refusal(w, &w->to_sink, msg) != PX_OK))
		return w->err;
	w->st = SRC_LINE;
	return 0;
}

/* A C line (or an upload's D line: a directory the sink will create) that
 * may pass: with file ids set, the start record of w->cur, queued before
 * the line goes on. */
static int
start_record(struct scp_watch *w)
{
	struct xfer_record *r;

	if (w->ids.next == NULL || (w->cur->op != XFER_OP_FILE && !w->upload))
		return PX_OK;
	w->cur->file_id = xfer_ids_take(&w->ids);
	r = xfer_record_start(w->cur->op, w->cur->dir, w->cur->path, strlen(w->cur->path),
	    w->cur->file_id);
	if (r == NULL || xfer_record_set_str(&r->name, w->cur->name,
	    strlen(w->cur->name)) != PX_OK) {
		xfer_record_free(r);
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	}
	r->file_mode = w->cur->file_mode;
	xfer_queue_push(&w->records, r);
	return PX_OK;
}

/* A whole control line from the source (newline stripped). */
static int
source_line(struct scp_watch *w)
{
	const uint8_t *b;
	size_t n;
	char *s;
	int r = PX_OK;

	b = buf_peek(&w->line, &n);
	if (n > 0 && (b[0] == 1 || b[0] == 2)) {
		/* a message; \2 ends the transfer, no answer follows */
		if (b[0] == 2)
			w->st = SRC_DONE;
		if (pass_source(w, b, n) != PX_OK || pass_source(w, "\n", 1) != PX_OK)
			return w->err;
		buf_reset(&w->line);
		return PX_OK;
	}
	if ((s = strndup((const char *)b, n)) == NULL)
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	if (strlen(s) != n) {
		r = wfail(w, PX_EINVAL, "%s: NUL byte in a control line",
		    src_name(w));
		goto out;
	}
	switch (s[0]) {
	case 'E':
		if (n != 1 || w->depth == 0) {
			r = wfail(w, PX_EINVAL, "%s: unexpected E line",
			    src_name(w));
			break;
		}
		w->aw = AW_E;
		w->st = SRC_AWAIT;
		break;
	case 'T':
		if ((r = parse_t(w, s)) == PX_OK) {
			w->aw = AW_T;
			w->st = SRC_AWAIT;
		}
		break;
	case 'C':
	case 'D':
		if ((r = parse_cd(w, s)) == PX_OK) {
			w->aw = s[0] == 'C' ? AW_C : AW_D;
			w->st = SRC_AWAIT;
			r = check_cd(w, s[0] == 'D', w->cur->name);
			if (r == 0) {
				r = PX_OK;
				goto out;	/* refused: the line goes nowhere */
			}
			if (r == 1)
				r = start_record(w);
		}
		break;
	default:
		r = wfail(w, PX_EINVAL, "%s: expected a control line, got "
		    "\"%.40s\"", src_name(w), s);
		break;
	}
	if (r == PX_OK && (pass_source(w, s, n) != PX_OK || pass_source(w, "\n", 1) != PX_OK))
		r = w->err;
out:
	free(s);
	buf_reset(&w->line);
	return r;
}

/* Consumes source bytes until the source must wait for an answer.
 * Returns the number of bytes consumed (all of n unless awaiting). */
static size_t
consume_source(struct scp_watch *w, const uint8_t *p, size_t n)
{
	size_t used = 0, k;
	const uint8_t *nl;

	while (used < n && w->err == PX_OK) {
		switch (w->st) {
		case SRC_LINE:
		case SRC_ERRLINE:
			nl = memchr(p + used, '\n', n - used);
			k = nl ? (size_t)(nl - (p + used)) : n - used;
			if (buf_len(&w->line) + k > SCP_LINE_MAX) {
				wfail(w, PX_EINVAL, "%s: line longer than %u "
				    "bytes", src_name(w), SCP_LINE_MAX);
				return used;
			}
			if (buf_put(&w->line, p + used, k) != PX_OK) {
				wfail(w, PX_ENOMEM, "scp watch: out of memory");
				return used;
			}
			used += k;
			if (nl == NULL)
				break;
			used++;		/* the newline */
			if (w->st == SRC_LINE) {
				if (buf_len(&w->line) == 0) {
					wfail(w, PX_EINVAL, "%s: unexpected "
					    "empty line", src_name(w));
					return used;
				}
				source_line(w);
			} else {
				/* the source could not read its file: \1 and
				 * the sink carries on; anything else ends it */
				const uint8_t *m;
				size_t ml;

				m = buf_peek(&w->line, &ml);
				w->src_failed = 1;
				if (pass_source(w, m, ml) != PX_OK ||
				    pass_source(w, "\n", 1) != PX_OK)
					return used;
				if (w->cur != NULL && ml > 1 &&
				    xfer_record_set_str(&w->cur->message, m + 1,
				    ml - 1) != PX_OK) {
					wfail(w, PX_ENOMEM, "out of memory");
					return used;
				}
				if (ml > 0 && m[0] == 1) {
					w->aw = AW_DATA;
					w->st = SRC_AWAIT;
				} else {
					emit_cur(w, XFER_OUT_FAILED, 2, NULL, 0);
					w->st = SRC_DONE;
				}
				buf_reset(&w->line);
			}
			break;
		case SRC_DATA:
			k = w->left < n - used ? (size_t)w->left : n - used;
			if (w->stream_live && xfer_stream_add(&w->stream,
			    w->cur->size - w->left, p + used, k) != PX_OK) {
				wfail(w, PX_ENOMEM, "scp watch: out of memory");
				return used;
			}
			if (pass_source(w, p + used, k) != PX_OK)
				return used;
			w->left -= k;
			used += k;
			if (w->left == 0)
				w->st = SRC_DATA_END;
			break;
		case SRC_DATA_END:
			if (p[used] == 0) {
				if (pass_source(w, p + used, 1) != PX_OK)
					return used;
				used++;
				w->aw = AW_DATA;
				w->st = SRC_AWAIT;
			} else
				w->st = SRC_ERRLINE;	/* byte kept in the line */
			break;
		case SRC_AWAIT:
			return used;
		case SRC_DONE:
			return n;
		}
	}
	return used;
}

/* Applies the sink's answer (code 0, 1 or 2+; msg without the newline). */
static int
answer(struct scp_watch *w, int code, const uint8_t *msg, size_t ml)
{
	int fatal = code != 0 && code != 1;
	int r = PX_OK;
	char **nd;

	w->st = fatal ? SRC_DONE : SRC_LINE;
	switch (w->aw) {
	case AW_START:
	case AW_T:
		break;
	case AW_C:
		if (code == 0) {
			if (xfer_stream_init(&w->stream, w->upload,
			    w->content_limit) != PX_OK)
				return wfail(w, PX_ENOMEM, "out of memory");
			xfer_stream_tap(&w->stream, &w->tap, w->cur->file_id);
			w->stream_live = 1;
			w->src_failed = 0;
			w->st = w->left > 0 ? SRC_DATA : SRC_DATA_END;
		} else
			r = emit_cur(w, XFER_OUT_FAILED, (uint32_t)code, msg, ml);
		break;
	case AW_D:
		if (code == 0) {
			nd = realloc(w->dirs, (w->depth + 1) * sizeof(*nd));
			if (nd == NULL)
				return wfail(w, PX_ENOMEM, "out of memory");
			w->dirs = nd;
			w->dirs[w->depth] = strdup(w->cur->path);
			if (w->dirs[w->depth] == NULL)
				return wfail(w, PX_ENOMEM, "out of memory");
			w->depth++;
			w->cur->size = 0;
			if (w->upload)
				r = emit_cur(w, XFER_OUT_OK, 0, NULL, 0);
			else
				drop_cur(w);
		} else if (w->upload) {
			w->cur->size = 0;
			r = emit_cur(w, XFER_OUT_FAILED, (uint32_t)code, msg, ml);
		} else
			drop_cur(w);
		break;
	case AW_E:
		if (w->depth > 0)
			free(w->dirs[--w->depth]);
		break;
	case AW_DATA:
		if (code == 0 && !w->src_failed)
			r = emit_cur(w, XFER_OUT_OK, 0, NULL, 0);
		else if (code != 0)
			r = emit_cur(w, XFER_OUT_FAILED, (uint32_t)code, msg, ml);
		else
			r = emit_cur(w, XFER_OUT_FAILED, 1, NULL, 0);
		break;
	}
	return r;
}

/* Pairs buffered sink answers with what the source awaits, then lets the
 * source go on with what it sent ahead. */
static int
pump(struct scp_watch *w)
{
	const uint8_t *b, *nl;
	size_t n, used;

	while (w->err == PX_OK && w->st == SRC_AWAIT) {
		b = buf_peek(&w->sink, &n);
		if (n == 0)
			break;
		if (b[0] == 0) {
			(void)buf_consume(&w->sink, 1);
			answer(w, 0, NULL, 0);
		} else {
			/* the answer byte, then a message up to a newline */
			nl = n > 1 ? memchr(b + 1, '\n', n - 1) : NULL;
			if (nl == NULL) {
				if (n > SCP_LINE_MAX)
					return wfail(w, PX_EINVAL, "%s: answer "
					    "longer than %u bytes", sink_name(w),
					    SCP_LINE_MAX);
				break;
			}
			answer(w, b[0] == 1 ? 1 : 2, b + 1,
			    (size_t)(nl - b - 1));
			(void)buf_consume(&w->sink, (size_t)(nl - b) + 1);
		}
		if (w->err != PX_OK)
			break;
		b = buf_peek(&w->held, &n);
		if (n > 0 && w->st != SRC_AWAIT) {
			used = consume_source(w, b, n);
			(void)buf_consume(&w->held, used);
		}
	}
	if (w->st == SRC_DONE) {
		buf_reset(&w->held);
		buf_reset(&w->sink);
	}
	return w->err;
}

static int
feed_source(struct scp_watch *w, const uint8_t *p, size_t n)
{
	size_t used = 0;

	if (w->st == SRC_DONE)
		return PX_OK;
	if (buf_len(&w->held) == 0)
		used = consume_source(w, p, n);
	if (w->err != PX_OK)
		return w->err;
	if (used < n && w->st != SRC_DONE) {
		int r = buf_put(&w->held, p + used, n - used);

		if (r == ESC_ETOOBIG)
			return wfail(w, PX_EINVAL, "%s: sent more than %u bytes "
			    "without waiting for an acknowledgement",
			    src_name(w), SCP_AHEAD_MAX);
		if (r != PX_OK)
			return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	}
	return pump(w);
}

static int
feed_sink(struct scp_watch *w, const uint8_t *p, size_t n)
{
	int r;

	/* the sink's bytes always pass (answers and messages) */
	if (w->filtering && buf_put(&w->to_source, p, n) != PX_OK)
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	if (w->st == SRC_DONE)
		return PX_OK;
	r = buf_put(&w->sink, p, n);
	if (r == ESC_ETOOBIG)
		return wfail(w, PX_EINVAL, "%s: sent more than %u bytes nobody "
		    "asked for", sink_name(w), SCP_AHEAD_MAX);
	if (r != PX_OK)
		return wfail(w, PX_ENOMEM, "scp watch: out of memory");
	return pump(w);
}

struct scp_watch *
scp_watch_new(const struct scp_cmd *cmd, size_t content_limit)
{
	struct scp_watch *w;
	const char *p = cmd->path ? cmd->path : ".";
	size_t len;

	if (cmd->kind != SCP_CMD_UPLOAD && cmd->kind != SCP_CMD_DOWNLOAD)
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->upload = cmd->kind == SCP_CMD_UPLOAD;
	w->content_limit = content_limit;
	buf_init(&w->line, 0);
	buf_init(&w->held, SCP_AHEAD_MAX);
	buf_init(&w->sink, SCP_AHEAD_MAX);
	xfer_queue_init(&w->records);
	buf_init(&w->to_sink, 0);
	buf_init(&w->to_source, 0);
	w->st = SRC_AWAIT;
	w->aw = AW_START;
	len = strlen(p);
	if (w->upload) {
		w->target = strdup(p);
		w->target_is_dir = scp_cmd_target_is_dir(cmd);
	} else {
		/* the directory part of the -f path (trailing '/' ignored) */
		while (len > 1 && p[len - 1] == '/')
			len--;
		while (len > 0 && p[len - 1] != '/')
			len--;
		while (len > 1 && p[len - 1] == '/')
			len--;
		w->target = strndup(p, len);
		w->target_is_dir = 1;
	}
	if (w->target == NULL) {
		scp_watch_free(w);
		return NULL;
	}
	return w;
}

void
scp_watch_free(struct scp_watch *w)
{
	if (w == NULL)
		return;
	drop_cur(w);
	while (w->depth > 0)
		free(w->dirs[--w->depth]);
	free(w->dirs);
	free(w->target);
	buf_free(&w->line);
	buf_free(&w->held);
	buf_free(&w->sink);
	buf_free(&w->to_sink);
	buf_free(&w->to_source);
	xfer_queue_clear(&w->records);
	free(w);
}

int
scp_watch_client(struct scp_watch *w, const void *data, size_t n)
{
	if (w->err != PX_OK)
		return w->err;
	if (w->finished)
		return wfail(w, PX_EINVAL, "scp: data after the channel ended");
	return w->upload ? feed_source(w, data, n) : feed_sink(w, data, n);
}

int
scp_watch_server(struct scp_watch *w, const void *data, size_t n)
{
	if (w->err != PX_OK)
		return w->err;
	if (w->finished)
		return wfail(w, PX_EINVAL, "scp: data after the channel ended");
	return w->upload ? feed_sink(w, data, n) : feed_source(w, data, n);
}

struct xfer_record *
scp_watch_take_record(struct scp_watch *w)
{
	return xfer_queue_take(&w->records);
}

void
scp_watch_finish(struct scp_watch *w)
{
	if (w->finished)
		return;
	w->finished = 1;
	if (w->cur != NULL && w->cur->op == XFER_OP_FILE &&
	    (w->stream_live || w->st == SRC_AWAIT))
		(void)emit_cur(w, XFER_OUT_INCOMPLETE, 0, NULL, 0);
	drop_cur(w);
}

const char *
scp_watch_error(const struct scp_watch *w)
{
	return w->errmsg;
}

void
scp_watch_set_ids(struct scp_watch *w, const struct xfer_ids *ids)
{
	w->ids = *ids;
}

void
scp_watch_set_tap(struct scp_watch *w, const struct xfer_tap *tap)
{
	w->tap = *tap;
}

void
scp_watch_set_check(struct scp_watch *w, const struct xfer_check *check)
{
	w->filtering = 1;
	if (check != NULL)
		w->check = *check;
}

const uint8_t *
scp_watch_output(struct scp_watch *w, int to_target, size_t *len)
{
	/* uploads: the source is the technician; downloads: the target */
	int sinkward = w->upload ? to_target : !to_target;

	return buf_peek(sinkward ? &w->to_sink : &w->to_source, len);
}

void
scp_watch_output_consume(struct scp_watch *w, int to_target, size_t n)
{
	int sinkward = w->upload ? to_target : !to_target;
	struct buf *b = sinkward ? &w->to_sink : &w->to_source;

	(void)buf_consume(b, n < buf_len(b) ? n : buf_len(b));
}
