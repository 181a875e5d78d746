/* conn_auth: the technician's authentication, with the answer held back.
 *
 * Until authentication ends the technician's libssh session has no server
 * callbacks: libssh queues every message (service request, userauth
 * requests) and px__conn_auth_pump() takes them one by one.  A key probe
 * is answered at once (PK_OK only for a key the policy lists for the user),
 * as is a bad signature or another method (failure, "publickey" offered).
 * A verified signature is NOT answered: its message is kept in
 * c->auth_held and c->auth_ok set, so that px__conn_step admits the session,
 * opens its recording and connects to the target first (the session is
 * then listed for escorts: the id the technician is told can be acted on).  px__conn_auth_settle() then sends the
 * recording notice as an SSH_MSG_USERAUTH_BANNER ("escort: session ID is
 * recorded"; the client shows it as it shows any banner, so ssh -q and
 * LogLevel govern it) and only then USERAUTH_SUCCESS, and installs the
 * server callbacks the rest of the connection runs on (channels, refused
 * forwarding: conn.c).  A connection that is refused, lists targets or
 * ends before its recording is ready is answered without the banner.
 *
 * Second factor: for a user TOTPSecrets names (totp.h), a verified key is
 * answered with partial success and "keyboard-interactive" as the one
 * method left; that request gets one prompt, "Verification code: " (not
 * echoed), under the same login name; a code of now's time step +-1 that
 * this user has not used yet (px__totp_claim, across workers) makes the
 * response the held request, as the signature is for other users.  A wrong
 * or replayed code counts as a failure (MaxAuthTries) and is asked again.
 *
 * Ownership: c->auth_held belongs to the connection until it is answered
 * (settle) or the connection is freed (px__conn_auth_free).  Nothing here
 * runs inside a libssh callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "proxy/conn_int.h"
#include "proxy/daemon.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/throttle.h"
#include "proxy/totp.h"
#include "proxy/worker.h"

/* "TYPE BASE64" of key into out.  Returns 0, or -1 when it cannot. */
static int
key_line(ssh_key key, char *out, size_t outsz)
{
	char *b64 = NULL;
	const char *type = ssh_key_type_to_char(ssh_key_type(key));

	if (type == NULL || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	snprintf(out, outsz, "%s %s", type, b64);
	ssh_string_free_char(b64);
	return 0;
}

/* The policy user named by login ("user", "user:target" or "user#target")
 * whose key list holds key, or NULL.  *sep is set to the separator or NULL. */
static const struct pol_user *
known_key(struct px_conn *c, const char *login, ssh_key key, const char **sep)
{
	char name[256], line[16384];
	const struct pol_user *u;
	size_t nl;

	*sep = strpbrk(login, ":#");	/* USER:TARGET or USER#TARGET */
	nl = *sep ? (size_t)(*sep - login) : strlen(login);
	if (key == NULL || nl == 0 || nl >= sizeof(name) || key_line(key, line, sizeof(line)) < 0)
		return NULL;
	memcpy(name, login, nl);
	name[nl] = '\0';
	u = policy_user(c->pol, name);
	return u != NULL && pol_user_has_key(u, line) ? u : NULL;
}

static void
count_failure(struct px_conn *c)
{
	c->auth_failures++;
	px__throttle_fail(&c->w->d->thr, c->peer);
}

/* A publickey request: a probe answered PK_OK or failure, a verified
 * signature kept (return 1: m is now c->auth_held), anything else a
 * failure.  Returns 0 when m was answered. */
static int
auth_publickey(struct px_conn *c, ssh_message m)
{
	const char *login = ssh_message_auth_user(m), *sep;
	/* libssh 0.10 marks these deprecated in favour of auth callbacks,
	 * which must answer before they return: the answer could not be held */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ssh_key key = ssh_message_auth_pubkey(m);
	enum ssh_publickey_state_e state = ssh_message_auth_publickey_state(m);
#pragma GCC diagnostic pop
	const struct pol_user *u;

	if (login == NULL || c->auth_ok)
		goto deny;
	u = known_key(c, login, key, &sep);
	if (u == NULL || (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID))
		goto deny;
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		(void)ssh_message_auth_reply_pk_ok_simple(m);	/* a probe of a known key */
		return 0;
	}
	free(c->login_name);
	free(c->user);
	free(c->target);
	c->login_name = strdup(login);
	c->user = strndup(login, sep ? (size_t)(sep - login) : strlen(login));
	c->target = sep && sep[1] ? strdup(sep + 1) : NULL;
	if (c->login_name == NULL || c->user == NULL || (sep && sep[1] && c->target == NULL))
		goto deny;
	if (px__key_fingerprint(key, c->keyfp, sizeof(c->keyfp)) < 0)
		snprintf(c->keyfp, sizeof(c->keyfp), "unknown");
	if (px__totp_lookup(px__daemon_config(c->w->d)->totp, c->user) != NULL) {
		/* the key is half of it: a code is asked next */
		c->totp_pending = 1;
		ssh_set_auth_methods(c->tech, SSH_AUTH_METHOD_INTERACTIVE);
		(void)ssh_message_auth_reply_success(m, 1);
		px_log(PX_LOG_DEBUG, c->id, "key of %s verified; asking for a TOTP code", c->user);
		return 0;
	}
	c->auth_ok = 1;
	c->auth_held = m;	/* answered by px__conn_auth_settle */
	return 1;
deny:
	if (state != SSH_PUBLICKEY_STATE_NONE || c->auth_failures == 0)
		count_failure(c);
	px_log(PX_LOG_INFO, c->id, "public key %s for \"%s\" from %s refused",
	    state == SSH_PUBLICKEY_STATE_NONE ? "probe" : "signature", login ? login : "?", c->peer);
	(void)ssh_message_reply_default(m);
	return 0;
}

