/* broker_client.h - ask the token broker (oauthmail serve) over its
 * UNIX socket; used by the SASL plugin when token_socket is set */
#ifndef OAUTHMAIL_BROKER_CLIENT_H
#define OAUTHMAIL_BROKER_CLIENT_H

#include <time.h>

#include "token/om_status.h"

#define BROKER_TIMEOUT_MS 60000 /* a refresh may be in progress */

/* broker_client_token - a valid access token for account from the
 * broker at socket_path (relative paths are relative to the current
 * directory: Postfix's queue directory).  OM_OK with *token_r (malloc'd;
 * wipe_free_str it) and *expires_r; otherwise the reply's class (TEMP
 * for an unreachable or silent broker) with error_r. */
enum om_status broker_client_token(const char *socket_path, const char *account,
				   int timeout_ms, char **token_r,
				   time_t *expires_r, const char **error_r);

/* broker_client_invalidate - tell the broker the server refused
 * account's token of fingerprint fp (6 hex digits, never the token), so
 * its next answer is a fresh one unless that token was replaced already */
enum om_status broker_client_invalidate(const char *socket_path,
					const char *account, const char *fp,
					int timeout_ms, const char **error_r);

#endif
