/*
 * cmd_authorize.c - oauthmail authorize ACCOUNT [--device | --paste]:
 * the one-time sign-in that gives an account its refresh token.
 *
 * Default: authorization code + PKCE; the browser comes back to a
 * listener on redirect_uri.  --paste: the user copies the final URL
 * from the browser (for a server without a browser on a desktop
 * elsewhere).  --device: the device-code flow for headless servers.
 * App-only accounts (grant = client_credentials) just fetch a token.
 *
 * Who signed in: the sign-in also asks for an id_token (id_token.c adds
 * openid and what the provider needs to the scope) and reads the user
 * from it.  Signed in as another mailbox than the account's `user` (the
 * browser was logged in to another account): the grant is not saved,
 * exit 3, unless --allow-other-user (a delegate for a shared mailbox).
 * No id_token (custom providers): a warning, and the grant is saved.
 * Whatever the flow, the result is written through the token cache, so
 * running Postfix processes pick it up at once.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/number.h"
#include "lib/strbuf.h"
#include "token/http.h"
#include "token/id_token.h"
#include "token/oauth_redirect.h"
#include "token/oauth_signin.h"
#include "token/oauthmail_conf.h"
#include "token/provider.h"
#include "token/token_cache.h"
#include "token/token_store.h"

#define AUTHORIZE_USAGE                                                     \
	"authorize ACCOUNT [--device | --paste] [--timeout SECONDS] "       \
	"[--allow-other-user]\n"                                            \
	"  (default) open the printed URL in a browser; it returns to "     \
	"redirect_uri\n"                                                    \
	"  --device  show a code to enter at the provider's device page "   \
	"(headless)\n"                                                      \
	"  --paste   paste the address the browser ends on (no listener)\n" \
	"  --timeout how long to wait for the browser (default 300)\n"      \
	"  --allow-other-user  save the grant even when someone other "     \
	"than\n            the account's user signed in (a delegate of a "  \
	"shared mailbox)"
#define PASTE_MAX (16 * 1024)

enum flow { FLOW_BROWSER, FLOW_PASTE, FLOW_DEVICE };

struct authorize {
	const struct account_config *acct; /* signin, or conf (app-only) */
	const struct account_config *conf; /* as configured */
	struct account_config signin;	   /* conf asking for an id_token too */
	char *signin_scope;
	enum flow flow;
	int allow_other_user;
	char *signed_in_as; /* from the id_token; NULL when not verified */
	struct token_cache *cache;
	struct http_client *http;
	long timeout;
	struct oauth_token tok;
	struct oauth_error err;
};

static int fail_with(const struct oauth_error *err)
{
	log_error("%s", err->message);
	return err->status;
}

static int redeem(struct authorize *a, const struct redirect_result *res,
		  const char *verifier, const char *redirect_uri)
{
	if (res->code == NULL) {
		oauth_error_from_fields(a->acct, res->error, res->description,
					&a->err);
		return fail_with(&a->err);
	}
	if (oauth_redeem_code(a->acct, a->http, res->code, verifier,
			      redirect_uri, &a->tok, &a->err) != OM_OK)
		return fail_with(&a->err);
	return OM_OK;
}

static int make_pkce(char *verifier, size_t vsize, char *challenge,
		     size_t csize, char *state, size_t ssize)
{
	if (crypto_random_urlsafe(32, verifier, vsize) < 0 ||
	    crypto_pkce_challenge(verifier, challenge, csize) < 0 ||
	    crypto_random_urlsafe(16, state, ssize) < 0) {
		log_error("cannot get random bytes from OpenSSL");
		return -1;
	}
	return 0;
}

static int flow_browser(struct authorize *a)
{
	char verifier[64], challenge[64], state[32];
	struct redirect_listener *l = NULL;
	struct redirect_result res = {0};
	char *uri = NULL, *url = NULL;
	const char *error;
	int ret = OM_ERR_USAGE;

	if (make_pkce(verifier, sizeof(verifier), challenge, sizeof(challenge),
		      state, sizeof(state)) < 0)
		return OM_ERR_TEMP;
	if (oauth_redirect_listen(a->acct->redirect_uri, &l, &uri, &error) <
	    0) {
		log_error("account %s: %s", a->acct->name, error);
		return OM_ERR_CONFIG;
	}
	if (oauth_authorize_url(a->acct, uri, state, challenge, &url) < 0)
		goto out;
	printf("Open this URL in a browser and sign in%s%s:\n\n  %s\n\n"
	       "Waiting up to %ld seconds for the browser to come back to %s "
	       "...\n",
	       a->acct->user ? " as " : "", a->acct->user ? a->acct->user : "",
	       url, a->timeout, uri);
	fflush(stdout);
	if (oauth_redirect_wait(l, state, (int)a->timeout, &res, &error) < 0) {
		log_error("account %s: %s. If the browser showed AADSTS50011, "
			  "register the redirect URI %s for the app (App "
			  "registration > Authentication > Mobile and desktop "
			  "applications). Fix: run the command again, or use "
			  "--paste or --device",
			  a->acct->name, error, a->acct->redirect_uri);
		ret = OM_ERR_TEMP;
		goto out;
	}
	ret = redeem(a, &res, verifier, uri);
out:
	oauth_redirect_result_free(&res);
	oauth_redirect_close(&l);
	free(uri);
	free(url);
	wipe(verifier, sizeof(verifier));
	return ret;
}

