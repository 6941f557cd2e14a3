/*
 * ticket_reply.c - compose what the queue sends or notes down.
 *
 * A reply goes From the queue address To the requester (the Reply-To,
 * else the From, of their newest message) with every other participant
 * on Cc but the queue's own address, robots (noreply-style
 * addresses) and bare names without @domain (sendmail -t would make
 * them local), at most the newest 20; a default To that is the queue's
 * own address is refused (use --to).  `reply --to/--cc` replace them
 * (at most 100 full addresses each), an automatic answer has no Cc.
 * In-Reply-To is the last customer message and
 * References the ticket's thread (first Message-ID and the last nine,
 * as RT trims them), the subject tag, our HMAC-signed Message-ID
 * (tq.<ticket>.<nonce>.<sig>@domain: a customer's client that drops
 * the tag still threads) and our loop header, so our own mail that
 * comes back is never filed again.  Automatic answers also carry
 * Auto-Submitted: auto-replied, Precedence: bulk and
 * X-Auto-Response-Suppress: All, so the other side's robots stay quiet.
 *
 * Every outgoing message also gets a stored twin: the same bytes plus
 * a signed X-Ticketq-Sent (replies) or X-Ticketq-Note (status notes)
 * header.  The twin goes into the Maildir, so `reindex` knows our
 * replies and status changes from the raw spool alone.
 *
 * Sending (ticket_reply_send): the twin is stored durable in tmp/,
 * then the reply is handed to the sendmail command (`sendmail -t -i`
 * by default: no shell, blank-separated words from ticketq.conf).  The
 * copy goes to new/ only once sendmail exits 0, so neither a crash nor
 * a concurrent `reindex --missing` records a reply that was not sent;
 * if sendmail fails the copy is removed and nothing is recorded.  After
 * a successful send the call succeeds whatever happens next: a failure
 * to index is a warning, and `ticketq reindex --missing` adds the
 * stored copy.  Status notes (ticket_reply_set_status) are never sent:
 * stored in new/ at once, then indexed.
 *
 * An automatic answer is refused for mail flagged no-auto-answer
 * (auto-replies, bounces, lists, noreply senders): we never start a
 * mail loop.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "ticket/ticket_classify.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_maildir.h"
#include "ticket/ticket_queue.h"
#include "ticket/ticket_reply.h"
#include "ticket/ticket_store.h"

#define REFS_HEAD 1
#define REFS_TAIL 9
#define CC_MAX 20	  /* the default Cc: the newest participants */
#define ADDRS_ARG_MAX 100 /* addresses in --to (or --cc) */

/* An address mail can go to as it is: local@domain, both non-empty
 * (`sendmail -t` would put its own domain on a bare name: a local
 * mailbox, or the queue itself). */
