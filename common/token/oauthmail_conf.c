/*
 * config.c - oauthmail.conf: read, check, resolve.
 *
 * Global settings first, then one "[account NAME]" section per mailbox
 * grant.  Every key is known: an unknown or repeated key, a bad value,
 * or a missing required setting is an error naming FILE:LINE and what
 * to write instead.  After parsing, each account's provider fills what
 * it left out (provider.c), and client_secret_file is read (config_load
 * only; config_parse is pure, for tests and fuzzing).
 */
#include "oauthmail-config.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "token/oauthmail_conf.h"
#include "lib/errorf.h"
#include "lib/ini.h"
#include "lib/log.h"
#include "lib/number.h"
#include "token/provider.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define SECRET_FILE_MAX 4096
#define ACCOUNT_MAX 1000
#define DEFAULT_CONFIG_PATH "/etc/oauthmail/oauthmail.conf"
#define DEFAULT_TOKEN_DIR "/var/lib/oauthmail"

enum value_kind {
	V_STRING,
	V_PATH,
	V_URL,
	V_INT,
	V_PORT,
	V_BOOL,
	V_DATE,
	V_TLS,
	V_PROVIDER,
	V_GRANT,
};

struct key_def {
	const char *key;
	enum value_kind kind;
	size_t offset;
};

#define GKEY(k, kind, field)                                      \
	{                                                         \
		k, kind, offsetof(struct oauthmail_config, field) \
	}
#define AKEY(k, kind, field)                                    \
	{                                                       \
		k, kind, offsetof(struct account_config, field) \
	}

static const struct key_def global_keys[] = {
	GKEY("token_dir", V_PATH, token_dir),
	GKEY("refresh_margin", V_INT, refresh_margin),
	GKEY("ca_file", V_PATH, ca_file),
	GKEY("token_socket", V_STRING, token_socket),
	GKEY("key_file", V_PATH, key_file),
};

static const struct key_def account_keys[] = {
	AKEY("provider", V_PROVIDER, provider),
	AKEY("grant", V_GRANT, grant),
	AKEY("tenant", V_STRING, tenant),
	AKEY("client_id", V_STRING, client_id),
	AKEY("client_secret", V_STRING, client_secret),
	AKEY("client_secret_file", V_PATH, client_secret_file),
	AKEY("client_secret_expires", V_DATE, client_secret_expires),
	AKEY("user", V_STRING, user),
	AKEY("scope", V_STRING, scope),
	AKEY("redirect_uri", V_URL, redirect_uri),
	AKEY("authority", V_URL, authority),
	AKEY("authorize_url", V_URL, authorize_url),
	AKEY("token_url", V_URL, token_url),
	AKEY("device_url", V_URL, device_url),
	AKEY("graph_url", V_URL, graph_url),
	AKEY("imap_host", V_STRING, imap.host),
	AKEY("imap_port", V_PORT, imap.port),
	AKEY("imap_tls", V_TLS, imap.tls),
	AKEY("pop3_host", V_STRING, pop3.host),
	AKEY("pop3_port", V_PORT, pop3.port),
	AKEY("pop3_tls", V_TLS, pop3.tls),
	AKEY("pop3_split_auth", V_BOOL, pop3_split_auth),
	AKEY("smtp_host", V_STRING, smtp.host),
	AKEY("smtp_port", V_PORT, smtp.port),
	AKEY("smtp_tls", V_TLS, smtp.tls),
};

#undef GKEY
#undef AKEY

struct parse_ctx {
	struct oauthmail_config *cfg;
	struct account_config *acct; /* current section, NULL at top */
	unsigned char seen_global[sizeof(global_keys) / sizeof(global_keys[0])];
	unsigned char seen_acct[sizeof(account_keys) / sizeof(account_keys[0])];
};

const char *config_default_path(void)
{
	const char *env = getenv("OAUTHMAIL_CONF");

	return env != NULL && *env != '\0' ? env : DEFAULT_CONFIG_PATH;
}

static int parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0)
		*out = 1;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
		 strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* parse_date - YYYY-MM-DD, as the end of that day in UTC */
