/*
 * escort-policy: check, explain, test and diff escort-policy(5) files.
 * Exit status: 0 success, 1 the policy has errors / an expectation failed /
 * decisions differ (diff), 2 usage or I/O trouble.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"

static const char usage_text[] =
"usage: escort-policy check [--strict] FILE\n"
"       escort-policy explain [--at TIME | --now] FILE USER TARGET COMMAND [WORD...]\n"
"       escort-policy explain-transfer [--at TIME | --now] FILE USER TARGET OP PATH [PATH2]\n"
"       escort-policy test FILE\n"
"       escort-policy admit [--at TIME | --now] FILE USER TARGET\n"
"       escort-policy rules [--at TIME | --now] FILE USER TARGET\n"
"       escort-policy targets [--at TIME | --now] FILE USER\n"
"       escort-policy diff OLD NEW [COMMANDS-FILE]\n"
"       escort-policy --help | --version\n"
"\n"
"  check    report syntax and reference errors (FILE:LINE:COL), failed expect\n"
"           lines and warnings; exit 1 on errors (or warnings with --strict)\n"
"  explain  decide one command: first line allow, deny or approve, then the\n"
"           parsed words and constructs, each check, the rules considered and\n"
"           the deciding rule and line; several words after TARGET are\n"
"           joined by single spaces into one command line\n"
"  explain-transfer  decide one SFTP/scp operation as the proxy does; OP is\n"
"           get put ls stat rm rename mkdir rmdir chmod symlink link readlink\n"
"           realpath (PATH2 for rename, symlink, link)\n"
"  test     run every expect line and report each\n"
"  admit    show whether USER may open a session to TARGET, and its settings\n"
"  rules    what USER may run on TARGET, pattern by pattern (like sudo -l)\n"
"  targets  list the targets USER may open\n"
"  diff     decisions that change from OLD to NEW, over the expect lines of\n"
"           both files, or over COMMANDS-FILE (- for stdin): lines\n"
"           \"USER TARGET COMMAND\" or JSON objects with user, target, command\n"
"\n"
"`when` windows are ignored unless --now or --at TIME is given (TIME is\n"
"seconds since the epoch or YYYY-MM-DDTHH:MM[:SS]Z).\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

/* One diagnostic as FILE:LINE:COL: SEV: MSG, or, when it is about the whole
 * file (line 0, e.g. the file cannot be read), FILE: MSG with no made-up
 * position ("FILE: warning: MSG" for a warning). */
static void
diag_print(FILE *f, const struct pol_diag *g, bool as_warning)
{
	bool warn = as_warning || g->sev != POL_SEV_ERROR;
	if (g->line <= 0)
		fprintf(f, "%s: %s%s\n", g->file, warn ? "warning: " : "", g->msg);
	else
		fprintf(f, "%s:%d:%d: %s: %s\n", g->file, g->line, g->col,
		    warn ? "warning" : "error", g->msg);
}

static void
print_diags(struct pol_diags *d)
{
	pol_diags_sort(d);
	for (size_t i = 0; i < d->n; i++)
		diag_print(stdout, &d->v[i], false);
}

/* Loads a policy, collecting its diagnostics.  Returns NULL on failure. */
static struct policy *
load(const char *path, unsigned flags, struct pol_diags *d)
{
	struct policy *p = NULL;
	int r = policy_load(path, flags, &p, d);
	if (r != 0 && d->n == 0)
		pol_diags_add(d, POL_SEV_ERROR, path, 0, 0, "%s", pol_strerror(r));
	return p;
}

/* For explain, test, admit, targets and diff: a draft policy with a
 * malformed key still answers (the key is left out, with a warning on
 * stderr); errors are printed and make it NULL. */
static struct policy *
load_draft(const char *path, struct pol_diags *d)
{
	struct policy *p = load(path, POL_LOAD_LENIENT_KEYS, d);
	pol_diags_sort(d);
	for (size_t i = 0; i < d->n; i++) {
		const struct pol_diag *g = &d->v[i];
		diag_print(p == NULL ? stdout : stderr, g, p != NULL);
	}
	return p;
}