static int addr_routable(const char *a)
{
	const char *at = a != NULL ? strrchr(a, '@') : NULL;

	return at != NULL && at != a && at[1] != '\0';
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int ticket_row(void *ctx, const struct ticket_store_ticket *t,
		      const char **error_r)
{
	struct ticket_reply_info *ri = ctx;

	(void)error_r;
	ri->status = dup_or_null(t->status);
	ri->subject = dup_or_null(t->subject);
	ri->requester = dup_or_null(t->requester);
	return 0;
}

/* The message a reply answers: the last a customer wrote. */
static int customer_row(void *ctx, const struct ticket_store_entry *e,
			const char **error_r)
{
	struct ticket_reply_info *ri = ctx;

	(void)error_r;
	ri->in_reply_to = dup_or_null(e->message_id);
	return 0;
}

/* What came in last (any kind: `reply --auto` must not answer a
 * robot). */
static int inbound_row(void *ctx, const struct ticket_store_entry *e,
		       const char **error_r)
{
	struct ticket_reply_info *ri = ctx;

	(void)error_r;
	ri->last_flags = ticket_mail_flags_parse(e->flags);
	ri->last_kind = dup_or_null(e->kind);
	return 0;
}

/* Where the requester wants answers: the Reply-To, else the From, of
 * their newest message (rows come oldest first). */
struct requester_find {
	const char *requester;
	struct ticket_strv *to;
};

static int requester_row(void *ctx, const struct ticket_store_entry *e,
			 const char **error_r)
{
	struct requester_find *f = ctx;
	const char *addr =
		addr_routable(e->reply_to) ? e->reply_to : e->from_addr;

	(void)error_r;
	if (strcmp(e->kind, "customer") != 0 || e->from_addr == NULL ||
	    strcasecmp(e->from_addr, f->requester) != 0 || !addr_routable(addr))
		return 0;
	ticket_strv_free(f->to);
	return ticket_strv_add(f->to, addr, 1);
}

static int participant_row(void *ctx, const char *addr, const char **error_r)
{
	(void)error_r;
	return ticket_strv_add(ctx, addr, (size_t)-1);
}

static int ref_row(void *ctx, const char *mid, const char **error_r)
{
	(void)error_r;
	return ticket_strv_add(ctx, mid, (size_t)-1);
}

/* The thread's Message-IDs, the first and the last nine. */
static int load_refs(struct ticket_store *st, struct ticket_reply_info *ri,
		     const char **error_r)
{
	struct ticket_strv all = {NULL, 0};
	size_t i;
	int ret;

	ret = ticket_store_each_reference(st, ri->ticket, ref_row, &all,
					  error_r);
	for (i = 0; i < all.n && ret == 0; i++)
		if (i < REFS_HEAD || i + REFS_TAIL >= all.n)
			ret = ticket_strv_add(&ri->references, all.v[i],
					      (size_t)-1);
	ticket_strv_free(&all);
	return ret;
}

/* Keep the last CC_MAX on the Cc (participants come oldest first):
 * how many older ones were dropped goes to ri->cc_dropped. */
static void cap_cc(struct ticket_reply_info *ri)
{
	size_t i, drop = ri->cc.n > CC_MAX ? ri->cc.n - CC_MAX : 0;

	for (i = 0; i < drop; i++)
		free(ri->cc.v[i]);
	memmove(ri->cc.v, ri->cc.v + drop,
		(ri->cc.n - drop) * sizeof(*ri->cc.v));
	ri->cc.n -= drop;
	ri->cc_dropped = drop;
}

/* Cc: every participant but those in To, the requester when To is
 * their own (Reply-To) address, the queue's address, robots
 * (noreply-style addresses) and bare names without @domain; the newest
 * CC_MAX of them. */
static int choose_cc(struct ticket_reply_info *ri, const char *own,
		     int to_is_requester)
{
	const char *a;
	size_t i;

	ticket_strv_free(&ri->cc);
	ri->cc_dropped = 0;
	for (i = 0; i < ri->participants.n; i++) {
		a = ri->participants.v[i];
		if (!addr_routable(a) || ticket_strv_has(&ri->to, a) ||
		    (to_is_requester && ri->requester != NULL &&
		     strcasecmp(a, ri->requester) == 0) ||
		    (own != NULL && strcasecmp(a, own) == 0) ||
		    ticket_classify_no_reply_address(a))
			continue;
		if (ticket_strv_add(&ri->cc, a, (size_t)-1) < 0)
			return -1;
	}
	if (ri->cc.n > 0)
		cap_cc(ri);
	return 0;
}

/* To: the requester's address (a ticket without one has none). */
static int load_recipients(struct ticket_store *st,
			   struct ticket_reply_info *ri, const char **error_r)
{
	struct requester_find f = {ri->requester, &ri->to};

	if (ri->requester == NULL ||
	    ticket_store_each_message(st, ri->ticket, requester_row, &f,
				      error_r) < 0 ||
	    ticket_store_each_participant(st, ri->ticket, participant_row,
					  &ri->participants, error_r) < 0)
		return -1;
	if (ri->to.n == 0 && addr_routable(ri->requester) &&
	    ticket_strv_add(&ri->to, ri->requester, 1) < 0)
		return -1;
	return choose_cc(ri, NULL, 1);
}

int ticket_reply_load(struct ticket_store *st, uint64_t ticket,
		      struct ticket_reply_info *ri, const char **error_r)
{
	int r;

	memset(ri, 0, sizeof(*ri));
	ri->ticket = ticket;
	*error_r = NULL;
	r = ticket_store_get_ticket(st, ticket, ticket_row, ri, error_r);
	if (r == 1 &&
	    (ticket_store_newest_message(st, ticket, TICKET_NEWEST_CUSTOMER,
					 customer_row, ri, error_r) < 0 ||
	     ticket_store_newest_message(st, ticket, TICKET_NEWEST_INBOUND,
					 inbound_row, ri, error_r) < 0 ||
	     load_recipients(st, ri, error_r) < 0 ||
	     load_refs(st, ri, error_r) < 0))
		r = -1;
	if (r < 0 && *error_r == NULL)
		*error_r = "out of memory";
	if (r <= 0)
		ticket_reply_info_free(ri);
	return r;
}

void ticket_reply_info_free(struct ticket_reply_info *ri)
{
	free(ri->status);
	free(ri->subject);
	free(ri->requester);
	ticket_strv_free(&ri->to);
	ticket_strv_free(&ri->cc);
	ticket_strv_free(&ri->participants);
	free(ri->in_reply_to);
	free(ri->last_kind);
	ticket_strv_free(&ri->references);
	memset(ri, 0, sizeof(*ri));
}

void ticket_outgoing_free(struct ticket_outgoing *out)
{
	free(out->message_id);
	free(out->to);
	free(out->cc);
	free(out->sent);
	free(out->stored);
	memset(out, 0, sizeof(*out));
}

static const char *const reply_prefixes[] = {
	"re", "aw", "fwd", "fw", "wg", "tr", "sv", "antw", "ref",
};

/* "Re:", "RE :", "Re[2]:" at s: what follows, or NULL */
static const char *match_prefix(const char *s, const char *pre)
{
	size_t n = strlen(pre);
	const char *p = s + n;

	if (strncasecmp(s, pre, n) != 0)
		return NULL;
	if (*p == '[') {
		p += 1 + strspn(p + 1, "0123456789");
		if (*p++ != ']')
			return NULL;
	}
	while (*p == ' ')
		p++;
	return *p == ':' ? p + 1 : NULL;
}

/* Skip every reply/forward prefix at the start. */
static const char *strip_prefixes(const char *s)
{
	const char *p = NULL;
	size_t i, n = sizeof(reply_prefixes) / sizeof(reply_prefixes[0]);

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		for (i = 0; i < n; i++)
			if ((p = match_prefix(s, reply_prefixes[i])) != NULL)
				break;
		if (i == n)
			return s;
		s = p;
	}
}

