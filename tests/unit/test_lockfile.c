/* test_lockfile.c - flock with a deadline: granted, shared, timed out,
 * not ended early by signals, errors passed through */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/lockfile.h"
#include "testlib.h"

static char path[] = "/tmp/test_lockfile.XXXXXX";
static volatile sig_atomic_t alarms;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* another open file description: flock conflicts even in one process */
static int open_again(void)
{
	return open(path, O_RDWR | O_CLOEXEC);
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

struct wait_case {
	const char *what;
	int held; /* how the first fd holds the lock (0: not at all) */
	int how;  /* what the second asks for */
	long timeout_ms;
	int ret;
	int err; /* errno when ret is -1 */
};

static const struct wait_case cases[] = {
	{"free, exclusive", 0, LOCK_EX, 0, 0, 0},
	{"free, shared", 0, LOCK_SH, 100, 0, 0},
	{"shared with shared", LOCK_SH, LOCK_SH, 0, 0, 0},
	{"exclusive vs exclusive", LOCK_EX, LOCK_EX, 60, -1, ETIMEDOUT},
	{"shared vs exclusive", LOCK_SH, LOCK_EX, 30, -1, ETIMEDOUT},
	{"exclusive vs shared", LOCK_EX, LOCK_SH, 30, -1, ETIMEDOUT},
	{"no wait at all", LOCK_EX, LOCK_EX, 0, -1, ETIMEDOUT},
};

static void test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct wait_case *c = &cases[i];
		int a = open_again(), b = open_again(), ret;
		long long start;

		if (c->held)
			check_int(c->what, lockfile_wait(a, c->held, 0), 0);
		start = now_ms();
		errno = 0;
		ret = lockfile_wait(b, c->how, c->timeout_ms);
		check_int(c->what, ret, c->ret);
		if (ret < 0) {
			check_int(c->what, errno, c->err);
			check_true(c->what, now_ms() - start >= c->timeout_ms);
		}
		close(a);
		close(b);
	}
}

/* the lock is granted once its holder lets go, before the deadline */
static void test_released(void)
{
	int a = open_again(), b = open_again();
	pid_t pid;

	lockfile_wait(a, LOCK_EX, 0);
	pid = fork();
	if (pid == 0) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
		_exit(0); /* closes the child's copy; a still holds it */
	}
	close(a); /* the parent's copy: the lock stays with the child */
	check_int("granted after release", lockfile_wait(b, LOCK_EX, 5000), 0);
	close(b);
	waitpid(pid, NULL, 0);
}

/* signals arriving while waiting neither fail nor shorten the wait */
static void test_signals(void)
{
	struct itimerval every = {{0, 5000}, {0, 5000}}, off;
	struct sigaction sa;
	int a = open_again(), b = open_again(), ret;
	long long start;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: calls see EINTR */
	sigaction(SIGALRM, &sa, NULL);
	lockfile_wait(a, LOCK_EX, 0);
	start = now_ms();
	setitimer(ITIMER_REAL, &every, NULL);
	ret = lockfile_wait(b, LOCK_EX, 80);
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	check_int("signals: still times out", ret, -1);
	check_int("signals: ETIMEDOUT", errno, ETIMEDOUT);
	check_true("signals: full wait", now_ms() - start >= 80);
	check_true("signals arrived", alarms > 0);
	close(a);
	close(b);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 99;
	close(fd);
	test_table();
	test_released();
	test_signals();
	check_int("bad fd", lockfile_wait(-1, LOCK_EX, 10), -1);
	check_int("bad fd: EBADF", errno, EBADF);
	unlink(path);
	return test_done("test_lockfile");
}