static int
parse_time(const char *s, time_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s && *end == '\0' && errno == 0) {
		*out = (time_t)v;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *e = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	if (e == NULL)
		return -1;
	if (*e == ':') {
		e = strptime(e, ":%S", &tm);
		if (e == NULL)
			return -1;
	}
	if (strcmp(e, "Z") != 0 && *e != '\0')
		return -1;
	*out = timegm(&tm);
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	bool strict = false;
	int i = 0, nfiles = 0;
	for (int k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--strict") == 0 || strcmp(argv[k], "-s") == 0) {
			strict = true;
		} else if (argv[k][0] == '-' && argv[k][1] != '\0') {
			fprintf(stderr, "escort-policy check: unknown option '%s'\n", argv[k]);
			return 2;
		} else {
			i = k;
			nfiles++;
		}
	}
	if (nfiles != 1) {
		usage(stderr);
		return 2;
	}
	struct pol_diags d = { 0 };
	struct policy *p = load(argv[i], 0, &d);
	size_t total = 0, failed = 0;
	if (p != NULL) {
		/* the same checks as escort-proxy -t and its reload */
		policy_check_files(p, &d);
		if (policy_validate(p, POL_VALIDATE_LINT, &d) < 0)
			pol_diags_add(&d, POL_SEV_ERROR, argv[i], 0, 0, "%s", pol_strerror(POL_E_NOMEM));
		long f = policy_check_expects(p, NULL, NULL, &total);	/* for the summary */
		failed = f > 0 ? (size_t)f : 0;
	}
	print_diags(&d);
	int rc = (d.nerrors || (strict && d.nwarnings)) ? 1 : 0;
	if (p != NULL)
		printf("check: %zu error%s, %zu warning%s, %zu/%zu expect lines hold in %s "
		    "(sha256 %s)\n", d.nerrors, d.nerrors == 1 ? "" : "s", d.nwarnings,
		    d.nwarnings == 1 ? "" : "s", total - failed, total, argv[i], policy_hash(p));
	else
		printf("check: %zu error%s in %s\n", d.nerrors, d.nerrors == 1 ? "" : "s", argv[i]);
	pol_diags_free(&d);
	policy_unref(p);
	return rc;
}

/* --at TIME or --now before the operands; without them every `when`
 * window is ignored, as for expect lines. */
static int
get_at(int *argc, char ***argv, time_t *now)
{
	*now = POL_ANYTIME;
	if (*argc >= 2 && strcmp((*argv)[1], "--now") == 0) {
		*now = time(NULL);
		(*argv)[1] = (*argv)[0];
		*argv += 1;
		*argc -= 1;
		return 0;
	}
	if (*argc >= 3 && strcmp((*argv)[1], "--at") == 0) {
		if (parse_time((*argv)[2], now) != 0) {
			fprintf(stderr, "escort-policy: bad time '%s' (seconds since the epoch or "
			    "YYYY-MM-DDTHH:MM[:SS]Z)\n", (*argv)[2]);
			return -1;
		}
		(*argv)[2] = (*argv)[0];
		*argv += 2;
		*argc -= 2;
	}
	return 0;
}

/* Common start of the query commands: an optional "--at TIME" or "--now" (when with_at),
 * exactly want arguments counting the command name, and the policy FILE in
 * argv[1] loaded as a draft.  Returns 0 with *out referenced (caller unrefs),
 * or the exit status to return (usage: 2, unloadable policy: 1). */
static int
open_query(int *argc, char ***argv, int want, bool with_at, time_t *now, struct policy **out)
{
	*now = POL_ANYTIME;
	if (with_at && get_at(argc, argv, now) != 0)
		return 2;
	if (*argc != want) {
		usage(stderr);
		return 2;
	}
	struct pol_diags d = { 0 };
	*out = load_draft((*argv)[1], &d);
	pol_diags_free(&d);
	return *out == NULL ? 1 : 0;
}