char *ticket_reply_subject(const struct ticket_config *cfg, uint64_t ticket,
			   const char *subject)
{
	const char *base = strip_prefixes(subject ? subject : "");
	uint64_t t;
	char *out;
	int r;

	if (ticket_id_find_tag(cfg, base, &t) && t == ticket)
		r = asprintf(&out, "Re: %s", base);
	else
		r = asprintf(&out, "Re: [%s%llu] %s", cfg->tag_prefix,
			     (unsigned long long)ticket, base);
	return r < 0 ? NULL : out;
}

static void add_mailboxes(GMimeMessage *msg, GMimeAddressType type,
			  const struct ticket_strv *addrs)
{
	size_t i;

	for (i = 0; i < addrs->n; i++)
		g_mime_message_add_mailbox(msg, type, NULL, addrs->v[i]);
}

static GMimeMessage *base_message(const struct ticket_config *cfg,
				  const struct ticket_strv *to,
				  const struct ticket_strv *cc,
				  const char *subject, const char *mid)
{
	GMimeMessage *msg = g_mime_message_new(TRUE);
	GDateTime *now = g_date_time_new_now_utc();

	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, cfg->name,
				   cfg->address);
	add_mailboxes(msg, GMIME_ADDRESS_TYPE_TO, to);
	add_mailboxes(msg, GMIME_ADDRESS_TYPE_CC, cc);
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_mime_message_set_date(msg, now);
	g_date_time_unref(now);
	g_mime_message_set_message_id(msg, mid);
	g_mime_object_set_header(GMIME_OBJECT(msg), TICKET_LOOP_HEADER,
				 cfg->address, NULL);
	return msg;
}

