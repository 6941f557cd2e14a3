/* token_cache.h - give any process a valid access token for an account
 * (docs/internals.md, "The shared token-refresh cache", rules 1-6) */
#ifndef OAUTHMAIL_TOKEN_CACHE_H
#define OAUTHMAIL_TOKEN_CACHE_H

#include <time.h>

#include "token/om_status.h"

struct oauthmail_config;
struct token_cache;

struct access_token {
	const char *token;   /* owned by the cache; valid until the next call */
	time_t expires;	     /* absolute, from expires_in */
	char fingerprint[7]; /* first 6 hex chars of SHA-256, safe to log */
};

/* token_cache_open - a cache over cfg's token_dir.  cfg must outlive it.
 * Reads key_file and CA data now (plugins call this before a chroot). */
int token_cache_open(const struct oauthmail_config *cfg,
		     struct token_cache **cache_r, const char **error_r);

/* token_cache_get - a valid access token for account.  Hot path: a stat
 * and a compare when the in-process copy is fresh; a lock-free read of
 * the token file otherwise; a single-flight refresh under flock when the
 * token has less than refresh_margin seconds left.  Returns OM_OK, or
 * OM_ERR_CONFIG / OM_ERR_REAUTH / OM_ERR_TEMP with error_r naming the
 * account, the provider's code, its meaning and the command to run. */
enum om_status token_cache_get(struct token_cache *cache, const char *account,
			       struct access_token *tok_r,
			       const char **error_r);

/* token_cache_peek - token_cache_get without the lock and without a
 * request (rules 2 and the lock-free read; never blocks on the network):
 * OM_OK with a fresh token; OM_ERR_TEMP with *error_r NULL when only
 * token_cache_get (the locked path: refresh, back-off, errors) can
 * answer; OM_ERR_CONFIG with error_r for an unknown account.  The token
 * broker answers from it and refreshes in a child process. */
enum om_status token_cache_peek(struct token_cache *cache, const char *account,
				struct access_token *tok_r,
				const char **error_r);

/* token_cache_get_path - the same for an absolute token-file path (the
 * SASL password may name one); the file says which account it is */
enum om_status token_cache_get_path(struct token_cache *cache, const char *path,
				    struct access_token *tok_r,
				    const char **error_r);

/* What token_cache_invalidate did. */
enum token_refusal {
	TOKEN_REFUSAL_MARKED,  /* the current token: the next get refreshes */
	TOKEN_REFUSAL_STALE,   /* not the current token: replaced already */
	TOKEN_REFUSAL_HELD,    /* rate limit: a refusal refreshed recently */
	TOKEN_REFUSAL_UNKNOWN, /* no such account or token file, no token */
};

/* at most one refusal-driven refresh per account in this many seconds */
#define TOKEN_CACHE_REFUSAL_HOLDOFF 60

/* token_cache_invalidate - a server refused account's token (an account
 * name, or an absolute token-file path) whose fingerprint is refused_fp
 * (6 hex digits; NULL: the token this process handed out last, else the
 * current one).  Only the current token is marked, once, in the token
 * file, so every process's next get refreshes it; a refusal of a token
 * replaced already does nothing, and after a refusal-driven refresh a
 * new refusal waits TOKEN_CACHE_REFUSAL_HOLDOFF seconds.  Logged. */
enum token_refusal token_cache_invalidate(struct token_cache *cache,
					  const char *account,
					  const char *refused_fp);

/* token_cache_refresh - refresh now under the lock, even when the token
 * is still valid (oauthmail refresh --force), ignoring back-off; a
 * failure is reported even if the old token is still valid */
enum om_status token_cache_refresh(struct token_cache *cache,
				   const char *account,
				   struct access_token *tok_r,
				   const char **error_r);

struct oauth_token;

/* token_cache_save_grant - after an interactive authorization: write a
 * fresh record for account under the lock (clears reauth_needed and any
 * refusal); signed_in_as is who the id_token named, or NULL */
int token_cache_save_grant(struct token_cache *cache, const char *account,
			   const struct oauth_token *tok,
			   const char *signed_in_as, const char **error_r);

struct token_record;

/* token_cache_read_record - the account's token file as it is now
 * (status, check, export).  0; 1 when there is none; -1 with error_r. */
int token_cache_read_record(struct token_cache *cache, const char *account,
			    struct token_record *rec, const char **error_r);

/* token_cache_write_record - replace the account's token file under the
 * lock (import) */
int token_cache_write_record(struct token_cache *cache,
			     const struct token_record *rec,
			     const char **error_r);

/* token_cache_http - the HTTP client the cache uses (CA data loaded) */
struct http_client *token_cache_http(struct token_cache *cache);

/* token_cache_close - free the cache and wipe its copies */
void token_cache_close(struct token_cache **cache);

#endif
