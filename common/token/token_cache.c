/*
 * token_cache.c - a valid access token for an account, for any number
 * of processes at once (docs/internals.md, "The shared token-refresh
 * cache").
 *
 * Hot path (rule 2): one stat() of the token file; when its identity
 * (device, inode, mtime, size) matches the in-process copy and that
 * token has more than refresh_margin seconds left, the copy is the
 * answer.  Otherwise the file is read without a lock.
 *
 * Refresh (rule 3): exclusive flock on <account>.lock, re-read the file
 * (another process may have refreshed), refresh only if still needed,
 * write the file, unlock.  N processes at expiry cause one request.
 *
 * Rotation (rule 4): a new refresh token is on disk (fsync + rename)
 * before the new access token is handed out; if the write fails, the
 * token is not handed out.
 *
 * Failures (rule 5): transient ones (network, 5xx, 429) are recorded
 * with a back-off; a still-valid token keeps being served.  Permanent
 * ones set reauth_needed and keep the old data; no further refresh is
 * tried until `oauthmail authorize`.  Messages name the account, the
 * code, its meaning and the fix; logs carry fingerprints, not tokens.
 *
 * A cache is not thread-safe: one per thread, or a lock around it.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "lib/errorf.h"
#include "lib/lockfile.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "token/http.h"
#include "token/oauth_grant.h"
#include "token/oauthmail_conf.h"
#include "token/provider.h"
#include "token/token_cache.h"
#include "token/token_store.h"

#define LOCK_WAIT_MS 60000
#define BACKOFF_MIN 5
#define BACKOFF_MAX 300
#define STILL_VALID_SLACK 10 /* seconds a token must have left to serve */
#define PATH_MAX_LEN 4096

struct cache_entry {
	const struct account_config *acct;
	int by_name; /* token_dir/<account>.json, found by account name */
	char *path;
	char *lock_path;
	struct stat st; /* identity of the file the copy came from */
	int have_st;
	char *token;
	time_t expires;
	char fp[CRYPTO_FINGERPRINT_LEN + 1];
	char rejected_fp[CRYPTO_FINGERPRINT_LEN + 1];
	time_t serve_until; /* refresh failing: keep serving the copy till */
};

struct token_cache {
	const struct oauthmail_config *cfg;
	struct http_client *http;
	unsigned char key[CRYPTO_KEY_LEN];
	int have_key;
	struct cache_entry **entries;
	size_t count;
};

int token_cache_open(const struct oauthmail_config *cfg,
		     struct token_cache **cache_r, const char **error_r)
{
	struct token_cache *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->cfg = cfg;
	if (http_client_new(cfg->ca_file, &c->http, error_r) < 0) {
		free(c);
		return -1;
	}
	if (cfg->key_file != NULL) {
		if (crypto_load_key(cfg->key_file, c->key, error_r) < 0) {
			token_cache_close(&c);
			return -1;
		}
		c->have_key = 1;
	}
	*cache_r = c;
	return 0;
}

static void entry_free(struct cache_entry *e)
{
	wipe_free_str(&e->token);
	free(e->path);
	free(e->lock_path);
	free(e);
}

void token_cache_close(struct token_cache **cachep)
{
	struct token_cache *c = *cachep;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->count; i++)
		entry_free(c->entries[i]);
	free(c->entries);
	http_client_free(&c->http);
	wipe(c->key, sizeof(c->key));
	free(c);
	*cachep = NULL;
}

struct http_client *token_cache_http(struct token_cache *cache)
{
	return cache->http;
}

static const unsigned char *cache_key(const struct token_cache *c)
{
	return c->have_key ? c->key : NULL;
}

/* lock_path_for - "<x>.json" locks as "<x>.lock", anything else "+.lock" */
static char *lock_path_for(const char *path)
{
	size_t n = strlen(path);
	char *lock = malloc(n + 6);

	if (lock == NULL)
		return NULL;
	if (n > 5 && strcmp(path + n - 5, ".json") == 0)
		n -= 5;
	memcpy(lock, path, n);
	memcpy(lock + n, ".lock", 6);
	return lock;
}

static struct cache_entry *entry_for(struct token_cache *c, const char *path)
{
	struct cache_entry *e, **list;
	size_t i;