static void set_body(GMimeMessage *msg, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");

	g_mime_text_part_set_text(tp, text);
	g_mime_part_set_content_encoding(
		GMIME_PART(tp),
		g_mime_part_get_best_content_encoding(
			GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(tp));
	g_object_unref(tp);
}

/* A stored Message-ID fit to go back into a header: printable ASCII,
 * no blanks or angle brackets (it came from outside). */
static int safe_id(const char *id)
{
	const unsigned char *p = (const unsigned char *)id;

	if (id == NULL || *p == '\0' || strlen(id) > 900)
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '<' || *p == '>')
			return 0;
	return 1;
}

static void set_threading(GMimeMessage *msg, const struct ticket_reply_info *ri)
{
	GString *refs = g_string_new("");
	size_t i;

	if (safe_id(ri->in_reply_to)) {
		char *irt = g_strdup_printf("<%s>", ri->in_reply_to);

		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", irt,
					 NULL);
		g_free(irt);
	}
	for (i = 0; i < ri->references.n; i++)
		if (safe_id(ri->references.v[i]))
			g_string_append_printf(refs, "%s<%s>",
					       refs->len ? " " : "",
					       ri->references.v[i]);
	if (refs->len > 0)
		g_mime_object_set_header(GMIME_OBJECT(msg), "References",
					 refs->str, NULL);
	g_string_free(refs, TRUE);
}

static void set_automatic(GMimeMessage *msg)
{
	GMimeObject *o = GMIME_OBJECT(msg);

	g_mime_object_set_header(o, "Auto-Submitted", "auto-replied", NULL);
	g_mime_object_set_header(o, "Precedence", "bulk", NULL);
	g_mime_object_set_header(o, "X-Auto-Response-Suppress", "All", NULL);
}

/* Serialise msg twice: as sent, then with our signed header on top. */
static int finish(GMimeMessage *msg, const char *header, const char *value,
		  int with_sent, struct ticket_outgoing *out,
		  const char **error_r)
{
	char *s;

	if (with_sent) {
		s = g_mime_object_to_string(GMIME_OBJECT(msg), NULL);
		out->sent = s ? strdup(s) : NULL;
		g_free(s);
	}
	g_mime_object_prepend_header(GMIME_OBJECT(msg), header, value, NULL);
	s = g_mime_object_to_string(GMIME_OBJECT(msg), NULL);
	out->stored = s ? strdup(s) : NULL;
	g_free(s);
	g_object_unref(msg);
	if (out->stored == NULL || (with_sent && out->sent == NULL)) {
		*error_r = "out of memory composing the message";
		return -1;
	}
	return 0;
}

static int new_id(const struct ticket_config *cfg, uint64_t ticket,
		  struct ticket_outgoing *out, const char **error_r)
{
	char mid[512];

	g_mime_init();
	memset(out, 0, sizeof(*out));
	if (ticket_id_message_id(cfg, ticket, mid, sizeof(mid)) < 0 ||
	    (out->message_id = strdup(mid)) == NULL) {
		*error_r = "cannot make a Message-ID (no random bytes?)";
		return -1;
	}
	return 0;
}

