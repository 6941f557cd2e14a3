/* listener.h - listening sockets for our daemons: UNIX, loopback TCP, systemd */
#ifndef OAUTHMAIL_LISTENER_H
#define OAUTHMAIL_LISTENER_H

#include <sys/types.h>

/* listener_unix - a socket listening on path with the given mode (and
 * group, when not NULL), replacing a stale socket but never a file.
 * It is made under "path.PID" and renamed into place once listening,
 * so whoever sees path can connect, and never with another mode.
 * The fd, or -1 with error_r. */
int listener_unix(const char *path, mode_t mode, const char *group,
		  const char **error_r);

/* listener_inet - a TCP socket listening on host:port (port "0": one
 * the kernel picks, see listener_port).  A host that is not a loopback
 * address is refused unless any_address is set.  fd, or -1. */
int listener_inet(const char *host, const char *port, int any_address,
		  const char **error_r);

/* listener_port - the TCP port fd is bound to, or -1 */
int listener_port(int fd);

/* listener_systemd - the first socket systemd passed (LISTEN_PID is
 * ours and LISTEN_FDS at least 1), or -1; the variables are removed */
int listener_systemd(void);

/* listener_is_listening - fd is a listening socket (not Accept=yes) */
int listener_is_listening(int fd);

#endif
