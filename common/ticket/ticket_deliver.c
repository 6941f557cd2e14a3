/*
 * ticket_deliver.c - a message into the ticket queue, never lost.
 *
 * Order of work (the Maildir is the truth, the index is derived):
 *
 *   1. copy the input to tmp/, fsync (ticket_maildir_receive)
 *   2. parse that file (GMime, contents stay on disk), once
 *   3. name it by its dedup key: SHA-256 over Message-ID and body hash
 *      (no Message-ID: over the headers and the body hash), and link it
 *      into new/ (an existing copy is kept: a retry after a crash or a
 *      DB failure finds it instead of making a second one); fsync new/
 *   4. decide what it is (ticket_classify: person, robot, or our own
 *      stored reply or note, recognised by its signed header)
 *   5. under the shared queue lock, one BEGIN IMMEDIATE transaction
 *      (committed without fsync when the queue heals its index after an
 *      OS crash, ticket_heal.c; synced otherwise):
 *      dedup check, thread lookup, ticket, message, attachments (files
 *      written now, removed again if the transaction fails),
 *      participants, state change, event for `ticketq next`
 *
 * Threading is ticket_thread's (ticket_thread_decide: the rules in
 * order); this file acts on its decision.  Robots filed on a ticket
 * never change its state; bounces flag it.
 *
 * Failure modes: every failure before the commit is transient for the
 * MTA (TICKET_ERR_TEMP) except a broken queue (TICKET_ERR_QUEUE), and
 * leaves nothing half-visible: the transaction is rolled back and the
 * files it wrote are removed; the raw copy stays in new/ for the retry.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "lib/errorf.h"
#include "lib/strbuf.h"
#include "ticket/ticket_classify.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_files.h"
#include "ticket/ticket_heal.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_maildir.h"
#include "ticket/ticket_store.h"
#include "ticket/ticket_thread.h"

#define NUMBER_TRIES 200
#define ADDR_PRINT_MAX 200
#define ADDR_MAX 320 /* an addr-spec: 64 + 1 + 255 */

struct filing {
	struct ticket_queue *q;
	struct ticket_mail *m;
	struct ticket_delivery *d;
	char dkey[64];
	char file[128]; /* "new/NAME" */
	time_t arrived;
	int64_t size;
	uint64_t ticket;
	struct ticket_strv created;
	int queue_err; /* a non-transient index failure */
};

/* The dedup key of a Maildir name (before ':'). */
static void dkey_of(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)strcspn(name, ":"), name);
}

static void hex32(const unsigned char *in, char *out)
{
	int i;

	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* SHA-256 over Message-ID and body hash; without a Message-ID over the
 * header block and the body hash (the whole message, in effect). */
static void dedup_key(const struct ticket_spool *sp, const char *mid,
		      char out[33])
{
	const char *hdrs = sp->headers.data ? sp->headers.data : "";
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	unsigned char md[32];
	gsize n = sizeof(md);

	g_checksum_update(c, (const guchar *)"ticketq-dkey-1", 15);
	if (mid != NULL) {
		g_checksum_update(c, (const guchar *)mid,
				  (gssize)strlen(mid) + 1);
	} else {
		g_checksum_update(c, (const guchar *)"\0raw", 4);
		g_checksum_update(c, (const guchar *)hdrs,
				  (gssize)sp->headers.len);
	}
	g_checksum_update(c, sp->body_hash, sizeof(sp->body_hash));
	g_checksum_get_digest(c, md, &n);
	g_checksum_free(c);
	hex32(md, out);
}

/* A mail without From, Message-ID, Date and Subject was not understood,
 * whatever GMime made of it. */
static void mark_unparsed(struct ticket_mail *m)
{
	if (m->msg != NULL && m->from_addr == NULL && m->message_id == NULL &&
	    m->date == 0 && m->subject[0] == '\0')
		m->flags |= TICKET_FLAG_UNPARSED;
}

/* Parse the spooled copy once: its Message-ID names the file, the index
 * step uses the same parse. */
static int parse_spool(struct ticket_queue *q, const struct ticket_spool *sp,
		       struct ticket_delivery *d, const char **error_r)
{
	int fd = ticket_maildir_open_spool(sp);

	if (fd < 0) {
		*error_r = errorf("open %s: %s", sp->tmp_path, strerror(errno));
		return -1;
	}
	if (ticket_mail_parse_fd(fd, q->cfg->max_text_size, &d->mail, error_r) <
	    0)
		return -1;
	mark_unparsed(d->mail);
	dedup_key(sp, d->mail->msg ? d->mail->message_id : NULL, d->name);
	return 0;
}

void ticket_delivery_done(struct ticket_delivery *d)
{
	ticket_mail_free(&d->mail);
}

/* An envelope address fit for a header line. */
static void clean_addr(const char *in, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; in[i] != '\0' && o + 1 < size && i < ADDR_PRINT_MAX; i++)
		if ((unsigned char)in[i] > ' ' && strchr("<>\"", in[i]) == NULL)
			out[o++] = in[i];
	out[o] = '\0';
}