/* The command of explain: one argument as given, or several joined by
 * single spaces (as ssh joins the words of a remote command).  Malloc'd. */
static char *
join_words(int argc, char **argv)
{
	size_t len = 1;
	for (int k = 0; k < argc; k++)
		len += strlen(argv[k]) + 1;
	char *s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (int k = 0; k < argc; k++) {
		if (k)
			strcat(s, " ");
		strcat(s, argv[k]);
	}
	return s;
}

static int
cmd_explain(int argc, char **argv)
{
	time_t now, anytime;
	struct policy *p;
	if (get_at(&argc, &argv, &now) != 0)
		return 2;
	int nwords = argc - 4;
	if (nwords > 1)
		argc = 5;	/* open_query counts the command as one operand */
	int rc = open_query(&argc, &argv, 5, false, &anytime, &p);
	if (rc != 0)
		return rc;
	nwords = nwords > 1 ? nwords : 1;
	char *line = join_words(nwords, argv + 4);
	if (line == NULL) {
		policy_unref(p);
		return 2;
	}
	struct pol_decision dec;
	int r = policy_decide_for(p, argv[2], argv[3], line, strlen(line), now, &dec);
	free(line);
	printf("%s\n", pol_verdict_name(dec.verdict));
	printf("policy: %s (sha256 %s)\n", argv[1], policy_hash(p));
	if (now == POL_ANYTIME) {
		printf("time: any (when windows ignored)\n");
	} else {
		char tb[64];
		struct tm tm;
		strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
		printf("time: %s\n", tb);
	}
	printf("user: %s  target: %s\n", argv[2], argv[3]);
	if (r == POL_E_NOUSER || r == POL_E_NOTARGET) {
		printf("reason: %s\n", dec.reason);
		pol_decision_free(&dec);
		policy_unref(p);
		return 1;
	}
	const char *forbid = policy_forbidden(p, argv[2], argv[3]);
	printf("parsed:\n");
	if (dec.cmd != NULL) {
		if (dec.cmd->nsimple == 0 && !dec.cmd->error)
			printf("  (no command)\n");
		fflush(stdout);
		pol_cmdline_describe(dec.cmd, stdout);
	}
	printf("checks:\n");
	for (size_t i = 0; i < dec.nchecks; i++) {
		const struct pol_check *c = &dec.checks[i];
		printf("  %*s%s [%s]: %s\n", c->depth * 2, "", pol_verdict_name(c->verdict),
		    c->words ? c->words : "", c->reason);
	}
	printf("rules considered:");
	if (dec.nconsidered == 0)
		printf(" none");
	for (size_t i = 0; i < dec.nconsidered; i++)
		printf("%s %s (line %d)", i ? "," : "", pol_rule_name(dec.considered[i]),
		    pol_rule_line(dec.considered[i]));
	printf("\n");
	if (forbid)
		printf("forbid: %s matches this user and target\n", forbid);
	if (dec.rule)
		printf("decided by: %s, line %d%s%s%s\n", dec.rule, dec.line,
		    dec.pattern ? " (pattern \"" : "", dec.pattern ? dec.pattern : "",
		    dec.pattern ? "\")" : "");
	else
		printf("decided by: %s\n", dec.verdict == POL_DENY ? "default deny" : "no rule");
	printf("reason: %s\n", dec.reason);
	if (dec.rendered != NULL)
		printf("runs as: %s\n", dec.rendered);
	else
		printf("runs as: (nothing: the line is not sent)\n");
	pol_decision_free(&dec);
	policy_unref(p);
	return 0;
}

static int
cmd_test(int argc, char **argv)
{
	time_t now;
	struct policy *p;
	int rc = open_query(&argc, &argv, 2, false, &now, &p);
	if (rc != 0)
		return rc;
	size_t total = 0;
	long failed = policy_check_expects(p, NULL, stdout, &total);
	if (failed < 0) {
		fprintf(stderr, "escort-policy: %s\n", pol_strerror((int)failed));
		policy_unref(p);
		return 2;
	}
	printf("test: %zu passed, %ld failed\n", total - (size_t)failed, failed);
	policy_unref(p);
	return failed ? 1 : 0;
}

