/* test_fdio.c - the monotonic clock, poll with a deadline (also across
 * a signal), complete writes (through a full pipe), and their error
 * returns */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "testlib.h"

static void test_clock(void)
{
	long long a = fdio_now_ms(), b;

	usleep(20000);
	b = fdio_now_ms();
	check_true("clock moves forward", b >= a + 15);
	check_true("clock is milliseconds", b - a < 5000);
}

static void test_wait(void)
{
	int sv[2];
	long long start;

	check_int("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	start = fdio_now_ms();
	check_int("nothing to read: timed out",
		  fdio_wait(sv[0], POLLIN, start + 50), 0);
	check_true("waited until the deadline", fdio_now_ms() >= start + 45);
	check_int("deadline already past",
		  fdio_wait(sv[0], POLLIN, start - 1000), 0);
	check_int("writable at once",
		  fdio_wait(sv[0], POLLOUT, fdio_now_ms() + 1000), 1);
	check_int("write", (int)write(sv[1], "x", 1), 1);
	check_int("readable", fdio_wait(sv[0], POLLIN, fdio_now_ms() + 1000),
		  1);
	close(sv[0]);
	close(sv[1]);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* a signal in the middle of the wait: EINTR is retried, the deadline
 * still holds */
static void test_wait_eintr(void)
{
	struct sigaction sa;
	struct itimerval it;
	long long start;
	int sv[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: poll fails with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 20000;
	check_int("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	start = fdio_now_ms();
	setitimer(ITIMER_REAL, &it, NULL);
	check_int("interrupted, then timed out",
		  fdio_wait(sv[0], POLLIN, start + 200), 0);
	check_true("waited past the signal", fdio_now_ms() >= start + 190);
	signal(SIGALRM, SIG_DFL);
	close(sv[0]);
	close(sv[1]);
}

/* write_all into a pipe far larger than its buffer, drained by a child */
static void test_write_all(void)
{
	size_t len = 1 << 20, got = 0;
	char *data = malloc(len), buf[65536];
	int p[2], status = 0, ok = 1;
	pid_t pid;
	ssize_t n;
	size_t i;

	if (data == NULL || pipe(p) < 0) {
		check_true("setup", 0);
		free(data);
		return;
	}
	for (i = 0; i < len; i++)
		data[i] = (char)(i * 7);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(fdio_write_all(p[1], data, len) == 0 ? 0 : 1);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)n && ok; i++)
			ok = buf[i] == (char)((got + i) * 7);
		got += (size_t)n;
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	check_true("writer exited 0",
		   WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_int("every byte arrived", (long long)got, (long long)len);
	check_true("in order", ok);
	free(data);
}

static void test_write_errors(void)
{
	int p[2];

	check_int("nothing to write", fdio_write_all(-1, "", 0), 0);
	errno = 0;
	check_int("bad fd", fdio_write_all(-1, "x", 1), -1);
	check_int("errno EBADF", errno, EBADF);
	check_int("pipe", pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	check_int("reader gone", fdio_write_all(p[1], "x", 1), -1);
	check_int("errno EPIPE", errno, EPIPE);
	close(p[1]);
}

int main(void)
{
	test_clock();
	test_wait();
	test_wait_eintr();
	test_write_all();
	test_write_errors();
	return test_done("test_fdio");
}
