/* bearer_msg.h - XOAUTH2 and OAUTHBEARER (RFC 7628) client messages */
#ifndef OAUTHMAIL_BEARER_MSG_H
#define OAUTHMAIL_BEARER_MSG_H

#include <stddef.h>

struct strbuf;

#define BEARER_TOKEN_MAX 16384 /* longest access token we send */
#define BEARER_USER_MAX 320    /* longest user / authzid */

/* What a server's error challenge says (all fields may be empty). */
struct bearer_error {
	char status[32];
	char schemes[32];
	char scope[128];
};

/* bearer_msg_token_ok - 1 when token is an RFC 6750 b64token of at most
 * BEARER_TOKEN_MAX bytes (what may follow "Bearer "), else 0 */
int bearer_msg_token_ok(const char *token);

/* bearer_msg_xoauth2 - the raw (not base64) XOAUTH2 client response
 * "user=USER^Aauth=Bearer TOKEN^A^A" into out (appended).  0, or -1 with
 * error_r when user or token cannot be sent (never names the token). */
int bearer_msg_xoauth2(const char *user, const char *token, struct strbuf *out,
		       const char **error_r);

/* bearer_msg_oauthbearer - the raw RFC 7628 client response
 * "n,a=AUTHZID,^Ahost=HOST^Aport=PORT^Aauth=Bearer TOKEN^A^A" into out.
 * authzid and host may be NULL or empty, port 0 leaves "port=" out;
 * ',' and '=' in authzid are escaped as GS2 requires. */
int bearer_msg_oauthbearer(const char *authzid, const char *host,
			   unsigned int port, const char *token,
			   struct strbuf *out, const char **error_r);

/* bearer_msg_error - read a server's error challenge (JSON, not base64;
 * need not end in NUL).  0 when it is a JSON object (fields it lacks stay
 * empty, long ones are cut), -1 when it is not JSON. */
int bearer_msg_error(const char *data, size_t len, struct bearer_error *err_r);

/* bearer_msg_error_text - "status 401, scope ..." for a log line */
const char *bearer_msg_error_text(const struct bearer_error *err);

#endif
