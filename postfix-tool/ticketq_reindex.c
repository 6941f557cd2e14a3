/*
 * ticketq_reindex.c - `ticketq reindex [--missing]`: rebuild tickets.db
 * from the Maildir (common/ticket/ticket_reindex.c does the work).
 *
 * A full rebuild takes the queue lock exclusive (deliveries wait, then
 * defer with 75); --missing runs beside deliveries under the shared
 * lock.  Exit 0; 2 when the index could not be rebuilt; 4 when some
 * messages could not be indexed (each one is logged: run it again).
 */
#include "oauthmail-config.h"

#include <stdio.h>

#include "lib/log.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reindex.h"
#include "ticketq.h"

static int reindex_opt(int c, const char *arg, void *vctx)
{
	(void)arg;
	if (c != 'm')
		return -1;
	*(int *)vctx = 1;
	return 0;
}

int tq_reindex(struct tq_cli *cli)
{
	static const struct option longopts[] = {
		{"queue", required_argument, NULL, 'Q'},
		{"missing", no_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char usage_text[] = "reindex [--missing]";
	struct ticket_reindex_tally t;
	struct ticket_queue *q = NULL;
	const char *error;
	int missing = 0, rc;

	if (tq_operands(cli,
			tq_parse_options(cli, usage_text, longopts, reindex_opt,
					 &missing),
			0, usage_text) < 0)
		return TQ_USAGE;
	/* a full rebuild exclusive: deliveries wait (then defer) */
	rc = missing ? tq_open(cli, &q)
		     : tq_open_as(cli, TICKET_LOCK_EXCLUSIVE, 0, &q);
	if (rc != TQ_OK)
		return rc;
	rc = TQ_OK;
	if (ticket_reindex(q, missing, &t, &error) != TICKET_OK) {
		log_error("%s", error);
		rc = TQ_QUEUE;
	}
	printf("%s: %lu messages indexed, %lu new tickets, %lu not filed, "
	       "%lu already indexed, %lu failed\n",
	       missing ? "reindex --missing" : "reindex", t.messages, t.tickets,
	       t.unfiled, t.duplicates, t.failed);
	ticket_queue_close(&q);
	return rc == TQ_OK && t.failed > 0 ? TQ_TEMP : rc;
}