static int parse_date(const char *s, time_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || tm.tm_year < 100)
		return -1;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

static int parse_tls(const char *s, enum tls_mode *out)
{
	if (strcmp(s, "implicit") == 0)
		*out = TLS_IMPLICIT;
	else if (strcmp(s, "starttls") == 0)
		*out = TLS_STARTTLS;
	else
		return -1;
	return 0;
}

static int parse_grant(const char *s, enum grant_kind *out)
{
	if (strcmp(s, "authorization_code") == 0)
		*out = GRANT_AUTHORIZATION_CODE;
	else if (strcmp(s, "client_credentials") == 0)
		*out = GRANT_CLIENT_CREDENTIALS;
	else
		return -1;
	return 0;
}

static int store_string(char **field, const char *value, const char **why)
{
	if (*value == '\0') {
		*why = "empty value (leave the line out for the default)";
		return -1;
	}
	*field = strdup(value);
	if (*field == NULL) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

static int store_numeric(const struct key_def *def, void *base,
			 const char *value, const char **why)
{
	char *field = (char *)base + def->offset;
	unsigned long long v;

	switch (def->kind) {
	case V_INT: /* refresh_margin: tokens live about an hour; a margin
		       past half of that would refresh on every use */
		if (number_parse(value, 0, 1800, &v) < 0)
			break;
		*(int *)(void *)field = (int)v;
		return 0;
	case V_PORT:
		if (number_parse(value, 1, 65535, &v) < 0)
			break;
		*(int *)(void *)field = (int)v;
		return 0;
	case V_BOOL:
		if (parse_bool(value, (int *)(void *)field) == 0)
			return 0;
		*why = errorf("%s: expected yes or no", def->key);
		return -1;
	default:
		break;
	}
	*why = errorf("%s: expected a whole number%s", def->key,
		      def->kind == V_PORT ? " from 1 to 65535"
					  : " from 0 to 1800");
	return -1;
}

static int store_value(const struct key_def *def, void *base, const char *value,
		       const char **why)
{
	char *field = (char *)base + def->offset;

	switch (def->kind) {
	case V_STRING:
		return store_string((char **)(void *)field, value, why);
	case V_PATH:
		if (value[0] != '/') {
			*why = errorf("%s: must be an absolute path", def->key);
			return -1;
		}
		return store_string((char **)(void *)field, value, why);
	case V_URL:
		if (!provider_url_allowed(value)) {
			*why = errorf("%s: must be an https:// URL (http:// "
				      "only for 127.0.0.1 or localhost)",
				      def->key);
			return -1;
		}
		return store_string((char **)(void *)field, value, why);
	case V_DATE:
		if (parse_date(value, (time_t *)(void *)field) == 0)
			return 0;
		*why = errorf("%s: expected a date YYYY-MM-DD", def->key);
		return -1;
	case V_TLS:
		if (parse_tls(value, (enum tls_mode *)(void *)field) == 0)
			return 0;
		*why = errorf("%s: expected implicit or starttls", def->key);
		return -1;
	case V_PROVIDER:
		if (provider_parse(value,
				   (enum provider_kind *)(void *)field) == 0)
			return 0;
		*why = "provider: expected microsoft, google or custom";
		return -1;
	case V_GRANT:
		if (parse_grant(value, (enum grant_kind *)(void *)field) == 0)
			return 0;
		*why = "grant: expected authorization_code or "
		       "client_credentials";
		return -1;
	default:
		return store_numeric(def, base, value, why);
	}
}

static int set_key(const struct key_def *defs, size_t n, unsigned char *seen,
		   void *base, const struct ini_event *ev, const char **why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(defs[i].key, ev->key) != 0)
			continue;
		if (seen[i]) {
			*why = errorf("%s is set twice", ev->key);
			return -1;
		}
		seen[i] = 1;
		return store_value(&defs[i], base, ev->value, why);
	}
	if (defs == global_keys)
		*why = errorf("unknown setting '%s' (global settings: "
			      "token_dir refresh_margin ca_file token_socket "
			      "key_file; account settings belong under "
			      "[account NAME])",
			      printable(ev->key, 64));
	else
		*why = errorf("unknown account setting '%s' (see "
			      "oauthmail.conf(5))",
			      printable(ev->key, 64));
	return -1;
}