static int read_pasted_line(struct strbuf *line)
{
	int c;
	char ch;

	while ((c = getchar()) != EOF && c != '\n') {
		ch = (char)c;
		if (strbuf_append(line, &ch, 1) < 0)
			return -1;
	}
	return line->len > 0 ? 0 : -1;
}

static int flow_paste(struct authorize *a)
{
	char verifier[64], challenge[64], state[32];
	struct redirect_result res = {0};
	struct strbuf line;
	const char *error;
	char *url = NULL;
	int ret = OM_ERR_USAGE;

	if (make_pkce(verifier, sizeof(verifier), challenge, sizeof(challenge),
		      state, sizeof(state)) < 0 ||
	    oauth_authorize_url(a->acct, a->acct->redirect_uri, state,
				challenge, &url) < 0)
		return OM_ERR_TEMP;
	printf("Open this URL in a browser and sign in%s%s:\n\n  %s\n\n"
	       "The browser then goes to %s... (the page may not load).\n"
	       "Copy the whole address from the address bar and paste it "
	       "here:\n",
	       a->acct->user ? " as " : "", a->acct->user ? a->acct->user : "",
	       url, a->acct->redirect_uri);
	fflush(stdout);
	strbuf_init(&line, PASTE_MAX);
	if (read_pasted_line(&line) < 0)
		log_error("account %s: nothing (or too much) pasted",
			  a->acct->name);
	else if (oauth_redirect_parse(line.data, state, &res, &error) < 0)
		log_error("account %s: %s", a->acct->name, error);
	else
		ret = redeem(a, &res, verifier, a->acct->redirect_uri);
	oauth_redirect_result_free(&res);
	strbuf_free(&line);
	free(url);
	wipe(verifier, sizeof(verifier));
	return ret;
}

static void show_device_code(const struct oauth_device *dev, const char *user)
{
	if (dev->message != NULL)
		printf("%s\n", dev->message);
	else
		printf("To sign in, open %s and enter the code %s\n",
		       dev->verification_uri, dev->user_code);
	if (user != NULL)
		printf("Sign in as %s (in a private browser window if the "
		       "browser is signed in to another account).\n",
		       user);
	printf("Waiting for the sign-in (the code expires in %s) ...\n",
	       cli_duration(dev->expires_in));
	fflush(stdout);
}

/* countdown - on a terminal, a live "mm:ss left"; elsewhere silence */
static void countdown(long long left)
{
	if (!isatty(STDOUT_FILENO))
		return;
	printf("\r  %02lld:%02lld left ", left / 60, left % 60);
	fflush(stdout);
}

static void wait_seconds(long long seconds, time_t deadline)
{
	while (seconds-- > 0) {
		countdown((long long)(deadline - time(NULL)));
		sleep(1);
	}
}

static int flow_device(struct authorize *a)
{
	struct oauth_device dev;
	enum oauth_poll poll;
	long long interval;
	time_t deadline;

	if (oauth_device_start(a->acct, a->http, &dev, &a->err) != OM_OK)
		return fail_with(&a->err);
	show_device_code(&dev, a->acct->user);
	interval = dev.interval;
	deadline = time(NULL) + dev.expires_in;
	for (;;) {
		wait_seconds(interval, deadline);
		poll = oauth_device_poll(a->acct, a->http, &dev, &a->tok,
					 &a->err);
		if (poll == OAUTH_POLL_DONE || poll == OAUTH_POLL_FAILED)
			break;
		if (poll == OAUTH_POLL_SLOW_DOWN)
			interval += 5; /* RFC 8628 3.5 */
		if (time(NULL) >= deadline) {
			snprintf(a->err.message, sizeof(a->err.message),
				 "account %s: the device code expired before "
				 "sign-in finished. Fix: run oauthmail "
				 "authorize "
				 "%s --device again",
				 a->acct->name, a->acct->name);
			a->err.status = OM_ERR_REAUTH;
			poll = OAUTH_POLL_FAILED;
			break;
		}
	}
	if (isatty(STDOUT_FILENO))
		printf("\n");
	oauth_device_free(&dev);
	return poll == OAUTH_POLL_DONE ? OM_OK : fail_with(&a->err);
}

