/* mail_session.h - an authenticated IMAP/POP3/SMTP session for an
 * account, through libsasl2 and the oauthmail plugin (tunnel, test) */
#ifndef OAUTHMAIL_MAIL_SESSION_H
#define OAUTHMAIL_MAIL_SESSION_H

#include "commands.h"
#include "mail/mail_client.h"

struct mail_sasl;

struct mail_session {
	const struct account_config *acct;
	enum mail_proto proto;
	const char *mech;
	struct mail_client *mc;
	struct mail_sasl *sasl;
};

/* mail_session_args - parse "PROTO ACCOUNT" / "ACCOUNT [PROTO]" style
 * arguments plus --mech MECH; -1 on a usage error (printed) */
int mail_session_args(int argc, char **argv, int proto_first, const char *usage,
		      struct mail_session *s, const char **account_r);

/* mail_session_open - check the token, connect, authenticate.  OM_OK, or
 * the exit code after printing what failed, the server's answer and the
 * fix; *why_r (may be NULL) gets a one-line reason to show a client. */
int mail_session_open(struct cli *cli, const char *account,
		      struct mail_session *s, const char **why_r);

/* mail_session_close - close the connection, free the SASL session */
void mail_session_close(struct mail_session *s);

#endif
