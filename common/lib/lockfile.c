/*
 * lockfile.c - wait for an flock(2) lock, but not forever.
 *
 * Processes that share a lock file (Postfix smtp processes refreshing
 * one account's token, deliveries and a reindex of one ticket queue)
 * must never hang on it: a holder that is stuck would otherwise stall
 * every mail after it.  So the lock is tried without blocking, again
 * every few milliseconds, against a deadline on the monotonic clock (a
 * clock step does not shorten or stretch the wait).  Signals neither
 * end the wait early nor make it fail: EINTR is retried.  The caller
 * opens the file (its mode, flags and error messages are its own) and
 * releases the lock by closing it.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <sys/file.h>
#include <time.h>

#include "lib/fdio.h"
#include "lib/lockfile.h"

#define RETRY_MS 10

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int lockfile_wait(int fd, int how, long timeout_ms)
{
	long long deadline = fdio_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	long long left;

	while (flock(fd, how | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		left = deadline - fdio_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pause_ms(left < RETRY_MS ? (long)left : RETRY_MS);
	}
	return 0;
}
