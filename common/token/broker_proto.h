/* broker_proto.h - the one-line protocol of the token broker
 * (oauthmail serve; docs/oauthmail-serve.8 describes it for admins).
 *
 *   request = "TOKEN" SP account LF          a valid access token
 *           | "INVALIDATE" SP account [SP fingerprint] LF
 *                                            the server refused the token
 *                                            of that fingerprint
 *           | "PING" LF                      is the broker alive
 *   fingerprint = 6 lowercase hex digits     first 6 of the token's SHA-256
 *                                            (without: an old client; the
 *                                            token the broker gave last)
 *   reply   = "OK" SP token SP expires LF    (TOKEN; expires: unix time)
 *           | "OK" LF                        (INVALIDATE, PING)
 *           | class SP text LF
 *   class   = "TEMP"                         try again later (Postfix defers)
 *           | "REAUTH"                       run: oauthmail authorize ACCOUNT
 *           | "CONFIG"                       fix oauthmail.conf
 *           | "BAD"                          malformed request
 *
 * A CR before the LF is accepted.  Requests are at most
 * BROKER_REQUEST_MAX bytes, replies at most BROKER_REPLY_MAX.
 *
 * This header: what both ends share and the client's half (the SASL
 * plugin's); the broker's half is broker_proto_server.h.
 */
#ifndef OAUTHMAIL_BROKER_PROTO_H
#define OAUTHMAIL_BROKER_PROTO_H

#include <stddef.h>
#include <time.h>

#include "token/om_status.h"

struct strbuf;

#define BROKER_REQUEST_MAX 256
#define BROKER_REPLY_MAX 20000
#define BROKER_TEXT_MAX 1000 /* error text in a reply */
#define BROKER_ACCOUNT_MAX 64
#define BROKER_FINGERPRINT_LEN 6 /* = CRYPTO_FINGERPRINT_LEN, as in logs */

enum broker_cmd {
	BROKER_TOKEN,
	BROKER_INVALIDATE,
	BROKER_PING,
};

struct broker_request {
	enum broker_cmd cmd;
	char account[BROKER_ACCOUNT_MAX + 1]; /* empty for PING */
	/* INVALIDATE: the refused token's fingerprint; empty when the
	   client sent none */
	char fingerprint[BROKER_FINGERPRINT_LEN + 1];
};

struct broker_reply {
	enum om_status status; /* OM_OK or the error class */
	char *token;	       /* OK to TOKEN: malloc'd, wipe_free_str it */
	time_t expires;
	char *text; /* error text (malloc'd), NULL on OK */
};

/* broker_proto_account_ok - 1 when name can be an account on the wire:
 * 1-64 of [A-Za-z0-9_.@+-], not starting with '.' or '-' */
int broker_proto_account_ok(const char *name, size_t len);

/* broker_proto_fingerprint_ok - 1 when fp is BROKER_FINGERPRINT_LEN
 * lowercase hex digits */
int broker_proto_fingerprint_ok(const char *fp, size_t len);

/* broker_proto_strip_eol - len without one trailing LF and one CR
 * before it */
size_t broker_proto_strip_eol(const char *line, size_t len);

/* broker_proto_word_is - the line starts with word followed by its end
 * or a space */
int broker_proto_word_is(const char *line, size_t len, const char *word);

/* broker_proto_class_word - the reply class for status: TEMP, REAUTH,
 * CONFIG or BAD (TEMP for anything else) */
const char *broker_proto_class_word(enum om_status status);

/* broker_proto_format_request - the line for req, LF included */
int broker_proto_format_request(const struct broker_request *req,
				struct strbuf *out);

/* broker_proto_parse_reply - one reply line.  0 (reply_r filled, free it
 * with broker_proto_reply_free), or -1 with error_r when malformed. */
int broker_proto_parse_reply(const char *line, size_t len,
			     struct broker_reply *reply_r,
			     const char **error_r);

/* broker_proto_reply_free - wipe and free what a parsed reply holds */
void broker_proto_reply_free(struct broker_reply *reply);

#endif
