/* lockfile.h - flock(2) with a deadline: the one lock wait of the tree
 * (the token cache's refresh lock, the ticket queue's lock) */
#ifndef OAUTHMAIL_LOCKFILE_H
#define OAUTHMAIL_LOCKFILE_H

/* lockfile_wait - flock(fd, how), how LOCK_EX or LOCK_SH, tried again
 * every 10 ms until it is granted or timeout_ms have passed (0: one
 * try).  EINTR is retried, never returned.  0; -1 with errno ETIMEDOUT
 * when the time ran out, else flock's own errno (EBADF, ENOLCK, ...). */
int lockfile_wait(int fd, int how, long timeout_ms);

#endif
