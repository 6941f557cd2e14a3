/* ticket_heal.h - mend an index that lost commits in an OS crash */
#ifndef OAUTHMAIL_TICKET_HEAL_H
#define OAUTHMAIL_TICKET_HEAL_H

#include "ticket/ticket_status.h"

struct ticket_queue;

#define TICKET_BOOT_NAME "ticketq.boot"
#define TICKET_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* ticket_heal - before q's index is used (ticket_queue_store): when
 * DIR/ticketq.boot names another boot than this one, under the
 * exclusive queue lock rebuild a damaged index, index what the Maildir
 * has and the index lacks, then record this boot; the index is left
 * open (q->store) and the lock as it was (shared when none).  Sets
 * q->heal_armed when the record is this boot's.  TICKET_OK;
 * TICKET_ERR_TEMP (lock timeout, I/O) or TICKET_ERR_QUEUE with
 * error_r. */
enum ticket_status ticket_heal(struct ticket_queue *q, const char **error_r);

#endif