	for (i = 0; i < c->count; i++)
		if (strcmp(c->entries[i]->path, path) == 0)
			return c->entries[i];
	list = realloc(c->entries, (c->count + 1) * sizeof(*list));
	if (list == NULL)
		return NULL;
	c->entries = list;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->path = strdup(path);
	e->lock_path = lock_path_for(path);
	if (e->path == NULL || e->lock_path == NULL) {
		entry_free(e);
		return NULL;
	}
	c->entries[c->count++] = e;
	return e;
}

static int same_file(const struct cache_entry *e, const struct stat *st)
{
	return e->have_st && e->st.st_dev == st->st_dev &&
	       e->st.st_ino == st->st_ino && e->st.st_size == st->st_size &&
	       e->st.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	       e->st.st_mtim.tv_nsec == st->st_mtim.tv_nsec;
}

/* fresh - has more than the margin left, and the server has not refused it */
static int fresh(const struct token_cache *c, const char *token, time_t expires,
		 const char *rejected_fp, time_t now)
{
	char fp[CRYPTO_FINGERPRINT_LEN + 1];

	if (token == NULL || expires - now <= c->cfg->refresh_margin)
		return 0;
	if (rejected_fp[0] == '\0')
		return 1;
	crypto_fingerprint(token, strlen(token), fp);
	return strcmp(fp, rejected_fp) != 0;
}

/* adopt_rejection - a refusal another process recorded in the file */
static void adopt_rejection(struct cache_entry *e,
			    const struct token_record *rec)
{
	if (rec->rejected != NULL &&
	    strlen(rec->rejected) == CRYPTO_FINGERPRINT_LEN)
		memcpy(e->rejected_fp, rec->rejected,
		       CRYPTO_FINGERPRINT_LEN + 1);
}

/* entry_fresh - fresh() for the in-process copy, whose fingerprint is
   known already (the hot path hashes nothing) */
static int entry_fresh(const struct token_cache *c, const struct cache_entry *e,
		       time_t now)
{
	if (e->token == NULL ||
	    (e->rejected_fp[0] != '\0' && strcmp(e->fp, e->rejected_fp) == 0))
		return 0;
	return e->expires - now > c->cfg->refresh_margin ||
	       now < e->serve_until;
}

/* entry_take - make rec's access token the in-process copy */
static int entry_take(struct cache_entry *e, struct token_record *rec,
		      const struct stat *st)
{
	wipe_free_str(&e->token);
	e->token = rec->access_token;
	rec->access_token = NULL;
	e->expires = rec->access_expires;
	e->serve_until = 0;
	e->fp[0] = '\0';
	if (e->token != NULL)
		crypto_fingerprint(e->token, strlen(e->token), e->fp);
	e->have_st = st != NULL;
	if (st != NULL)
		e->st = *st;
	return 0;
}

static void answer(const struct cache_entry *e, struct access_token *tok_r)
{
	tok_r->token = e->token;
	tok_r->expires = e->expires;
	memcpy(tok_r->fingerprint, e->fp, sizeof(tok_r->fingerprint));
}

static void own_like_dir(int fd, const char *path)
{
	char dir[PATH_MAX_LEN];

	safefile_dirname(path, dir, sizeof(dir));
	if (safefile_own_like(fd, dir) < 0)
		log_warn("chown %s: %s", path, strerror(errno));
}

static const char *access_fix(const char *path)
{
	char dir[PATH_MAX_LEN];

	safefile_dirname(path, dir, sizeof(dir));
	return errorf("%s is not accessible to uid %ld. Fix: the token "
		      "directory must belong to the user that sends mail, e.g. "
		      "chown -R postfix:postfix %s; chmod 700 %s",
		      path, (long)geteuid(), dir, dir);
}

/* lock_acquire - exclusive flock on the lock file, waiting at most
 * LOCK_WAIT_MS; the lock is released by closing the returned fd */