int ticket_reply_build(const struct ticket_config *cfg,
		       const struct ticket_reply_info *ri, const char *body,
		       int automatic, struct ticket_outgoing *out,
		       const char **error_r)
{
	char sig[TICKET_SIG_LEN + 1];
	char *subject;
	GMimeMessage *msg;

	if (new_id(cfg, ri->ticket, out, error_r) < 0)
		return -1;
	subject = ticket_reply_subject(cfg, ri->ticket, ri->subject);
	out->to = ticket_strv_join(&ri->to, ", ");
	out->cc = ticket_strv_join(&ri->cc, ", ");
	if (subject == NULL || out->to == NULL || out->cc == NULL) {
		free(subject);
		ticket_outgoing_free(out);
		*error_r = "out of memory";
		return -1;
	}
	msg = base_message(cfg, &ri->to, &ri->cc, subject, out->message_id);
	free(subject);
	set_threading(msg, ri);
	if (automatic)
		set_automatic(msg);
	set_body(msg, body);
	ticket_id_sign(cfg, "sent", out->message_id, sig);
	if (finish(msg, TICKET_SENT_HEADER, sig, 1, out, error_r) < 0) {
		ticket_outgoing_free(out);
		return -1;
	}
	return 0;
}

int ticket_reply_note(const struct ticket_config *cfg, uint64_t ticket,
		      const char *action, const char *who,
		      struct ticket_outgoing *out, const char **error_r)
{
	char sig[TICKET_SIG_LEN + 1], data[600], value[64], subject[128];
	char *self_v[1] = {cfg->address};
	struct ticket_strv self = {self_v, 1}, none = {NULL, 0};
	char *text;
	GMimeMessage *msg;

	if (new_id(cfg, ticket, out, error_r) < 0)
		return -1;
	snprintf(data, sizeof(data), "%s %s", action, out->message_id);
	ticket_id_sign(cfg, "note", data, sig);
	snprintf(value, sizeof(value), "%s %s", action, sig);
	snprintf(subject, sizeof(subject), "[%s%llu] %s", cfg->tag_prefix,
		 (unsigned long long)ticket,
		 strcmp(action, "close") == 0 ? "closed" : "reopened");
	if (asprintf(&text, "Ticket %s by %s with ticketq %s.\n",
		     strcmp(action, "close") == 0 ? "closed" : "reopened", who,
		     action) < 0) {
		ticket_outgoing_free(out);
		*error_r = "out of memory";
		return -1;
	}
	msg = base_message(cfg, &self, &none, subject, out->message_id);
	set_body(msg, text);
	free(text);
	if (finish(msg, TICKET_NOTE_HEADER, value, 0, out, error_r) < 0) {
		ticket_outgoing_free(out);
		return -1;
	}
	return 0;
}

/* --- the send-then-commit flow ------------------------------------ */

#define SENDMAIL_ARGS_MAX 32

void ticket_reply_result_free(struct ticket_reply_result *res)
{
	free(res->message_id);
	free(res->to);
	free(res->cc);
	free(res->last_kind);
	free(res->warning);
	memset(res, 0, sizeof(*res));
}

static int split_words(char *cmd, char **argv, int max)
{
	int n = 0;
	char *p = cmd;

	while (*p != '\0' && n < max - 1) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		argv[n++] = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
	}
	argv[n] = NULL;
	return n;
}

/* Hand text to the configured command on its stdin (no shell); 0 when
 * it exits 0, else -1 after logging how it ended. */
