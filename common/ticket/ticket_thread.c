/*
 * ticket_thread.c - which ticket a message belongs to, and why.
 *
 * The threading rules in one place (ticket_thread_decide walks them top
 * to bottom, first match wins):
 *
 *   1. our own reply or status note (recognised by its signed header
 *      before this is called): the ticket its signed Message-ID names,
 *      if that ticket exists, else none
 *   2. a loop (our own mail come back): none
 *   3. unparsed mail is never threaded: it opens a new ticket
 *   4. a bounce: the Message-IDs of the bounced message
 *   5. In-Reply-To, then References newest first: each checked as our
 *      own signed Message-ID (tq.<ticket>...: a client that drops the
 *      subject tag still threads) and as any stored Message-ID
 *   6. the message's own Message-ID (the same mail again with another
 *      body: a list footer, a second alias)
 *   7. the subject tag [#NNNNNN], in the decoded subject or else in the
 *      raw header (a decoder that loses text cannot lose the link), not
 *      for bounces, and only when the sender already takes part in that
 *      ticket (a stranger quoting a number opens a new ticket)
 *   8. else a customer opens a new ticket, a robot goes on none
 *
 * Classification (person or robot) is ticket_classify's; the lookups
 * are ticket_store's; this file only decides.
 *
 * Failure modes: an index lookup that fails stops the decision and is
 * returned as its class (TICKET_ERR_TEMP: busy, locked, I/O; else
 * TICKET_ERR_QUEUE), so the delivery rolls back and the MTA retries.
 */
#include "oauthmail-config.h"

#include <string.h>

#include "ticket/ticket_config.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_store.h"
#include "ticket/ticket_thread.h"

static int failed(struct ticket_store *st, enum ticket_status *st_r)
{
	*st_r = ticket_store_temp_failure(st) ? TICKET_ERR_TEMP
					      : TICKET_ERR_QUEUE;
	return -1;
}

static int found(struct ticket_thread_decision *dec, uint64_t ticket,
		 const char *how)
{
	dec->verdict = TICKET_THREAD_EXISTING;
	dec->ticket = ticket;
	dec->how = how;
	return 1;
}

/* Rules 4 to 6: the first id naming a stored ticket.  1 found, 0 none,
 * -1 with *st_r. */
static int by_ids(const struct ticket_config *cfg, struct ticket_store *st,
		  const struct ticket_strv *ids, const char *how,
		  struct ticket_thread_decision *dec, enum ticket_status *st_r,
		  const char **error_r)
{
	uint64_t t;
	size_t i;
	int r;

	for (i = 0; ids != NULL && i < ids->n; i++) {
		if (ticket_id_parse_own(cfg, ids->v[i], &t)) {
			r = ticket_store_ticket_exists(st, t, error_r);
			if (r < 0)
				return failed(st, st_r);
			if (r == 1)
				return found(dec, t, "our Message-ID");
		}
		r = ticket_store_ticket_by_message_id(st, ids->v[i], &t,
						      error_r);
		if (r < 0)
			return failed(st, st_r);
		if (r == 1)
			return found(dec, t, how);
	}
	return 0;
}

/* Rule 7: the subject tag, from a participant only. */
static int by_tag(const struct ticket_config *cfg, struct ticket_store *st,
		  const struct ticket_thread_keys *k,
		  struct ticket_thread_decision *dec, enum ticket_status *st_r,
		  const char **error_r)
{
	uint64_t t;
	int r;

	if (k->from_addr == NULL ||
	    (!ticket_id_find_tag(cfg, k->subject, &t) &&
	     (k->raw_subject == NULL ||
	      !ticket_id_find_tag(cfg, k->raw_subject, &t))))
		return 0;
	r = ticket_store_is_participant(st, t, k->from_addr, error_r);
	if (r < 0)
		return failed(st, st_r);
	return r == 1 ? found(dec, t, "subject tag") : 0;
}

/* Rules 4 to 7 in order. */
static int by_keys(const struct ticket_config *cfg, struct ticket_store *st,
		   const struct ticket_thread_keys *k,
		   struct ticket_thread_decision *dec, enum ticket_status *st_r,
		   const char **error_r)
{
	char *self_v[1];
	struct ticket_strv self = {self_v, 0};
	int bounce = k->kind == TICKET_KIND_BOUNCE, r = 0;

	if (k->message_id != NULL) {
		self_v[0] = (char *)k->message_id;
		self.n = 1;
	}
	if (bounce)
		r = by_ids(cfg, st, k->dsn_refs, "bounced message", dec, st_r,
			   error_r);
	if (r == 0)
		r = by_ids(cfg, st, k->refs, "References", dec, st_r, error_r);
	if (r == 0)
		r = by_ids(cfg, st, &self, "same Message-ID", dec, st_r,
			   error_r);
	if (r == 0 && !bounce)
		r = by_tag(cfg, st, k, dec, st_r, error_r);
	return r;
}

enum ticket_status ticket_thread_decide(const struct ticket_config *cfg,
					struct ticket_store *st,
					const struct ticket_thread_keys *k,
					struct ticket_thread_decision *dec,
					const char **error_r)
{
	enum ticket_status status = TICKET_OK;
	int r;

	memset(dec, 0, sizeof(*dec));
	if (k->kind == TICKET_KIND_REPLY || k->kind == TICKET_KIND_NOTE) {
		r = ticket_store_ticket_exists(st, k->own_ticket, error_r);
		if (r < 0)
			failed(st, &status);
		else if (r == 1)
			found(dec, k->own_ticket, NULL);
		return status;
	}
	if (k->kind == TICKET_KIND_LOOP)
		return TICKET_OK;
	if (!k->unparsed && (r = by_keys(cfg, st, k, dec, &status, error_r)))
		return status;
	if (k->kind == TICKET_KIND_CUSTOMER)
		dec->verdict = TICKET_THREAD_NEW;
	return TICKET_OK;
}
