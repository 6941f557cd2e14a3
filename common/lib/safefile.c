/*
 * safefile.c - write files so a crash never leaves half a file, and
 * read files without following links or swallowing unbounded data.
 *
 * Writes go to a fresh temp file in the target's directory, created
 * with O_EXCL and the final mode (never the ambient umask), are
 * fsync()ed, renamed over the target and the directory is fsync()ed:
 * after 0 is returned the new content survives a power cut, and at no
 * moment does a reader see a partial file.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"

void safefile_dirname(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		snprintf(buf, size, ".");
		return;
	}
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1;
	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
}

int safefile_fsync_dir(const char *dir, const char **error_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int saved;

	if (fd < 0) {
		*error_r = errorf("open(%s): %s", dir, strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		*error_r = errorf("fsync(%s): %s", dir, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int open_temp(const char *path, mode_t mode, char *tmp, size_t size)
{
	struct timespec ts;
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(tmp, size, "%s.tmp.%ld.%ld.%d", path, (long)getpid(),
			 (long)ts.tv_nsec, tries);
		fd = open(tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int safefile_own_like(int fd, const char *dir)
{
	struct stat dst, fst;

	if (stat(dir, &dst) < 0)
		return -1;
	if (geteuid() != 0)
		return 0;
	if (fstat(fd, &fst) == 0 && fst.st_uid == dst.st_uid &&
	    fst.st_gid == dst.st_gid)
		return 0;
	return fchown(fd, dst.st_uid, dst.st_gid);
}

int safefile_write(const char *path, const void *data, size_t len, mode_t mode,
		   int own_like_dir, const char **error_r)
{
	char tmp[4096 + 64], dir[4096];
	int fd, saved;

	safefile_dirname(path, dir, sizeof(dir));
	fd = open_temp(path, mode, tmp, sizeof(tmp));
	if (fd < 0) {
		*error_r = errorf("create temp file for %s: %s", path,
				  strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) < 0 ||
	    (own_like_dir && safefile_own_like(fd, dir) < 0) ||
	    fdio_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		*error_r = errorf("write %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		*error_r = errorf("rename %s: %s", path, strerror(errno));
		return -1;
	}
	return safefile_fsync_dir(dir, error_r);
}

static int read_fd(int fd, const char *path, size_t max, struct strbuf *out,
		   const char **error_r)
{
	char buf[8192];
	ssize_t n;
	int ret = -1;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = errorf("read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			ret = 0;
			break;
		}
		if (out->len + (size_t)n > max ||
		    strbuf_append(out, buf, (size_t)n) < 0) {
			errno = EFBIG;
			*error_r =
				errorf("%s: larger than %zu bytes", path, max);
			break;
		}
	}
	wipe(buf, sizeof(buf));
	return ret;
}

int safefile_read(const char *path, size_t max, struct strbuf *out,
		  const char **error_r)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		*error_r = errorf("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*error_r = errorf("%s: not a regular file", path);
		return -1;
	}
	ret = read_fd(fd, path, max, out, error_r);
	close(fd);
	return ret;
}