static int run_sendmail(const char *command, const char *text)
{
	char *cmd = strdup(command), *argv[SENDMAIL_ARGS_MAX];
	int fds[2], status = 0, ret = -1;
	pid_t pid;

	if (cmd == NULL || split_words(cmd, argv, SENDMAIL_ARGS_MAX) == 0 ||
	    pipe(fds) < 0) {
		free(cmd);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		fprintf(stderr, "ticketq: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	if (pid > 0) {
		signal(SIGPIPE, SIG_IGN);
		ret = fdio_write_all(fds[1], text, strlen(text));
		close(fds[1]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (ret == 0 &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			ret = -1;
	} else {
		close(fds[1]);
	}
	if (ret < 0)
		log_error("%s failed (%s %d)", argv[0],
			  WIFSIGNALED(status) ? "signal" : "exit status",
			  WIFSIGNALED(status) ? WTERMSIG(status)
					      : WEXITSTATUS(status));
	free(cmd);
	return ret;
}

/* The stored twin, durable in tmp/ (and parsed into d) until sent. */
static enum ticket_status spool_text(struct ticket_queue *q, const char *text,
				     struct ticket_delivery *d,
				     struct ticket_spool *sp,
				     const char **error_r)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_FD,
					.hold = 1,
					.named_hold = 1,
					.spool = sp};
	const char *error = "cannot create a memory file";
	enum ticket_status st = TICKET_ERR_TEMP;

	memset(d, 0, sizeof(*d));
	memset(sp, 0, sizeof(*sp));
	o.in_fd = memfd_create("ticketq", MFD_CLOEXEC);
	if (o.in_fd >= 0 && fdio_write_all(o.in_fd, text, strlen(text)) == 0 &&
	    lseek(o.in_fd, 0, SEEK_SET) == 0)
		st = ticket_deliver(q, &o, d, &error);
	if (o.in_fd >= 0)
		close(o.in_fd);
	if (st != TICKET_OK || d->outcome != TICKET_STORED) {
		*error_r = errorf("storing our copy: %s", error);
		ticket_maildir_discard(sp);
		ticket_delivery_done(d);
		return TICKET_ERR_TEMP;
	}
	return TICKET_OK;
}

/* Sent: the twin into new/, then into the index.  A failure here is a
 * warning, never "try again", which would send the reply twice. */
static void record_sent(struct ticket_queue *q, struct ticket_delivery *d,
			struct ticket_spool *sp, char **warning_r)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_HELD, .spool = sp};
	const char *error;
	int r = 0;

	if (ticket_deliver(q, &o, d, &error) == TICKET_OK)
		;
	else if (!d->in_maildir)
		r = asprintf(warning_r,
			     "the reply was sent but our copy is not stored "
			     "(%s); it is left in %s and is not on the ticket",
			     error, sp->tmp_path);
	else
		r = asprintf(warning_r,
			     "the reply was sent and stored as %s/new/%s but "
			     "is not in the index yet (%s): ticketq reindex "
			     "--missing adds it",
			     q->cfg->dir, d->name, error);
	if (r < 0)
		*warning_r = NULL;
	if (!d->in_maildir) { /* the copy stays in tmp/ */
		sp->tmp_path[0] = '\0';
		ticket_maildir_discard(sp);
	}
	ticket_delivery_done(d);
}

static int refuse_auto(const struct ticket_reply_info *ri,
		       struct ticket_reply_result *res)
{
	size_t i;
	int robot = 0;

	for (i = 0; i < ri->to.n; i++)
		robot |= ticket_classify_no_reply_address(ri->to.v[i]);
	if (!(ri->last_flags & TICKET_FLAG_NO_AUTO_ANSWER) && !robot)
		return 0;
	res->outcome = TICKET_REPLY_REFUSED;
	res->to = ticket_strv_join(&ri->to, ", ");
	res->last_kind = strdup(ri->last_kind ? ri->last_kind : "none");
	return 1;
}

static int strv_copy(struct ticket_strv *dst, const struct ticket_strv *src)
{
	size_t i;

	ticket_strv_free(dst);
	for (i = 0; i < src->n; i++)
		if (ticket_strv_add(dst, src->v[i], (size_t)-1) < 0)
			return -1;
	return 0;
}

/* The recipients o asks for: --to replaces To (and the requester
 * becomes an ordinary participant), --cc replaces Cc; an automatic
 * answer goes to To only unless o names a Cc.  Never the queue's
 * address on the default Cc.  0, or -1 out of memory. */
static int apply_recipients(const struct ticket_config *cfg,
			    const struct ticket_reply_opts *o,
			    struct ticket_reply_info *ri)
{
	if (o->to != NULL && strv_copy(&ri->to, o->to) < 0)
		return -1;
	ri->cc_dropped = 0;
	if (o->cc != NULL)
		return strv_copy(&ri->cc, o->cc);
	if (o->automatic) {
		ticket_strv_free(&ri->cc);
		return 0;
	}
	return choose_cc(ri, cfg->address, o->to == NULL);
}

