/* oauth.h - OAuth 2.0 client: token endpoint grants and the device flow */
#ifndef OAUTHMAIL_OAUTH_H
#define OAUTHMAIL_OAUTH_H

#include <stddef.h>
#include <time.h>

#include "token/oauth_error.h"
#include "token/om_status.h"

struct account_config;
struct http_client;

struct oauth_token {
	char *access_token;
	char *refresh_token; /* NULL when the answer carried none */
	char *scope;	     /* NULL when absent */
	long long expires_in;
};

struct oauth_device {
	char *device_code;
	char *user_code;
	char *verification_uri;
	char *message; /* the provider's own instructions, or NULL */
	long long expires_in;
	long long interval;
};

enum oauth_poll {
	OAUTH_POLL_DONE,
	OAUTH_POLL_PENDING,
	OAUTH_POLL_SLOW_DOWN,
	OAUTH_POLL_FAILED,
};

/* oauth_token_parse - a 200 answer of a token endpoint: access_token
 * (required), token_type Bearer if present, expires_in 1..1 year
 * (required), refresh_token and scope if present.  Outside input:
 * every field is bounded.  0, or -1 with error_r. */
int oauth_token_parse(const char *body, size_t len, struct oauth_token *tok_r,
		      const char **error_r);
/* oauth_token_free - wipe and free the fields */
void oauth_token_free(struct oauth_token *tok);

/* oauth_redeem_code - authorization_code grant with PKCE */
enum om_status oauth_redeem_code(const struct account_config *acct,
				 struct http_client *http, const char *code,
				 const char *verifier, const char *redirect_uri,
				 struct oauth_token *tok_r,
				 struct oauth_error *err_r);
/* oauth_refresh - refresh_token grant (the answer may rotate it) */
enum om_status oauth_refresh(const struct account_config *acct,
			     struct http_client *http,
			     const char *refresh_token,
			     struct oauth_token *tok_r,
			     struct oauth_error *err_r);
/* oauth_client_credentials - app-only token (no refresh token) */
enum om_status oauth_client_credentials(const struct account_config *acct,
					struct http_client *http,
					struct oauth_token *tok_r,
					struct oauth_error *err_r);

/* oauth_device_start - ask the device endpoint for a user code */
enum om_status oauth_device_start(const struct account_config *acct,
				  struct http_client *http,
				  struct oauth_device *dev_r,
				  struct oauth_error *err_r);
/* oauth_device_poll - one poll of the token endpoint */
enum oauth_poll oauth_device_poll(const struct account_config *acct,
				  struct http_client *http,
				  const struct oauth_device *dev,
				  struct oauth_token *tok_r,
				  struct oauth_error *err_r);
/* oauth_device_free - wipe and free */
void oauth_device_free(struct oauth_device *dev);

/* oauth_authorize_url - the browser URL for the auth-code + PKCE flow */
int oauth_authorize_url(const struct account_config *acct,
			const char *redirect_uri, const char *state,
			const char *challenge, char **url_r);

#endif
