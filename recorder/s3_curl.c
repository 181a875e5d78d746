/* s3_curl: libcurl loaded on first use (see s3_curl.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "recorder/s3_curl.h"

#define S3_CURL_SONAME	"libcurl.so.4"

static pthread_once_t s3_curl_once = PTHREAD_ONCE_INIT;
static struct s3_curl s3_curl_table;
static const struct s3_curl *s3_curl_ready;
static char s3_curl_why[512];

/* The table's entries and the names they are loaded from. */
static const struct {
	const char *name;
	size_t off;
} s3_curl_syms[] = {
	{ "curl_easy_init", offsetof(struct s3_curl, easy_init) },
	{ "curl_easy_cleanup", offsetof(struct s3_curl, easy_cleanup) },
	{ "curl_easy_reset", offsetof(struct s3_curl, easy_reset) },
	{ "curl_easy_setopt", offsetof(struct s3_curl, easy_setopt) },
	{ "curl_easy_perform", offsetof(struct s3_curl, easy_perform) },
	{ "curl_easy_getinfo", offsetof(struct s3_curl, easy_getinfo) },
	{ "curl_easy_strerror", offsetof(struct s3_curl, easy_strerror) },
	{ "curl_slist_append", offsetof(struct s3_curl, slist_append) },
	{ "curl_slist_free_all", offsetof(struct s3_curl, slist_free_all) },
};

static void
s3_curl_load(void)
{
	CURLcode (*global_init)(long);
	const char *e;
	void *h, *f;
	size_t i;

	if ((h = dlopen(S3_CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(s3_curl_why, sizeof(s3_curl_why), "%s (install "
		    "libcurl4): %s", S3_CURL_SONAME, e != NULL ? e :
		    "cannot be loaded");
		return;
	}
	for (i = 0; i < sizeof(s3_curl_syms) / sizeof(s3_curl_syms[0]); i++) {
		if ((f = dlsym(h, s3_curl_syms[i].name)) == NULL) {
			snprintf(s3_curl_why, sizeof(s3_curl_why), "%s has no "
			    "%s", S3_CURL_SONAME, s3_curl_syms[i].name);
			return;
		}
		/* a function pointer, stored where the table's entry is */
		memcpy((char *)&s3_curl_table + s3_curl_syms[i].off, &f,
		    sizeof(f));
	}
	if ((f = dlsym(h, "curl_global_init")) == NULL) {
		snprintf(s3_curl_why, sizeof(s3_curl_why), "%s has no "
		    "curl_global_init", S3_CURL_SONAME);
		return;
	}
	memcpy(&global_init, &f, sizeof(f));
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(s3_curl_why, sizeof(s3_curl_why), "%s: "
		    "curl_global_init failed", S3_CURL_SONAME);
		return;
	}
	s3_curl_ready = &s3_curl_table;
}

const struct s3_curl *
s3_curl_get(char *err, size_t errlen)
{
	pthread_once(&s3_curl_once, s3_curl_load);
	if (s3_curl_ready == NULL && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", s3_curl_why);
	return s3_curl_ready;
}
