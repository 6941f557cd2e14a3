/*
 * cmd_export.c - oauthmail export / import: accounts and their grants
 * as one JSON document, for backups and for moving a relay to a new
 * host without signing in again.
 *
 * export prints, per account, its config section as written (without
 * client_secret), a summary of the resolved config and the token
 * record; the tokens and the client secret only with --with-secrets.
 * import first puts the sections into this host's oauthmail.conf
 * (import_config.c: added, or replaced with --overwrite), then writes
 * token files for accounts of the same name issued to the same
 * client_id; an existing token file is replaced only with --overwrite.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "conf_section.h"
#include "import_config.h"
#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "token/oauthmail_conf.h"
#include "token/provider.h"
#include "token/token_cache.h"
#include "token/token_store.h"

#define EXPORT_USAGE                                                    \
	"export [ACCOUNT...] [--with-secrets]\n"                        \
	"  print accounts (config sections) and token state as JSON;\n" \
	"  --with-secrets includes the tokens and client secrets"
#define IMPORT_USAGE                                                        \
	"import FILE [--overwrite]\n"                                       \
	"  add the export's accounts to oauthmail.conf (backup kept) and "  \
	"write\n  their token files (- reads stdin); --overwrite replaces " \
	"sections,\n  token files and secret files that differ"
#define EXPORT_MAX (16 * 1024 * 1024)

static cJSON *config_json(const struct account_config *a)
{
	cJSON *o = cJSON_CreateObject();
	char date[16] = "";
	struct tm tm;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "provider", provider_name(a->provider));
	cJSON_AddStringToObject(o, "grant",
				a->grant == GRANT_CLIENT_CREDENTIALS
					? "client_credentials"
					: "authorization_code");
	if (a->tenant)
		cJSON_AddStringToObject(o, "tenant", a->tenant);
	cJSON_AddStringToObject(o, "client_id", a->client_id);
	if (a->user)
		cJSON_AddStringToObject(o, "user", a->user);
	cJSON_AddStringToObject(o, "scope", a->scope);
	cJSON_AddStringToObject(o, "redirect_uri", a->redirect_uri);
	if (a->client_secret_expires) {
		gmtime_r(&a->client_secret_expires, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		cJSON_AddStringToObject(o, "client_secret_expires", date);
	}
	return o;
}

/* token_json - the account's token file as JSON; NULL when there is none,
   or (with *failed set, after saying why) when it cannot be read */
static cJSON *token_json(struct token_cache *cache, const char *account,
			 int with_secrets, int *failed)
{
	struct token_record rec;
	const char *error;
	cJSON *o = NULL;
	char *text;
	int r;

	if ((r = token_cache_read_record(cache, account, &rec, &error)) != 0) {
		if (r < 0) {
			log_error("%s: %s; its token is left out of the "
				  "export",
				  account, error);
			*failed = 1;
		}
		return NULL;
	}
	if (!with_secrets) {
		wipe_free_str(&rec.access_token);
		wipe_free_str(&rec.refresh_token);
	}
	text = token_record_format(&rec);
	if (text != NULL)
		o = json_parse(text, strlen(text), &error);
	wipe_free_str(&text);
	token_record_free(&rec);
	return o;
}

/* section_json - the account's section as written in the config (text),
   client_secret left out; NULL when the text has none */
static cJSON *section_json(const struct strbuf *text, const char *name)
{
	unsigned int first, end;
	cJSON *o;

	o = conf_section_get(text->data ? text->data : "", text->len, name,
			     &first, &end);
	if (o != NULL)
		json_delete_wiped(cJSON_DetachItemFromObjectCaseSensitive(
			o, "client_secret"));
	return o;
}

/* read_conf_text - the config file's text, for the sections as written */
static void read_conf_text(const char *path, struct strbuf *text)
{
	const char *error = "no such file";

	strbuf_init(text, 1024 * 1024);
	if (safefile_read(path, 1024 * 1024, text, &error) != 0)
		log_warn("%s: not read again (%s): the export has no config "
			 "sections",
			 path, error);
}

static int selected(int argc, char **argv, const char *name)
{
	int i, any = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		any = 1;
		if (strcmp(argv[i], name) == 0)
			return 1;
	}
	return !any;
}

/* print_export - json_print: no reallocations, no stray copies of the
   secrets on the heap */
