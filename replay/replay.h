/*
 * replay.h: escort-replay's commands.  Each command is a function taking
 * the store directory and its own arguments (argv[0] is the command name)
 * and returning the process exit status: 0 success, 1 a negative answer
 * (verification failed, nothing found), 2 usage or operational error.
 * Commands print their results to stdout and errors to stderr prefixed
 * with "escort-replay: ".
 */
#ifndef ESCORT_REPLAY_H
#define ESCORT_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct replay_cmd {
	const char *name;
	const char *usage;
	int (*run)(const char *store, int argc, char **argv);
};

int replay_verify(const char *store, int argc, char **argv);
int replay_list(const char *store, int argc, char **argv);
int replay_cat(const char *store, int argc, char **argv);
int replay_follow(const char *store, int argc, char **argv);
int replay_play(const char *store, int argc, char **argv);
int replay_commands(const char *store, int argc, char **argv);
int replay_files(const char *store, int argc, char **argv);
int replay_export(const char *store, int argc, char **argv);
int replay_screen(const char *store, int argc, char **argv);
int replay_extract(const char *store, int argc, char **argv);
int replay_audit(const char *store, int argc, char **argv);
int replay_search(const char *store, int argc, char **argv);
int replay_anchor(const char *store, int argc, char **argv);

struct tr;

/* Opens session id of the store for reading; on failure prints why
 * (prefixed by cmd) and returns the exit status (1 or 2), else 0. */
int replay_open(const char *store, const char *cmd, const char *id,
    struct tr **out);

/* Sorted ids of the sessions in STORE/sessions (malloc'd; free with
 * replay_free_ids).  Returns 0 (an absent directory is an empty store) or
 * -1 with errno set. */
int replay_session_ids(const char *store, char ***ids, size_t *n);
void replay_free_ids(char **ids, size_t n);

/* Opens session id of the store quietly.  Returns a REC_E* code. */
int replay_open_quiet(const char *store, const char *id, struct tr **out);

/* The user and target names of r's META event ("" when absent). */
void replay_meta(struct tr *r, char *user, size_t usz, char *target,
    size_t tsz);

/* Writes all n bytes to standard output.  Returns 0 or -1 (errno set). */
int replay_write_all(const uint8_t *p, size_t n);

/* Prints "escort-replay: " and the formatted message to stderr. */
void replay_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formats ns since the epoch as "YYYY-MM-DDTHH:MM:SSZ" into out (>= 21). */
void replay_time(uint64_t wall_ns, char *out, size_t outsz);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) or "@SECONDS".
 * Returns 0 and ns since the epoch in *ns, or -1. */
int replay_parse_time(const char *s, uint64_t *ns);

/* Writes s as a JSON string (with quotes) to f. */
void replay_json_str(FILE *f, const char *s);

/* Writes p[0..n) as a JSON string: valid UTF-8 kept, control characters
 * escaped, bytes that are not UTF-8 as U+FFFD (lossy: see base64). */
void replay_json_bytes(FILE *f, const uint8_t *p, size_t n);

/* Writes p[0..n) base64-encoded as a JSON string (lossless). */
void replay_json_base64(FILE *f, const uint8_t *p, size_t n);

#endif
