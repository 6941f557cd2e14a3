/* token_store.h - the per-account token file (docs/internals.md, "The
 * shared token-refresh cache", rule 1) */
#ifndef OAUTHMAIL_TOKEN_STORE_H
#define OAUTHMAIL_TOKEN_STORE_H

#include <stddef.h>
#include <time.h>

#include "lib/crypto.h"

/* Everything oauthmail keeps about one account's grant.  Times are
 * absolute (time_t), 0 when unknown. */
struct token_record {
	char *account;
	char *provider;
	char *client_id; /* to notice a changed app registration */
	char *user;
	char *scope;
	char *access_token;
	time_t access_expires;
	char *refresh_token;   /* NULL for client credentials */
	time_t refresh_issued; /* when the current refresh token came */
	time_t authorized;     /* last interactive authorization */
	time_t last_refresh;   /* last successful token request */
	int reauth_needed;     /* a permanent error: run authorize */
	char *last_error;      /* one line, no secrets */
	time_t last_error_time;
	time_t backoff_until; /* after transient errors */
	int failures;	      /* transient failures in a row */
	char *rejected;	    /* fingerprint of an access token a server refused:
			   refresh before using it again */
	char *signed_in_as; /* who signed in at authorize, from the id_token;
			       NULL when not verified (or an older file) */
};

/* token_store_path - token_dir/<account>.json into buf */
int token_store_path(const char *token_dir, const char *account,
		     const char *suffix, char *buf, size_t size);

/* token_record_parse - token-file JSON (plain) into rec.  Outside input:
 * strict and bounded.  0, or -1 with error_r. */
int token_record_parse(const char *json, size_t len, struct token_record *rec,
		       const char **error_r);
/* token_record_format - rec as JSON (caller frees, wipes) */
char *token_record_format(const struct token_record *rec);
/* token_record_free - wipe secrets, free, zero */
void token_record_free(struct token_record *rec);

/* token_store_read - read path (O_NOFOLLOW, bounded), opening a sealed
 * file with key (NULL = no key_file).  0; 1 when missing; -1 error. */
int token_store_read(const char *path, const unsigned char *key,
		     const char *account, struct token_record *rec,
		     const char **error_r);
/* token_store_write - atomic, durable, 0600, owner of the directory;
 * sealed when key is set */
int token_store_write(const char *path, const unsigned char *key,
		      const struct token_record *rec, const char **error_r);

#endif