static int flow_app_only(struct authorize *a)
{
	if (oauth_client_credentials(a->acct, a->http, &a->tok, &a->err) !=
	    OM_OK)
		return fail_with(&a->err);
	return OM_OK;
}

static int check_token_dir(const struct oauthmail_config *cfg)
{
	struct stat st;

	if (stat(cfg->token_dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	log_error("token_dir %s does not exist. Fix: install -d -m 700 -o "
		  "postfix -g postfix %s (the user your MTA runs as), or set "
		  "token_dir in %s",
		  cfg->token_dir, cfg->token_dir, cfg->path);
	return -1;
}

/* flow_endpoint_missing - 1 (after saying so) when the account's provider
   has no endpoint for this flow (provider = custom without it) */
static int flow_endpoint_missing(const struct account_config *acct,
				 enum flow flow)
{
	const char *key = flow == FLOW_DEVICE ? "device_url" : "authorize_url";
	const char *url =
		flow == FLOW_DEVICE ? acct->device_url : acct->authorize_url;

	if (url != NULL)
		return 0;
	log_error("account %s: no %s for this provider; set %s in the "
		  "account%s",
		  acct->name, key, key,
		  flow == FLOW_DEVICE ? ", or authorize without --device"
				      : ", or use --device");
	return 1;
}

/* flow_command - the command that runs this flow again */
static const char *flow_command(const struct authorize *a)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "oauthmail authorize %s%s", a->conf->name,
		 a->flow == FLOW_DEVICE	 ? " --device"
		 : a->flow == FLOW_PASTE ? " --paste"
					 : "");
	return buf;
}

static void warn_unverified(const struct authorize *a, const char *why)
{
	const struct account_config *acct = a->conf;

	log_warn("account %s: who signed in could not be verified (%s)%s%s; "
		 "the grant is saved%s",
		 acct->name, why, acct->user ? ". Make sure it was " : "",
		 acct->user ? acct->user : "",
		 acct->provider == PROVIDER_CUSTOM
			 ? ". For provider = custom, add openid (and the "
			   "scope for an email claim) to scope if the provider "
			   "speaks OpenID Connect"
			 : "");
}

static int wrong_user(const struct authorize *a, const char *who)
{
	const struct account_config *acct = a->conf;

	who = printable(who, 320);
	log_error("account %s: signed in as %s, but account %s is for %s, so "
		  "the grant was not saved. Fix: open a private browser "
		  "window, sign in as %s, and run %s again (or, if %s may use "
		  "that mailbox, e.g. a shared one, add --allow-other-user). "
		  "If %s is this mailbox's own sign-in name (its UPN differs "
		  "from its address), set user = %s in [account %s] instead",
		  acct->name, who, acct->name, acct->user, acct->user,
		  flow_command(a), who, who, who, acct->name);
	return OM_ERR_REAUTH;
}

/* check_identity - who signed in, from the id_token, against the
   account's user: OM_OK (a->signed_in_as set when known) or
   OM_ERR_REAUTH when it is someone else and that was not allowed */
static int check_identity(struct authorize *a)
{
	const struct account_config *acct = a->conf;
	struct id_token_identity id;
	const char *error, *who, *match;
	int ret = OM_OK;

	if (a->tok.id_token == NULL) {
		warn_unverified(a, "the provider sent no id_token");
		return OM_OK;
	}
	if (id_token_read(a->tok.id_token, &id, &error) < 0) {
		warn_unverified(a, error);
		return OM_OK;
	}
	match = acct->user != NULL ? id_token_match(&id, acct->user) : NULL;
	if ((who = match ? match : id_token_name(&id)) == NULL)
		warn_unverified(a, "the id_token names no user: no "
				   "preferred_username, upn or email claim");
	else if ((a->signed_in_as = strdup(who)) == NULL) {
		log_error("account %s: out of memory", acct->name);
		ret = OM_ERR_TEMP;
	} else if (acct->user != NULL && match == NULL) {
		if (!a->allow_other_user)
			ret = wrong_user(a, who);
		else
			log_warn("account %s: signed in as %s, not %s; saved "
				 "anyway (--allow-other-user)",
				 acct->name, who, acct->user);
	}
	id_token_identity_free(&id);
	return ret;
}

