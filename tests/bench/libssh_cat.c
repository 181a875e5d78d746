/* libssh_cat: runs one command on an sshd through libssh 0.10 (blocking) and
 * writes its stdout to stdout; the minimal client against which the proxy's
 * read path is compared with OpenSSH's ssh.
 * Usage: libssh_cat PORT USER KEYFILE COMMAND */
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static char buf[256 * 1024];
	ssh_session s;
	ssh_channel ch;
	ssh_key key = NULL;
	unsigned port;
	int n, pc = 0;

	if (argc != 5)
		return 2;
	port = (unsigned)atoi(argv[1]);
	s = ssh_new();
	ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, argv[2]);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &pc);
	ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, "chacha20-poly1305@openssh.com");
	ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, "chacha20-poly1305@openssh.com");
	if (ssh_connect(s) != SSH_OK || ssh_pki_import_privkey_file(argv[3], NULL, NULL, NULL, &key) != SSH_OK ||
	    ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
		fprintf(stderr, "libssh_cat: %s\n", ssh_get_error(s));
		return 1;
	}
	ch = ssh_channel_new(s);
	if (ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, argv[4]) != SSH_OK) {
		fprintf(stderr, "libssh_cat: %s\n", ssh_get_error(s));
		return 1;
	}
	while ((n = ssh_channel_read(ch, buf, sizeof buf, 0)) > 0)
		if (write(1, buf, (size_t)n) != n)
			return 1;
	ssh_channel_send_eof(ch);
	ssh_channel_close(ch);
	ssh_disconnect(s);
	return n < 0;
}
