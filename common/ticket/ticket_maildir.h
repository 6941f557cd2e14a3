/* ticket_maildir.h - the queue's Maildir: durable raw copies, first */
#ifndef OAUTHMAIL_TICKET_MAILDIR_H
#define OAUTHMAIL_TICKET_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/strbuf.h"

#define TICKET_HEADERS_MAX (256 * 1024) /* header block kept for the key */

/* One message on its way in: the temp file in tmp/ and what was
 * learnt while copying it. */
struct ticket_spool {
	char tmp_path[4096];	     /* its name (DIR/tmp/(unnamed) for a file
			      * without one: error texts only) */
	int fd;			     /* a file without a name (O_TMPFILE), open
			      * until linked or discarded; else -1 */
	uint64_t size;		     /* bytes stored */
	unsigned char body_hash[32]; /* SHA-256 after the first empty line */
	struct strbuf headers;	     /* the header block (capped) */
	int too_large;		     /* over max: nothing kept */
};

/* One stored message, for reindex. */
struct ticket_maildir_entry {
	char *path; /* DIR/new/NAME or DIR/cur/NAME */
	char *name; /* NAME */
	struct timespec mtime;
};

/* ticket_maildir_receive - copy in_fd to a new file in DIR/tmp
 * (O_EXCL, 0640), dropping a leading mbox "From " line and putting
 * prepend (may be NULL) first; fsync it.  With unnamed, a file without
 * a name where the system has them (O_TMPFILE; a named one elsewhere):
 * nothing to remove afterwards, nothing left by a crash.  Over max
 * bytes (0 = no limit) the file is removed and too_large set.  0, or
 * -1 with error_r and errno (ENOSPC, EIO, ...) and nothing left in
 * tmp/. */
int ticket_maildir_receive(const char *dir, int in_fd, const char *prepend,
			   uint64_t max, int unnamed, struct ticket_spool *sp,
			   const char **error_r);

/* ticket_maildir_open_spool - a new descriptor to read the spool's file
 * from its start, or -1 with errno */
int ticket_maildir_open_spool(const struct ticket_spool *sp);

/* ticket_maildir_link - the spool into DIR/new/NAME (link, so an
 * existing NAME is never replaced: *existed_r = 1), the temp file
 * removed; not durable until ticket_maildir_sync_new.  0, or -1 with
 * error_r and errno (the spool left in tmp/). */
int ticket_maildir_link(const char *dir, struct ticket_spool *sp,
			const char *name, int *existed_r, const char **error_r);

/* ticket_maildir_sync_new - fsync DIR/new: every link made there so
 * far is durable.  0, or -1 with error_r. */
int ticket_maildir_sync_new(const char *dir, const char **error_r);

/* ticket_maildir_commit - move the spool to DIR/new/NAME (link, so an
 * existing NAME is never replaced: *existed_r = 1), remove the temp
 * file, fsync new/.  0, or -1 with error_r and errno. */
int ticket_maildir_commit(const char *dir, struct ticket_spool *sp,
			  const char *name, int *existed_r,
			  const char **error_r);

/* ticket_maildir_discard - remove the temp file (if any), free buffers */
void ticket_maildir_discard(struct ticket_spool *sp);

/* ticket_maildir_store - store an in-memory message as DIR/new/NAME
 * the same durable way (our replies and notes).  0, or -1. */
int ticket_maildir_store(const char *dir, const char *name, const void *data,
			 size_t len, int *existed_r, const char **error_r);

/* ticket_maildir_list - every message in new/ and cur/, oldest first
 * (by modification time, then name).  0, or -1. */
int ticket_maildir_list(const char *dir, struct ticket_maildir_entry **list_r,
			size_t *count_r, const char **error_r);

/* ticket_maildir_list_free - free what ticket_maildir_list returned */
void ticket_maildir_list_free(struct ticket_maildir_entry *list, size_t count);

/* ticket_maildir_clean_tmp - remove files in tmp/ older than age seconds
 * (left by killed deliveries); returns how many */
int ticket_maildir_clean_tmp(const char *dir, time_t age);

#endif
