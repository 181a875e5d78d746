/*
 * s3: a small client of S3-compatible object storage (AWS S3, Ceph RGW,
 * MinIO), used by escort-recorder to ship recordings (ship.h) and by
 * escort-replay to read a store from a bucket (--store s3://BUCKET/PREFIX).
 *
 * Requests go through libcurl; every request is signed by libcurl's AWS
 * Signature Version 4 (CURLOPT_AWS_SIGV4), never by code of ours.  This
 * module only computes the payload's SHA-256 (the x-amz-content-sha256
 * header) and MD5 (Content-MD5, which S3 requires on an Object Lock PUT).
 * Buckets are addressed by path (ENDPOINT/BUCKET/KEY), which Ceph RGW,
 * MinIO and AWS all take.
 *
 * Object keys are PREFIX/NAME.  Names and prefixes are sent percent-encoded
 * (everything but A-Z a-z 0-9 - . _ ~ and '/').
 *
 * Errors: functions return REC_OK or a negative REC_E* code (rec_error.h):
 * REC_ENOENT for a 404, REC_EPERM for a 401/403, REC_EIO for a transport
 * failure or any other status, REC_EINVAL for bad arguments; err then
 * holds a one-line reason naming the key and what the server said (its
 * S3 error code and message).  A client is used by one thread at a time.
 */
#ifndef RECORDER_S3_H
#define RECORDER_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define S3_URL_MAX	512

struct s3_cfg {
	char	endpoint[S3_URL_MAX];	/* http(s)://HOST[:PORT], no '/' at
					   the end */
	char	bucket[128];
	char	prefix[S3_URL_MAX];	/* "" or "a/b" (no '/' at either end) */
	char	region[64];		/* default us-east-1 */
	char	access_key[256];
	char	secret_key[256];
	char	session_token[2048];	/* "" when none */
};

/* Parses "s3://BUCKET[/PREFIX]" into c->bucket and c->prefix (other
 * fields untouched).  Returns REC_OK or REC_EINVAL with err set. */
int	s3_url_parse(const char *url, struct s3_cfg *c, char *err,
	    size_t errlen);

/* 1 when s starts with "s3://". */
int	s3_is_url(const char *s);

/*
 * Fills what the environment gives, as the AWS tools take it:
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_ENDPOINT_URL_S3 or else AWS_ENDPOINT_URL, AWS_REGION or else
 * AWS_DEFAULT_REGION.  Fields the environment does not set are left as
 * they are.
 */
void	s3_cfg_env(struct s3_cfg *c);

/*
 * Reads a credentials file: lines NAME=VALUE or NAME = VALUE, names
 * AWS_ACCESS_KEY_ID / aws_access_key_id, AWS_SECRET_ACCESS_KEY /
 * aws_secret_access_key, AWS_SESSION_TOKEN / aws_session_token (so an
 * EnvironmentFile of systemd or the [default] section of an AWS
 * credentials file both work); '#' and ';' lines and [section] lines are
 * skipped.  Returns REC_OK, or an error with "FILE:LINE: reason" or
 * "FILE: reason" in err (also when a key or the secret is missing).
 */
int	s3_cfg_credentials(const char *path, struct s3_cfg *c, char *err,
	    size_t errlen);

/* Sets the region's default (us-east-1) and AWS's endpoint for it when
 * none is set; REC_EINVAL with err set when no credentials are. */
int	s3_cfg_finish(struct s3_cfg *c, char *err, size_t errlen);

struct s3;

/* A client for c (copied).  Returns REC_OK, or REC_ENOENT when libcurl
 * cannot be loaded (s3_curl.h) or REC_ENOMEM, with the reason in err. */
int	s3_open(const struct s3_cfg *c, struct s3 **out, char *err,
	    size_t errlen);
void	s3_close(struct s3 *s);

/* Aborts transfers in progress when *flag becomes non-zero (checked about
 * once a second and on every progress callback); flag may be NULL. */
void	s3_set_abort(struct s3 *s, const volatile int *flag);

/*
 * PUT PREFIX/name with data[0..len).  retain_until > 0: with Object Lock
 * in COMPLIANCE mode until that time (the bucket must have Object Lock
 * enabled, or the request fails).
 */
int	s3_put(struct s3 *s, const char *name, const void *data, size_t len,
	    time_t retain_until, char *err, size_t errlen);

/* GET PREFIX/name into the file descriptor fd (written from its current
 * position). */
int	s3_get_fd(struct s3 *s, const char *name, int fd, char *err,
	    size_t errlen);

/*
 * The Object Lock retention of PREFIX/name (its newest version): mode
 * ("COMPLIANCE", "GOVERNANCE") into mode[0..modelen), the time it ends
 * into *until.  REC_ENOENT also when the object has no retention (the
 * store's NoSuchObjectLockConfiguration is a 404); REC_EFORMAT when the
 * answer has no Mode and RetainUntilDate.
 */
int	s3_retention(struct s3 *s, const char *name, char *mode, size_t modelen,
	    time_t *until, char *err, size_t errlen);

/*
 * Lists every object under PREFIX/sub (sub may be ""), calling
 * cb(arg, name, size) with name relative to PREFIX/ (ListObjectsV2, all
 * pages, in the server's order: ascending).  A non-zero return of cb
 * stops the listing and is returned.
 */
typedef int (*s3_list_cb)(void *arg, const char *name, uint64_t size);
int	s3_list(struct s3 *s, const char *sub, s3_list_cb cb, void *arg,
	    char *err, size_t errlen);

#endif
