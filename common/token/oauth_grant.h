/* oauth_grant.h - OAuth 2.0 token endpoint: the refresh and client
 * credentials grants, the token answer, and the request engine the
 * interactive flows (oauth_signin.h) build on */
#ifndef OAUTHMAIL_OAUTH_GRANT_H
#define OAUTHMAIL_OAUTH_GRANT_H

#include <stddef.h>
#include <time.h>

#include "token/oauth_error.h"
#include "token/om_status.h"

struct account_config;
struct http_client;
struct http_form;
struct http_response;

struct oauth_token {
	char *access_token;
	char *refresh_token; /* NULL when the answer carried none */
	char *scope;	     /* NULL when absent */
	char *id_token;	     /* OpenID Connect, read by authorize (id_token.h):
			   NULL when absent, "" when not a string of at most
			   16 KB (it never fails the answer) */
	long long expires_in;
};

/* One name=value pair of a token request; a NULL value is left out. */
struct oauth_field {
	const char *name;
	const char *value;
};

/* oauth_token_parse - a 200 answer of a token endpoint: access_token
 * (required), token_type Bearer if present, expires_in 1..1 year
 * (required), refresh_token, scope and id_token if present.  Outside input:
 * every field is bounded.  0, or -1 with error_r. */
int oauth_token_parse(const char *body, size_t len, struct oauth_token *tok_r,
		      const char **error_r);
/* oauth_token_free - wipe and free the fields */
void oauth_token_free(struct oauth_token *tok);

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

/* oauth_grant - a token request: the fields, the client's credentials,
 * POST to the token endpoint, the answer parsed into tok_r */
enum om_status oauth_grant(const struct account_config *acct,
			   struct http_client *http,
			   const struct oauth_field *fields, size_t count,
			   struct oauth_token *tok_r,
			   struct oauth_error *err_r);
/* oauth_post_ok - POST the form to url; anything but a 200 answer is
 * turned into err_r (transport failure or the provider's error body) */
enum om_status oauth_post_ok(const struct account_config *acct,
			     struct http_client *http, const char *url,
			     const struct http_form *form,
			     struct http_response *resp,
			     struct oauth_error *err_r);
/* oauth_form_add_client - client_id, and client_secret when there is one */
int oauth_form_add_client(struct http_form *form,
			  const struct account_config *acct);
/* oauth_form_failed - err_r for a request that could not be built */
enum om_status oauth_form_failed(const struct account_config *acct,
				 struct oauth_error *err_r);

#endif
