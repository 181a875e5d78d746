/*
 * rec-mksession: writes one signed session with the events a script names,
 * through the transcript writer, for tests of escort-replay on recordings
 * the proxy does not make yet (or makes only in rare cases).
 *
 *   rec-mksession --store DIR --key KEY.pem --id ID [--user U]
 *                 [--target T] [--attr K=V]... [--open]
 *                 [--count N [--modulo M]] [--seal-every SECONDS] [SCRIPT]
 *
 * --seal-every signs a checkpoint before the first event at or past every
 * multiple of SECONDS of session time, as the recorder signs one at every
 * sync (each second with `Fsync interval 1000`) while data flows: a long
 * script then makes a file laid out like a long recorded session, seals
 * included (without it, the only seal is the one at the close).
 * --count writes N sessions ID-00000, ID-00001, ... from the one script
 * (for benchmarks: thousands of sessions in one process); in the script,
 * the user and the target, "{n}" stands for the session's number and
 * "{m}" for that number modulo M (default 100).  Only the last session's
 * chain head is printed.
 * SCRIPT (stdin when absent) holds one event a line, its parts separated
 * by tabs; empty lines and lines starting with '#' are skipped:
 *
 *   SECONDS  TYPE  CHANNEL  [NAME=VALUE]...      structured events
 *   SECONDS  TYPE  CHANNEL  BYTES                input, output, stderr
 *
 * SECONDS is the time since the session started (not decreasing), TYPE an
 * event type name as ev_type_name gives it ("decision", "exit", ...),
 * NAME a field name as "export --format json" writes it ("verdict",
 * "cmd_seq", "shell_mode", ...); numeric fields take decimal numbers.
 * Values and bytes take the escapes \r \n \t \e \\ and \xHH.  Unless
 * --open, an END event of kind "normal" is added when the script has none
 * and the session is closed.  Prints the final chain head in hex.
 * Exit 0 on success, 1 on error (with FILE:LINE: message).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/seal.h"
#include "recorder/transcript.h"
#include "tests/tools/mk_store.h"

/* The fields a script may name, and whether they are numbers. */
static const struct {
	const char *name;
	uint16_t tag;
	int u64;
} mks_fields[] = {
	{ "kind", EVF_KIND, 0 }, { "cols", EVF_COLS, 1 }, { "rows", EVF_ROWS, 1 },
	{ "action", EVF_CH_ACTION, 0 }, { "term", EVF_TERM, 0 },
	{ "command", EVF_COMMAND, 0 }, { "subsystem", EVF_SUBSYSTEM, 0 },
	{ "signal", EVF_SIGNAL, 0 }, { "verdict", EVF_VERDICT, 0 },
	{ "rule", EVF_RULE, 0 }, { "rule_line", EVF_RULE_LINE, 1 },
	{ "reason", EVF_REASON, 0 }, { "approver", EVF_APPROVER, 0 },
	{ "rendered", EVF_RENDERED, 0 }, { "path", EVF_PATH, 0 },
	{ "direction", EVF_DIRECTION, 0 }, { "size", EVF_SIZE, 1 },
	{ "text", EVF_TEXT, 0 }, { "exit_status", EVF_EXIT_STATUS, 1 },
	{ "exit_signal", EVF_EXIT_SIGNAL, 0 }, { "message", EVF_MESSAGE, 0 },
	{ "end_kind", EVF_END_KIND, 0 }, { "end_by", EVF_END_BY, 0 },
	{ "cmd_seq", EVF_CMD_SEQ, 1 }, { "shell_mode", EVF_SHELL_MODE, 0 },
	{ "sha256", EVF_SHA256, 0 },	/* 32 bytes: write them as \xHH */
};

/* Decodes the escapes of s in place; returns the length. */
static size_t
mks_unescape(char *s)
{
	char *w = s, *start = s;
	unsigned v;

	for (; *s != '\0'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			*w++ = *s;
			continue;
		}
		switch (*++s) {
		case 'r': *w++ = '\r'; break;
		case 'n': *w++ = '\n'; break;
		case 't': *w++ = '\t'; break;
		case 'e': *w++ = 0x1b; break;
		case 'x':
			if (sscanf(s + 1, "%2x", &v) == 1) {
				*w++ = (char)v;
				s += 2;
				break;
			}
			/* FALLTHROUGH */
		default:
			*w++ = *s;
			break;
		}
	}
	*w = '\0';
	return (size_t)(w - start);
}