static char *make_prepend(const char *sender, const char *recipient)
{
	char s[ADDR_PRINT_MAX + 1] = "", r[ADDR_PRINT_MAX + 1] = "";
	char *out = NULL;

	if (sender != NULL)
		clean_addr(sender, s, sizeof(s));
	if (sender != NULL && strcasecmp(s, "MAILER-DAEMON") == 0)
		s[0] = '\0';
	if (recipient != NULL)
		clean_addr(recipient, r, sizeof(r));
	if (asprintf(&out, "%s%s%s%s%s%s", sender ? "Return-Path: <" : "", s,
		     sender ? ">\n" : "", r[0] ? "Delivered-To: " : "", r,
		     r[0] ? "\n" : "") < 0)
		return NULL;
	return out;
}

/* Stage 1: the raw copy durable in DIR/tmp (sp->tmp_path) and parsed,
 * d->name set.  Outcome TICKET_STORED means it waits there for stage
 * 2; on anything else nothing is left in tmp/. */
static enum ticket_status receive(struct ticket_queue *q,
				  const struct ticket_deliver_opts *o,
				  struct ticket_delivery *d,
				  struct ticket_spool *sp, const char **error_r)
{
	char *prepend = make_prepend(o->sender, o->recipient);
	int r;

	memset(sp, 0, sizeof(*sp));
	if (prepend == NULL) {
		*error_r = "out of memory";
		return TICKET_ERR_TEMP;
	}
	r = ticket_maildir_receive(q->cfg->dir, o->in_fd, prepend,
				   q->cfg->max_message_size,
				   !(o->hold && o->named_hold), sp, error_r);
	d->size = sp->size;
	if (r == 0 && (sp->too_large || sp->size == strlen(prepend)))
		d->outcome = sp->too_large ? TICKET_TOO_LARGE : TICKET_EMPTY;
	else if (r == 0 && (r = parse_spool(q, sp, d, error_r)) == 0)
		d->outcome = TICKET_STORED;
	free(prepend);
	if (r < 0 || d->outcome != TICKET_STORED)
		ticket_maildir_discard(sp);
	if (r < 0)
		ticket_delivery_done(d);
	return r < 0 ? TICKET_ERR_TEMP : TICKET_OK;
}

/* Stage 2: link it into new/ (d->existed), fsync new/ unless the
 * caller does that for a group, free sp.  On failure the copy stays in
 * tmp/ (sp->tmp_path) for the caller. */
static enum ticket_status commit(struct ticket_queue *q,
				 struct ticket_delivery *d,
				 struct ticket_spool *sp, int sync,
				 const char **error_r)
{
	int existed, r;

	r = sync ? ticket_maildir_commit(q->cfg->dir, sp, d->name, &existed,
					 error_r)
		 : ticket_maildir_link(q->cfg->dir, sp, d->name, &existed,
				       error_r);
	if (r < 0)
		return TICKET_ERR_TEMP;
	d->existed = existed;
	d->in_maildir = 1;
	ticket_maildir_discard(sp);
	return TICKET_OK;
}

/* Stage 3: the shared lock and the index, unless the caller holds
 * them already (reply, reindex).  An index opened here commits without
 * fsync when the queue heals it after an OS crash (ticket_heal.c): the
 * raw copy is durable in new/ already. */
