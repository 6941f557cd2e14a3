/*
 * fdio.c - the small pieces of descriptor I/O that every program and
 * plugin part needs: a monotonic deadline, a poll that survives
 * signals, and a write that finishes.  No buffering, no allocation.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdio.h"

long long fdio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fdio_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	long long left;
	int n;

	for (;;) {
		left = deadline - fdio_now_ms();
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 600000 ? 600000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int fdio_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