static int lock_acquire(const char *lock_path, enum om_status *status_r,
			const char **error_r)
{
	int fd;

	*status_r = OM_ERR_TEMP;
	fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EACCES) {
		*status_r = OM_ERR_CONFIG;
		*error_r = access_fix(lock_path);
		return -1;
	}
	if (fd < 0) {
		*error_r = errorf("open %s: %s", lock_path, strerror(errno));
		return -1;
	}
	own_like_dir(fd, lock_path);
	if (lockfile_wait(fd, LOCK_EX, LOCK_WAIT_MS) < 0) {
		*error_r = errorf("%s: lock not granted within %d s "
				  "(another refresh hangs?)",
				  lock_path, LOCK_WAIT_MS / 1000);
		close(fd);
		return -1;
	}
	return fd;
}

/* serve_or_fail - after a failed or skipped refresh: a token that is
 * still valid keeps mail flowing (with a warning); else the error */
static enum om_status serve_or_fail(struct cache_entry *e,
				    struct token_record *rec,
				    enum om_status status, const char *message,
				    const char **error_r)
{
	time_t now = time(NULL);
	char fp[CRYPTO_FINGERPRINT_LEN + 1] = "";
	struct stat st;

	if (rec->access_token != NULL)
		crypto_fingerprint(rec->access_token, strlen(rec->access_token),
				   fp);
	if (rec->access_token != NULL &&
	    rec->access_expires > now + STILL_VALID_SLACK &&
	    strcmp(fp, e->rejected_fp) != 0) {
		log_warn("%s (still using token %s, valid for %lds)", message,
			 fp, (long)(rec->access_expires - now));
		entry_take(e, rec, stat(e->path, &st) == 0 ? &st : NULL);
		/* until the back-off ends, the copy answers without the lock
		   (and without this warning on every call) */
		e->serve_until = rec->access_expires - STILL_VALID_SLACK;
		if (rec->backoff_until < e->serve_until)
			e->serve_until = rec->backoff_until;
		return OM_OK;
	}
	*error_r = message;
	return status;
}

static time_t backoff_seconds(const struct oauth_error *err, int failures)
{
	long b = BACKOFF_MIN;

	if (err->retry_after > 0)
		return err->retry_after < 3600 ? err->retry_after : 3600;
	while (--failures > 0 && b < BACKOFF_MAX)
		b *= 2;
	return b < BACKOFF_MAX ? b : BACKOFF_MAX;
}

static void record_failure(struct token_cache *c, struct cache_entry *e,
			   struct token_record *rec,
			   const struct oauth_error *err)
{
	time_t now = time(NULL);
	const char *why;

	rec->failures++;
	rec->backoff_until = now + backoff_seconds(err, rec->failures);
	if (err->status == OM_ERR_REAUTH)
		rec->reauth_needed = 1;
	free(rec->last_error);
	rec->last_error = strdup(err->message);
	rec->last_error_time = now;
	if (rec->account != NULL &&
	    token_store_write(e->path, cache_key(c), rec, &why) < 0)
		log_warn("cannot record the failure in %s: %s", e->path, why);
}

static void replace_str(char **field, char **value)
{
	wipe_free_str(field);
	*field = *value;
	*value = NULL;
}

/* store_success - rotation first: the file, with any new refresh token,
 * is durable before the access token becomes the answer */
static enum om_status store_success(struct token_cache *c,
				    struct cache_entry *e,
				    struct token_record *rec,
				    struct oauth_token *tok,
				    const char **error_r)
{
	time_t now = time(NULL);
	int rotated = tok->refresh_token != NULL;
	const char *why;
	struct stat st;

	replace_str(&rec->access_token, &tok->access_token);
	rec->access_expires = now + (time_t)tok->expires_in;
	if (rotated) {
		replace_str(&rec->refresh_token, &tok->refresh_token);
		rec->refresh_issued = now;
	}
	if (tok->scope != NULL)
		replace_str(&rec->scope, &tok->scope);
	rec->last_refresh = now;
	/* rec->rejected stays: it names the old token now (no longer
	   current), and refusal_held() reads it */
	rec->reauth_needed = 0;
	rec->failures = 0;
	rec->backoff_until = 0;
	wipe_free_str(&rec->last_error);
	rec->last_error_time = 0;
	if (token_store_write(e->path, cache_key(c), rec, &why) < 0) {
		*error_r =
			errorf("account %s: the new token could not be saved "
			       "(%s), so it is not used. Fix: free space in "
			       "or fix permissions of the token directory",
			       e->acct->name, why);
		return OM_ERR_TEMP;
	}
	e->rejected_fp[0] = '\0';
	entry_take(e, rec, stat(e->path, &st) == 0 ? &st : NULL);
	log_info("account %s: new access token %s, valid for %llds%s",
		 e->acct->name, e->fp, tok->expires_in,
		 rotated ? ", refresh token rotated" : "");
	return OM_OK;
}