static enum ticket_status open_index(struct ticket_queue *q,
				     const char **error_r)
{
	enum ticket_status st = TICKET_OK;
	int opened = q->store == NULL;

	if (q->lock == TICKET_LOCK_NONE)
		st = ticket_queue_lock(q, TICKET_LOCK_SHARED, error_r);
	if (st == TICKET_OK)
		st = ticket_queue_store(q, error_r);
	if (st == TICKET_OK && opened && q->heal_armed &&
	    ticket_store_unsynced(q->store, error_r) < 0)
		st = TICKET_ERR_TEMP;
	return st;
}

/* Stages 1 and 2 for a message on a descriptor; sp is freed unless
 * the caller holds the copy in tmp/. */
static enum ticket_status spool_fd(struct ticket_queue *q,
				   const struct ticket_deliver_opts *o,
				   struct ticket_delivery *d,
				   const char **error_r)
{
	struct ticket_spool own, *sp = o->hold ? o->spool : &own;
	enum ticket_status st;

	st = receive(q, o, d, sp, error_r);
	if (st != TICKET_OK || d->outcome != TICKET_STORED || o->hold)
		return st;
	st = commit(q, d, sp, 1, error_r);
	ticket_maildir_discard(sp);
	if (st != TICKET_OK)
		ticket_delivery_done(d);
	return st;
}

static enum ticket_status index_file(struct ticket_queue *q, const char *path,
				     const char *name,
				     struct ticket_delivery *d,
				     const char **error_r);

enum ticket_status ticket_deliver(struct ticket_queue *q,
				  const struct ticket_deliver_opts *o,
				  struct ticket_delivery *d,
				  const char **error_r)
{
	char path[4096 + 128];
	enum ticket_status st;

	if (o->from != TICKET_FROM_HELD && o->from != TICKET_FROM_LINKED)
		memset(d, 0, sizeof(*d));
	if (o->from == TICKET_FROM_MAILDIR) {
		d->in_maildir = 1;
		return index_file(q, o->path, o->name, d, error_r);
	}
	/* after a reboot the index is healed before this message is in
	 * new/: the healing would index it, and this call report it as a
	 * duplicate */
	if (o->from == TICKET_FROM_FD && q->store == NULL && !q->heal_armed &&
	    (st = ticket_heal(q, error_r)) != TICKET_OK)
		return st;
	if (o->from == TICKET_FROM_FD)
		st = spool_fd(q, o, d, error_r);
	else if (o->from == TICKET_FROM_HELD)
		st = commit(q, d, o->spool, !o->defer_sync, error_r);
	else
		st = TICKET_OK; /* TICKET_FROM_LINKED */
	if (st != TICKET_OK || d->outcome != TICKET_STORED ||
	    (o->from == TICKET_FROM_FD && o->hold) ||
	    (o->from == TICKET_FROM_HELD && o->defer_sync))
		return st;
	if ((st = open_index(q, error_r)) != TICKET_OK) {
		ticket_delivery_done(d);
		return st;
	}
	snprintf(path, sizeof(path), "%s/new/%s", q->cfg->dir, d->name);
	return index_file(q, path, d->name, d, error_r);
}

/* An index call failed: remember whether it was for good. */
static int store_fail(struct filing *f)
{
	if (!ticket_store_temp_failure(f->q->store))
		f->queue_err = 1;
	return -1;
}

/* From, else Reply-To, else the Return-Path's address (without its
 * angle brackets, lower-case like the others), else "unknown". */
static const char *requester(struct filing *f, char *buf, size_t size)
{
	const char *rp;
	size_t i, n;

	if (f->m->from_addr != NULL && f->m->from_addr[0] != '\0')
		return f->m->from_addr;
	if (f->m->reply_to != NULL && f->m->reply_to[0] != '\0')
		return f->m->reply_to;
	rp = ticket_mail_header(f->m, "Return-Path");
	if (rp == NULL)
		return "unknown";
	rp += strspn(rp, " \t<");
	n = strcspn(rp, "> \t");
	if (n == 0 || n >= size)
		return "unknown";
	for (i = 0; i < n; i++)
		buf[i] = g_ascii_tolower(rp[i]);
	buf[n] = '\0';
	return buf;
}

