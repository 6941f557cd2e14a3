/* ticket_mail.h - one incoming message, parsed with GMime for tickets */
#ifndef OAUTHMAIL_TICKET_MAIL_H
#define OAUTHMAIL_TICKET_MAIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gmime/gmime.h>

#include "lib/strbuf.h"

/* What a message is to the queue (stored as the thread "kind"). */
enum ticket_kind {
	TICKET_KIND_CUSTOMER,  /* a person: opens or continues a ticket */
	TICKET_KIND_REPLY,     /* our own reply (ticketq reply) */
	TICKET_KIND_AUTOREPLY, /* auto-reply, out-of-office, list or bulk */
	TICKET_KIND_BOUNCE,    /* delivery status notification */
	TICKET_KIND_NOTE,      /* our own status note (close, reopen) */
	TICKET_KIND_LOOP,      /* our own mail come back: never filed */
};

/* Message flags (bits), shown in JSON as words. */
enum ticket_flag {
	TICKET_FLAG_UNPARSED = 1 << 0,	/* GMime could not read it */
	TICKET_FLAG_MALFORMED = 1 << 1, /* parsed, with repairs */
	TICKET_FLAG_TRUNCATED = 1 << 2, /* text or html cut at max_text_size */
	TICKET_FLAG_LIST = 1 << 3,	/* mailing-list traffic */
	TICKET_FLAG_OOO = 1 << 4,	/* out-of-office */
	TICKET_FLAG_NO_AUTO_ANSWER = 1
				     << 5, /* never send an automatic answer */
};

struct ticket_part {
	GMimeObject *obj;   /* owned by the parsed message */
	char *name;	    /* decoded file name as sent, or NULL */
	char *content_type; /* "image/png" */
	char *content_id;   /* without <>, or NULL */
	int is_message;	    /* message/rfc822: saved as .eml */
	int inline_ref;	    /* referenced as cid: from the HTML */
	/* set when saved (ticket_files): */
	char *path; /* "files/<ticket>/<name>", NULL if not saved */
	uint64_t size;
	int skipped; /* over max_attachment_size */
	struct ticket_part *next;
};

struct ticket_strv {
	char **v;
	size_t n;
};

struct ticket_mail {
	GMimeMessage *msg;	 /* NULL when unparsed */
	char *message_id;	 /* without <>, NULL when missing */
	struct ticket_strv refs; /* In-Reply-To, then References newest first */
	struct ticket_strv dsn_refs; /* Message-IDs of the bounced message */
	char *from_addr;	     /* lower-case addr-spec, or NULL */
	char *from_name;
	char *reply_to; /* lower-case addr-spec, or NULL */
	struct ticket_strv to;
	struct ticket_strv cc;
	char *subject;	   /* UTF-8, "" when missing */
	char *raw_subject; /* as sent (undecoded, unfolded), NULL when
			    * missing */
	time_t date;	   /* Date header, 0 when missing or bad */
	struct strbuf text;
	struct strbuf html;
	struct ticket_part *parts;
	unsigned int nparts;
	int is_dsn; /* multipart/report delivery-status, or a status part */
	unsigned int warnings;
	/* filled by ticket_classify: */
	enum ticket_kind kind;
	unsigned int flags;
	char reason[160];
	uint64_t own_ticket; /* reply, note: the ticket our signed
			      * Message-ID names */
	const char *note;    /* note: "close" or "reopen" */
};

/* ticket_mail_parse_fd - parse the message in fd (seekable; taken over
 * and closed on free).  Contents stay on disk (GMime persist mode); the
 * text and html bodies are read as UTF-8 up to max_text bytes each.
 * A message GMime cannot read is returned with msg NULL and the flag
 * TICKET_FLAG_UNPARSED.  0, or -1 with error_r (out of memory). */
int ticket_mail_parse_fd(int fd, size_t max_text, struct ticket_mail **mail_r,
			 const char **error_r);

/* ticket_mail_parse_mem - the same for a message in memory (tests,
 * fuzzing); the data is copied */
int ticket_mail_parse_mem(const char *data, size_t len, size_t max_text,
			  struct ticket_mail **mail_r, const char **error_r);

/* ticket_mail_free - free and NULL */
void ticket_mail_free(struct ticket_mail **mail);

/* ticket_mail_header - decoded value of a top-level header, or NULL */
const char *ticket_mail_header(const struct ticket_mail *mail,
			       const char *name);

/* ticket_mail_message_id - Message-ID (without <>) from a header
 * block, as a new string; NULL when there is none */
char *ticket_mail_message_id(const char *headers, size_t len);

/* ticket_mail_part_copy - write a part's decoded content to fd, at most
 * max bytes (0 = no limit).  0 done (*size_r set), 1 over max, -1 I/O
 * error with errno. */
int ticket_mail_part_copy(struct ticket_part *part, int fd, uint64_t max,
			  uint64_t *size_r);

/* ticket_mail_kind_name - "customer", "reply", "auto-reply", ... */
const char *ticket_mail_kind_name(enum ticket_kind kind);

/* ticket_mail_class_name - what a message is called in reports (the
 * deliver line, the log): its kind name, but "list" for mailing-list
 * traffic (kind auto-reply, flag list; the stored kind and the JSON
 * keep "auto-reply") */
const char *ticket_mail_class_name(enum ticket_kind kind, unsigned int flags);

/* ticket_mail_kind_parse - the reverse; -1 when unknown */
int ticket_mail_kind_parse(const char *name);

/* ticket_mail_flags_format - flag words separated by blanks into buf */
void ticket_mail_flags_format(unsigned int flags, char *buf, size_t size);

/* ticket_mail_flags_parse - words back to bits (unknown words ignored) */
unsigned int ticket_mail_flags_parse(const char *words);

/* ticket_strv_add - append a copy of s (no duplicates, at most max
 * entries); 0, or -1 out of memory */
int ticket_strv_add(struct ticket_strv *sv, const char *s, size_t max);

/* ticket_strv_has - 1 when s is in the list */
int ticket_strv_has(const struct ticket_strv *sv, const char *s);

/* ticket_strv_join - the strings with sep between them, as a new
 * string ("" for none); NULL out of memory */
char *ticket_strv_join(const struct ticket_strv *sv, const char *sep);

/* ticket_mail_addrs - the mailboxes of list (groups expanded) as
 * lower-case addr-specs appended to out; 0, or -1 out of memory */
int ticket_mail_addrs(InternetAddressList *list, struct ticket_strv *out);

/* ticket_strv_free - free the strings and the array */
void ticket_strv_free(struct ticket_strv *sv);

/* ticket_utf8_clean - make (buf) valid UTF-8 in place-ish: invalid
 * bytes and NULs become U+FFFD; returns 0, or -1 out of memory */
int ticket_utf8_clean(struct strbuf *buf);

#endif