static int print_export(cJSON *root)
{
	char *out = json_print(root, EXPORT_MAX);

	if (out == NULL)
		return OM_ERR_TEMP;
	printf("%s\n", out);
	wipe(out, strlen(out));
	free(out);
	return OM_OK;
}

/* protect_output - an export with secrets going to a file others can read
   (umask 022): the file is made 0600 and the admin told */
static void protect_output(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) == 0)
		return;
	if (fchmod(STDOUT_FILENO, st.st_mode & 0600) == 0)
		log_warn("the export contains refresh tokens and client "
			 "secrets: its file was readable by others, now mode "
			 "0600");
	else
		log_warn("the export contains refresh tokens and client "
			 "secrets, and its file "
			 "is readable by others: chmod 600 it (%s)",
			 strerror(errno));
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	struct token_cache *cache;
	struct strbuf conf;
	cJSON *root, *list, *item, *tok, *section;
	int with_secrets = 0, failed = 0, i, ret;
	size_t k;

	if (cli_help(argc, argv, EXPORT_USAGE))
		return OM_OK;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--with-secrets") == 0)
			with_secrets = 1;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: oauthmail %s\n", EXPORT_USAGE);
			return OM_ERR_USAGE;
		} else if (cli_account(cli, argv[i]) == NULL)
			return OM_ERR_CONFIG;
	}
	if ((ret = cli_open_cache(cli, &cache)) != OM_OK)
		return ret;
	read_conf_text(cli->cfg->path, &conf);
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "oauthmail_export", 1);
	cJSON_AddNumberToObject(root, "created", (double)time(NULL));
	cJSON_AddBoolToObject(root, "with_secrets", with_secrets);
	list = cJSON_AddArrayToObject(root, "accounts");
	for (k = 0; k < cli->cfg->account_count; k++) {
		const struct account_config *a = cli->cfg->accounts[k];

		if (!selected(argc, argv, a->name))
			continue;
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "account", a->name);
		cJSON_AddItemToObject(item, "config", config_json(a));
		section = section_json(&conf, a->name);
		if (section != NULL)
			cJSON_AddItemToObject(item, "section", section);
		if (a->client_secret != NULL) /* import then wants one */
			cJSON_AddTrueToObject(item, "client_secret_needed");
		if (with_secrets && a->client_secret != NULL)
			cJSON_AddStringToObject(item, "client_secret",
						a->client_secret);
		tok = token_json(cache, a->name, with_secrets, &failed);
		if (tok != NULL)
			cJSON_AddItemToObject(item, "token", tok);
		else
			cJSON_AddNullToObject(item, "token");
		cJSON_AddItemToArray(list, item);
	}
	if (with_secrets)
		protect_output();
	ret = print_export(root);
	if (with_secrets && isatty(STDOUT_FILENO) == 0)
		log_info("the export contains refresh tokens: keep it mode "
			 "0600 and delete it after the import");
	json_delete_wiped(root);
	strbuf_free(&conf);
	token_cache_close(&cache);
	return ret == OM_OK && failed ? OM_ERR_CONFIG : ret;
}

struct import_counts {
	int imported;
	int skipped;
};

/* import_one - one account of the export; a reason is printed when it
 * is skipped */
static void import_one(struct cli *cli, struct token_cache *cache,
		       const cJSON *item, int overwrite,
		       struct import_counts *n)
{
	const char *name = json_string(item, "account", 64), *error;
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(item, "token");
	const struct account_config *a;
	struct token_record rec, old;
	char *text;
	int r;