/* A keyboard-interactive request or response of a user whose key was
 * verified and who has a TOTP secret.  Returns 1 when m is kept as the
 * held request (the code was right), 0 when m was answered. */
static int
auth_totp(struct px_conn *c, ssh_message m)
{
	static const char *prompts[] = { "Verification code: " };
	char echo[] = { 0 };
	const struct px_totp_key *k = px__totp_lookup(px__daemon_config(c->w->d)->totp, c->user);
	const char *login = ssh_message_auth_user(m), *answer;
	uint64_t step = 0;
	int rc, replayed = 0;

	if (!c->totp_pending || k == NULL) {
		(void)ssh_message_reply_default(m);	/* no key verified yet */
		return 0;
	}
	if (!ssh_message_auth_kbdint_is_response(m)) {
		/* a response carries no name: the request must have the key's */
		if (login == NULL || c->login_name == NULL || strcmp(login, c->login_name) != 0) {
			count_failure(c);
			px_log(PX_LOG_INFO, c->id, "keyboard-interactive as \"%s\" after the key of \"%s\" refused",
			    login ? login : "?", c->login_name ? c->login_name : "?");
			(void)ssh_message_reply_default(m);
		} else
			(void)ssh_message_auth_interactive_request(m, "", "", 1, prompts, echo);
		return 0;
	}
	answer = ssh_userauth_kbdint_getnanswers(c->tech) == 1 ?
	    ssh_userauth_kbdint_getanswer(c->tech, 0) : NULL;
	rc = px__totp_verify(k, answer, time(NULL), &step);
	if (rc == PX_OK) {
		rc = px__totp_claim(&c->w->d->totp_used, c->user, step);
		replayed = rc == PX_EINVAL;
	}
	if (rc != PX_OK) {
		count_failure(c);
		px_log(PX_LOG_INFO, c->id, "TOTP code for %s from %s refused%s", c->user, c->peer,
		    replayed ? " (already used)" : "");
		(void)ssh_message_reply_default(m);
		return 0;
	}
	px_log(PX_LOG_INFO, c->id, "TOTP code for %s accepted", c->user);
	c->totp_pending = 0;
	c->auth_ok = 1;
	c->auth_held = m;	/* answered by px__conn_auth_settle */
	return 1;
}

void
px__conn_auth_pump(struct px_conn *c)
{
	ssh_message m;

	while ((c->state == CONN_AUTH || c->auth_held != NULL) && (m = ssh_message_get(c->tech)) != NULL) {
		int kept = 0;

		if (c->auth_held != NULL)
			/* sent while its success is held: a client that does not
			 * wait for it gets a failure, and nothing piles up */
			(void)ssh_message_reply_default(m);
		else if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
		    ssh_message_subtype(m) == SSH_AUTH_METHOD_PUBLICKEY && !c->totp_pending)
			kept = auth_publickey(c, m);
		else if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
		    ssh_message_subtype(m) == SSH_AUTH_METHOD_INTERACTIVE)
			kept = auth_totp(c, m);
		else
			/* the service request is accepted; "none" and every
			 * other method fail with the methods on offer */
			(void)ssh_message_reply_default(m);
		if (!kept)
			ssh_message_free(m);
	}
}

/* Installs the callbacks the authenticated connection runs on. */
static void
callbacks_install(struct px_conn *c)
{
	ssh_set_server_callbacks(c->tech, &c->scb);
	ssh_set_message_callback(c->tech, px__conn_other_message, c);
}

void
px__conn_auth_settle(struct px_conn *c)
{
	char text[160];
	ssh_string banner;

	if (c->auth_held == NULL)
		return;
	if (c->state == CONN_PREPARE)
		return;		/* the recording and the target are not both ready */
	if (c->state >= CONN_CLOSING) {
		px__conn_auth_free(c);
		return;
	}
	if (c->rec_ready) {
		snprintf(text, sizeof(text), "escort: session %s is recorded\n", c->id);
		if ((banner = ssh_string_from_char(text)) != NULL) {
			if (ssh_send_issue_banner(c->tech, banner) != SSH_OK)
				px_log(PX_LOG_WARN, c->id, "the recording notice could not be sent: %s",
				    ssh_get_error(c->tech));
			ssh_string_free(banner);
		}
	}
	px__conn_auth_pump(c);		/* answers what came meanwhile */
	callbacks_install(c);
	(void)ssh_message_auth_reply_success(c->auth_held, 0);
	ssh_message_free(c->auth_held);
	c->auth_held = NULL;
}

void
px__conn_auth_free(struct px_conn *c)
{
	if (c->auth_held != NULL)
		ssh_message_free(c->auth_held);
	c->auth_held = NULL;
}
