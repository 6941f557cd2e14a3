/*
 * mail_session.c - what `oauthmail tunnel` and `oauthmail test` share:
 * from an account name to an authenticated connection.
 *
 * The token is checked through the shared cache first (unless the
 * plugin will ask the token broker), so a revoked grant is reported
 * with its AADSTS code and exit code 3 before any connection is made.  Authentication itself always goes through
 * libsasl2 and the plugin (password "oauthmail:ACCOUNT"), never around
 * it.  When the server refuses, the message carries its reply (printable,
 * cut) and what to check.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lib/errorf.h"
#include "lib/log.h"
#include "token/oauthmail_conf.h"
#include "mail/mail_sasl.h"
#include "mail_session.h"
#include "token/token_cache.h"
#include "token/token_perms.h"

#define SESSION_TIMEOUT_MS 60000

static const char *const sasl_services[] = {"imap", "pop", "smtp"};

int mail_session_args(int argc, char **argv, int proto_first, const char *usage,
		      struct mail_session *s, const char **account_r)
{
	const char *words[2] = {NULL, NULL};
	int i, n = 0;

	memset(s, 0, sizeof(*s));
	s->mech = "XOAUTH2";
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mech") == 0 && i + 1 < argc)
			s->mech = argv[++i];
		else if (argv[i][0] != '-' && n < 2)
			words[n++] = argv[i];
		else
			goto bad;
	}
	if (strcasecmp(s->mech, "XOAUTH2") != 0 &&
	    strcasecmp(s->mech, "OAUTHBEARER") != 0)
		goto bad;
	if (proto_first && n == 2 &&
	    mail_proto_parse(words[0], &s->proto) == 0) {
		*account_r = words[1];
		return 0;
	}
	if (!proto_first && n >= 1 &&
	    (n == 1 || mail_proto_parse(words[1], &s->proto) == 0)) {
		*account_r = words[0];
		return 0;
	}
bad:
	fprintf(stderr, "usage: oauthmail %s\n", usage);
	return -1;
}

/* check_token - the cache's verdict before we connect (when the plugin
 * will use the cache too, and this process can open it) */
static int check_token(struct cli *cli, const char *account)
{
	const struct oauthmail_config *cfg = cli_config(cli);
	struct token_cache *cache;
	struct access_token tok;
	const char *error;
	enum om_status st;
	struct stat st_sock;

	if (cfg->token_socket != NULL &&
	    (cfg->token_socket[0] == '/' ||
	     stat(cfg->token_socket, &st_sock) == 0))
		return OM_OK; /* the plugin asks the broker */
	if (token_cache_open(cfg, &cache, &error) < 0) {
		log_debug("token cache: %s (the plugin will try)", error);
		return OM_OK;
	}
	st = token_cache_get(cache, account, &tok, &error);
	if (st != OM_OK) {
		const char *fix = token_perms_usable(cfg->token_dir, cfg->path);

		if (fix != NULL)
			log_error("account %s (config %s): %s; %s", account,
				  cfg->path, error, fix);
		else
			log_error("%s", error);
	}
	token_cache_close(&cache);
	return st;
}

static int split_auth(const struct mail_session *s)
{
	return s->proto == MAIL_POP3 && s->acct->pop3_split_auth > 0;
}

static int authenticate(struct cli *cli, const char *account,
			struct mail_session *s, const char **why_r)
{
	const struct mail_server *srv = mail_proto_server(s->acct, s->proto);
	char password[128];
	const char *error;
	int ret;

	snprintf(password, sizeof(password), "oauthmail:%s", account);
	ret = mail_sasl_new(sasl_services[s->proto], srv->host, s->acct->user,
			    password, &s->sasl, &error);
	if (ret == 0)
		ret = mail_client_auth(s->mc, s->sasl, s->mech, split_auth(s),
				       &error);
	if (ret == 0)
		return OM_OK;
	*why_r = error;
	log_error("%s %s: %s", mail_proto_name(s->proto), account, error);
	if (s->mc->server_failed)
		log_error("fix: %s", mail_client_hint(s->proto, s->mc->reply));
	(void)cli;
	return OM_ERR_TEMP;
}

static const char *ehlo_name(void)
{
	static char name[256];

	if (gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0')
		snprintf(name, sizeof(name), "localhost");
	return name;
}

int mail_session_open(struct cli *cli, const char *account,
		      struct mail_session *s, const char **why_r)
{
	struct oauthmail_config *cfg = cli_config(cli);
	const char *error, *dummy;
	int st;

	if (why_r == NULL)
		why_r = &dummy;
	*why_r = "configuration error (see the log)";
	if (cfg == NULL || (s->acct = cli_account(cli, account)) == NULL)
		return OM_ERR_CONFIG;
	if (s->acct->user == NULL) {
		log_error("account %s has no user (the mailbox address)",
			  account);
		return OM_ERR_CONFIG;
	}
	*why_r = "no valid access token (see the log)";
	if ((st = check_token(cli, account)) != OM_OK)
		return st;
	if (mail_sasl_init(cfg->path, OAUTHMAIL_SASL2PLUGINDIR, &error) < 0 ||
	    mail_client_connect(s->proto, mail_proto_server(s->acct, s->proto),
				cfg->ca_file, SESSION_TIMEOUT_MS, ehlo_name(),
				&s->mc, &error) < 0) {
		*why_r = error;
		log_error("%s %s: %s", mail_proto_name(s->proto), account,
			  error);
		return OM_ERR_TEMP;
	}
	return authenticate(cli, account, s, why_r);
}

void mail_session_close(struct mail_session *s)
{
	mail_client_close(&s->mc);
	mail_sasl_free(&s->sasl);
	mail_sasl_done();
}
