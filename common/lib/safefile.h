/* safefile.h - durable, atomic file writes and bounded, safe reads */
#ifndef OAUTHMAIL_SAFEFILE_H
#define OAUTHMAIL_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;

/* safefile_own_like - as root, give fd the owner and group of dir (files
 * in token_dir belong to whoever the MTA runs as); 0, or -1 */
int safefile_own_like(int fd, const char *dir);
/* safefile_write - replace path with data, atomically and durably: a
 * temp file in the same directory (O_EXCL, the given mode), write,
 * fsync, rename over path, fsync the directory.  With own_like_dir the
 * file takes the owner and group of its directory (root admin writes,
 * postfix reads).  0, or -1 with error_r and errno set. */
int safefile_write(const char *path, const void *data, size_t len, mode_t mode,
		   int own_like_dir, const char **error_r);

/* safefile_read - read a regular file (O_NOFOLLOW) of at most max bytes
 * into out.  0; 1 when it does not exist; -1 with error_r. */
int safefile_read(const char *path, size_t max, struct strbuf *out,
		  const char **error_r);

/* safefile_fsync_dir - fsync a directory so a rename in it is durable */
int safefile_fsync_dir(const char *dir, const char **error_r);

/* safefile_dirname - directory part of path into buf (always NUL-ended) */
void safefile_dirname(const char *path, char *buf, size_t size);

#endif
