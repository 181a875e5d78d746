/* config: escort-proxy.conf(5), read by common/cfg.
 *
 * One keyword and its arguments per line; '#' at the start of a word starts a
 * comment; keywords are case-insensitive.  Unknown keywords, missing
 * arguments, bad values and a keyword given twice (all but Listen) are errors
 * reported as "FILE:LINE: message".  See man/escort-proxy.conf.5. */
#ifndef PX_CONFIG_H
#define PX_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "proxy/algos.h"
#include "proxy/proxyproto.h"

#define PX_MAX_LISTEN 16
#define PX_MAX_LB 32                    /* ProxyProtocol entries */
#define PX_MAX_RECORDERS 8              /* Recorder addresses */

struct tlsl_ctx;
struct px_totp_table;
struct px_recpick;

struct px_listen {
	char host[256];   /* numeric address or name, IPv6 without brackets */
	int port;
	int line;         /* its line in the file, for errors at run time */
};

struct px_config {
	char *path;                         /* the file it was read from */
	struct px_listen listen[PX_MAX_LISTEN];
	int nlisten;
	char *hostkey;                      /* OpenSSH private key file */
	int hostkey_line;                   /* its line in the file (0: none) */
	char *policy;                       /* policy file */
	char *recorders[PX_MAX_RECORDERS];  /* Recorder: unix:PATH or tls://HOST:PORT each,
	                                     * in the order new sessions try them */
	int nrecorders;
	struct px_recpick *recpick;         /* which of them are answering (recpick.h) */
	char *recorder_ca, *recorder_cert, *recorder_key;
	struct tlsl_ctx *recorder_tls;      /* tls://: client context from the three files,
	                                     * shared by every tls:// recorder */
	char *statedir;
	char *pidfile;                      /* PidFile: absolute path, NULL: none */
	int workers;                        /* worker threads, 1..64 */
	int login_grace_time;               /* seconds from accept to authenticated */
	int max_startups_start;             /* MaxStartups start:rate:full */
	int max_startups_rate;
	int max_startups_full;
	int max_auth_tries;                 /* failed attempts per connection */
	int per_source_max_failures;        /* failed auths per source before a penalty */
	int per_source_penalty;             /* seconds a penalised source is refused */
	int recorder_timeout;               /* seconds a session may wait for the recorder */
	int approval_timeout;               /* seconds a command waits for an escort's approval */
	int escort_wait_timeout;            /* seconds a moderated session waits for its first escort */
	int escort_leave_timeout;           /* seconds a moderated session stays paused without escorts */
	size_t spool_limit;                 /* bytes of unacknowledged recording per session */
	size_t file_content_limit;          /* upload bytes kept per file in the recording */
	int keepalive_interval;             /* ClientAliveInterval: seconds; 0 = off */
	int keepalive_count_max;            /* ClientAliveCountMax */
	int target_alive_interval;          /* TargetAliveInterval: seconds; 0 = off */
	int target_alive_count_max;         /* TargetAliveCountMax */
	int log_level;                      /* enum px_log_level */
	char *totp_secrets;                 /* TOTPSecrets file, or NULL */
	struct px_totp_table *totp;         /* its users and keys (totp.h); NULL: none */
	struct pxpp_net lb[PX_MAX_LB];      /* ProxyProtocol: load balancers whose
	                                     * connections begin with a PROXY v2
	                                     * header (proxyproto.h) */
	int nlb;
	char *registry;                     /* Registry redis://HOST:PORT, or NULL */
	char *proxy_name;                   /* ProxyName, or NULL: the host name
	                                     * and the first Listen port */
	char *registry_password_file;       /* RegistryPasswordFile, or NULL */
	char *algos[PX_ALGO_N];             /* KexAlgorithms, Ciphers, MACs,
	                                     * HostKeyAlgorithms resolved (algos.h);
	                                     * NULL: the default */
};

/* Reads FILE into *cfg (zeroed first, defaults applied).  Returns PX_OK, or
 * PX_ECONFIG with every problem found in err (errlen bytes), one
 * "FILE:LINE: message" a line (newline-separated, no trailing newline), or
 * PX_ENOMEM.  On PX_ECONFIG *cfg keeps what was read (so that the policy it
 * names can still be checked): free it with px_config_free; on PX_ENOMEM it
 * holds nothing to free.  Missing required keywords (Listen, HostKey, Policy,
 * Recorder) are errors naming the file.  Recorder may list several
 * addresses and may repeat (the lists add up, at most PX_MAX_RECORDERS, no
 * address twice).  Any tls:// Recorder also loads RecorderCA,
 * RecorderCertificate and RecorderKey into recorder_tls (errors name the
 * file and the keyword). */
int px_config_load(const char *file, struct px_config *cfg, char *err, size_t errlen);

/* Frees the strings in cfg (not cfg itself); safe on a zeroed struct. */
void px_config_free(struct px_config *cfg);

/* Writes the effective configuration, one keyword a line, to f (for -t -v). */
void px_config_dump(const struct px_config *cfg, FILE *f);

#endif
