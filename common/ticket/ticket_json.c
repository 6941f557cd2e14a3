/*
 * ticket_json.c - the JSON that help-desk front ends read.
 *
 * The shape is stable (docs/internals.md, "The JSON of ticketq"): a
 * ticket is
 *   {"id", "status", "subject", "requester", "participants", "created",
 *    "updated", "messages", "flags"}
 * plus "thread" in `show`: entries {"message_id", "from", "date",
 * "subject", "kind", "text", "html", "attachments"}, oldest first, and
 * attachments {"name", "content_type", "size", "path", "content_id"}.
 * Ticket ids are strings; times are UTC ISO 8601 with 'Z'; Message-IDs
 * keep their angle brackets; absent values are null.  All text in the
 * index is valid UTF-8 (ticket_mail cleans it), so cJSON output is too.
 *
 * The rows come from ticket_store (every query is there, including
 * the claim behind `next`); this file only builds JSON.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticket/ticket_json.h"
#include "ticket/ticket_mail.h"
#include "ticket/ticket_store.h"

void ticket_json_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_str_or_null(cJSON *obj, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(obj, key, v);
	else
		cJSON_AddNullToObject(obj, key);
}

static void add_time(cJSON *obj, const char *key, time_t t)
{
	char buf[32];

	ticket_json_time(t, buf, sizeof(buf));
	cJSON_AddStringToObject(obj, key, buf);
}

static void add_id(cJSON *obj, const char *key, uint64_t id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)id);
	cJSON_AddStringToObject(obj, key, buf);
}

static void add_words(cJSON *obj, const char *key, const char *words)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, key);
	const char *p = words ? words : "";
	size_t n;
	char w[64];

	while (*p != '\0') {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n > 0 && n < sizeof(w)) {
			memcpy(w, p, n);
			w[n] = '\0';
			cJSON_AddItemToArray(arr, cJSON_CreateString(w));
		}
		p += n;
	}
}

static void add_message_id(cJSON *obj, const char *key, const char *mid)
{
	char *v;

	if (mid == NULL || asprintf(&v, "<%s>", mid) < 0) {
		cJSON_AddNullToObject(obj, key);
		return;
	}
	cJSON_AddStringToObject(obj, key, v);
	free(v);
}

/* An array being filled from rows. */
struct fill {
	struct ticket_store *st;
	cJSON *arr;
};

static int participant_row(void *ctx, const char *addr, const char **error_r)
{
	struct fill *f = ctx;
	cJSON *v = cJSON_CreateString(addr);

	if (v == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	cJSON_AddItemToArray(f->arr, v);
	return 0;
}

static cJSON *ticket_obj(struct ticket_store *st,
			 const struct ticket_store_ticket *t,
			 const char **error_r)
{
	struct fill f = {st, NULL};
	cJSON *obj = cJSON_CreateObject();

	add_id(obj, "id", t->id);
	cJSON_AddStringToObject(obj, "status", t->status);
	cJSON_AddStringToObject(obj, "subject", t->subject);
	cJSON_AddStringToObject(obj, "requester", t->requester);
	f.arr = cJSON_AddArrayToObject(obj, "participants");
	if (ticket_store_each_participant(st, t->id, participant_row, &f,
					  error_r) < 0) {
		cJSON_Delete(obj);
		return NULL;
	}
	add_time(obj, "created", t->created);
	add_time(obj, "updated", t->updated);
	cJSON_AddNumberToObject(obj, "messages", (double)t->messages);
	add_words(obj, "flags", t->flags);
	return obj;
}

static int attachment_row(void *ctx, const struct ticket_store_att *a,
			  const char **error_r)
{
	struct fill *f = ctx;
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "content_type", a->content_type);
	cJSON_AddNumberToObject(o, "size", (double)a->size);
	add_str_or_null(o, "path", a->path);
	add_str_or_null(o, "content_id", a->content_id);
	cJSON_AddItemToArray(f->arr, o);
	return 0;
}