static int
cmd_admit(int argc, char **argv)
{
	time_t now;
	struct policy *p;
	int rc = open_query(&argc, &argv, 4, true, &now, &p);
	if (rc != 0)
		return rc;
	struct pol_session *s;
	struct pol_refusal why;
	int r = policy_admit(p, argv[2], argv[3], now, &s, &why);
	if (r != 0) {
		printf("refused\nuser sees: %s\nreason: %s\n", why.user_msg, why.log_msg);
		policy_unref(p);
		return 1;
	}
	printf("admitted\nrules: %s\n", s->rule_names);
	char who[512];
	printf("escort: %s\n", s->escort_required ? "required" : "no");
	if (s->escort_required)
		printf("escorts: %s\n", pol_session_escort_text(s, who, sizeof(who)));
	printf("shell: %s\nexec: %s\nsftp: %s\nforward: %s\n", pol_shell_name(s->shell),
	    s->exec ? "yes" : "no", pol_sftp_name(s->sftp), pol_forward_name(s->forward));
	char env[512];
	pol_session_env_text(s, env, sizeof(env));
	printf("env: %s\n", env);
	if (s->max_session)
		printf("max-session: %lds\n", s->max_session);
	else
		printf("max-session: none\n");
	printf("passwords: %s\nobserve-deny: %s\n", s->record_passwords ? "record" : "mask",
	    s->observe_end_on_deny ? "end" : "warn");
	pol_session_free(s);
	policy_unref(p);
	return 0;
}

static int
cmd_rules(int argc, char **argv)
{
	time_t now;
	struct policy *p;
	int rc = open_query(&argc, &argv, 4, true, &now, &p);
	if (rc != 0)
		return rc;
	int r = policy_rules_for(p, argv[2], argv[3], now, POL_RULES_DETAIL, stdout);
	policy_unref(p);
	if (r == POL_E_NOMEM || r == POL_E_IO) {
		fprintf(stderr, "escort-policy: %s\n", pol_strerror(r));
		return 2;
	}
	return r == 0 ? 0 : 1;
}

static int
cmd_targets(int argc, char **argv)
{
	time_t now;
	struct policy *p;
	int rc = open_query(&argc, &argv, 3, true, &now, &p);
	if (rc != 0)
		return rc;
	const struct pol_target **v;
	long n = policy_targets_for(p, argv[2], now, &v);
	if (n < 0) {
		fprintf(stderr, "escort-policy: %s: %s\n", argv[2], pol_strerror((int)n));
		policy_unref(p);
		return 1;
	}
	for (long i = 0; i < n; i++)
		printf("%s\n", v[i]->name);
	free(v);
	policy_unref(p);
	return 0;
}

struct probe {
	char *user, *target, *command;
};

/* Appends a probe; with `dedup`, skips one already listed. */
static int
add_probe(struct probe **v, size_t *n, size_t *cap, const char *u, const char *t, const char *c,
    bool dedup)
{
	for (size_t i = 0; dedup && i < *n; i++)
		if (!strcmp((*v)[i].user, u) && !strcmp((*v)[i].target, t) && !strcmp((*v)[i].command, c))
			return 0;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		struct probe *nv = realloc(*v, *cap * sizeof(**v));
		if (nv == NULL)
			return -1;
		*v = nv;
	}
	(*v)[*n].user = strdup(u);
	(*v)[*n].target = strdup(t);
	(*v)[*n].command = strdup(c);
	(*n)++;
	return 0;
}

/* The string value of "key" in a one-line JSON object, decoded (\" \\ \/
 * \n \t \r \b \f and \u00XX); malloc'd, or NULL when absent or not a string. */