/* Every recipient a plain addr-spec: "" when so, else the bad one. */
static const char *bad_recipient(const struct ticket_reply_info *ri)
{
	size_t i;

	if (ri->to.n == 0)
		return "";
	for (i = 0; i < ri->to.n; i++)
		if (strchr(ri->to.v[i], '@') == NULL)
			return ri->to.v[i];
	return NULL;
}

/* The default To is the queue's own address (a customer's Reply-To or
 * a spoofed From): refused, a mail loop; error_r says to use --to. */
static int to_is_own(const struct ticket_config *cfg,
		     const struct ticket_reply_opts *o,
		     const struct ticket_reply_info *ri, const char **error_r)
{
	size_t i;

	for (i = 0; o->to == NULL && cfg->address != NULL && i < ri->to.n; i++)
		if (strcasecmp(ri->to.v[i], cfg->address) == 0) {
			*error_r = errorf(
				"ticket %llu: the requester's address %s is "
				"the queue's own address (a mail loop); give "
				"the recipient with --to ADDR",
				(unsigned long long)ri->ticket,
				printable(ri->to.v[i], 200));
			return 1;
		}
	return 0;
}

/* Build, hold, send, record. */
static enum ticket_status send_reply(struct ticket_queue *q,
				     const struct ticket_reply_info *ri,
				     const char *body, int automatic,
				     struct ticket_reply_result *res,
				     const char **error_r)
{
	struct ticket_outgoing out;
	struct ticket_delivery d;
	struct ticket_spool sp;
	const char *bad = bad_recipient(ri);

	if (bad != NULL) {
		*error_r = errorf("ticket %llu has no address to reply to%s%s "
				  "(give one with --to ADDR)",
				  (unsigned long long)ri->ticket,
				  bad[0] ? ": " : "", bad);
		return TICKET_ERR_QUEUE;
	}
	if (ticket_reply_build(q->cfg, ri, body, automatic, &out, error_r) < 0)
		return TICKET_ERR_TEMP;
	if (spool_text(q, out.stored, &d, &sp, error_r) != TICKET_OK) {
		ticket_outgoing_free(&out);
		return TICKET_ERR_TEMP;
	}
	if (run_sendmail(q->cfg->sendmail, out.sent) < 0) {
		ticket_maildir_discard(&sp);
		ticket_delivery_done(&d);
		*error_r = "reply not sent; nothing recorded";
		ticket_outgoing_free(&out);
		return TICKET_ERR_TEMP;
	}
	res->outcome = TICKET_REPLY_DONE;
	res->cc_dropped = ri->cc_dropped;
	res->message_id = out.message_id;
	res->to = out.to;
	res->cc = out.cc;
	out.message_id = out.to = out.cc = NULL;
	ticket_outgoing_free(&out);
	record_sent(q, &d, &sp, &res->warning);
	return TICKET_OK;
}

/* The ticket's reply facts: 1 loaded, 0 no such ticket (res says so),
 * -1 with *st_r. */
static int load(struct ticket_queue *q, uint64_t ticket,
		struct ticket_reply_info *ri, struct ticket_reply_result *res,
		enum ticket_status *st_r, const char **error_r)
{
	int r = ticket_reply_load(q->store, ticket, ri, error_r);

	if (r < 0)
		*st_r = ticket_store_temp_failure(q->store) ? TICKET_ERR_TEMP
							    : TICKET_ERR_QUEUE;
	if (r == 0)
		res->outcome = TICKET_REPLY_NO_TICKET;
	return r;
}

