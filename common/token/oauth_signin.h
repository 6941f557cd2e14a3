/* oauth_signin.h - the interactive sign-in flows of `oauthmail
 * authorize`: authorization code + PKCE, and the device code flow */
#ifndef OAUTHMAIL_OAUTH_SIGNIN_H
#define OAUTHMAIL_OAUTH_SIGNIN_H

#include "token/oauth_grant.h"

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

/* oauth_redeem_code - authorization_code grant with PKCE */
enum om_status oauth_redeem_code(const struct account_config *acct,
				 struct http_client *http, const char *code,
				 const char *verifier, const char *redirect_uri,
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
