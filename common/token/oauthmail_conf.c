/*
 * oauthmail_conf.c - oauthmail.conf: read, check, resolve.
 *
 * Global settings first, then one "[account NAME]" section per mailbox
 * grant.  Every key is known: an unknown or repeated key, a bad value,
 * or a missing required setting is an error naming FILE:LINE and what
 * to write instead.  The keys are rows of two tables (lib/conftable.c:
 * name, setter, member, bounds, the bad-value message).  After parsing, each account's provider fills what
 * it left out (provider.c), and client_secret_file is read (config_load
 * only; config_parse is pure, for tests and fuzzing).
 */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/conftable.h"
#include "lib/errorf.h"
#include "lib/ini.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "token/oauthmail_conf.h"
#include "token/provider.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define SECRET_FILE_MAX 4096
#define ACCOUNT_MAX 1000
#define DEFAULT_CONFIG_PATH OAUTHMAIL_CONFIG_PATH /* configure: sysconfdir */
#define DEFAULT_TOKEN_DIR "/var/lib/oauthmail"

/* Bad-value messages: "KEY: what is wanted" */
#define EMPTY "empty value (leave the line out for the default)"
#define PATH_WANTED ": must be an absolute path"
#define URL_WANTED                                               \
	": must be an https:// URL (http:// only for 127.0.0.1 " \
	"or localhost)"
#define PORT_WANTED ": expected a whole number from 1 to 65535"
#define TLS_WANTED ": expected implicit or starttls"

static conf_set_fn set_date, set_tls, set_provider, set_grant, set_cloud;

#define GKEY(k, set, field, bad) \
	CONF_KEY(k, set, struct oauthmail_config, field, bad)
#define AKEY(k, set, field, bad) \
	CONF_KEY(k, set, struct account_config, field, bad)
#define ATEXT(k, field) AKEY(k, conf_set_nonempty, field, EMPTY)
#define APATH(k, field) AKEY(k, conf_set_path, field, k PATH_WANTED)
#define AURL(k, field)                                                    \
	CONF_STRING_KEY(k, conf_set_string, struct account_config, field, \
			provider_url_allowed, k URL_WANTED)
#define APORT(k, field) \
	CONF_INT_KEY(k, struct account_config, field, 1, 65535, k PORT_WANTED)
#define ATLS(k, field) AKEY(k, set_tls, field, k TLS_WANTED)

static const struct conf_key global_keys[] = {
	GKEY("token_dir", conf_set_path, token_dir, "token_dir" PATH_WANTED),
	/* tokens live about an hour; a margin past half of that would
	 * refresh on every use */
	CONF_INT_KEY("refresh_margin", struct oauthmail_config, refresh_margin,
		     0, 1800,
		     "refresh_margin: expected a whole number from 0 to 1800"),
	GKEY("ca_file", conf_set_path, ca_file, "ca_file" PATH_WANTED),
	GKEY("token_socket", conf_set_nonempty, token_socket, EMPTY),
	GKEY("key_file", conf_set_path, key_file, "key_file" PATH_WANTED),
};

