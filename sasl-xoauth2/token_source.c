/*
 * token_source.c - the SASL password, resolved to an access token.
 *
 * The password a client hands the plugin is one of
 *   oauthmail:ACCOUNT   an account of oauthmail.conf: ask the token
 *                       broker (token_socket) or the shared cache
 *   /abs/path.json      a token file: the shared cache, by path
 *   anything else       a raw access token, passed through when it is
 *                       a valid RFC 6750 bearer token
 * Rules: everything that needs files (config, key, CA data) is opened
 * in token_source_init, which the plugin calls before Postfix chroots;
 * inside the chroot only the broker socket or token files are used.  A
 * relative token_socket is relative to the current directory (Postfix
 * runs in its queue directory); where it does not exist (a program that
 * is not Postfix) the cache is used instead.  Tokens are copied into
 * memory we wipe, and identified in logs by fingerprint only.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "token/bearer_msg.h"
#include "token/broker_client.h"
#include "token/oauthmail_conf.h"
#include "token/token_cache.h"
#include "token/token_perms.h"
#include "token_source.h"

#define PREFIX "oauthmail:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

static int config_missing_default(const char *path)
{
	struct stat st;
	const char *env = getenv("OAUTHMAIL_CONF");

	return path == NULL && (env == NULL || *env == '\0') &&
	       stat(config_default_path(), &st) < 0 && errno == ENOENT;
}

static int open_cache(struct token_source *ts, const char **error_r)
{
	const char *error;

	if (token_cache_open(ts->cfg, &ts->cache, &error) == 0)
		return 0;
	ts->cache = NULL;
	if (ts->cfg->token_socket == NULL) {
		*error_r = errorf("token cache: %s", error);
		return -1;
	}
	/* the broker does the work; only token-file paths are lost */
	ts->why_no_cache = strdup(error);
	log_info("token cache not available (%s); using the token broker "
		 "at %s",
		 error, ts->cfg->token_socket);
	return 0;
}

int token_source_init(struct token_source *ts, const char *path,
		      const char **error_r)
{
	const char *error;

	memset(ts, 0, sizeof(*ts));
	if (config_missing_default(path)) {
		ts->why_no_config = strdup(
			errorf("%s does not exist (set OAUTHMAIL_CONF, and "
			       "list it in Postfix's import_environment)",
			       config_default_path()));
		log_info("no configuration at %s: only raw access tokens "
			 "can be used",
			 config_default_path());
		return 0;
	}
	if (config_load(path, &ts->cfg, &error) < 0) {
		*error_r = error;
		return -1;
	}
	return open_cache(ts, error_r);
}

static enum om_status from_raw(const char *password, struct source_token *tok,
			       const char **error_r)
{
	if (!bearer_msg_token_ok(password)) {
		*error_r = "the SASL password is neither oauthmail:ACCOUNT, "
			   "an absolute token-file path, nor an access token";
		return OM_ERR_CONFIG;
	}
	tok->token = strdup(password);
	if (tok->token == NULL) {
		*error_r = "out of memory";
		return OM_ERR_TEMP;
	}
	crypto_fingerprint(tok->token, strlen(tok->token), tok->fingerprint);
	return OM_OK;
}

/* explain - a cache failure, with the account and the config file, and
 * when token_dir is the trouble, what to change there */
static const char *explain(const struct token_source *ts, const char *ref,
			   const char *error)
{
	const char *fix = token_perms_usable(ts->cfg->token_dir, ts->cfg->path);

	if (fix != NULL)
		return errorf("account %s (config %s): %s; %s",
			      printable(ref, 120), ts->cfg->path, error, fix);
	if (strncmp(error, "account ", 8) == 0)
		return error; /* names the account and the fix already */
	return errorf("account %s (config %s): %s", printable(ref, 120),
		      ts->cfg->path, error);
}