	n->skipped++;
	if (name == NULL || (a = config_find_account(cli->cfg, name)) == NULL) {
		log_error("%s: skipped: no [account %s] in %s, and no section "
			  "for it in the export (add it first)",
			  name ? name : "?", name ? name : "?", cli->cfg->path);
		return;
	}
	text = cJSON_IsObject(tok) ? json_print(tok, 1024 * 1024) : NULL;
	r = text ? token_record_parse(text, strlen(text), &rec, &error) : -1;
	wipe_free_str(&text);
	if (r < 0 && cJSON_IsObject(tok)) {
		log_error("%s: skipped: its token in the export is damaged: %s",
			  name, error);
		return;
	}
	if (r < 0) {
		log_error("%s: skipped: the export has no token for it", name);
		return;
	}
	if (rec.refresh_token == NULL && a->grant != GRANT_CLIENT_CREDENTIALS)
		log_error(
			"%s: skipped: no refresh token in the export (export "
			"with --with-secrets, or run: oauthmail authorize %s)",
			name, name);
	else if (rec.account == NULL || strcmp(rec.account, name) != 0)
		log_error("%s: skipped: its token in the export is account "
			  "%s's",
			  name, rec.account ? rec.account : "?");
	else if (rec.client_id == NULL ||
		 strcmp(rec.client_id, a->client_id) != 0)
		log_error("%s: skipped: issued to client_id %s, but the config "
			  "has %s (a refresh token works only with its app)",
			  name, rec.client_id ? rec.client_id : "?",
			  a->client_id);
	else if (!overwrite &&
		 token_cache_read_record(cache, name, &old, &error) == 0) {
		token_record_free(&old);
		log_error("%s: skipped: a token file exists (--overwrite "
			  "replaces it)",
			  name);
	} else if (token_cache_write_record(cache, &rec, &error) < 0)
		log_error("%s: %s", name, error);
	else {
		printf("%s: imported\n", name);
		n->skipped--;
		n->imported++;
	}
	token_record_free(&rec);
}

/* is_export - {"oauthmail_export": 1, ..., "accounts": [...]} */
static int is_export(const cJSON *root)
{
	long long version;

	return cJSON_IsObject(root) &&
	       json_long(root, "oauthmail_export", 1, 1, &version) == 0 &&
	       cJSON_IsArray(
		       cJSON_GetObjectItemCaseSensitive(root, "accounts"));
}

static cJSON *read_export(const char *path)
{
	struct strbuf sb;
	const char *error;
	cJSON *root = NULL;
	char buf[65536];
	size_t got;
	int r = 0;

	strbuf_init(&sb, EXPORT_MAX);
	if (strcmp(path, "-") == 0) {
		while (r == 0 && (got = fread(buf, 1, sizeof(buf), stdin)) > 0)
			r = strbuf_append(&sb, buf, got);
		wipe(buf, sizeof(buf));
		if (r < 0)
			log_error("standard input: larger than %d MB, not an "
				  "oauthmail export",
				  EXPORT_MAX / (1024 * 1024));
	} else if ((r = safefile_read(path, EXPORT_MAX, &sb, &error)) != 0) {
		/* safefile's errors name the path already */
		log_error("%s",
			  r > 0 ? errorf("%s: no such file", path) : error);
	}
	if (r == 0 &&
	    (root = json_parse(sb.data ? sb.data : "", sb.len, &error)) == NULL)
		log_error("%s: not an oauthmail export: %s", path, error);
	else if (r == 0 && !is_export(root)) {
		log_error("%s: not an oauthmail export (made by: oauthmail "
			  "export --with-secrets)",
			  path);
		json_delete_wiped(root);
		root = NULL;
	}
	strbuf_free(&sb);
	return root;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	struct import_counts n = {0, 0};
	struct token_cache *cache;
	const char *path = NULL;
	const cJSON *item, *list;
	cJSON *root;
	int i, overwrite = 0, bad = 0, conf_failed, ret;

	if (cli_help(argc, argv, IMPORT_USAGE))
		return OM_OK;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--overwrite") == 0)
			overwrite = 1;
		else if (path == NULL && (argv[i][0] != '-' || !argv[i][1]))
			path = argv[i];
		else
			bad = 1;
	}
	if (path == NULL || bad) {
		fprintf(stderr, "usage: oauthmail %s\n", IMPORT_USAGE);
		return OM_ERR_USAGE;
	}
	if ((root = read_export(path)) == NULL)
		return OM_ERR_USAGE;
	conf_failed = import_config(cli, root, overwrite);
	if ((ret = cli_open_cache(cli, &cache)) != OM_OK) {
		json_delete_wiped(root);
		return ret;
	}
	list = cJSON_GetObjectItemCaseSensitive(root, "accounts");
	cJSON_ArrayForEach(item, list)
		import_one(cli, cache, item, overwrite, &n);
	printf("imported %d, skipped %d\n", n.imported, n.skipped);
	json_delete_wiped(root);
	token_cache_close(&cache);
	return n.skipped || conf_failed ? OM_ERR_CONFIG : OM_OK;
}