static int new_ticket(struct filing *f, const char **error_r)
{
	struct ticket_store *st = f->q->store;
	const char *subject = f->m->subject[0] ? f->m->subject : "(no subject)";
	char who[ADDR_MAX];
	unsigned int i;
	uint64_t t;
	int r;

	for (i = 0; i < NUMBER_TRIES; i++) {
		t = ticket_id_number(f->q->cfg, f->dkey, i);
		r = ticket_store_ticket_exists(st, t, error_r);
		if (r < 0)
			return store_fail(f);
		if (r == 0)
			break;
	}
	if (i == NUMBER_TRIES) {
		*error_r = "no free ticket number";
		return -1;
	}
	f->ticket = t;
	f->d->new_ticket = 1;
	if (ticket_store_create_ticket(
		    st, t, subject, requester(f, who, sizeof(who)), f->arrived,
		    (f->m->flags & TICKET_FLAG_UNPARSED) ? "unparsed" : "",
		    error_r) < 0)
		return store_fail(f);
	return 0;
}

/* Which ticket, if any (ticket_thread decides): sets f->ticket (0 =
 * not filed), creating a new one when the rules say so. */
static int decide(struct filing *f, const char **error_r)
{
	struct ticket_mail *m = f->m;
	struct ticket_thread_keys k = {
		.kind = m->kind,
		.unparsed = (m->flags & TICKET_FLAG_UNPARSED) != 0,
		.own_ticket = m->own_ticket,
		.message_id = m->message_id,
		.refs = &m->refs,
		.dsn_refs = &m->dsn_refs,
		.subject = m->subject,
		.from_addr = m->from_addr,
		.raw_subject = m->raw_subject,
	};
	struct ticket_thread_decision dec;
	enum ticket_status st;

	st = ticket_thread_decide(f->q->cfg, f->q->store, &k, &dec, error_r);
	if (st != TICKET_OK) {
		f->queue_err = st == TICKET_ERR_QUEUE;
		return -1;
	}
	f->ticket = dec.ticket;
	f->d->how = dec.how;
	return dec.verdict == TICKET_THREAD_NEW ? new_ticket(f, error_r) : 0;
}

static int ours(struct filing *f, const char *addr)
{
	static const char *const hdrs[] = {"Delivered-To", "X-Original-To"};
	const char *v;
	size_t i;

	if (strcasecmp(addr, f->q->cfg->address) == 0)
		return 1;
	for (i = 0; i < 2; i++) {
		v = ticket_mail_header(f->m, hdrs[i]);
		if (v != NULL && strcasecmp(v, addr) == 0)
			return 1;
	}
	return 0;
}

static int add_one(struct filing *f, const char *addr, const char **error_r)
{
	if (addr == NULL || addr[0] == '\0' || ours(f, addr))
		return 0;
	if (ticket_store_add_participant(f->q->store, f->ticket, addr,
					 error_r) < 0)
		return store_fail(f);
	return 0;
}

static int add_participants(struct filing *f, const char **error_r)
{
	struct ticket_mail *m = f->m;
	char who[ADDR_MAX];
	size_t i;

	if (m->kind != TICKET_KIND_CUSTOMER)
		return 0;
	if (add_one(f, requester(f, who, sizeof(who)), error_r) < 0 ||
	    add_one(f, m->reply_to, error_r) < 0)
		return -1;
	for (i = 0; i < m->to.n; i++)
		if (add_one(f, m->to.v[i], error_r) < 0)
			return -1;
	for (i = 0; i < m->cc.n; i++)
		if (add_one(f, m->cc.v[i], error_r) < 0)
			return -1;
	return 0;
}