static int thread_row(void *ctx, const struct ticket_store_entry *m,
		      const char **error_r)
{
	struct fill *f = ctx, atts = {f->st, NULL};
	cJSON *e = cJSON_CreateObject();

	add_message_id(e, "message_id", m->message_id);
	cJSON_AddStringToObject(e, "from", m->from_addr ? m->from_addr : "");
	add_time(e, "date", m->date);
	cJSON_AddStringToObject(e, "subject", m->subject);
	cJSON_AddStringToObject(e, "kind", m->kind);
	cJSON_AddStringToObject(e, "text", m->text);
	add_str_or_null(e, "html", m->html);
	atts.arr = cJSON_AddArrayToObject(e, "attachments");
	if (ticket_store_each_attachment(f->st, m->id, attachment_row, &atts,
					 error_r) < 0) {
		cJSON_Delete(e);
		return -1;
	}
	cJSON_AddItemToArray(f->arr, e);
	return 0;
}

/* One ticket found: its object (without thread) in f->arr's place. */
struct one {
	struct ticket_store *st;
	cJSON *obj;
};

static int one_row(void *ctx, const struct ticket_store_ticket *t,
		   const char **error_r)
{
	struct one *o = ctx;

	o->obj = ticket_obj(o->st, t, error_r);
	return o->obj ? 0 : -1;
}

int ticket_json_ticket(struct ticket_store *st, uint64_t id, int with_thread,
		       cJSON **obj_r, const char **error_r)
{
	struct one o = {st, NULL};
	struct fill f = {st, NULL};
	int r = ticket_store_get_ticket(st, id, one_row, &o, error_r);

	if (r <= 0) {
		cJSON_Delete(o.obj); /* a step error after the row was built */
		return r;
	}
	if (with_thread) {
		f.arr = cJSON_AddArrayToObject(o.obj, "thread");
		if (ticket_store_each_message(st, id, thread_row, &f, error_r) <
		    0) {
			cJSON_Delete(o.obj);
			return -1;
		}
	}
	*obj_r = o.obj;
	return 1;
}

static int list_row(void *ctx, const struct ticket_store_ticket *t,
		    const char **error_r)
{
	struct fill *f = ctx;
	cJSON *obj = ticket_obj(f->st, t, error_r);

	if (obj == NULL)
		return -1;
	cJSON_AddItemToArray(f->arr, obj);
	return 0;
}

int ticket_json_list(struct ticket_store *st, const char *status, cJSON **arr_r,
		     const char **error_r)
{
	struct fill f = {st, cJSON_CreateArray()};

	if (ticket_store_each_ticket(st, status, list_row, &f, error_r) < 0) {
		cJSON_Delete(f.arr);
		return -1;
	}
	*arr_r = f.arr;
	return 0;
}

static int event_row(void *ctx, const struct ticket_store_event *ev,
		     const char **error_r)
{
	cJSON **obj_r = ctx, *e = cJSON_CreateObject();

	(void)error_r;
	cJSON_AddNumberToObject(e, "event", (double)ev->id);
	cJSON_AddStringToObject(e, "type", ev->type);
	add_id(e, "ticket", ev->ticket);
	add_message_id(e, "message_id", ev->message_id);
	cJSON_AddStringToObject(e, "kind", ev->kind);
	cJSON_AddStringToObject(e, "from", ev->from_addr ? ev->from_addr : "");
	cJSON_AddStringToObject(e, "subject", ev->subject);
	cJSON_AddBoolToObject(e, "auto_answer", ev->auto_answer);
	add_time(e, "created", ev->created);
	cJSON_AddStringToObject(e, "claim", ev->claim);
	if (ev->lease_until != 0)
		add_time(e, "lease_until", ev->lease_until);
	else
		cJSON_AddNullToObject(e, "lease_until");
	*obj_r = e;
	return 0;
}

int ticket_json_next(struct ticket_store *st,
		     const struct ticket_store_offer *o, cJSON **obj_r,
		     const char **error_r)
{
	cJSON *obj = NULL;
	int r = ticket_store_claim_event(st, o, event_row, &obj, error_r);

	if (r != 1) {
		cJSON_Delete(obj);
		return r;
	}
	*obj_r = obj;
	return 1;
}
