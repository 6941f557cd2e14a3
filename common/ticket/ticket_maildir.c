/*
 * ticket_maildir.c - the raw copy of every message, made durable before
 * anything else happens to it.
 *
 * Delivery follows maildir(5) and Dovecot: a unique file in tmp/
 * created O_EXCL|O_NOFOLLOW, the whole message written and fsync()ed,
 * then moved into new/ and the directory fsync()ed.  Only then may the
 * caller index the message and exit 0.
 *
 * The name in new/ is the message's dedup key (same Message-ID and
 * body hash => same name), and the move is link(2), which never
 * replaces: a retried delivery after a crash finds its earlier copy
 * (EEXIST) instead of making a second one.  While copying we drop a
 * leading mbox "From " line (local(8) adds one), hash the body
 * (SHA-256, GLib: no OpenSSL start-up cost per delivery, see
 * ticket_id.c for the figures) and keep the
 * header block (capped) for the key.
 *
 * Failure modes: every I/O error (ENOSPC, EIO, EDQUOT, EFBIG past a
 * file-size limit) is returned with errno intact and the temp file
 * removed, so the caller can exit 75 and the MTA retries.  A message over the size limit is reported
 * as too_large, not as an error.  Killed deliveries leave files in
 * tmp/ only; ticket_maildir_clean_tmp removes them after 36 hours.
 *
 * Where the system has them, the temp file has no name at all
 * (O_TMPFILE, linked into new/ by linkat through /proc/self/fd): a
 * killed delivery leaves nothing, and there is no name to create and
 * remove per message (ext4 without a journal scans past every recently
 * deleted inode at each create: 12% of a delivery's time, measured with
 * perf).  A reply held while sendmail runs keeps a name (named_hold).
 */
#include "oauthmail-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_ioerr.h"
#include "ticket/ticket_maildir.h"

#define COPY_CHUNK (64 * 1024)

struct copy_state {
	GChecksum *body;
	int in_headers;
	size_t line_len;
	int from_line; /* 1 while skipping a leading "From " line */
	int first;     /* nothing seen yet */
	char lead[5];
	size_t lead_len;
};