static int insert_message(struct filing *f, int64_t *id_r, const char **error_r)
{
	struct ticket_mail *m = f->m;
	struct ticket_store_msg sm;
	char flags[160];
	char *to = ticket_strv_join(&m->to, ", ");
	char *cc = ticket_strv_join(&m->cc, ", ");
	int r;

	memset(&sm, 0, sizeof(sm));
	ticket_mail_flags_format(m->flags, flags, sizeof(flags));
	sm.ticket = f->ticket;
	sm.dkey = f->dkey;
	sm.file = f->file;
	sm.message_id = m->message_id;
	sm.kind = ticket_mail_kind_name(m->kind);
	sm.flags = flags;
	sm.reason = m->reason[0] ? m->reason : NULL;
	sm.from_addr = m->from_addr;
	sm.from_name = m->from_name;
	sm.reply_to = m->reply_to;
	sm.to_addrs = to;
	sm.cc_addrs = cc;
	sm.subject = m->subject;
	sm.date = m->date ? m->date : f->arrived;
	sm.arrived = f->arrived;
	sm.size = f->size;
	sm.text = m->text.data ? m->text.data : "";
	sm.html = m->html.len ? m->html.data : NULL;
	r = ticket_store_add_message(f->q->store, &sm, error_r);
	free(to);
	free(cc);
	*id_r = sm.id;
	return r < 0 ? store_fail(f) : 0;
}

static int insert_attachments(struct filing *f, int64_t msg,
			      const char **error_r)
{
	struct ticket_store_att a;
	struct ticket_part *p;

	for (p = f->m->parts; p != NULL; p = p->next) {
		memset(&a, 0, sizeof(a));
		a.message = msg;
		a.path = p->path;
		a.name = p->name   ? p->name
			 : p->path ? strrchr(p->path, '/') + 1
				   : "attachment";
		a.content_type = p->content_type;
		a.size = (int64_t)p->size;
		a.content_id = p->content_id;
		a.is_inline = p->inline_ref;
		if (ticket_store_add_attachment(f->q->store, &a, error_r) < 0)
			return store_fail(f);
	}
	if (!(f->m->flags & TICKET_FLAG_UNPARSED))
		return 0;
	memset(&a, 0, sizeof(a));
	a.message = msg;
	a.name = "message.eml";
	a.content_type = "message/rfc822";
	a.size = f->size;
	a.path = f->file;
	return ticket_store_add_attachment(f->q->store, &a, error_r) < 0
		       ? store_fail(f)
		       : 0;
}

static int save_files(struct filing *f, const char **error_r)
{
	if (f->ticket == 0)
		return 0;
	ticket_files_mark_inline(f->m);
	if (ticket_files_save(f->q->files_root, "files", f->ticket, f->m,
			      f->dkey, f->q->cfg->max_attachment_size,
			      &f->created, error_r) < 0)
		return -1;
	if (ticket_files_rewrite_html(f->m) < 0) {
		*error_r = "out of memory rewriting cid: links";
		return -1;
	}
	return 0;
}

static int update_ticket(struct filing *f, int64_t msg, const char **error_r)
{
	struct ticket_store *st = f->q->store;
	int answer = !(f->m->flags & TICKET_FLAG_NO_AUTO_ANSWER);
	const char *event = NULL;
	int r = 0;

	switch (f->m->kind) {
	case TICKET_KIND_CUSTOMER:
		event = f->d->new_ticket ? "ticket" : "message";
		if (!f->d->new_ticket)
			r = ticket_store_update(st, f->ticket, "open",
						f->arrived, NULL, error_r);
		break;
	case TICKET_KIND_AUTOREPLY:
		event = "message";
		break;
	case TICKET_KIND_BOUNCE:
		event = "bounce";
		r = ticket_store_update(st, f->ticket, NULL, 0, "bounced",
					error_r);
		break;
	case TICKET_KIND_REPLY:
		r = ticket_store_update(st, f->ticket, "answered", f->arrived,
					NULL, error_r);
		break;
	case TICKET_KIND_NOTE:
		r = ticket_store_update(
			st, f->ticket,
			strcmp(f->m->note, "close") == 0 ? "closed" : "open",
			f->arrived, NULL, error_r);
		break;
	default:
		break;
	}
	if (r == 0 && event != NULL)
		r = ticket_store_add_event(st, event, f->ticket, msg,
					   f->arrived, answer, error_r);
	return r < 0 ? store_fail(f) : 0;
}

