/* test_listener.c - UNIX and loopback TCP listening sockets, systemd's */
#include "oauthmail-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/listener.h"
#include "testlib.h"

/* connects - a client can connect to the UNIX socket at path */
static int connects(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	int ok;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_unix(const char *dir)
{
	char path[256], tmp[300];
	const char *error = NULL;
	struct stat st;
	int fd, fd2;

	snprintf(path, sizeof(path), "%s/s", dir);
	fd = listener_unix(path, 0660, NULL, &error);
	check_true("unix: listening", fd >= 0 && listener_is_listening(fd));
	check_true("unix: connects", connects(path));
	check_true("unix: mode",
		   stat(path, &st) == 0 && (st.st_mode & 0777) == 0660);
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	check_true("unix: no temporary name left", access(tmp, F_OK) < 0);
	fd2 = listener_unix(path, 0600, NULL, &error); /* a stale socket */
	check_true("unix: replaces a socket", fd2 >= 0 && connects(path));
	close(fd);
	close(fd2);
	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	check_int("unix: a file is never replaced",
		  listener_unix(path, 0600, NULL, &error), -1);
	check_true("unix: says so",
		   strstr(error, "exists and is not a socket") != NULL);
	unlink(path);
	check_int("unix: unknown group",
		  listener_unix(path, 0600, "no-such-group-oauthmail", &error),
		  -1);
	check_true("unix: nothing left after a failure",
		   access(path, F_OK) < 0 && access(tmp, F_OK) < 0);
}

static void test_inet(void)
{
	const char *error = NULL;
	int fd = listener_inet("127.0.0.1", "0", 0, &error);

	check_true("inet: loopback listens", fd >= 0 && listener_port(fd) > 0);
	if (fd >= 0)
		close(fd);
	fd = listener_inet("::1", "0", 0, &error);
	if (fd >= 0) /* no IPv6 on some builders */
		close(fd);
	check_int("inet: not loopback",
		  listener_inet("0.0.0.0", "0", 0, &error), -1);
	check_true("inet: says how", strstr(error, "--any-address") != NULL);
	check_int("inet: bad port", listener_inet("127.0.0.1", "x", 0, &error),
		  -1);
}

static void test_systemd(void)
{
	char pid[32];

	unsetenv("LISTEN_PID");
	check_int("systemd: none", listener_systemd(), -1);
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	check_int("systemd: another process's", listener_systemd(), -1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	check_int("systemd: ours", listener_systemd(), 3);
	check_true("systemd: variables removed", getenv("LISTEN_FDS") == NULL);
}

int main(void)
{
	char dir[] = "/tmp/test_listener.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return 99;
	test_unix(dir);
	test_inet();
	test_systemd();
	rmdir(dir);
	return test_done("test_listener");
}