static int valid_account_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 64 && name[0] != '.' && name[0] != '-' &&
	       strchr(name, '/') == NULL;
}

static int add_account(struct parse_ctx *ctx, const struct ini_event *ev,
		       const char **why)
{
	struct oauthmail_config *cfg = ctx->cfg;
	struct account_config *a, **list;

	if (strcmp(ev->kind, "account") != 0 || ev->name == NULL ||
	    !valid_account_name(ev->name)) {
		*why = "sections are [account NAME] (NAME: letters, digits, "
		       "_ - . @ +, at most 64)";
		return -1;
	}
	if (config_find_account(cfg, ev->name) != NULL) {
		*why = errorf("account '%s' is defined twice", ev->name);
		return -1;
	}
	if (cfg->account_count >= ACCOUNT_MAX) {
		*why = "too many accounts";
		return -1;
	}
	list = realloc(cfg->accounts, (cfg->account_count + 1) * sizeof(*list));
	if (list == NULL || (a = calloc(1, sizeof(*a))) == NULL ||
	    (a->name = strdup(ev->name)) == NULL) {
		if (list != NULL)
			cfg->accounts = list;
		*why = "out of memory";
		return -1;
	}
	a->line = ev->line;
	a->pop3_split_auth = -1;
	list[cfg->account_count++] = a;
	cfg->accounts = list;
	ctx->acct = a;
	memset(ctx->seen_acct, 0, sizeof(ctx->seen_acct));
	return 0;
}

static int on_ini_event(const struct ini_event *ev, void *vctx,
			const char **why)
{
	struct parse_ctx *ctx = vctx;

	if (ev->key == NULL)
		return add_account(ctx, ev, why);
	if (ctx->acct == NULL)
		return set_key(global_keys,
			       sizeof(global_keys) / sizeof(global_keys[0]),
			       ctx->seen_global, ctx->cfg, ev, why);
	return set_key(account_keys,
		       sizeof(account_keys) / sizeof(account_keys[0]),
		       ctx->seen_acct, ctx->acct, ev, why);
}

static int check_account(const char *filename, struct account_config *a,
			 const char **error_r)
{
	const char *why = NULL;

	if (a->client_id == NULL)
		why = "client_id is missing (the Application (client) ID of "
		      "your app registration)";
	else if (a->client_secret != NULL && a->client_secret_file != NULL)
		why = "set client_secret or client_secret_file, not both";
	else if (a->grant == GRANT_CLIENT_CREDENTIALS &&
		 a->client_secret == NULL && a->client_secret_file == NULL)
		why = "grant = client_credentials needs client_secret_file";
	else if (provider_apply_defaults(a, &why) == 0)
		return 0;
	*error_r = errorf("%s:%u: [account %s]: %s", filename, a->line, a->name,
			  why);
	return -1;
}

static int apply_global_defaults(struct oauthmail_config *cfg)
{
	if (cfg->token_dir == NULL &&
	    (cfg->token_dir = strdup(DEFAULT_TOKEN_DIR)) == NULL)
		return -1;
	if (cfg->refresh_margin < 0)
		cfg->refresh_margin = 300;
	return 0;
}

int config_parse(const char *filename, const char *text, size_t len,
		 struct oauthmail_config **cfg_r, const char **error_r)
{
	struct parse_ctx ctx;
	size_t i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = calloc(1, sizeof(*ctx.cfg));
	if (ctx.cfg == NULL || (ctx.cfg->path = strdup(filename)) == NULL) {
		*error_r = "out of memory";
		config_free(&ctx.cfg);
		return -1;
	}
	ctx.cfg->refresh_margin = -1;
	if (ini_parse(filename, text, len, on_ini_event, &ctx, error_r) < 0)
		goto fail;
	if (apply_global_defaults(ctx.cfg) < 0) {
		*error_r = "out of memory";
		goto fail;
	}
	for (i = 0; i < ctx.cfg->account_count; i++)
		if (check_account(filename, ctx.cfg->accounts[i], error_r) < 0)
			goto fail;
	*cfg_r = ctx.cfg;
	return 0;
fail:
	config_free(&ctx.cfg);
	return -1;
}

