/*
 * bench_policy: a generated policy of 10,000 patterns over 1,000 users and
 * 1,000 targets (1,000 rules of 10 patterns, plus groups, labels and keys).
 * Measures the load time (parse, resolve, hash; from a file) and the
 * latency of one decision (with the rendering of the line that runs, as
 * policy_decide always does it) and one admission, and prints
 * `bench: NAME VALUE UNIT` lines.  Targets: load < 200 ms, decision p99
 * < 20 us.  `bench_policy FILE` writes the generated policy to FILE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/policy.h"

#define NUSERS 1000
#define NTARGETS 1000
#define NRULES 1000
#define NPATS 10
#define NGROUPS 100
#define NTEAMS 10

static const char *const verbs[] = { "status", "show", "list", "get", "describe", "top",
	"logs", "inspect", "check", "info" };

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static char *
generate(size_t *len)
{
	size_t cap = 8 << 20, n = 0;
	char *s = malloc(cap);
	if (s == NULL)
		return NULL;
#define OUT(...) (n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__))
	for (int i = 0; i < NUSERS; i++)
		OUT("user u%04d {\n    key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0lCqBN4wOk9OlTHvbLs2VdrUk8Zqvm4n31Ayj9lKb u%04d\"\n"
		    "    attr citizenship %s\n    attr dept d%d\n}\n", i, i, i % 7 ? "US" : "CN", i % 13);
	for (int g = 0; g < NGROUPS; g++) {
		OUT("group g%03d", g);
		for (int i = g; i < NUSERS; i += NGROUPS)
			OUT(" u%04d", i);
		OUT("\n");
	}
	for (int t = 0; t < NTARGETS; t++)
		OUT("target t%04d {\n    address 10.%d.%d.%d:22\n    login ops\n"
		    "    label team k%d\n    label env %s\n}\n", t, t / 65536, (t / 256) % 256, t % 256,
		    t % NTEAMS, t % 3 ? "prod" : "dev");
	for (int r = 0; r < NRULES; r++) {
		bool global = r < 10;
		OUT("rule r%04d {\n", r);
		if (global)
			OUT("    who *\n    where label:env=prod\n");
		else
			OUT("    who group:g%03d\n    where label:team=k%d\n", r % NGROUPS, (r / NGROUPS) % NTEAMS);
		OUT("    shell strict\n    exec yes\n    max-session %dh\n", 1 + r % 8);
		for (int p = 0; p < NPATS; p++) {
			const char *v = p < 7 ? "allow" : p < 9 ? "approve" : "deny";
			switch (p % 5) {
			case 0: OUT("    %s \"svc%d %s *\"\n", v, r, verbs[p]); break;
			case 1: OUT("    %s \"tool%d %s ...\"\n", v, r % 50, verbs[p]); break;
			case 2: OUT("    %s \"systemctl %s app%d-*\"\n", v, verbs[p], r); break;
			case 3: OUT("    %s \"cat /var/log/app%d/*\"\n", v, r); break;
			default: OUT("    %s \"... /srv/secret%d/* ...\"\n", v, r); break;
			}
		}
		OUT("}\n");
	}
	OUT("forbid cn-dev {\n    who attr:citizenship=CN\n    where label:env=dev\n}\n");
#undef OUT
	*len = n;
	return s;
}

int
main(int argc, char **argv)
{
	size_t len;
	char *text = generate(&len);
	if (text == NULL)
		return 1;
	if (argc == 2) {
		/* bench_policy FILE: write the generated policy and stop */
		FILE *f = fopen(argv[1], "w");
		if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
			perror(argv[1]);
			return 1;
		}
		free(text);
		return 0;
	}
	const char *dir = getenv("ESCORT_BENCH_TMP");
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-policy-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror("bench_policy: temp file");
		return 1;
	}
	close(fd);

	/* load: best and median of 7 */
	double loads[7];
	struct policy *pol = NULL;
	for (int i = 0; i < 7; i++) {
		struct pol_diags d = { 0 };
		struct policy *p;
		double t0 = now_us();
		int r = policy_load(path, 0, &p, &d);
		loads[i] = now_us() - t0;
		if (r != 0) {
			fprintf(stderr, "bench_policy: load failed: %s (%s)\n", pol_strerror(r),
			    d.n ? d.v[0].msg : "");
			return 1;
		}
		pol_diags_free(&d);
		if (pol == NULL)
			pol = p;
		else
			policy_unref(p);
	}
	qsort(loads, 7, sizeof(double), cmp_double);
	unlink(path);

	/* decisions: admitted sessions, mixed command lines */
	enum { NSESS = 200, NDEC = 200000 };
	struct pol_session *sess[NSESS];
	int ns = 0;
	srand(7);
	for (int tries = 0; ns < NSESS && tries < 100000; tries++) {
		char u[16], t[16];
		int ui = rand() % NUSERS, ti = rand() % NTARGETS;
		snprintf(u, sizeof(u), "u%04d", ui);
		snprintf(t, sizeof(t), "t%04d", ti);
		if (policy_admit(pol, u, t, time(NULL), &sess[ns], NULL) == 0)
			ns++;
	}
	if (ns == 0) {
		fprintf(stderr, "bench_policy: no session admitted\n");
		return 1;
	}
	char cmds[16][160];
	int nc = 0;
	snprintf(cmds[nc++], 160, "systemctl status app5-web");
	snprintf(cmds[nc++], 160, "tool3 show --all -v x y z");
	snprintf(cmds[nc++], 160, "cat /var/log/app7/error.log");
	snprintf(cmds[nc++], 160, "journalctl -u nginx --since today | grep -v debug | tail -n 50");
	snprintf(cmds[nc++], 160, "sudo systemctl restart app9-api");
	snprintf(cmds[nc++], 160, "ls -la /srv/secret3/keys");
	snprintf(cmds[nc++], 160, "svc12 status main && svc12 logs main; echo done");
	snprintf(cmds[nc++], 160, "find /var/log -name '*.gz' -exec rm {} \\;");
	snprintf(cmds[nc++], 160, "bash -c 'uptime; df -h'");
	snprintf(cmds[nc++], 160, "r''m -rf / # cleanup");
	double *lat = malloc(NDEC * sizeof(double));
	long verdicts[3] = { 0 }, rendered = 0;
	time_t now = time(NULL);
	for (int i = 0; i < NDEC; i++) {
		const struct pol_session *s = sess[i % ns];
		const char *c = cmds[(i / ns) % nc];
		struct pol_decision d;
		double t0 = now_us();
		policy_decide(s, c, strlen(c), now, &d);
		enum pol_verdict v = d.verdict;
		rendered += d.rendered != NULL;
		pol_decision_free(&d);
		lat[i] = now_us() - t0;
		verdicts[v]++;
	}
	qsort(lat, NDEC, sizeof(double), cmp_double);

	/* admissions */
	enum { NADM = 20000 };
	double *alat = malloc(NADM * sizeof(double));
	for (int i = 0; i < NADM; i++) {
		char u[16], t[16];
		snprintf(u, sizeof(u), "u%04d", (i * 37) % NUSERS);
		snprintf(t, sizeof(t), "t%04d", (i * 101) % NTARGETS);
		struct pol_session *s = NULL;
		double t0 = now_us();
		policy_admit(pol, u, t, now, &s, NULL);
		pol_session_free(s);
		alat[i] = now_us() - t0;
	}
	qsort(alat, NADM, sizeof(double), cmp_double);

	printf("bench: policy_bytes %zu B\n", len);
	printf("bench: policy_load_median %.1f ms\n", loads[3] / 1000);
	printf("bench: policy_load_best %.1f ms\n", loads[0] / 1000);
	printf("bench: policy_load_target_ratio %.2f x\n", loads[3] / 1000 / 200.0);
	printf("bench: policy_decide_p50 %.2f us\n", lat[NDEC / 2]);
	printf("bench: policy_decide_p99 %.2f us\n", lat[NDEC * 99 / 100]);
	printf("bench: policy_decide_max %.2f us\n", lat[NDEC - 1]);
	printf("bench: policy_decide_p99_target_ratio %.2f x\n", lat[NDEC * 99 / 100] / 20.0);
	printf("bench: policy_admit_p50 %.2f us\n", alat[NADM / 2]);
	printf("bench: policy_admit_p99 %.2f us\n", alat[NADM * 99 / 100]);
	fprintf(stderr, "bench_policy: %d sessions; %ld allow, %ld approve, %ld deny; %ld lines "
	    "rendered\n", ns, verdicts[POL_ALLOW], verdicts[POL_APPROVE], verdicts[POL_DENY], rendered);
	for (int i = 0; i < ns; i++)
		pol_session_free(sess[i]);
	free(lat);
	free(alat);
	free(text);
	policy_unref(pol);
	return 0;
}
