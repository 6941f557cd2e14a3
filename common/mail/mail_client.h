/* mail_client.h - IMAP, POP3 and SMTP client dialogues up to an
 * authenticated session: greeting, STARTTLS, capabilities, SASL */
#ifndef OAUTHMAIL_MAIL_CLIENT_H
#define OAUTHMAIL_MAIL_CLIENT_H

#include "lib/strbuf.h"
#include "token/oauthmail_conf.h"

struct mail_sasl;
struct tls_conn;

enum mail_proto {
	MAIL_IMAP,
	MAIL_POP3,
	MAIL_SMTP,
};

#define MAIL_LINE_MAX 65536 /* longest server line we accept */
#define MAIL_REPLY_SHOW 300 /* how much of a server reply we echo */

struct mail_client {
	enum mail_proto proto;
	struct tls_conn *conn;
	char *host;
	char *caps; /* capability text, space-separated, upper case */
	char reply[MAIL_REPLY_SHOW + 8]; /* last final reply, printable */
	int server_failed; /* 1: the server said no (not a local error) */
	unsigned int tag;
	struct strbuf line; /* the line last read */
};

/* mail_proto_parse - "imap", "pop3", "smtp"; -1 when none */
int mail_proto_parse(const char *name, enum mail_proto *proto_r);
/* mail_proto_name - the reverse */
const char *mail_proto_name(enum mail_proto proto);
/* mail_proto_server - the account's server settings for proto */
const struct mail_server *mail_proto_server(const struct account_config *a,
					    enum mail_proto proto);

/* mail_client_connect - TCP to srv, TLS (implicit, or the protocol's
 * STARTTLS), greeting and capabilities.  ehlo_name: our name for SMTP. */
int mail_client_connect(enum mail_proto proto, const struct mail_server *srv,
			const char *ca_file, int timeout_ms,
			const char *ehlo_name, struct mail_client **mc_r,
			const char **error_r);

/* mail_client_has_cap - the server announced cap (e.g. "AUTH=XOAUTH2",
 * "SASL-IR"; for SMTP "AUTH" lists mechanisms as "AUTH=MECH") */
int mail_client_has_cap(const struct mail_client *mc, const char *cap);

/* mail_client_auth - authenticate with mech through sasl; split: send
 * the initial response on its own line (Microsoft POP3).  On failure
 * error_r includes the server's reply; mc->server_failed says whether
 * the server refused (1) or something local broke (0). */
int mail_client_auth(struct mail_client *mc, struct mail_sasl *sasl,
		     const char *mech, int split, const char **error_r);

/* mail_client_command - send one command line (CRLF added) and read the
 * final reply into mc->reply; IMAP commands get a tag.  Untagged / data
 * lines go to data (may be NULL), one per line.  0 on a positive reply,
 * 1 on a negative one, -1 on a connection error. */
int mail_client_command(struct mail_client *mc, const char *cmd,
			struct strbuf *data, const char **error_r);

/* mail_client_hint - what an admin should check after the server
 * refused authentication with reply (Exchange Online's replies known) */
const char *mail_client_hint(enum mail_proto proto, const char *reply);

/* mail_client_close - QUIT/LOGOUT is the caller's; close and free */
void mail_client_close(struct mail_client **mc);

#endif
