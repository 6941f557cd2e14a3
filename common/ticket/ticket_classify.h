/* ticket_classify.h - person, robot, bounce or loop? */
#ifndef OAUTHMAIL_TICKET_CLASSIFY_H
#define OAUTHMAIL_TICKET_CLASSIFY_H

struct ticket_config;
struct ticket_mail;

/* Our headers: on everything we send, on the stored twin of a reply,
 * on a status note (values signed with the queue's HMAC key). */
#define TICKET_LOOP_HEADER "X-Ticketq-Loop"
#define TICKET_SENT_HEADER "X-Ticketq-Sent"
#define TICKET_NOTE_HEADER "X-Ticketq-Note"

/* ticket_classify - set mail->kind (customer, our reply, our note,
 * auto-reply, bounce, loop), its flags (list, out-of-office,
 * no-auto-answer) and a short reason ("Auto-Submitted: auto-replied");
 * for our own reply or note also own_ticket (and note).  Unparsed
 * mail is always a customer's.  For bounces without a structured
 * report, Message-IDs quoted in the text are added to dsn_refs.
 * Never fails. */
void ticket_classify(struct ticket_mail *mail, const struct ticket_config *cfg);

/* ticket_classify_ooo_subject - 1 when a subject is an out-of-office
 * or automatic-reply subject (EN, DE, FR, ES, NL, IT, PT) */
int ticket_classify_ooo_subject(const char *subject);

/* ticket_classify_bounce_subject - 1 when a subject is a bounce's */
int ticket_classify_bounce_subject(const char *subject);

/* ticket_classify_no_reply_address - 1 for addresses that must never
 * get an automatic answer (mailer-daemon, postmaster, noreply, ...) */
int ticket_classify_no_reply_address(const char *addr);

#endif