/* s with "{n}" replaced by n and "{m}" by m, into out (outsz). */
static void
mks_subst(const char *s, unsigned n, unsigned m, char *out, size_t outsz)
{
	size_t k = 0;

	for (; *s != '\0' && k + 12 < outsz; s++) {
		if (s[0] == '{' && (s[1] == 'n' || s[1] == 'm') && s[2] == '}') {
			k += (size_t)snprintf(out + k, outsz - k, "%u", s[1] == 'n' ? n :
			    m);
			s += 2;
		} else {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
}

static int
mks_type(const char *name)
{
	int t;

	for (t = 1; t <= EV_TYPE_MAX; t++)
		if (strcmp(ev_type_name((uint16_t)t), name) == 0)
			return t;
	return -1;
}

/* Adds NAME=VALUE to f.  Returns 0, or -1 after printing why. */
static int
mks_field(struct buf *f, char *nv, const char *file, int line)
{
	char *eq = strchr(nv, '='), *end;
	unsigned long long u;
	size_t k, len;

	if (eq == NULL) {
		fprintf(stderr, "%s:%d: \"%s\" is not NAME=VALUE\n", file, line, nv);
		return -1;
	}
	*eq++ = '\0';
	for (k = 0; k < sizeof(mks_fields) / sizeof(mks_fields[0]); k++)
		if (strcmp(mks_fields[k].name, nv) == 0)
			break;
	if (k == sizeof(mks_fields) / sizeof(mks_fields[0])) {
		fprintf(stderr, "%s:%d: unknown field \"%s\"\n", file, line, nv);
		return -1;
	}
	if (mks_fields[k].u64) {
		errno = 0;
		u = strtoull(eq, &end, 10);
		if (*eq == '\0' || *end != '\0' || errno != 0) {
			fprintf(stderr, "%s:%d: %s wants a number\n", file, line, nv);
			return -1;
		}
		return ev_fields_put_u64(f, mks_fields[k].tag, u) == REC_OK ? 0 : -1;
	}
	len = mks_unescape(eq);
	return ev_fields_put(f, mks_fields[k].tag, eq, len) == REC_OK ? 0 : -1;
}

/* Appends one record, and writes a DATA segment once 1 MiB is pending,
 * as the recorder does (RECD_FLUSH_BYTES): a long script makes a file laid
 * out like a long recorded session. */
static int
mks_append(struct tw *w, struct buf *rec)
{
	struct tw_state st;
	int r = tw_append(w, buf_ptr(rec), buf_len(rec));

	if (r != REC_OK)
		return r;
	tw_get_state(w, &st);
	return st.pending_raw >= (1u << 20) ? tw_flush(w, NULL) : REC_OK;
}

/* Signs a checkpoint when the event at t_ns is at or past *next (session
 * time), and moves *next past t_ns.  seal_ns 0: never.  Returns REC_OK or
 * the writer's error. */
static int
mks_seal_due(struct tw *w, uint64_t seal_ns, uint64_t *next, uint64_t t_ns)
{
	struct tw_state st;

	if (seal_ns == 0 || t_ns < *next)
		return REC_OK;
	while (*next <= t_ns)
		*next += seal_ns;
	return tw_seal(w, &st);
}

/* Writes the events of the script in in.  Returns 0, or -1 after printing
 * why.  *ended is set when the script wrote an END. */
static int
mks_script(struct tw *w, FILE *in, const char *file, uint64_t seal_ns,
    uint64_t *seq, uint64_t *last_t, int *ended)
{
	uint64_t next_seal = seal_ns;
	char *line = NULL, *part[64], *p;
	size_t cap = 0, len;
	uint64_t t_ns = 0, t;
	struct buf f, rec;
	int n, lineno = 0, type, rc = 0, i;
	double secs;
	char *end;

	buf_init(&f, 0);
	buf_init(&rec, 0);
	while (rc == 0 && getline(&line, &cap, in) > 0) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		for (n = 0, p = line; n < 64 && p != NULL; n++)
			part[n] = strsep(&p, "\t");
		secs = n >= 3 ? strtod(part[0], &end) : -1;
		if (n < 3 || *end != '\0' || secs < 0 ||
		    (type = mks_type(part[1])) < 0) {
			fprintf(stderr, "%s:%d: want SECONDS<tab>TYPE<tab>CHANNEL...\n",
			    file, lineno);
			rc = -1;
			break;
		}
		t = (uint64_t)(secs * 1e9 + 0.5);
		if (t < t_ns) {
			fprintf(stderr, "%s:%d: time goes backwards\n", file, lineno);
			rc = -1;
			break;
		}
		t_ns = t;
		buf_reset(&f);
		if (type == EV_INPUT || type == EV_OUTPUT || type == EV_STDERR) {
			len = n > 3 ? mks_unescape(part[3]) : 0;
			rc = buf_put(&f, n > 3 ? part[3] : "", len) == 0 ? 0 : -1;
		} else {
			for (i = 3; i < n && rc == 0; i++)
				rc = mks_field(&f, part[i], file, lineno);
		}
		*ended |= type == EV_END;
		buf_reset(&rec);
		if (rc == 0 && (ev_encode_parts(&rec, ++*seq, t_ns, (uint16_t)type,
		    (uint32_t)strtoul(part[2], NULL, 10), buf_ptr(&f), buf_len(&f))
		    != REC_OK || mks_seal_due(w, seal_ns, &next_seal, t_ns) !=
		    REC_OK || mks_append(w, &rec) != REC_OK)) {
			fprintf(stderr, "%s:%d: the event could not be written\n", file,
			    lineno);
			rc = -1;
		}
	}
	*last_t = t_ns;
	free(line);
	buf_free(&f);
	buf_free(&rec);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "id", required_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' },
		{ "target", required_argument, NULL, 't' },
		{ "open", no_argument, NULL, 'o' },
		{ "attr", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'c' },
		{ "modulo", required_argument, NULL, 'm' },
		{ "seal-every", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *attrs[16];
	int nattrs = 0;
	unsigned count = 0, modulo = 100, no;
	char *script = NULL, sid[128], su[256], stg[256], *text = NULL;
	size_t slen = 0, tcap = 0;
	FILE *mem;
	const char *store = NULL, *key = NULL, *id = NULL, *file = "-";
	const char *user = "alice", *target = "web01";
	struct mk_store m = { NULL, NULL };
	struct tw *w = NULL;
	struct tw_state st;
	struct buf meta, f, rec;
	uint64_t seq = 1, last_t = 0, seal_ns = 0;
	double seal_s;
	char *end;
	FILE *in = stdin;
	int open_only = 0, ended = 0, c, r = REC_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'k': key = optarg; break;
		case 'i': id = optarg; break;
		case 'u': user = optarg; break;
		case 't': target = optarg; break;
		case 'o': open_only = 1; break;
		case 'a':
			if (nattrs == 16)
				return 1;
			attrs[nattrs++] = optarg;
			break;
		case 'c': count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': modulo = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'e':
			seal_s = strtod(optarg, &end);
			if (*end != '\0' || !(seal_s > 0) || seal_s > 1e6) {
				fprintf(stderr, "rec-mksession: --seal-every wants "
				    "seconds > 0\n");
				return 1;
			}
			seal_ns = (uint64_t)(seal_s * 1e9);
			break;
		default: return 1;
		}
	}
	if (store == NULL || key == NULL || id == NULL || argc - optind > 1) {
		fprintf(stderr, "usage: rec-mksession --store DIR --key KEY.pem "
		    "--id ID [--user U] [--target T] [--attr K=V]... [--open] "
		    "[--count N [--modulo M]] [--seal-every SECONDS] [SCRIPT]\n");
		return 1;
	}
	if (optind < argc && (in = fopen(file = argv[optind], "r")) == NULL) {
		perror(file);
		return 1;
	}
	{
		/* the script, read once */
		mem = open_memstream(&script, &slen);
		while (mem != NULL && (c = fgetc(in)) != EOF)
			fputc(c, mem);
		if (mem == NULL || fclose(mem) != 0) {
			perror("rec-mksession");
			return 1;
		}
	}
	if (modulo == 0)
		modulo = 1;
	buf_init(&meta, 0);
	buf_init(&f, 0);
	buf_init(&rec, 0);
	if ((r = mk_store_open(&m, store, key)) != REC_OK)
		goto out;
	for (no = 0; no < (count ? count : 1) && r == REC_OK; no++) {
		FILE *sin;

		if (count)
			snprintf(sid, sizeof(sid), "%s-%05u", id, no);
		else
			snprintf(sid, sizeof(sid), "%s", id);
		mks_subst(user, no, no % modulo, su, sizeof(su));
		mks_subst(target, no, no % modulo, stg, sizeof(stg));
		if (tcap < 2 * slen + 64) {
			free(text);
			tcap = 2 * slen + 64;
			if ((text = malloc(tcap)) == NULL) {
				r = REC_ENOMEM;
				break;
			}
		}
		mks_subst(script, no, no % modulo, text, tcap);
		buf_reset(&rec);
		seq = 1;
		last_t = 0;
		ended = 0;
		mk_store_meta(&meta, &f, su, stg, attrs, nattrs);
		if ((r = tw_create(store, sid, buf_ptr(&meta), buf_len(&meta), m.signer,
		    m.j, NULL, &w)) != REC_OK)
			break;
		if ((sin = fmemopen(text, strlen(text), "r")) == NULL ||
		    mks_script(w, sin, file, seal_ns, &seq, &last_t,
		    &ended) != 0) {
			if (sin != NULL)
				fclose(sin);
			r = REC_EINVAL;
			break;
		}
		fclose(sin);
		if (open_only) {
			r = rec__tw_checkpoint(w, &st);
			if (count) {	/* left open: the writer is let go */
				tw_free(w);
				w = NULL;
			}
		} else {
			if (!ended) {
				buf_reset(&f);
				ev_fields_put_str(&f, EVF_END_KIND, "normal");
				ev_fields_put_str(&f, EVF_END_BY, "proxy");
				r = ev_encode_parts(&rec, ++seq, last_t, EV_END, 0,
				    buf_ptr(&f), buf_len(&f));
				r = r ? r : tw_append(w, buf_ptr(&rec), buf_len(&rec));
			}
			if (r == REC_OK) {
				r = tw_close(w, &st, NULL);
				w = NULL;
			}
		}
	}
	if (r == REC_OK)
		mk_store_print_head(&st);
out:
	if (r != REC_OK)
		fprintf(stderr, "rec-mksession: %s\n", rec_strerror(r));
	if (in != stdin)
		fclose(in);
	free(script);
	free(text);
	tw_free(w);
	mk_store_close(&m);
	buf_free(&meta);
	buf_free(&f);
	buf_free(&rec);
	return r == REC_OK ? 0 : 1;
}