static void print_saved(const struct authorize *a)
{
	const struct account_config *acct = a->conf;
	const char *who = a->signed_in_as ? a->signed_in_as : acct->user;
	char fp[CRYPTO_FINGERPRINT_LEN + 1];

	crypto_fingerprint(a->tok.access_token, strlen(a->tok.access_token),
			   fp);
	printf("account %s: authorized%s%s%s. Access token %s valid until %s",
	       acct->name, who ? " as " : "", who ? who : "",
	       a->signed_in_as == NULL &&
			       acct->grant != GRANT_CLIENT_CREDENTIALS
		       ? " (not verified)"
		       : "",
	       fp, cli_time(time(NULL) + (time_t)a->tok.expires_in));
	if (a->tok.refresh_token != NULL)
		printf("; refresh token saved (every refresh renews it)");
	printf(".\n");
	log_info("account %s: authorized%s%s, access token %s", acct->name,
		 a->signed_in_as ? ", signed in as " : "",
		 a->signed_in_as ? a->signed_in_as : "", fp);
}

static int save(struct authorize *a)
{
	const char *error;

	if (token_cache_save_grant(a->cache, a->conf->name, &a->tok,
				   a->signed_in_as, &error) < 0) {
		log_error("account %s: %s", a->conf->name, error);
		return OM_ERR_TEMP;
	}
	print_saved(a);
	return OM_OK;
}

static int parse_args(int argc, char **argv, const char **account,
		      struct authorize *a)
{
	unsigned long long v;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--device") == 0)
			a->flow = FLOW_DEVICE;
		else if (strcmp(argv[i], "--paste") == 0)
			a->flow = FLOW_PASTE;
		else if (strcmp(argv[i], "--allow-other-user") == 0)
			a->allow_other_user = 1;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (number_parse(argv[++i], 1, 3600, &v) < 0)
				return -1;
			a->timeout = (long)v;
		} else if (argv[i][0] != '-' && *account == NULL)
			*account = argv[i];
		else
			return -1;
	}
	return *account != NULL ? 0 : -1;
}

/* ask_for_identity - the account as the sign-in flows see it: its scope
   plus what makes the provider name the user (id_token_scope()) */
static int ask_for_identity(struct authorize *a)
{
	a->signin = *a->conf;
	if (a->conf->scope != NULL) {
		a->signin_scope =
			id_token_scope(a->conf->provider, a->conf->scope);
		if (a->signin_scope == NULL) {
			log_error("account %s: out of memory", a->conf->name);
			return -1;
		}
		a->signin.scope = a->signin_scope;
	}
	a->acct = &a->signin;
	return 0;
}

/* sign_in - the flow asked for, then who signed in */
static int sign_in(struct authorize *a)
{
	int ret;

	if (flow_endpoint_missing(a->conf, a->flow))
		return OM_ERR_CONFIG;
	if (ask_for_identity(a) < 0)
		return OM_ERR_TEMP;
	if (a->flow == FLOW_DEVICE)
		ret = flow_device(a);
	else if (a->flow == FLOW_PASTE)
		ret = flow_paste(a);
	else
		ret = flow_browser(a);
	return ret == OM_OK ? check_identity(a) : ret;
}

int cmd_authorize(struct cli *cli, int argc, char **argv)
{
	struct authorize a = {0};
	const char *account = NULL;
	int ret;

	a.timeout = 300;
	a.flow = FLOW_BROWSER;
	if (cli_help(argc, argv, AUTHORIZE_USAGE))
		return OM_OK;
	if (parse_args(argc, argv, &account, &a) < 0) {
		fprintf(stderr, "usage: oauthmail %s\n", AUTHORIZE_USAGE);
		return OM_ERR_USAGE;
	}
	if ((a.conf = a.acct = cli_account(cli, account)) == NULL)
		return OM_ERR_CONFIG;
	if (check_token_dir(cli->cfg) < 0 ||
	    (ret = cli_open_cache(cli, &a.cache)) != OM_OK)
		return OM_ERR_CONFIG;
	a.http = token_cache_http(a.cache);
	if (a.conf->grant == GRANT_CLIENT_CREDENTIALS)
		ret = flow_app_only(&a);
	else
		ret = sign_in(&a);
	if (ret == OM_OK)
		ret = save(&a);
	oauth_token_free(&a.tok);
	free(a.signin_scope);
	free(a.signed_in_as);
	token_cache_close(&a.cache);
	return ret;
}