enum ticket_status ticket_reply_send(struct ticket_queue *q, uint64_t ticket,
				     const char *body,
				     const struct ticket_reply_opts *o,
				     struct ticket_reply_result *res,
				     const char **error_r)
{
	struct ticket_reply_info ri;
	enum ticket_status st = TICKET_OK;

	memset(res, 0, sizeof(*res));
	if (load(q, ticket, &ri, res, &st, error_r) != 1) {
		ticket_reply_info_free(&ri);
		return st;
	}
	if (apply_recipients(q->cfg, o, &ri) < 0) {
		*error_r = "out of memory";
		st = TICKET_ERR_TEMP;
	} else if (to_is_own(q->cfg, o, &ri, error_r)) {
		st = TICKET_ERR_QUEUE;
	} else if (!(o->automatic && refuse_auto(&ri, res))) {
		st = send_reply(q, &ri, body, o->automatic, res, error_r);
	}
	ticket_reply_info_free(&ri);
	return st;
}

/* got appended to out: NULL, or what is wrong (a bare name, too
 * many). */
static const char *addrs_add_checked(const struct ticket_strv *got,
				     struct ticket_strv *out)
{
	size_t i;

	for (i = 0; i < got->n; i++) {
		if (!addr_routable(got->v[i]))
			return errorf("%s: not a full address (give "
				      "user@domain: a bare name would go to "
				      "a local mailbox)",
				      printable(got->v[i], 200));
		if (out->n >= ADDRS_ARG_MAX && !ticket_strv_has(out, got->v[i]))
			return errorf("more than %d addresses (send the "
				      "reply in parts)",
				      ADDRS_ARG_MAX);
		if (ticket_strv_add(out, got->v[i], (size_t)-1) < 0)
			return "out of memory";
	}
	return NULL;
}

int ticket_reply_addrs_parse(const char *list, struct ticket_strv *out,
			     const char **error_r)
{
	InternetAddressList *l;
	struct ticket_strv got = {NULL, 0};
	const char *bad = NULL;
	int r;

	g_mime_init();
	if (list[strspn(list, " \t,")] == '\0')
		return 0;
	l = internet_address_list_parse(NULL, list);
	r = l != NULL ? ticket_mail_addrs(l, &got) : -1;
	if (l != NULL)
		g_object_unref(l);
	if (r < 0 || got.n == 0)
		bad = errorf("not an address list: %s", printable(list, 200));
	else
		bad = addrs_add_checked(&got, out);
	ticket_strv_free(&got);
	if (bad != NULL)
		*error_r = bad;
	return bad != NULL ? -1 : 0;
}

/* A note: stored in new/ at once, then indexed. */
static enum ticket_status store_note(struct ticket_queue *q, const char *text,
				     const char **error_r)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_HELD};
	struct ticket_delivery d;
	struct ticket_spool sp;
	enum ticket_status st;

	if (spool_text(q, text, &d, &sp, error_r) != TICKET_OK)
		return TICKET_ERR_TEMP;
	o.spool = &sp;
	st = ticket_deliver(q, &o, &d, error_r);
	ticket_maildir_discard(&sp);
	ticket_delivery_done(&d);
	return st == TICKET_OK ? TICKET_OK : TICKET_ERR_TEMP;
}

enum ticket_status ticket_reply_set_status(struct ticket_queue *q,
					   uint64_t ticket, const char *action,
					   const char *who,
					   struct ticket_reply_result *res,
					   const char **error_r)
{
	const char *want = strcmp(action, "close") == 0 ? "closed" : "open";
	struct ticket_reply_info ri;
	struct ticket_outgoing out;
	enum ticket_status st = TICKET_OK;

	memset(res, 0, sizeof(*res));
	if (load(q, ticket, &ri, res, &st, error_r) != 1) {
		ticket_reply_info_free(&ri);
		return st;
	}
	if (strcmp(ri.status, want) == 0)
		res->outcome = TICKET_REPLY_UNCHANGED;
	else if (ticket_reply_note(q->cfg, ticket, action, who, &out, error_r) <
		 0)
		st = TICKET_ERR_TEMP;
	else {
		st = store_note(q, out.stored, error_r);
		res->outcome = TICKET_REPLY_DONE;
		ticket_outgoing_free(&out);
	}
	ticket_reply_info_free(&ri);
	return st;
}