static enum om_status request_and_store(struct token_cache *c,
					struct cache_entry *e,
					struct token_record *rec, int force,
					const char **error_r)
{
	const struct account_config *acct = e->acct;
	struct oauth_token tok = {0};
	struct oauth_error err;
	enum om_status st;

	if (acct->grant == GRANT_CLIENT_CREDENTIALS)
		st = oauth_client_credentials(acct, c->http, &tok, &err);
	else if (rec->refresh_token == NULL) {
		*error_r = errorf("account %s: the token file has no refresh "
				  "token. Fix: run oauthmail authorize %s",
				  acct->name, acct->name);
		return OM_ERR_REAUTH;
	} else
		st = oauth_refresh(acct, c->http, rec->refresh_token, &tok,
				   &err);
	if (st == OM_OK) {
		st = store_success(c, e, rec, &tok, error_r);
		oauth_token_free(&tok);
		return st;
	}
	record_failure(c, e, rec, &err);
	if (force) { /* asked for a refresh: report that it failed */
		*error_r = errorf("%s", err.message);
		return err.status;
	}
	return serve_or_fail(e, rec, err.status, errorf("%s", err.message),
			     error_r);
}

static void record_init(struct token_record *rec,
			const struct account_config *acct)
{
	memset(rec, 0, sizeof(*rec));
	rec->account = strdup(acct->name);
	rec->provider = strdup(provider_name(acct->provider));
	rec->client_id = strdup(acct->client_id);
	rec->user = acct->user ? strdup(acct->user) : NULL;
	rec->scope = acct->scope ? strdup(acct->scope) : NULL;
}

/* read_locked - the record as it is on disk now, or a new one for a
 * client-credentials account that has none yet */
static enum om_status read_locked(struct token_cache *c, struct cache_entry *e,
				  struct token_record *rec,
				  const char **error_r)
{
	const struct account_config *acct = e->acct;
	const char *why;
	int r;

	r = token_store_read(e->path, cache_key(c), acct->name, rec, &why);
	if (r < 0 && errno == EACCES) {
		*error_r = access_fix(e->path);
		return OM_ERR_CONFIG;
	}
	if (r < 0) {
		*error_r = errorf("account %s: %s. Fix: run oauthmail "
				  "authorize %s",
				  acct->name, why, acct->name);
		return OM_ERR_REAUTH;
	}
	if (r > 0 && acct->grant != GRANT_CLIENT_CREDENTIALS) {
		*error_r = errorf("account %s: not authorized yet (no %s). "
				  "Fix: run oauthmail authorize %s",
				  acct->name, e->path, acct->name);
		return OM_ERR_REAUTH;
	}
	if (r > 0)
		record_init(rec, acct);
	return OM_OK;
}

static enum om_status refresh_under_lock(struct token_cache *c,
					 struct cache_entry *e, int force,
					 struct token_record *rec,
					 const char **error_r)
{
	time_t now = time(NULL);
	enum om_status st;
	struct stat sb;

	st = read_locked(c, e, rec, error_r);
	if (st != OM_OK)
		return st;
	adopt_rejection(e, rec);
	if (!force && fresh(c, rec->access_token, rec->access_expires,
			    e->rejected_fp, now)) {
		entry_take(e, rec, stat(e->path, &sb) == 0 ? &sb : NULL);
		return OM_OK; /* another process refreshed it */
	}
	if (rec->reauth_needed)
		return serve_or_fail(
			e, rec, OM_ERR_REAUTH,
			rec->last_error
				? errorf("%s", printable(rec->last_error, 1000))
				: errorf("account %s needs "
					 "authorization. Fix: "
					 "run oauthmail "
					 "authorize %s",
					 e->acct->name, e->acct->name),
			error_r);
	if (!force && rec->backoff_until > now)
		return serve_or_fail(e, rec, OM_ERR_TEMP,
				     errorf("%s (next try in %lds)",
					    rec->last_error ? rec->last_error
							    : "refresh failed",
					    (long)(rec->backoff_until - now)),
				     error_r);
	return request_and_store(c, e, rec, force, error_r);
}

