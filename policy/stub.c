/* Temporary minimal implementations of the policy API (every load fails). */
#include <stdlib.h>
#include <string.h>
#include "policy/policy.h"

const char *pol_strerror(int err) { (void)err; return "not available"; }
void pol_diags_free(struct pol_diags *d) { (void)d; }
int pol_diags_add(struct pol_diags *d, enum pol_severity sev, const char *file, int line, int col, const char *fmt, ...) { (void)d; (void)sev; (void)file; (void)line; (void)col; (void)fmt; return 0; }
void pol_diags_sort(struct pol_diags *d) { (void)d; }
int policy_load(const char *path, unsigned flags, struct policy **out, struct pol_diags *diags) { (void)path; (void)flags; (void)diags; *out = NULL; return POL_E_IO; }
int policy_load_buffer(const char *name, const char *buf, size_t len, unsigned flags, struct policy **out, struct pol_diags *diags) { (void)name; (void)buf; (void)len; (void)flags; (void)diags; *out = NULL; return POL_E_IO; }
struct policy *policy_ref(struct policy *p) { return p; }
void policy_unref(struct policy *p) { (void)p; }
const char *policy_hash(const struct policy *p) { (void)p; return ""; }
const char *policy_path(const struct policy *p) { (void)p; return ""; }
const struct pol_user *policy_user(const struct policy *p, const char *name) { (void)p; (void)name; return NULL; }
const struct pol_target *policy_target(const struct policy *p, const char *name) { (void)p; (void)name; return NULL; }
bool pol_user_has_key(const struct pol_user *u, const char *key) { (void)u; (void)key; return false; }
const char *pol_user_attr(const struct pol_user *u, const char *key) { (void)u; (void)key; return NULL; }
const char *pol_target_label(const struct pol_target *t, const char *key) { (void)t; (void)key; return NULL; }
size_t policy_nusers(const struct policy *p) { (void)p; return 0; }
const struct pol_user *policy_user_at(const struct policy *p, size_t i) { (void)p; (void)i; return NULL; }
size_t policy_ntargets(const struct policy *p) { (void)p; return 0; }
const struct pol_target *policy_target_at(const struct policy *p, size_t i) { (void)p; (void)i; return NULL; }
long policy_targets_for(const struct policy *p, const char *user, time_t now, const struct pol_target ***out) { (void)p; (void)user; (void)now; *out = NULL; return 0; }
const char *pol_shell_name(enum pol_shell s) { (void)s; return "none"; }
const char *pol_sftp_name(enum pol_sftp s) { (void)s; return "none"; }
const char *pol_forward_name(enum pol_forward f) { (void)f; return "none"; }
int policy_admit(struct policy *p, const char *user, const char *target, time_t now, struct pol_session **out, struct pol_refusal *why) { (void)p; (void)user; (void)target; (void)now; (void)why; *out = NULL; return POL_E_REFUSED; }
void pol_session_free(struct pol_session *s) { (void)s; }
const char *policy_forbidden(const struct policy *p, const char *user, const char *target) { (void)p; (void)user; (void)target; return NULL; }
bool pol_session_may_escort(const struct pol_session *s, const char *e) { (void)s; (void)e; return false; }
bool policy_may_escort(const struct policy *p, const char *e, const char *user, const char *target, time_t now) { (void)p; (void)e; (void)user; (void)target; (void)now; return false; }
const char *pol_verdict_name(enum pol_verdict v) { return v == POL_ALLOW ? "allow" : v == POL_APPROVE ? "approve" : "deny"; }
int policy_decide(const struct pol_session *s, const char *line, size_t len, time_t now, struct pol_decision *out) { (void)s; (void)line; (void)len; (void)now; memset(out, 0, sizeof(*out)); out->verdict = POL_DENY; return 0; }
int policy_decide_for(const struct policy *p, const char *user, const char *target, const char *line, size_t len, time_t now, struct pol_decision *out) { (void)p; (void)user; (void)target; (void)line; (void)len; (void)now; memset(out, 0, sizeof(*out)); out->verdict = POL_DENY; return 0; }
void pol_decision_free(struct pol_decision *d) { (void)d; }
const char *pol_rule_name(const struct pol_rule *r) { (void)r; return ""; }
int pol_rule_line(const struct pol_rule *r) { (void)r; return 0; }
const char *pol_rule_file(const struct pol_rule *r) { (void)r; return ""; }
bool pol_rule_is_forbid(const struct pol_rule *r) { (void)r; return false; }
size_t policy_nexpects(const struct policy *p) { (void)p; return 0; }
const struct pol_expect *policy_expect_at(const struct policy *p, size_t i) { (void)p; (void)i; return NULL; }
long policy_lint(const struct policy *p, struct pol_diags *diags) { (void)p; (void)diags; return 0; }
const char *pol_construct_name(unsigned bit) { (void)bit; return ""; }
unsigned pol_construct_bit(const char *name) { (void)name; return 0; }
int pol_cmdline_parse(const char *line, size_t len, struct pol_cmdline **out) { (void)line; (void)len; *out = NULL; return POL_E_NOMEM; }
void pol_cmdline_free(struct pol_cmdline *c) { (void)c; }
void pol_cmdline_describe(const struct pol_cmdline *c, FILE *f) { (void)c; (void)f; }