static int load_secret(struct account_config *a, const char **error_r)
{
	struct strbuf sb;
	struct stat st;
	const char *error;
	int ret;

	strbuf_init(&sb, SECRET_FILE_MAX);
	ret = safefile_read(a->client_secret_file, SECRET_FILE_MAX, &sb,
			    &error);
	if (ret != 0) {
		*error_r = errorf("[account %s]: client_secret_file: %s",
				  a->name, ret > 0 ? "no such file" : error);
		strbuf_free(&sb);
		return -1;
	}
	while (sb.len > 0 &&
	       (sb.data[sb.len - 1] == '\n' || sb.data[sb.len - 1] == '\r' ||
		sb.data[sb.len - 1] == ' '))
		sb.data[--sb.len] = '\0';
	if (sb.len == 0) {
		*error_r =
			errorf("[account %s]: client_secret_file %s is empty",
			       a->name, a->client_secret_file);
		strbuf_free(&sb);
		return -1;
	}
	if (stat(a->client_secret_file, &st) == 0 && (st.st_mode & 0004) != 0)
		log_warn(
			"[account %s]: %s is world-readable; fix: chmod 600 %s",
			a->name, a->client_secret_file, a->client_secret_file);
	a->client_secret = strbuf_steal(&sb);
	return 0;
}

/* warn_if_readable - an inline client_secret in a file others can read */
static void warn_if_readable(const char *path, const char *account)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 0004) != 0)
		log_warn(
			"[account %s]: client_secret is in %s, which everybody "
			"can read; fix: move it to client_secret_file (mode "
			"600), or chmod 640 %s",
			account, path, path);
}

int config_load(const char *path, struct oauthmail_config **cfg_r,
		const char **error_r)
{
	struct strbuf sb;
	const char *error;
	size_t i;
	int ret;

	if (path == NULL)
		path = config_default_path();
	strbuf_init(&sb, CONFIG_FILE_MAX);
	ret = safefile_read(path, CONFIG_FILE_MAX, &sb, &error);
	if (ret != 0) {
		*error_r =
			ret > 0 ? errorf("%s: no such file (create it: see "
					 "oauthmail.conf(5), or use -c FILE)",
					 path)
				: error;
		strbuf_free(&sb);
		return -1;
	}
	ret = config_parse(path, sb.data ? sb.data : "", sb.len, cfg_r,
			   error_r);
	strbuf_free(&sb);
	if (ret < 0)
		return -1;
	for (i = 0; i < (*cfg_r)->account_count; i++) {
		struct account_config *a = (*cfg_r)->accounts[i];

		if (a->client_secret != NULL && a->client_secret_file == NULL)
			warn_if_readable(path, a->name);
		if (a->client_secret_file != NULL &&
		    load_secret(a, error_r) < 0) {
			config_free(cfg_r);
			return -1;
		}
	}
	return 0;
}

const struct account_config *config_find_account(
	const struct oauthmail_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->account_count; i++)
		if (strcmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	return NULL;
}

static void account_free(struct account_config *a)
{
	char **strings[] = {&a->name,	       &a->tenant,
			    &a->client_id,     &a->client_secret_file,
			    &a->user,	       &a->scope,
			    &a->redirect_uri,  &a->authority,
			    &a->authorize_url, &a->token_url,
			    &a->device_url,    &a->graph_url,
			    &a->imap.host,     &a->pop3.host,
			    &a->smtp.host};
	size_t i;

	wipe_free_str(&a->client_secret);
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		free(*strings[i]);
		*strings[i] = NULL;
	}
	free(a);
}

void config_free(struct oauthmail_config **cfgp)
{
	struct oauthmail_config *cfg = *cfgp;
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->account_count; i++)
		account_free(cfg->accounts[i]);
	free(cfg->accounts);
	free(cfg->path);
	free(cfg->token_dir);
	free(cfg->ca_file);
	free(cfg->token_socket);
	free(cfg->key_file);
	free(cfg);
	*cfgp = NULL;
}