static enum om_status refresh_locked(struct token_cache *c,
				     struct cache_entry *e, int force,
				     struct access_token *tok_r,
				     const char **error_r)
{
	struct token_record rec = {0};
	enum om_status st;
	int fd;

	fd = lock_acquire(e->lock_path, &st, error_r);
	if (fd < 0)
		return st;
	st = refresh_under_lock(c, e, force, &rec, error_r);
	if (st == OM_OK)
		answer(e, tok_r);
	token_record_free(&rec);
	close(fd);
	return st;
}

/* read_unlocked - the lock-free middle path: the file has changed or
 * the copy is stale; 1 when the file holds a fresh token */
static int read_unlocked(struct token_cache *c, struct cache_entry *e,
			 const struct stat *st, time_t now)
{
	struct token_record rec;
	const char *why;
	int ok = 0;

	if (token_store_read(e->path, cache_key(c), e->acct->name, &rec,
			     &why) != 0)
		return 0; /* the locked path reports it */
	adopt_rejection(e, &rec);
	if (fresh(c, rec.access_token, rec.access_expires, e->rejected_fp,
		  now)) {
		entry_take(e, &rec, st);
		ok = 1;
	}
	token_record_free(&rec);
	return ok;
}

/* get_unlocked - rules 2 and the middle path: 1 when a fresh token was
 * at hand without the lock (tok_r filled) */
static int get_unlocked(struct token_cache *c, struct cache_entry *e,
			struct access_token *tok_r)
{
	time_t now = time(NULL);
	struct stat st;

	if (stat(e->path, &st) < 0)
		return 0;
	if ((same_file(e, &st) && entry_fresh(c, e, now)) ||
	    read_unlocked(c, e, &st, now)) {
		answer(e, tok_r);
		return 1;
	}
	return 0;
}

static enum om_status get_file(struct token_cache *c, struct cache_entry *e,
			       int force, struct access_token *tok_r,
			       const char **error_r)
{
	if (!force && get_unlocked(c, e, tok_r))
		return OM_OK;
	return refresh_locked(c, e, force, tok_r, error_r);
}