static char *
json_string(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(line, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	p += strspn(p, " \t");
	if (*p++ != ':')
		return NULL;
	p += strspn(p, " \t");
	if (*p++ != '"')
		return NULL;
	char *out = malloc(strlen(p) + 1);
	if (out == NULL)
		return NULL;
	size_t k = 0;
	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			out[k++] = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': out[k++] = '\n'; break;
		case 't': out[k++] = '\t'; break;
		case 'r': out[k++] = '\r'; break;
		case 'b': out[k++] = '\b'; break;
		case 'f': out[k++] = '\f'; break;
		case 'u': {
			unsigned cp;
			if (sscanf(p + 1, "%4x", &cp) != 1 || cp == 0 || cp > 0x7f) {
				free(out);
				return NULL;	/* only ASCII escapes are understood */
			}
			out[k++] = (char)cp;
			p += 4;
			break;
		}
		case '\0':
			free(out);
			return NULL;
		default: out[k++] = *p; break;
		}
	}
	if (*p != '"') {
		free(out);
		return NULL;
	}
	out[k] = '\0';
	return out;
}

static int
cmd_diff(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		usage(stderr);
		return 2;
	}
	struct pol_diags d = { 0 };
	struct policy *a = load_draft(argv[1], &d);
	struct pol_diags d2 = { 0 };
	struct policy *b = load_draft(argv[2], &d2);
	pol_diags_free(&d2);
	if (a == NULL || b == NULL) {
		pol_diags_free(&d);
		policy_unref(a);
		policy_unref(b);
		return 2;
	}
	pol_diags_free(&d);
	struct probe *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	if (argc == 4) {
		FILE *f = strcmp(argv[3], "-") == 0 ? stdin : fopen(argv[3], "r");
		if (f == NULL) {
			fprintf(stderr, "escort-policy: %s: %s\n", argv[3], strerror(errno));
			rc = 2;
			goto out;
		}
		char *line = NULL;
		size_t lcap = 0;
		ssize_t len;
		int ln = 0;
		while ((len = getline(&line, &lcap, f)) > 0) {
			ln++;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = '\0';
			char *s = line + strspn(line, " \t");
			if (*s == '\0' || *s == '#')
				continue;
			if (*s == '{') {
				/* escort-replay commands --json */
				char *ju = json_string(s, "user"), *jt = json_string(s, "target");
				char *jc = json_string(s, "command");
				bool ok = ju && jt && jc;
				if (ok)
					add_probe(&v, &n, &cap, ju, jt, jc, false);
				free(ju);
				free(jt);
				free(jc);
				if (!ok) {
					fprintf(stderr, "%s:%d: expected a JSON object with string "
					    "\"user\", \"target\" and \"command\"\n", argv[3], ln);
					rc = 2;
					break;
				}
				continue;
			}
			char *u = strtok(s, " \t"), *t = strtok(NULL, " \t"), *c = strtok(NULL, "");
			if (u == NULL || t == NULL || c == NULL) {
				fprintf(stderr, "%s:%d: expected USER TARGET COMMAND\n", argv[3], ln);
				rc = 2;
				break;
			}
			c += strspn(c, " \t");
			add_probe(&v, &n, &cap, u, t, c, false);
		}
		free(line);
		if (f != stdin)
			fclose(f);
		if (rc)
			goto out;
	} else {
		const struct policy *ps[2] = { a, b };
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; i < policy_nexpects(ps[k]); i++) {
				const struct pol_expect *e = policy_expect_at(ps[k], i);
				add_probe(&v, &n, &cap, e->user, e->target, e->command, true);
			}
	}
	size_t changed = 0;
	for (size_t i = 0; i < n; i++) {
		struct pol_decision x, y;
		policy_decide_for(a, v[i].user, v[i].target, v[i].command, strlen(v[i].command),
		    POL_ANYTIME, &x);
		policy_decide_for(b, v[i].user, v[i].target, v[i].command, strlen(v[i].command),
		    POL_ANYTIME, &y);
		if (x.verdict != y.verdict) {
			changed++;
			printf("%s -> %s: %s %s \"%s\" (now: %s)\n", pol_verdict_name(x.verdict),
			    pol_verdict_name(y.verdict), v[i].user, v[i].target, v[i].command, y.reason);
		}
		pol_decision_free(&x);
		pol_decision_free(&y);
	}
	printf("diff: %zu command%s checked, %zu changed\n", n, n == 1 ? "" : "s", changed);
	rc = changed ? 1 : 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(v[i].user);
		free(v[i].target);
		free(v[i].command);
	}
	free(v);
	policy_unref(a);
	policy_unref(b);
	return rc;
}

