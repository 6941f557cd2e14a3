/* oauth_error.h - provider errors turned into one line: code, meaning, fix */
#ifndef OAUTHMAIL_OAUTH_ERROR_H
#define OAUTHMAIL_OAUTH_ERROR_H

#include <stddef.h>

#include "token/om_status.h"

struct account_config;

struct oauth_error {
	enum om_status status; /* REAUTH, CONFIG or TEMP */
	long http_status;      /* 0 when no HTTP answer came */
	long retry_after;      /* seconds, -1 when not given */
	long aadsts;	       /* Microsoft's code, 0 when none */
	char error[64];	       /* RFC 6749 "error", e.g. invalid_grant */
	char description[256]; /* provider text, first line, printable */
	char message[1024];    /* for people: account, code, meaning, fix */
};

/* oauth_error_from_response - classify a non-200 (or unusable 200)
 * answer of a token or device endpoint and write the message */
void oauth_error_from_response(const struct account_config *acct,
			       long http_status, const char *body, size_t len,
			       long retry_after, struct oauth_error *err);

/* oauth_error_at - the same, naming url (without its query) when the
 * answer is no OAuth error or a 404/405; oauth_error_from_response is
 * this with the account's token_url */
void oauth_error_at(const struct account_config *acct, const char *url,
		    long http_status, const char *body, size_t len,
		    long retry_after, struct oauth_error *err);

/* oauth_error_from_fields - the same for an error and description that
 * came another way (the browser redirect's query) */
void oauth_error_from_fields(const struct account_config *acct,
			     const char *error, const char *description,
			     struct oauth_error *err);

/* oauth_error_transport - no usable answer (network, TLS, timeout) */
void oauth_error_transport(const struct account_config *acct, const char *what,
			   struct oauth_error *err);

/* oauth_error_garbled - HTTP 200, but not a token (proxy, portal, bug) */
void oauth_error_garbled(const struct account_config *acct, const char *what,
			 struct oauth_error *err);

/* oauth_error_missing - a flow was asked for without a key it needs
 * (a CONFIG error naming the key; config_load refuses such accounts,
 * so this only guards callers that built an account by hand) */
void oauth_error_missing(const struct account_config *acct, const char *key,
			 struct oauth_error *err);

/* oauth_error_lookup - the table entry's meaning and fix for a code
 * (AADSTS number or, with code 0, an RFC 6749 error name); 0 when
 * known, -1 otherwise */
int oauth_error_lookup(long aadsts, const char *error, const char **meaning_r,
		       const char **fix_r, enum om_status *status_r);

#endif
