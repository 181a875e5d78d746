/*
 * recd_worker: escort-recorder's worker threads (Workers N in
 * escort-recorder.conf(5)).
 *
 * With N > 1 each worker is a thread with its own libuv loop and its own
 * struct recd (connections, sessions, tick, audit sinks).  The main thread
 * keeps the listeners, the signals, the tree-head timer, the Witness and
 * each connection until its first frame; a HELLO then hands the connection
 * (socket, TLS state, unread bytes) to the worker its session lives on:
 *
 *	session id -> worker recd_pool_index(id) = FNV-1a(id) mod N, always;
 *	a new session goes to the worker with the fewest sessions, which
 *	draws the id until it maps to that worker (recd_pool_mine).
 *
 * So one worker writes a session for the session's whole life (one writer
 * per session file, as with one loop), a resume reaches that worker
 * wherever it arrives, and sessions reopened at start-up are placed the
 * same way.  With N = 1 there is no pool: the main thread records every
 * session itself, as before workers existed.
 *
 * Shared between threads, and how:
 *   - the journal (Merkle log, tree heads, the heads in CLOSED receipts):
 *     its own mutex (journal.h); an entry is signed, written and synced
 *     under it, and so is a head, so entries and heads keep one order
 *     whatever thread appends.  A head's Witness command is started on the
 *     main loop (recd_pool_witness queues the line there);
 *   - the signer: read only (seal_sign makes a context per call);
 *   - the configuration: every worker has its own copy; SIGHUP hands each
 *     worker the new one (recd_pool_reload), which also reopens its audit
 *     sinks;
 *   - the session counts (MaxSessions, the choice of a worker): atomics.
 * A connection or a configuration travels through the worker's queue
 * (a mutex) and wakes it with uv_async_send.
 *
 * All functions are called on the main thread unless said otherwise.
 */
#ifndef RECORDER_RECD_WORKER_H
#define RECORDER_RECD_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/recd.h"

struct tlsl;
struct buf;

/* A connection in transit from the main loop to a worker: the socket (a
 * descriptor of its own), its TLS state and the bytes read but not yet
 * parsed (the HELLO and anything after it).  Owned by whoever holds it. */
struct recd_conn_move {
	struct recd_conn_move *next;
	int		 fd;
	int		 is_tcp;
	struct tlsl	*tls;
	uint8_t		*tlsbuf;
	uint8_t		*in;		/* malloc'ed, in_len bytes */
	size_t		 in_len;
	int		 reserved;	/* counts as a session of the worker
					   until its HELLO is handled */
	char		 name[192];
};

/* Creates the pool of n > 1 workers of d (loops, queues, audit sinks,
 * not yet running: sessions reopened at start-up are placed in them
 * first).  Returns 0 or -1 with err set. */
int	recd_pool_init(struct recd *d, unsigned n, char *err, size_t errlen);

/* Starts the worker threads.  Returns 0 or -1 with err set. */
int	recd_pool_run(struct recd *d, char *err, size_t errlen);

/* Shutdown: every worker closes its sessions (each with its END and signed
 * FINAL record) and connections, then its thread ends; returns once all
 * have.  No effect without a pool. */
void	recd_pool_stop(struct recd *d);

/* Frees the pool after recd_pool_stop (main loop closed). */
void	recd_pool_free(struct recd *d);

/* The struct recd that records session id: its worker's, or d itself
 * without a pool.  Any thread. */
struct recd *recd_pool_home(struct recd *d, const char *id);

/* 1 when session id belongs to d (a worker's or the pool-less main's). */
int	recd_pool_mine(const struct recd *d, const char *id);

/* The worker a new session goes to (the one with the fewest sessions,
 * counting it at once: recd_pool_unreserve gives the count back). */
unsigned recd_pool_pick(struct recd *d);

/* Gives back the count recd_pool_pick took for worker w (the connection
 * went away before the worker took it). */
void	recd_pool_unreserve(struct recd *d, unsigned w);

/* Any thread: a session appeared (+1) / went away (-1) on d; the count of
 * all sessions of the daemon (MaxSessions). */
void	recd_pool_count(struct recd *d, int delta);
unsigned recd_pool_sessions(const struct recd *d);

/* Hands mv to worker w (mv is the worker's from now on).  Returns 0, or -1
 * when the worker is gone (mv is then still the caller's). */
int	recd_pool_handoff(struct recd *d, unsigned w, struct recd_conn_move *mv);
/* Frees a move that nobody adopted, closing its socket (mv may not be
 * used after). */
void	recd_move_free(struct recd_conn_move *mv);

/* Worker index a resume of session id goes to. */
unsigned recd_pool_index(const struct recd *d, const char *id);

/* SIGHUP: every worker takes d->cfg and reopens its audit sinks. */
void	recd_pool_reload(struct recd *d);

/* Any thread: a tree head line for the Witness command, started on the
 * main loop (journal_head_cb; arg is the main struct recd). */
void	recd_pool_witness(void *arg, const char *line);

/* The number of workers (1 without a pool). */
unsigned recd_pool_size(const struct recd *d);

#endif
