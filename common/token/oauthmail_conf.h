/* config.h - oauthmail.conf: global settings and one section per account */
#ifndef OAUTHMAIL_CONFIG_H
#define OAUTHMAIL_CONFIG_H

#include <stddef.h>
#include <time.h>

enum provider_kind {
	PROVIDER_MICROSOFT,
	PROVIDER_GOOGLE,
	PROVIDER_CUSTOM,
};

/* Microsoft's clouds: each has its own sign-in host, Exchange resource,
 * mail servers and Graph (provider.c holds the hosts) */
enum ms_cloud {
	CLOUD_UNSET, /* not set: global */
	CLOUD_GLOBAL,
	CLOUD_USGOV,	/* GCC High */
	CLOUD_USGOVDOD, /* DoD */
	CLOUD_CHINA,	/* operated by 21Vianet */
};

enum grant_kind {
	GRANT_AUTHORIZATION_CODE, /* delegated: authorize, then refresh */
	GRANT_CLIENT_CREDENTIALS, /* app-only: no refresh token */
};

enum tls_mode {
	TLS_UNSET, /* provider default */
	TLS_IMPLICIT,
	TLS_STARTTLS,
};

struct mail_server {
	char *host;
	int port;
	enum tls_mode tls;
};

struct account_config {
	char *name;
	unsigned int line; /* where its section starts */
	enum provider_kind provider;
	enum grant_kind grant;
	enum ms_cloud cloud;
	char *tenant;
	char *client_id;
	char *client_secret; /* loaded from client_secret_file too; NULL = public client */
	char *client_secret_file;
	time_t client_secret_expires; /* 0 = unknown */
	char *user;
	char *scope;
	char *redirect_uri;
	char *authority;
	char *authorize_url; /* resolved: explicit or from provider+authority+tenant */
	char *token_url;
	char *device_url;
	char *graph_url;
	struct mail_server imap;
	struct mail_server pop3;
	struct mail_server smtp;
	int pop3_split_auth; /* -1 = provider default */
};

struct oauthmail_config {
	char *path;
	char *token_dir;
	int refresh_margin;
	char *ca_file;
	char *token_socket;
	char *key_file;
	struct account_config **accounts;
	size_t account_count;
};

/* config_default_path - $OAUTHMAIL_CONF, else SYSCONFDIR/oauthmail/oauthmail.conf */
const char *config_default_path(void);
/* config_load - read and check a config file (path NULL = default).
 * Errors name FILE:LINE and the fix. */
int config_load(const char *path, struct oauthmail_config **cfg_r,
		const char **error_r);
/* config_parse - the same from memory (tests, fuzzing); secrets in
 * client_secret_file are not read. */
int config_parse(const char *filename, const char *text, size_t len,
		 struct oauthmail_config **cfg_r, const char **error_r);
/* config_find_account - the account called name, or NULL */
const struct account_config *config_find_account(
	const struct oauthmail_config *cfg, const char *name);
/* config_free - free everything (secrets wiped) and NULL the pointer */
void config_free(struct oauthmail_config **cfg);

#endif