static struct cache_entry *account_entry(struct token_cache *c,
					 const char *account,
					 const char **error_r)
{
	const struct account_config *acct =
		config_find_account(c->cfg, account);
	char path[PATH_MAX_LEN];
	struct cache_entry *e;

	if (acct == NULL) {
		*error_r = errorf("account '%s' is not in %s. Fix: add an "
				  "[account %s] section, or correct the name "
				  "(in sasl_passwd: oauthmail:NAME)",
				  printable(account, 64), c->cfg->path,
				  printable(account, 64));
		return NULL;
	}
	if (token_store_path(c->cfg->token_dir, acct->name, ".json", path,
			     sizeof(path)) < 0 ||
	    (e = entry_for(c, path)) == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	e->acct = acct;
	e->by_name = 1;
	return e;
}

enum om_status token_cache_get(struct token_cache *c, const char *account,
			       struct access_token *tok_r, const char **error_r)
{
	struct cache_entry *e = account_entry(c, account, error_r);

	if (e == NULL)
		return OM_ERR_CONFIG;
	return get_file(c, e, 0, tok_r, error_r);
}

enum om_status token_cache_peek(struct token_cache *c, const char *account,
				struct access_token *tok_r,
				const char **error_r)
{
	struct cache_entry *e = account_entry(c, account, error_r);

	if (e == NULL)
		return OM_ERR_CONFIG;
	*error_r = NULL;
	return get_unlocked(c, e, tok_r) ? OM_OK : OM_ERR_TEMP;
}

enum om_status token_cache_refresh(struct token_cache *c, const char *account,
				   struct access_token *tok_r,
				   const char **error_r)
{
	struct cache_entry *e = account_entry(c, account, error_r);

	if (e == NULL)
		return OM_ERR_CONFIG;
	return get_file(c, e, 1, tok_r, error_r);
}

/* resolve_path_account - which account a token file belongs to */
static enum om_status resolve_path_account(struct token_cache *c,
					   struct cache_entry *e,
					   const char **error_r)
{
	struct token_record rec;
	const char *why;
	int r;

	r = token_store_read(e->path, cache_key(c), NULL, &rec, &why);
	if (r != 0) {
		*error_r =
			r > 0 ? errorf("token file %s does not exist", e->path)
			      : why;
		return r > 0 ? OM_ERR_REAUTH : OM_ERR_CONFIG;
	}
	e->acct = rec.account ? config_find_account(c->cfg, rec.account) : NULL;
	if (e->acct == NULL)
		*error_r = errorf(
			"token file %s names account '%s', which is "
			"not in %s",
			e->path, rec.account ? printable(rec.account, 64) : "?",
			c->cfg->path);
	token_record_free(&rec);
	return e->acct != NULL ? OM_OK : OM_ERR_CONFIG;
}

enum om_status token_cache_get_path(struct token_cache *c, const char *path,
				    struct access_token *tok_r,
				    const char **error_r)
{
	struct cache_entry *e;
	enum om_status st;

	if (path[0] != '/') {
		*error_r = "token file path must be absolute";
		return OM_ERR_CONFIG;
	}
	e = entry_for(c, path);
	if (e == NULL) {
		*error_r = "out of memory";
		return OM_ERR_TEMP;
	}
	if (e->acct == NULL &&
	    (st = resolve_path_account(c, e, error_r)) != OM_OK)
		return st;
	return get_file(c, e, 0, tok_r, error_r);
}

/* refusal_held - the rate limit: a token was refused before and the
 * current one is younger than TOKEN_CACHE_REFUSAL_HOLDOFF seconds, so a
 * server refusing every new token costs one refresh per hold-off, not
 * one per connection */
static int refusal_held(const struct token_record *rec, time_t now)
{
	return rec->rejected != NULL && rec->last_refresh <= now &&
	       now - rec->last_refresh < TOKEN_CACHE_REFUSAL_HOLDOFF;
}

/* mark_refused - under the lock: mark the file's current token refused
 * when it is the refused one (refused_fp; NULL: the current one) */
static enum token_refusal mark_refused(struct token_cache *c,
				       struct cache_entry *e,
				       struct token_record *rec,
				       const char *refused_fp)
{
	char fp[CRYPTO_FINGERPRINT_LEN + 1];
	time_t now = time(NULL);
	const char *error;

	if (token_store_read(e->path, cache_key(c), e->acct->name, rec,
			     &error) != 0 ||
	    rec->access_token == NULL)
		return TOKEN_REFUSAL_UNKNOWN;
	crypto_fingerprint(rec->access_token, strlen(rec->access_token), fp);
	if (refused_fp != NULL && strcmp(fp, refused_fp) != 0)
		return TOKEN_REFUSAL_STALE;
	memcpy(e->rejected_fp, fp, sizeof(fp));
	if (rec->rejected != NULL && strcmp(rec->rejected, fp) == 0)
		return TOKEN_REFUSAL_MARKED; /* marked already: one refresh */
	if (refusal_held(rec, now)) {
		e->rejected_fp[0] = '\0';
		return TOKEN_REFUSAL_HELD;
	}
	free(rec->rejected);
	rec->rejected = strdup(fp);
	if (rec->rejected == NULL ||
	    token_store_write(e->path, cache_key(c), rec, &error) < 0)
		log_warn("account %s: cannot record the refusal in %s: %s",
			 e->acct->name, e->path,
			 rec->rejected ? error : "out of memory");
	return TOKEN_REFUSAL_MARKED;
}

static void log_refusal(const struct cache_entry *e, const char *refused_fp,
			enum token_refusal r)
{
	const char *fp = refused_fp ? refused_fp : e->rejected_fp;

	if (r == TOKEN_REFUSAL_MARKED)
		log_info("account %s: token %s refused by the server; the "
			 "next use refreshes it",
			 e->acct->name, fp);
	else if (r == TOKEN_REFUSAL_STALE)
		log_info("account %s: token %s refused by the server, but it "
			 "was replaced already: no refresh",
			 e->acct->name, fp);
	else if (r == TOKEN_REFUSAL_HELD)
		log_warn("account %s: the server refused token %s, less than "
			 "%d s old, and an earlier token too: not refreshing "
			 "again so soon (a new token would be refused too). "
			 "Fix: check that the mailbox may use this protocol "
			 "(e.g. SMTP AUTH enabled) and the account's scope",
			 e->acct->name, fp[0] ? fp : "(current)",
			 TOKEN_CACHE_REFUSAL_HOLDOFF);
}

/* refusal_entry - the entry for an account name or a token-file path */
static struct cache_entry *refusal_entry(struct token_cache *c,
					 const char *account)
{
	struct cache_entry *e;
	const char *error;

	if (account[0] != '/')
		return account_entry(c, account, &error);
	e = entry_for(c, account);
	if (e != NULL && e->acct == NULL &&
	    resolve_path_account(c, e, &error) != OM_OK)
		return NULL;
	return e;
}

enum token_refusal token_cache_invalidate(struct token_cache *c,
					  const char *account,
					  const char *refused_fp)
{
	struct token_record rec = {0};
	struct cache_entry *e = refusal_entry(c, account);
	enum token_refusal r;
	enum om_status st;
	const char *error;
	int fd;

	if (e == NULL)
		return TOKEN_REFUSAL_UNKNOWN;
	if (refused_fp == NULL && e->fp[0] != '\0')
		refused_fp = e->fp; /* the one this process handed out */
	fd = lock_acquire(e->lock_path, &st, &error);
	if (fd < 0) {
		log_warn("account %s: refusal not recorded: %s", e->acct->name,
			 error);
		return TOKEN_REFUSAL_UNKNOWN;
	}
	r = mark_refused(c, e, &rec, refused_fp);
	token_record_free(&rec);
	close(fd);
	log_refusal(e, refused_fp, r);
	return r;
}

/* write_locked - replace the file under the account's lock */
static int write_locked(struct token_cache *c, struct cache_entry *e,
			const struct token_record *rec, const char **error_r)
{
	enum om_status st;
	int fd, ret;

	fd = lock_acquire(e->lock_path, &st, error_r);
	if (fd < 0)
		return -1;
	ret = token_store_write(e->path, cache_key(c), rec, error_r);
	close(fd);
	e->have_st = 0;
	e->rejected_fp[0] = '\0';
	return ret;
}

int token_cache_save_grant(struct token_cache *c, const char *account,
			   const struct oauth_token *tok,
			   const char *signed_in_as, const char **error_r)
{
	struct cache_entry *e = account_entry(c, account, error_r);
	struct token_record rec;
	time_t now = time(NULL);
	int ret;

	if (e == NULL)
		return -1;
	record_init(&rec, e->acct);
	rec.access_token = strdup(tok->access_token);
	rec.access_expires = now + (time_t)tok->expires_in;
	rec.refresh_token =
		tok->refresh_token ? strdup(tok->refresh_token) : NULL;
	rec.refresh_issued = tok->refresh_token ? now : 0;
	rec.authorized = now;
	rec.last_refresh = now;
	if (tok->scope != NULL) {
		free(rec.scope);
		rec.scope = strdup(tok->scope);
	}
	rec.signed_in_as = signed_in_as ? strdup(signed_in_as) : NULL;
	if (rec.account == NULL || rec.access_token == NULL ||
	    (tok->refresh_token != NULL && rec.refresh_token == NULL) ||
	    (signed_in_as != NULL && rec.signed_in_as == NULL)) {
		*error_r = "out of memory";
		token_record_free(&rec);
		return -1;
	}
	ret = write_locked(c, e, &rec, error_r);
	token_record_free(&rec);
	return ret;
}

int token_cache_read_record(struct token_cache *c, const char *account,
			    struct token_record *rec, const char **error_r)
{
	struct cache_entry *e = account_entry(c, account, error_r);

	if (e == NULL)
		return -1;
	return token_store_read(e->path, cache_key(c), account, rec, error_r);
}

int token_cache_write_record(struct token_cache *c,
			     const struct token_record *rec,
			     const char **error_r)
{
	struct cache_entry *e;

	if (rec->account == NULL) {
		*error_r = "token record without account";
		return -1;
	}
	e = account_entry(c, rec->account, error_r);
	if (e == NULL)
		return -1;
	return write_locked(c, e, rec, error_r);
}