static const struct conf_key account_keys[] = {
	AKEY("provider", set_provider, provider,
	     "provider: expected microsoft, google or custom"),
	AKEY("grant", set_grant, grant,
	     "grant: expected authorization_code or client_credentials"),
	AKEY("cloud", set_cloud, cloud,
	     "cloud: expected global, usgov (GCC High), usgovdod (DoD) or "
	     "china (21Vianet)"),
	CONF_STRING_KEY("tenant", conf_set_string, struct account_config,
			tenant, provider_tenant_valid,
			"tenant: expected common, organizations, consumers, "
			"the tenant ID (a GUID) or a domain such as "
			"contoso.onmicrosoft.com (letters, digits, . - _)"),
	ATEXT("client_id", client_id),
	ATEXT("client_secret", client_secret),
	APATH("client_secret_file", client_secret_file),
	AKEY("client_secret_expires", set_date, client_secret_expires,
	     "client_secret_expires: expected a date YYYY-MM-DD"),
	ATEXT("user", user),
	ATEXT("scope", scope),
	AURL("redirect_uri", redirect_uri),
	AURL("authority", authority),
	AURL("authorize_url", authorize_url),
	AURL("token_url", token_url),
	AURL("device_url", device_url),
	AURL("graph_url", graph_url),
	ATEXT("imap_host", imap.host),
	APORT("imap_port", imap.port),
	ATLS("imap_tls", imap.tls),
	ATEXT("pop3_host", pop3.host),
	APORT("pop3_port", pop3.port),
	ATLS("pop3_tls", pop3.tls),
	AKEY("pop3_split_auth", conf_set_bool, pop3_split_auth,
	     "pop3_split_auth: expected yes or no"),
	ATEXT("smtp_host", smtp.host),
	APORT("smtp_port", smtp.port),
	ATLS("smtp_tls", smtp.tls),
};

#undef GKEY
#undef AKEY
#undef ATEXT
#undef APATH
#undef AURL
#undef APORT
#undef ATLS

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct conf_table global_table = {
	global_keys,
	COUNT(global_keys),
	"unknown setting '",
	"' (global settings: token_dir refresh_margin ca_file token_socket "
	"key_file; account settings belong under [account NAME])",
	"",
	" is set twice",
};

static const struct conf_table account_table = {
	account_keys,
	COUNT(account_keys),
	"unknown account setting '",
	"' (see oauthmail.conf(5))",
	"",
	" is set twice",
};

struct parse_ctx {
	struct oauthmail_config *cfg;
	struct account_config *acct; /* current section, NULL at top */
	unsigned char seen_global[COUNT(global_keys)];
	unsigned char seen_acct[COUNT(account_keys)];
};

const char *config_default_path(void)
{
	const char *env = getenv("OAUTHMAIL_CONF");

	return env != NULL && *env != '\0' ? env : DEFAULT_CONFIG_PATH;
}

/* set_date - YYYY-MM-DD, as the end of that day in UTC (time_t) */
static int set_date(const struct conf_key *key, void *field, const char *value)
{
	time_t *out = field;
	struct tm tm;
	char *end;

	(void)key;
	memset(&tm, 0, sizeof(tm));
	end = strptime(value, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || tm.tm_year < 100)
		return -1;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/* set_tls - implicit or starttls (enum tls_mode) */
static int set_tls(const struct conf_key *key, void *field, const char *value)
{
	enum tls_mode *out = field;

	(void)key;
	if (strcmp(value, "implicit") == 0)
		*out = TLS_IMPLICIT;
	else if (strcmp(value, "starttls") == 0)
		*out = TLS_STARTTLS;
	else
		return -1;
	return 0;
}

/* set_grant - authorization_code or client_credentials (enum grant_kind) */
static int set_grant(const struct conf_key *key, void *field, const char *value)
{
	enum grant_kind *out = field;

	(void)key;
	if (strcmp(value, "authorization_code") == 0)
		*out = GRANT_AUTHORIZATION_CODE;
	else if (strcmp(value, "client_credentials") == 0)
		*out = GRANT_CLIENT_CREDENTIALS;
	else
		return -1;
	return 0;
}

/* set_provider - microsoft, google or custom (enum provider_kind) */
static int set_provider(const struct conf_key *key, void *field,
			const char *value)
{
	(void)key;
	return provider_parse(value, field);
}

/* set_cloud - global, usgov, usgovdod or china (enum ms_cloud) */
static int set_cloud(const struct conf_key *key, void *field, const char *value)
{
	(void)key;
	return provider_cloud_parse(value, field);
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
		return conf_table_set(&global_table, ctx->seen_global, ctx->cfg,
				      ev->key, ev->value, why);
	return conf_table_set(&account_table, ctx->seen_acct, ctx->acct,
			      ev->key, ev->value, why);
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