static int file_it(struct filing *f, const char **error_r)
{
	int64_t msg = 0;

	if (decide(f, error_r) < 0 || save_files(f, error_r) < 0 ||
	    insert_message(f, &msg, error_r) < 0)
		return -1;
	if (f->ticket == 0)
		return 0;
	if (insert_attachments(f, msg, error_r) < 0 ||
	    add_participants(f, error_r) < 0 ||
	    update_ticket(f, msg, error_r) < 0)
		return -1;
	return 0;
}

static enum ticket_status index_mail(struct filing *f, const char **error_r)
{
	struct ticket_store *st = f->q->store;
	int r;

	if (ticket_store_begin(st, error_r) < 0)
		return ticket_store_temp_failure(st) ? TICKET_ERR_TEMP
						     : TICKET_ERR_QUEUE;
	r = ticket_store_has_dkey(st, f->dkey, error_r);
	if (r == 1) {
		ticket_store_rollback(st);
		f->d->outcome = TICKET_DUPLICATE;
		return TICKET_OK;
	}
	if (r < 0 || file_it(f, error_r) < 0 ||
	    ticket_store_commit(st, error_r) < 0) {
		if (r < 0)
			store_fail(f);
		ticket_store_rollback(st);
		ticket_files_undo(&f->created);
		return f->queue_err ? TICKET_ERR_QUEUE : TICKET_ERR_TEMP;
	}
	f->d->outcome = TICKET_STORED;
	return TICKET_OK;
}

static void report(struct filing *f)
{
	struct ticket_delivery *d = f->d;

	d->ticket = f->ticket;
	d->kind = f->m->kind;
	d->flags = f->m->flags;
	snprintf(d->reason, sizeof(d->reason), "%s", f->m->reason);
	snprintf(d->from, sizeof(d->from), "%s",
		 f->m->from_addr ? f->m->from_addr : "");
}

/* The message: parsed by the spool step, or read from its file now. */
static int open_parse(struct filing *f, const char *path, const char **error_r)
{
	struct stat st;
	int fd = -1;

	if (f->d->mail != NULL) {
		f->m = f->d->mail;
		f->d->mail = NULL;
		if (stat(path, &st) < 0) {
			*error_r = errorf("stat %s: %s", path, strerror(errno));
			return -1;
		}
	} else if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
		   fstat(fd, &st) < 0) {
		*error_r = errorf("open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	f->arrived = st.st_mtime;
	f->size = (int64_t)st.st_size;
	if (fd >= 0 && ticket_mail_parse_fd(fd, f->q->cfg->max_text_size, &f->m,
					    error_r) < 0)
		return -1;
	mark_unparsed(f->m);
	return 0;
}

/* Stage 4: index one message in the Maildir (path, Maildir name) in
 * one transaction. */
static enum ticket_status index_file(struct ticket_queue *q, const char *path,
				     const char *name,
				     struct ticket_delivery *d,
				     const char **error_r)
{
	struct filing f;
	enum ticket_status st;
	int r;

	memset(&f, 0, sizeof(f));
	f.q = q;
	f.d = d;
	dkey_of(name, f.dkey, sizeof(f.dkey));
	if (name != d->name)
		snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(f.file, sizeof(f.file), "%s/%s",
		 strstr(path, "/cur/") ? "cur" : "new", name);
	/* a quick look first, unless this is a fresh copy just parsed */
	r = d->mail != NULL && !d->existed
		    ? 0
		    : ticket_store_has_dkey(q->store, f.dkey, error_r);
	if (r != 0) {
		ticket_delivery_done(d);
		d->outcome = TICKET_DUPLICATE;
		return r < 0 ? TICKET_ERR_TEMP : TICKET_OK;
	}
	if (open_parse(&f, path, error_r) < 0) {
		ticket_mail_free(&f.m);
		return TICKET_ERR_TEMP;
	}
	ticket_classify(f.m, q->cfg);
	st = index_mail(&f, error_r);
	report(&f);
	ticket_strv_free(&f.created);
	ticket_mail_free(&f.m);
	return st;
}
