/*
 * recd_config: escort-recorder.conf(5).  One keyword and its arguments per
 * line, '#' starts a comment, keywords are case-insensitive:
 *
 *	Listen unix:PATH | tls://HOST:PORT	(repeatable, at least one)
 *	Store DIR				(required)
 *	SigningKey FILE				(required, PEM Ed25519)
 *	Fsync always | interval MS | never	(default interval 1000)
 *	TLSCertificate FILE, TLSKey FILE, TLSClientCA FILE
 *						(required with a tls listener)
 *	User NAME				(run as this user)
 *	MaxSessions N				(default 1024)
 *	ResumeTimeout SECONDS			(default 600)
 *	PidFile FILE				(written at start, removed at exit)
 *	UnixClients USER|@GROUP ...		(who else may connect to the
 *						 unix sockets; root and the
 *						 recorder's own user always)
 *	Compression default | LEVEL		(zstd level 1..19 for new
 *						 sessions; default: the
 *						 writer's tuned setting)
 *	TreeHeadInterval SECONDS[s]		(signed tree head of the
 *						 journal this often when it
 *						 grew; 0: only at closes;
 *						 default 60)
 *	Witness /PATH/TO/COMMAND		(run with each tree head
 *						 line on stdin)
 *	AuditLog /PATH				(audit events, JSON lines,
 *						 escort-audit(5))
 *	AuditSyslog yes | no			(the same to syslog; default
 *						 no)
 *	ObjectStore s3://BUCKET[/PREFIX]	(ship sealed sessions, the
 *						 journal and every tree head
 *						 there, ship.h)
 *	ObjectStoreEndpoint URL, ObjectStoreRegion NAME,
 *	ObjectStoreCredentials /FILE		(s3.h; else the AWS_*
 *						 environment)
 *	ObjectStoreRetention DAYS		(COMPLIANCE lock; required
 *						 with ObjectStore)
 *	ObjectStorePartInterval SECONDS[s],
 *	ObjectStorePartSize BYTES[K|M|G]	(a live session's part at
 *						 least this often, or once
 *						 this much waits; default
 *						 60 s, 16M)
 *	Workers N				(threads that record sessions,
 *						 1..RECD_WORKERS_MAX; default
 *						 the number of CPUs; changes
 *						 only with a restart)
 *
 * Read by common/cfg: a keyword given twice is an error, except Listen.
 * Every problem of a file is reported, each as "FILE:LINE: message".
 */
#ifndef RECORDER_RECD_CONFIG_H
#define RECORDER_RECD_CONFIG_H

#include <stddef.h>

#define RECD_LISTEN_MAX	16
#define RECD_CLIENTS_MAX	16
#define RECD_WORKERS_MAX	64

enum recd_fsync { RECD_FSYNC_ALWAYS, RECD_FSYNC_INTERVAL, RECD_FSYNC_NEVER };
enum recd_listen_kind { RECD_LISTEN_UNIX, RECD_LISTEN_TLS };

struct recd_listen_cfg {
	enum recd_listen_kind kind;
	char	 spec[512];	/* as written: "unix:/run/x.sock" */
	char	 path[256];	/* unix */
	char	 host[256];	/* tls */
	char	 port[16];	/* tls */
	int	 line;
};

struct recd_config {
	char	 file[512];
	struct recd_listen_cfg listen[RECD_LISTEN_MAX];
	int	 nlisten;
	char	 store[512];
	char	 signing_key[512];
	enum recd_fsync fsync;
	unsigned fsync_ms;
	char	 tls_cert[512];
	char	 tls_key[512];
	char	 tls_client_ca[512];
	char	 user[64];
	int	 user_line;	/* of the User line, for messages */
	unsigned max_sessions;
	unsigned resume_timeout;	/* seconds */
	char	 pid_file[512];
	unsigned compression;		/* zstd level; 0: writer default */
	unsigned client_uid[RECD_CLIENTS_MAX];	/* UnixClients users */
	int	 nclient_uid;
	unsigned client_gid[RECD_CLIENTS_MAX];	/* UnixClients @groups */
	int	 nclient_gid;
	unsigned head_interval;		/* seconds; 0: heads at closes only */
	char	 witness[512];		/* command, or "" */
	char	 audit_log[512];	/* AuditLog file, or "" */
	int	 audit_syslog;		/* AuditSyslog yes */
	char	 objstore[512];		/* ObjectStore s3://..., or "" */
	char	 objstore_endpoint[512];
	char	 objstore_region[64];
	char	 objstore_credentials[512];
	unsigned objstore_retention;	/* days */
	unsigned objstore_part_interval; /* seconds (default 60) */
	unsigned objstore_part_size;	/* bytes (default 16 MiB) */
	unsigned objstore_prune_after;	/* ObjectStorePruneAfter, seconds;
					   0: never (prune.h) */
	unsigned workers;		/* Workers; 0: not given (the number
					   of CPUs, recd_config_workers) */
};

/* Workers as it applies: the configured number, else the number of CPUs
 * this process may run on (at most RECD_WORKERS_MAX). */
unsigned recd_config_workers(const struct recd_config *cfg);

/*
 * True when a process with these credentials (SO_PEERCRED of a unix socket
 * connection) may use the recorder: root, the recorder's own user, a user
 * named in UnixClients, or a member (primary or supplementary) of a group
 * named there.
 */
int	recd_config_peer_allowed(const struct recd_config *cfg, unsigned uid,
	    unsigned gid);

/*
 * Reads and checks the file at path into *cfg (zeroed first).  Returns 0,
 * or -1 with every problem in err, one "FILE:LINE: message" (or "FILE:
 * message") a line, newline-separated, no trailing newline.
 */
int	recd_config_load(const char *path, struct recd_config *cfg,
	    char *err, size_t errlen);

/* "always", "interval", "never". */
const char *recd_fsync_name(enum recd_fsync f);

#endif
