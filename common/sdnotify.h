/*
 * sdnotify: the service manager's readiness protocol (sd_notify(3)), without
 * libsystemd.  When the environment names NOTIFY_SOCKET (a path, or an
 * abstract socket written "@name"), sdnotify_send() sends STATE, e.g.
 * "READY=1", as one datagram to it; without NOTIFY_SOCKET it does nothing.
 * The variable is left in place, so that each call of a daemon's life
 * (ready, reloading, stopping) reaches the manager.
 *
 * Returns ESC_OK (also when there is no NOTIFY_SOCKET), ESC_EINVAL for a
 * NOTIFY_SOCKET that is not a usable address, or ESC_EIO with errno set when
 * the socket or the send fails.  Thread-safe; allocates nothing.
 */
#ifndef ESCORT_SDNOTIFY_H
#define ESCORT_SDNOTIFY_H

int sdnotify_send(const char *state);

#endif
