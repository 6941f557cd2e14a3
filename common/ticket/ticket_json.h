/* ticket_json.h - tickets, threads and events as the stable JSON shape */
#ifndef OAUTHMAIL_TICKET_JSON_H
#define OAUTHMAIL_TICKET_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

struct ticket_store;
struct ticket_store_offer;

/* ticket_json_time - "2026-11-16T08:12:44Z" into buf (>= 21 bytes) */
void ticket_json_time(time_t t, char *buf, size_t size);

/* ticket_json_ticket - one ticket (the stable shape, docs/internals.md),
 * with its thread (oldest first, attachments) when with_thread.  1 found (*obj_r set),
 * 0 no such ticket, -1 error. */
int ticket_json_ticket(struct ticket_store *st, uint64_t id, int with_thread,
		       cJSON **obj_r, const char **error_r);

/* ticket_json_list - every ticket (status NULL) or those with status,
 * most recently updated first, as an array.  0, or -1. */
int ticket_json_list(struct ticket_store *st, const char *status, cJSON **arr_r,
		     const char **error_r);

/* ticket_json_next - claim the oldest offerable event as o says
 * (ticket_store_claim_event), with its "claim" and "lease_until" (null
 * at most once): 1 claimed (*obj_r set), 0 none offerable, -1 error */
int ticket_json_next(struct ticket_store *st,
		     const struct ticket_store_offer *o, cJSON **obj_r,
		     const char **error_r);

#endif
