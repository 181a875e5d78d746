/* s3_curl: libcurl, loaded when the first object-store client opens.
 *
 * escort-replay and escort-recorder reach a bucket only when one is named,
 * yet libcurl brings 28 more shared libraries (TLS, Kerberos, LDAP, ...)
 * whose loading took about 12 ms of every escort-replay command on a
 * 2-core machine.  So the object-store client does not link libcurl: it
 * loads libcurl.so.4 (Debian's libcurl4) with dlopen the first time a
 * client opens, and calls it through this table.  The types are
 * <curl/curl.h>'s, so the calls are checked as if linked.
 *
 * s3_curl_get returns the table, loading the library and running
 * curl_global_init on the first call (thread-safe: once per process), or
 * NULL with the reason in err (the library or one of its calls not found,
 * or its global initialisation failed); a failure is remembered and
 * returned again.  The table lives until the process ends. */
#ifndef ESCORT_RECORDER_S3_CURL_H
#define ESCORT_RECORDER_S3_CURL_H

#include <stddef.h>

#include <curl/curl.h>

struct s3_curl {
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

const struct s3_curl *s3_curl_get(char *err, size_t errlen);

#endif
