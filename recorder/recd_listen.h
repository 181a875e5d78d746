/*
 * recd_listen: escort-recorder's listening sockets, unix:PATH (mode 0660,
 * owned by the User when started as root) and tls://HOST:PORT.
 */
#ifndef RECORDER_RECD_LISTEN_H
#define RECORDER_RECD_LISTEN_H

#include "recorder/recd.h"

/* Opens the listener of cfg and adds it to d->listeners.  A stale unix
 * socket file (nobody accepting) is replaced; a live one or a file that is
 * not a socket is an error.  uid/gid (-1: unchanged) own the socket file.
 * Returns 0 or -1 with the reason in err. */
int	recd_listen_open(struct recd *d, const struct recd_listen_cfg *cfg,
	    int uid, int gid, char *err, size_t errlen);

/* Finds the open listener for spec ("unix:/x"), or NULL. */
struct recd_listener *recd_listen_find(struct recd *d, const char *spec);

/* Closes one listener (removing a unix socket file) / all of them. */
void	recd_listen_close(struct recd *d, struct recd_listener *l);
void	recd_listen_close_all(struct recd *d);

/* Marks all listeners (mark=1) / closes the still-marked ones. */
void	recd_listen_mark(struct recd *d, int mark);
void	recd_listen_sweep(struct recd *d);

/* Unmarks l (kept by a reload). */
void	recd_listen_keep(struct recd_listener *l);

#endif