static enum om_status from_cache(struct token_source *ts, const char *ref,
				 int is_path, struct source_token *tok,
				 const char **error_r)
{
	struct access_token at;
	enum om_status st;

	if (ts->cache == NULL) {
		*error_r = errorf("token cache not available: %s",
				  ts->why_no_cache ? ts->why_no_cache
						   : "no configuration");
		return OM_ERR_CONFIG;
	}
	st = is_path ? token_cache_get_path(ts->cache, ref, &at, error_r)
		     : token_cache_get(ts->cache, ref, &at, error_r);
	if (st != OM_OK) {
		*error_r = explain(ts, ref, *error_r);
		return st;
	}
	tok->token = strdup(at.token);
	if (tok->token == NULL) {
		*error_r = "out of memory";
		return OM_ERR_TEMP;
	}
	memcpy(tok->fingerprint, at.fingerprint, sizeof(tok->fingerprint));
	tok->fingerprint[6] = '\0';
	return OM_OK;
}

/* use_broker - token_socket is set and reachable from here */
static int use_broker(const struct token_source *ts)
{
	const char *sock = ts->cfg->token_socket;
	struct stat st;

	if (sock == NULL)
		return 0;
	if (sock[0] == '/' || stat(sock, &st) == 0 || errno != ENOENT)
		return 1;
	log_debug("token_socket %s not found from here; using the cache", sock);
	return ts->cache == NULL; /* no cache: let the broker error show */
}

static enum om_status from_broker(struct token_source *ts, const char *account,
				  struct source_token *tok,
				  const char **error_r)
{
	time_t expires;
	enum om_status st;

	st = broker_client_token(ts->cfg->token_socket, account,
				 BROKER_TIMEOUT_MS, &tok->token, &expires,
				 error_r);
	if (st != OM_OK)
		return st;
	tok->from_broker = 1;
	crypto_fingerprint(tok->token, strlen(tok->token), tok->fingerprint);
	return OM_OK;
}

static enum om_status from_account(struct token_source *ts, const char *account,
				   struct source_token *tok,
				   const char **error_r)
{
	if (ts->cfg == NULL) {
		*error_r = errorf("password names account '%s' but there is "
				  "no configuration: %s",
				  printable(account, 64), ts->why_no_config);
		return OM_ERR_CONFIG;
	}
	if (config_find_account(ts->cfg, account) == NULL) {
		*error_r = errorf("no [account %s] in %s (see: oauthmail "
				  "list)",
				  printable(account, 64), ts->cfg->path);
		return OM_ERR_CONFIG;
	}
	tok->account = strdup(account);
	if (tok->account == NULL) {
		*error_r = "out of memory";
		return OM_ERR_TEMP;
	}
	if (use_broker(ts))
		return from_broker(ts, account, tok, error_r);
	return from_cache(ts, account, 0, tok, error_r);
}

enum om_status token_source_get(struct token_source *ts, const char *password,
				struct source_token *tok_r,
				const char **error_r)
{
	enum om_status st;

	memset(tok_r, 0, sizeof(*tok_r));
	if (password == NULL || *password == '\0') {
		*error_r = "empty SASL password (want oauthmail:ACCOUNT)";
		return OM_ERR_CONFIG;
	}
	if (strncmp(password, PREFIX, PREFIX_LEN) == 0)
		st = from_account(ts, password + PREFIX_LEN, tok_r, error_r);
	else if (password[0] == '/') {
		tok_r->account = strdup(password);
		st = tok_r->account == NULL
			     ? OM_ERR_TEMP
			     : from_cache(ts, password, 1, tok_r, error_r);
	} else
		st = from_raw(password, tok_r, error_r);
	if (st != OM_OK)
		token_source_release(tok_r);
	return st;
}

void token_source_invalidate(struct token_source *ts,
			     const struct source_token *tok)
{
	const char *error;

	if (tok->account == NULL)
		return; /* a raw token: nothing we can refresh */
	if (tok->from_broker) {
		if (broker_client_invalidate(ts->cfg->token_socket,
					     tok->account, tok->fingerprint,
					     BROKER_TIMEOUT_MS,
					     &error) != OM_OK)
			log_warn("could not tell the token broker: %s", error);
		return;
	}
	if (ts->cache != NULL)
		token_cache_invalidate(ts->cache, tok->account,
				       tok->fingerprint);
}

void token_source_release(struct source_token *tok)
{
	wipe_free_str(&tok->token);
	free(tok->account);
	tok->account = NULL;
}

void token_source_free(struct token_source *ts)
{
	if (ts->cache != NULL)
		token_cache_close(&ts->cache);
	config_free(&ts->cfg);
	free(ts->why_no_config);
	free(ts->why_no_cache);
	ts->why_no_config = NULL;
	ts->why_no_cache = NULL;
}
