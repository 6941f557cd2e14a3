/* fdio.h - deadlines, waiting and complete writes on file descriptors */
#ifndef OAUTHMAIL_FDIO_H
#define OAUTHMAIL_FDIO_H

#include <stddef.h>

/* fdio_now_ms - the monotonic clock in milliseconds (for deadlines) */
long long fdio_now_ms(void);

/* fdio_wait - poll fd for events until deadline (an fdio_now_ms()
 * value); EINTR is retried.  1 ready, 0 timed out, -1 error (errno). */
int fdio_wait(int fd, short events, long long deadline);

/* fdio_write_all - write all of (data, len), retrying after EINTR and
 * short writes; 0, or -1 with errno (callers ignore SIGPIPE) */
int fdio_write_all(int fd, const void *data, size_t len);

#endif