/* explain-transfer: one SFTP/scp operation decided as the proxy decides it. */
static int
cmd_explain_transfer(int argc, char **argv)
{
	time_t now = POL_ANYTIME;
	if (get_at(&argc, &argv, &now) != 0)
		return 2;
	int op = argc >= 6 ? pol_xfer_op_parse(argv[4]) : -1;
	if (argc >= 6 && op < 0) {
		fprintf(stderr, "escort-policy explain-transfer: unknown operation '%s'\n", argv[4]);
		return 2;
	}
	if (op < 0 || argc != (pol_xfer_op_two_paths((enum pol_xfer_op)op) ? 7 : 6)) {
		usage(stderr);
		return 2;
	}
	struct pol_diags d = { 0 };
	struct policy *p = load_draft(argv[1], &d);
	pol_diags_free(&d);
	if (p == NULL)
		return 1;
	struct pol_decision dec;
	const char *path2 = argc == 7 ? argv[6] : NULL;
	int r = policy_decide_transfer_for(p, argv[2], argv[3], (enum pol_xfer_op)op, argv[5],
	    path2, now, &dec);
	printf("%s\n", pol_verdict_name(dec.verdict));
	printf("policy: %s (sha256 %s)\n", argv[1], policy_hash(p));
	printf("user: %s  target: %s\n", argv[2], argv[3]);
	printf("transfer: %s %s%s%s\n", argv[4], argv[5], path2 ? " " : "", path2 ? path2 : "");
	printf("checks:\n");
	if (dec.nchecks == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < dec.nchecks; i++)
		printf("  %s [%s]: %s\n", pol_verdict_name(dec.checks[i].verdict),
		    dec.checks[i].words ? dec.checks[i].words : "", dec.checks[i].reason);
	printf("rules considered:");
	if (dec.nconsidered == 0)
		printf(" none");
	for (size_t i = 0; i < dec.nconsidered; i++)
		printf("%s %s (line %d)", i ? "," : "", pol_rule_name(dec.considered[i]),
		    pol_rule_line(dec.considered[i]));
	printf("\n");
	if (dec.rule)
		printf("decided by: %s, line %d%s%s%s\n", dec.rule, dec.line,
		    dec.pattern ? " (pattern \"" : "", dec.pattern ? dec.pattern : "",
		    dec.pattern ? "\")" : "");
	else
		printf("decided by: %s\n", dec.verdict == POL_DENY ? "the transfer rules" : "no rule");
	printf("reason: %s\n", dec.reason);
	pol_decision_free(&dec);
	policy_unref(p);
	return r == POL_E_NOUSER || r == POL_E_NOTARGET || r == POL_E_INVAL ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("escort-policy %s\n", ESCORT_VERSION);
		return 0;
	}
	argc--;
	argv++;
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(argc, argv);
	if (strcmp(cmd, "explain-transfer") == 0)
		return cmd_explain_transfer(argc, argv);
	if (strcmp(cmd, "test") == 0)
		return cmd_test(argc, argv);
	if (strcmp(cmd, "admit") == 0)
		return cmd_admit(argc, argv);
	if (strcmp(cmd, "targets") == 0)
		return cmd_targets(argc, argv);
	if (strcmp(cmd, "rules") == 0)
		return cmd_rules(argc, argv);
	if (strcmp(cmd, "diff") == 0)
		return cmd_diff(argc, argv);
	fprintf(stderr, "escort-policy: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
