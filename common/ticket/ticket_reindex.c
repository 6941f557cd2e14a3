/*
 * ticket_reindex.c - rebuild tickets.db from the Maildir, which is the
 * truth.
 *
 * Full rebuild: under the exclusive queue lock (deliveries wait, then
 * defer with 75 after lock_timeout), every message in new/ and cur/ is
 * replayed oldest first (by file time) into tickets.db.reindex, with
 * attachments into files.reindex/; ticket numbers come out the same
 * (they are derived from the message and the HMAC key), our replies
 * and status notes are recognised by their signed headers.  The
 * consumers' state of the events in the old index (schema 1 or 2:
 * claims, leases, acknowledgements) is carried over, so a running lease
 * still holds and nothing acknowledged comes back; without an old index
 * every event is marked acknowledged (no flood of auto-answers).
 * Then the new index and files replace the old ones.
 *
 * Missing only: indexes Maildir files the index does not have (after a
 * crash between the Maildir copy and the index, or a failed index step
 * after `reply` sent mail); it runs beside deliveries.
 *
 * Both also remove files left in tmp/ by killed deliveries (> 36 h).
 *
 * Failure modes: a message that cannot be indexed is logged and
 * counted, the others go on; a Maildir that cannot be listed or an
 * index that cannot be built fails the whole run, and a full rebuild
 * then leaves the old index and files/ in place.  The swap itself is two
 * renames (files/, then tickets.db): should the second fail, files/ is
 * already the rebuilt one and the old index stays; run reindex again.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_maildir.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reindex.h"
#include "ticket/ticket_store.h"

#define TMP_AGE (36 * 3600)

static int replay(struct ticket_queue *q, struct ticket_reindex_tally *t,
		  const char **error_r)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_MAILDIR};
	struct ticket_maildir_entry *list;
	struct ticket_delivery d;
	const char *error;
	size_t i, n;

	if (ticket_maildir_list(q->cfg->dir, &list, &n, error_r) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		o.path = list[i].path;
		o.name = list[i].name;
		if (ticket_deliver(q, &o, &d, &error) != TICKET_OK) {
			log_error("%s: %s", list[i].name, error);
			t->failed++;
			continue;
		}
		if (d.outcome == TICKET_DUPLICATE) {
			t->duplicates++;
			continue;
		}
		t->messages++;
		t->tickets += d.new_ticket;
		t->unfiled += d.ticket == 0;
	}
	ticket_maildir_list_free(list, n);
	return 0;
}

static int remove_cb(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *path)
{
	nftw(path, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Carry over the events' claims, leases and acks; without an old index
 * every event is acknowledged. */
static void carry_claims(struct ticket_queue *q, const char *old_db)
{
	const char *error;

	if (access(old_db, F_OK) == 0 &&
	    ticket_store_carry_claims(q->store, old_db, &error) == 0)
		return;
	log_warn("no readable old index: all events marked as handled");
	ticket_store_claim_all(q->store, "reindex", &error);
}

/* A database's journal (and WAL files of queues made by older builds) */
static void unlink_sidecars(const char *path)
{
	static const char *const ext[] = {"-journal", "-wal", "-shm"};
	char side[4096 + 64];
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", path, ext[i]);
		unlink(side);
	}
}

static void unlink_db(const char *path)
{
	unlink_sidecars(path);
	unlink(path);
}

/* Replace tickets.db and files/ with the rebuilt ones. */
static int swap_in(struct ticket_queue *q, const char *new_db,
		   const char *new_files, const char **error_r)
{
	char db[4096 + 32], files[4096 + 32], old_files[4096 + 96];

	ticket_queue_path(q, TICKET_DB_NAME, db, sizeof(db));
	ticket_queue_path(q, "files", files, sizeof(files));
	snprintf(old_files, sizeof(old_files), "%s.old.%ld", files,
		 (long)getpid());
	if (rename(files, old_files) < 0 && errno != ENOENT)
		goto fail;
	if (rename(new_files, files) < 0 && errno != ENOENT)
		goto fail;
	remove_tree(old_files);
	/* a hot journal of the old index must never be played into the new */
	unlink_sidecars(db);
	if (rename(new_db, db) < 0)
		goto fail;
	return safefile_fsync_dir(q->cfg->dir, error_r);
fail:
	*error_r = errorf("replacing the index: %s", strerror(errno));
	return -1;
}

static int fsync_file(const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	r = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
	if (r < 0)
		*error_r = errorf("fsync %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

static int rebuild(struct ticket_queue *q, struct ticket_reindex_tally *t,
		   const char **error_r)
{
	char new_db[4096 + 32], old_db[4096 + 32];

	ticket_queue_path(q, TICKET_DB_NAME ".reindex", new_db, sizeof(new_db));
	ticket_queue_path(q, TICKET_DB_NAME, old_db, sizeof(old_db));
	ticket_queue_path(q, "files.reindex", q->files_root,
			  sizeof(q->files_root));
	unlink_db(new_db);
	remove_tree(q->files_root);
	/* a private file until swapped in: no syncs per message, one
	 * fsync of the whole at the end */
	if (ticket_store_open(new_db, q->cfg->busy_timeout, 1, &q->store,
			      error_r) != TICKET_OK ||
	    ticket_store_unsynced(q->store, error_r) < 0 ||
	    replay(q, t, error_r) < 0) {
		ticket_store_close(&q->store);
		return -1;
	}
	carry_claims(q, old_db);
	ticket_store_close(&q->store);
	unlink_sidecars(new_db); /* committed: all is in new_db */
	if (fsync_file(new_db, error_r) < 0)
		return -1;
	return swap_in(q, new_db, q->files_root, error_r);
}

enum ticket_status ticket_reindex(struct ticket_queue *q, int missing,
				  struct ticket_reindex_tally *t,
				  const char **error_r)
{
	int r;

	memset(t, 0, sizeof(*t));
	r = missing ? replay(q, t, error_r) : rebuild(q, t, error_r);
	/* the queue stays usable: attachments go to files/ again */
	ticket_queue_path(q, "files", q->files_root, sizeof(q->files_root));
	ticket_maildir_clean_tmp(q->cfg->dir, TMP_AGE);
	return r < 0 ? TICKET_ERR_QUEUE : TICKET_OK;
}
