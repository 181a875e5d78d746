/* worker: one thread, one libuv loop, its own listening sockets
 * (SO_REUSEPORT: the kernel spreads connections over the workers) and its own
 * ssh_bind.  A connection stays on the worker that accepted it.
 *
 * px_worker_start() binds every Listen address and starts the thread;
 * px_worker_reload() and px_worker_stop() may be called from any thread and
 * return at once; px_worker_join() waits for the thread after stop. */
#ifndef PX_WORKER_H
#define PX_WORKER_H

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <pthread.h>
#include <uv.h>

#include "proxy/config.h"

struct px_daemon;
struct px_conn;
struct px_reg_action;
struct px_worker_msg;
struct px_ppwait;

struct px_worker {
	int idx;
	struct px_daemon *d;
	pthread_t th;
	uv_loop_t loop;
	uv_async_t async;
	uv_idle_t reaper;               /* runs once after a retire or a stop request */
	uv_timer_t stop_timer;          /* shutdown deadline for sessions that linger */
	int nlisten;
	int lfd[PX_MAX_LISTEN];
	uv_poll_t lpoll[PX_MAX_LISTEN];
	ssh_bind bind;
	struct px_conn *conns;          /* live connections (list; worker.c only) */
	struct px_conn *dead;           /* finished, freed by the reaper */
	unsigned long nconns;           /* counter for connection ids */
	int nlive;
	int stopping;                   /* set on the loop after a stop request */
	int stop_rounds;                /* stop_timer expiries so far */
	unsigned seen_generation;       /* policy generation applied to live sessions */
	int req_stop, req_reload;       /* set by other threads (atomics) */
	pthread_mutex_t mbox_mu;        /* guards mbox: escort actions posted by
	                                 * other threads for this worker's sessions */
	struct px_worker_msg *mbox, **mbox_tail;
	struct px_ppwait *ppwait;       /* load balancers' connections waiting
	                                 * for their PROXY header (ppwait.c only) */
	int nppwait;
};

/* Opens the listening sockets and the ssh_bind, then starts the thread.
 * Returns PX_OK, or PX_EIO / PX_ESSH with a message in err. */
int px_worker_start(struct px_worker *w, struct px_daemon *d, int idx, char *err, size_t errlen);

/* Asks the worker to apply a reload to live sessions. */
void px_worker_reload(struct px_worker *w);

/* Asks the worker to stop accepting, end its sessions cleanly and exit. */
void px_worker_stop(struct px_worker *w);

/* Waits for the thread, then frees what the worker holds (not w itself). */
void px_worker_join(struct px_worker *w);

/* Seconds a stopping worker lets its sessions close cleanly before it
 * abandons the ones left (their recordings are still closed). */
#define PX_STOP_GRACE_MS 5000

/* The registry's post function for this worker's sessions (registry.h,
 * struct px_reg_owner, ud = the worker): queues a copy of a and wakes the
 * worker, which hands it to the session on its own loop
 * (px__conn_escort_apply).  Any thread. */
void px__worker_post(void *ud, const struct px_reg_action *a);

/* The worker alone links and unlinks connections in its lists; conn.c asks
 * it through these three calls. */

/* For conn.c: links the new connection c into the live list and counts it
 * live.  Returns its sequence number on this worker (for its id). */
unsigned long px__worker_adopt(struct px_worker *w, struct px_conn *c);

/* For conn.c: a connection began closing its handles: no longer live (it
 * stays on the live list until px__worker_retire). */
void px__worker_closing(struct px_worker *w);

/* For conn.c: moves c from the live list to the dead list, freed by the
 * reaper on the next loop iteration (the reaper keeps the loop from blocking
 * until it has run, so a stopping worker notices its last connection). */
void px__worker_retire(struct px_worker *w, struct px_conn *c);

#endif
