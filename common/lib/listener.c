/*
 * listener.c - listening sockets for our daemons.
 *
 * The token broker (oauthmail serve) and the LMTP service listen on a
 * UNIX socket of their own, on a TCP port (loopback only unless the
 * admin says otherwise: mail must not be accepted from the network by
 * accident), or on what systemd passes (LISTEN_FDS).  A UNIX socket is
 * created under a temporary name, given its group and mode, set to
 * listen and only then renamed into place: a client, a script or a
 * test that sees the path can connect at once.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/listener.h"
#include "lib/log.h"
#include "lib/number.h"

#define SD_LISTEN_FDS_START 3

static int set_group_mode(const char *path, mode_t mode, const char *group,
			  const char **error_r)
{
	struct group *gr;

	if (group != NULL) {
		gr = getgrnam(group);
		if (gr == NULL) {
			*error_r = errorf("no group %s", printable(group, 64));
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
			*error_r =
				errorf("chown %s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (chmod(path, mode) < 0) {
		*error_r = errorf("chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* fail_fd - close fd (and remove path), say why: -1 */
static int fail_fd(int fd, const char *path, const char *what,
		   const char **error_r)
{
	if (what != NULL)
		*error_r = errorf("%s: %s", what, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (path != NULL)
		unlink(path);
	return -1;
}

/* bind_unix - a socket listening on path, group and mode set */
static int bind_unix(const char *path, mode_t mode, const char *group,
		     const char **error_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return fail_fd(fd, NULL, path, error_r);
	if (set_group_mode(path, mode, group, error_r) < 0)
		return fail_fd(fd, path, NULL, error_r);
	if (listen(fd, SOMAXCONN) < 0)
		return fail_fd(fd, path, path, error_r);
	return fd;
}

int listener_unix(const char *path, mode_t mode, const char *group,
		  const char **error_r)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		*error_r = errorf("%s: socket path too long (at most %zu "
				  "bytes)",
				  printable(path, 64), sizeof(tmp) - 12);
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		*error_r = errorf("%s exists and is not a socket", path);
		return -1;
	}
	fd = bind_unix(tmp, mode, group, error_r);
	if (fd >= 0 && rename(tmp, path) < 0) {
		*error_r = errorf("rename %s to %s: %s", tmp, path,
				  strerror(errno));
		return fail_fd(fd, tmp, NULL, error_r);
	}
	return fd;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)
				      ->sin_addr.s_addr) >>
			24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a);
	}
	return 0;
}

/* bind_inet - a socket listening on ai, or -1 with error_r */
static int bind_inet(const struct addrinfo *ai, const char *host,
		     const char *port, const char **error_r)
{
	char what[300];
	int on = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			ai->ai_protocol);

	snprintf(what, sizeof(what), "%s port %s", printable(host, 128),
		 printable(port, 16));
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0)
		return fail_fd(fd, NULL, what, error_r);
	return fd;
}

int listener_inet(const char *host, const char *port, int any_address,
		  const char **error_r)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int r, fd;

	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		*error_r = errorf("%s port %s: %s", printable(host, 128),
				  printable(port, 16), gai_strerror(r));
		return -1;
	}
	if (!any_address && !is_loopback(ai->ai_addr)) {
		*error_r = errorf("%s is not a loopback address: to listen "
				  "there, say so with --any-address",
				  printable(host, 128));
		freeaddrinfo(ai);
		return -1;
	}
	fd = bind_inet(ai, host, port, error_r);
	freeaddrinfo(ai);
	return fd;
}

int listener_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int listener_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	unsigned long long v;

	if (pid == NULL || fds == NULL ||
	    number_parse(pid, 1, LLONG_MAX, &v) < 0 ||
	    v != (unsigned long long)getpid() ||
	    number_parse(fds, 1, INT_MAX, &v) < 0)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return SD_LISTEN_FDS_START;
}

int listener_is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}