static int open_tmp(const char *dir, char *path, size_t size)
{
	struct timeval tv;
	unsigned char rnd[4];
	char host[64];
	int fd, tries;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, "/:")] = '\0';
	for (tries = 0; tries < 50; tries++) {
		gettimeofday(&tv, NULL);
		if (ticket_id_random(rnd, sizeof(rnd)) < 0)
			memset(rnd, tries, sizeof(rnd));
		snprintf(path, size,
			 "%s/tmp/%ld.M%06ldP%ldR%02x%02x%02x%02x.%s", dir,
			 (long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
			 rnd[0], rnd[1], rnd[2], rnd[3], host);
		fd = open(path,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0640);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* The /proc name of an unnamed spool file (linkat, reopening). */
static void proc_path(const struct ticket_spool *sp, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", sp->fd);
}

/* A file without a name in DIR/tmp (O_TMPFILE): no create and unlink
 * of a name per message (ext4 without a journal scans past every
 * recently deleted inode at each create), nothing left by a crash.
 * -1 where there are none (NFS, no /proc to link it by): the caller
 * makes a named one. */
static int open_unnamed(const char *dir, struct ticket_spool *sp)
{
	int fd;

	if (access("/proc/self/fd", X_OK) < 0)
		return -1;
	snprintf(sp->tmp_path, sizeof(sp->tmp_path), "%s/tmp", dir);
	fd = open(sp->tmp_path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	sp->fd = fd;
	/* for error texts: "write DIR/tmp/(unnamed): No space left..." */
	snprintf(sp->tmp_path, sizeof(sp->tmp_path), "%s/tmp/(unnamed)", dir);
	return fd;
}

int ticket_maildir_open_spool(const struct ticket_spool *sp)
{
	char path[64];

	if (sp->fd < 0)
		return open(sp->tmp_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	proc_path(sp, path, sizeof(path));
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Header block: keep it (capped) and find the first empty line. */
static size_t scan_headers(struct copy_state *cs, struct ticket_spool *sp,
			   const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && cs->in_headers; i++) {
		if (sp->headers.len < TICKET_HEADERS_MAX)
			strbuf_append(&sp->headers, p + i, 1);
		if (p[i] == '\n') {
			if (cs->line_len == 0)
				cs->in_headers = 0;
			cs->line_len = 0;
		} else if (p[i] != '\r') {
			cs->line_len++;
		}
	}
	return i;
}

static int store_bytes(int fd, struct copy_state *cs, struct ticket_spool *sp,
		       const char *p, size_t len)
{
	size_t h = 0;

	if (len == 0)
		return 0;
	if (fdio_write_all(fd, p, len) < 0)
		return -1;
	sp->size += len;
	if (cs->in_headers)
		h = scan_headers(cs, sp, p, len);
	if (h < len)
		g_checksum_update(cs->body, (const guchar *)p + h, len - h);
	return 0;
}

/* Drop a leading "From " line: look at the first 5 bytes, then skip to
 * the end of that line.  Returns how much of p was consumed. */
static size_t skip_from_line(struct copy_state *cs, const char *p, size_t len,
			     int fd, struct ticket_spool *sp, int *err)
{
	size_t i = 0;
	const char *nl;

	while (cs->first && i < len && cs->lead_len < 5)
		cs->lead[cs->lead_len++] = p[i++];
	if (cs->first && cs->lead_len == 5) {
		cs->first = 0;
		if (memcmp(cs->lead, "From ", 5) == 0)
			cs->from_line = 1;
		else if (store_bytes(fd, cs, sp, cs->lead, 5) < 0)
			*err = 1;
	}
	if (cs->from_line && i < len) {
		nl = memchr(p + i, '\n', len - i);
		if (nl == NULL)
			return len;
		cs->from_line = 0;
		i = (size_t)(nl - p) + 1;
	}
	return i;
}

static int copy_in(int in_fd, int fd, struct copy_state *cs,
		   struct ticket_spool *sp, uint64_t max)
{
	char *buf = malloc(COPY_CHUNK);
	ssize_t n;
	size_t used;
	int err = 0;

	if (buf == NULL)
		return -1;
	for (;;) {
		n = read(in_fd, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used = skip_from_line(cs, buf, (size_t)n, fd, sp, &err);
		if (err ||
		    store_bytes(fd, cs, sp, buf + used, (size_t)n - used) < 0) {
			n = -1;
			break;
		}
		if (max > 0 && sp->size > max) {
			sp->too_large = 1;
			break;
		}
	}
	free(buf);
	/* fewer than 5 bytes in all: they are the message */
	if (n == 0 && cs->first && cs->lead_len > 0 &&
	    store_bytes(fd, cs, sp, cs->lead, cs->lead_len) < 0)
		n = -1;
	return n < 0 ? -1 : 0;
}

static int receive_fail(int fd, struct ticket_spool *sp, const char *what,
			const char **error_r)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	if (sp->fd < 0)
		unlink(sp->tmp_path);
	errno = saved;
	*error_r = errorf("%s %s: %s", what, sp->tmp_path,
			  ticket_ioerr_text(errno));
	sp->tmp_path[0] = '\0';
	sp->fd = -1;
	return -1;
}

static int digests_init(struct copy_state *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->in_headers = 1;
	cs->first = 1;
	cs->body = g_checksum_new(G_CHECKSUM_SHA256);
	return cs->body == NULL ? -1 : 0;
}

static void digests_done(struct copy_state *cs, struct ticket_spool *sp)
{
	gsize n = sizeof(sp->body_hash);

	if (cs->body == NULL)
		return;
	g_checksum_get_digest(cs->body, sp->body_hash, &n);
	g_checksum_free(cs->body);
	cs->body = NULL;
}

/* Stamp the file with the time to the nanosecond: the kernel's file
 * times are coarse (a few ms), and back-to-back deliveries would tie,
 * while reindex replays the Maildir in file-time order (a reply replayed
 * before the message it answers would open a ticket of its own).  A
 * failure leaves the kernel's time: no worse than without. */
static void stamp_mtime(int fd)
{
	struct timespec t[2] = {{0, UTIME_OMIT}, {0, 0}};

	if (clock_gettime(CLOCK_REALTIME, &t[1]) == 0)
		(void)futimens(fd, t);
}

int ticket_maildir_receive(const char *dir, int in_fd, const char *prepend,
			   uint64_t max, int unnamed, struct ticket_spool *sp,
			   const char **error_r)
{
	struct copy_state cs;
	int fd = -1, ret;

	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
	strbuf_init(&sp->headers, TICKET_HEADERS_MAX);
	if (unnamed)
		fd = open_unnamed(dir, sp);
	if (fd < 0)
		fd = open_tmp(dir, sp->tmp_path, sizeof(sp->tmp_path));
	if (fd < 0)
		return receive_fail(-1, sp, "create", error_r);
	if (digests_init(&cs) < 0) {
		digests_done(&cs, sp);
		errno = ENOMEM;
		return receive_fail(fd, sp, "hash", error_r);
	}
	ret = 0;
	if (prepend != NULL)
		ret = store_bytes(fd, &cs, sp, prepend, strlen(prepend));
	if (ret == 0)
		ret = copy_in(in_fd, fd, &cs, sp, max);
	digests_done(&cs, sp);
	if (ret < 0)
		return receive_fail(fd, sp, "write", error_r);
	if (sp->too_large) {
		close(fd);
		if (sp->fd < 0)
			unlink(sp->tmp_path);
		sp->tmp_path[0] = '\0';
		sp->fd = -1;
		return 0;
	}
	stamp_mtime(fd);
	if (fsync(fd) < 0)
		return receive_fail(fd, sp, "fsync", error_r);
	if (sp->fd >= 0) /* unnamed: open until it is linked */
		return 0;
	if (close(fd) < 0)
		return receive_fail(-1, sp, "close", error_r);
	return 0;
}

/* The spool's file gone from tmp/ (unlinked, or closed if unnamed). */
static void discard_file(struct ticket_spool *sp)
{
	if (sp->tmp_path[0] != '\0' && sp->fd >= 0)
		close(sp->fd);
	else if (sp->tmp_path[0] != '\0')
		unlink(sp->tmp_path);
	sp->tmp_path[0] = '\0';
	sp->fd = -1;
}

int ticket_maildir_link(const char *dir, struct ticket_spool *sp,
			const char *name, int *existed_r, const char **error_r)
{
	char path[4096 + 256], from[64];
	int saved, r;

	*existed_r = 0;
	snprintf(path, sizeof(path), "%s/new/%s", dir, name);
	if (sp->fd >= 0) {
		proc_path(sp, from, sizeof(from));
		r = linkat(AT_FDCWD, from, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
	} else {
		r = link(sp->tmp_path, path);
	}
	if (r < 0) {
		if (errno != EEXIST) {
			saved = errno;
			*error_r = errorf("link %s: %s", path, strerror(errno));
			errno = saved;
			return -1;
		}
		*existed_r = 1;
	}
	discard_file(sp);
	return 0;
}

int ticket_maildir_sync_new(const char *dir, const char **error_r)
{
	char newdir[4096 + 8];

	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	return safefile_fsync_dir(newdir, error_r);
}

int ticket_maildir_commit(const char *dir, struct ticket_spool *sp,
			  const char *name, int *existed_r,
			  const char **error_r)
{
	if (ticket_maildir_link(dir, sp, name, existed_r, error_r) < 0)
		return -1;
	return ticket_maildir_sync_new(dir, error_r);
}

void ticket_maildir_discard(struct ticket_spool *sp)
{
	discard_file(sp);
	strbuf_free(&sp->headers);
}

int ticket_maildir_store(const char *dir, const char *name, const void *data,
			 size_t len, int *existed_r, const char **error_r)
{
	struct ticket_spool sp;
	int fd;

	memset(&sp, 0, sizeof(sp));
	sp.fd = -1;
	strbuf_init(&sp.headers, 0);
	fd = open_tmp(dir, sp.tmp_path, sizeof(sp.tmp_path));
	if (fd < 0)
		return receive_fail(-1, &sp, "create", error_r);
	if (fdio_write_all(fd, data, len) < 0)
		return receive_fail(fd, &sp, "write", error_r);
	stamp_mtime(fd);
	if (fsync(fd) < 0)
		return receive_fail(fd, &sp, "fsync", error_r);
	if (close(fd) < 0)
		return receive_fail(-1, &sp, "close", error_r);
	if (ticket_maildir_commit(dir, &sp, name, existed_r, error_r) < 0) {
		ticket_maildir_discard(&sp);
		return -1;
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct ticket_maildir_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int list_add(struct ticket_maildir_entry **list, size_t *n, size_t *cap,
		    const char *path, const char *name, const struct stat *st)
{
	struct ticket_maildir_entry *e;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;

		e = realloc(*list, ncap * sizeof(*e));
		if (e == NULL)
			return -1;
		*list = e;
		*cap = ncap;
	}
	e = &(*list)[*n];
	e->path = strdup(path);
	e->name = strdup(name);
	e->mtime = st->st_mtim;
	if (e->path == NULL || e->name == NULL) {
		free(e->path);
		free(e->name);
		return -1;
	}
	(*n)++;
	return 0;
}

static int list_dir(const char *dir, const char *sub,
		    struct ticket_maildir_entry **list, size_t *n, size_t *cap,
		    const char **error_r)
{
	char path[4096 + 512];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((d = opendir(path)) == NULL) {
		*error_r = errorf("opendir %s: %s", path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (list_add(list, n, cap, path, de->d_name, &st) < 0) {
			*error_r = "out of memory";
			ret = -1;
		}
	}
	closedir(d);
	return ret;
}

int ticket_maildir_list(const char *dir, struct ticket_maildir_entry **list_r,
			size_t *count_r, const char **error_r)
{
	struct ticket_maildir_entry *list = NULL;
	size_t n = 0, cap = 0;

	if (list_dir(dir, "new", &list, &n, &cap, error_r) < 0 ||
	    list_dir(dir, "cur", &list, &n, &cap, error_r) < 0) {
		ticket_maildir_list_free(list, n);
		return -1;
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), entry_cmp);
	*list_r = list;
	*count_r = n;
	return 0;
}

void ticket_maildir_list_free(struct ticket_maildir_entry *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(list[i].path);
		free(list[i].name);
	}
	free(list);
}

int ticket_maildir_clean_tmp(const char *dir, time_t age)
{
	char path[4096 + 512];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int count = 0;

	snprintf(path, sizeof(path), "%s/tmp", dir);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/tmp/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime + age < now && unlink(path) == 0)
			count++;
	}
	closedir(d);
	return count;
}
