/* test_token_cache.c - the cache without a network: hot path, file
 * changes, refusals recorded in the file (by account and by path),
 * reauth_needed, missing files and accounts, error classes */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "token/oauthmail_conf.h"
#include "testlib.h"
#include "token/token_cache.h"
#include "token/token_store.h"

static char dir[] = "/tmp/oauthmail-test-cache.XXXXXX";
static char path[256];

static void write_token(const char *access, time_t expires, int reauth)
{
	struct token_record rec = {0};
	const char *error = "";

	rec.account = "a";
	rec.access_token = (char *)access;
	rec.refresh_token = "0.A-refresh";
	rec.access_expires = expires;
	rec.reauth_needed = reauth;
	rec.last_error =
		reauth ? "account a: AADSTS50173 (invalid_grant)" : NULL;
	if (token_store_write(path, NULL, &rec, &error) < 0)
		printf("write: %s\n", error);
}

/* write_refused - a token file after a refusal-driven refresh: the old
   token's fingerprint in rejected_token, last_refresh at refreshed */
static void write_refused(const char *access, const char *rejected,
			  time_t refreshed)
{
	struct token_record rec = {0};
	const char *error = "";

	rec.account = "a";
	rec.access_token = (char *)access;
	rec.refresh_token = "0.A-refresh";
	rec.access_expires = time(NULL) + 3600;
	rec.last_refresh = refreshed;
	rec.rejected = (char *)rejected;
	if (token_store_write(path, NULL, &rec, &error) < 0)
		printf("write: %s\n", error);
}

static int file_has(const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f != NULL)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void test_cache(struct token_cache *c)
{
	struct access_token tok;
	const char *error = "";
	time_t now = time(NULL);
	const char *first;

	check_int("missing file", token_cache_get(c, "a", &tok, &error),
		  OM_ERR_REAUTH);
	check_true("says authorize",
		   strstr(error, "run oauthmail authorize a") != NULL);
	check_int("unknown account", token_cache_get(c, "zz", &tok, &error),
		  OM_ERR_CONFIG);
	write_token("EwB-one", now + 3600, 0);
	check_int("valid token", token_cache_get(c, "a", &tok, &error), OM_OK);
	check_str("the token", tok.token, "EwB-one");
	first = tok.token;
	check_int("again", token_cache_get(c, "a", &tok, &error), OM_OK);
	check_true("hot path: the in-process copy", tok.token == first);
	sleep(1); /* a new mtime second, as a refresh by another process */
	write_token("EwB-two", now + 3600, 0);
	check_int("file changed", token_cache_get(c, "a", &tok, &error), OM_OK);
	check_str("the new token", tok.token, "EwB-two");

	token_cache_invalidate(c, "a", NULL);
	check_true("refusal recorded", file_has("\"rejected_token\""));
	check_int("refused token, provider unreachable",
		  token_cache_get(c, "a", &tok, &error), OM_ERR_TEMP);
	check_true("not served again", strstr(error, "unreachable") != NULL);

	write_token("EwB-three", now + 3600, 0);
	check_int("by path", token_cache_get_path(c, path, &tok, &error),
		  OM_OK);
	check_str("path token", tok.token, "EwB-three");
	token_cache_invalidate(c, path, NULL);
	check_true("refusal by path recorded", file_has("\"rejected_token\""));

	write_token("EwB-four", now + 3600, 1);
	check_int("reauth_needed, token still valid: served",
		  token_cache_get(c, "a", &tok, &error), OM_OK);
	write_token("EwB-4b", now + 100, 1);
	check_int("reauth_needed, 100s left: still served (mail flows)",
		  token_cache_get(c, "a", &tok, &error), OM_OK);
	write_token("EwB-five", now + 5, 1);
	check_int("reauth_needed, 5s left: reauth",
		  token_cache_get(c, "a", &tok, &error), OM_ERR_REAUTH);
	check_true("the stored error", strstr(error, "AADSTS50173") != NULL);
	write_token("EwB-six", now - 5, 0);
	check_int("expired, provider unreachable: temp",
		  token_cache_get(c, "a", &tok, &error), OM_ERR_TEMP);
	check_true("backoff recorded", file_has("\"backoff_until\""));
	check_int("relative path refused",
		  token_cache_get_path(c, "a.json", &tok, &error),
		  OM_ERR_CONFIG);
}

/* a sealed file read by path (the SASL plugin's password
   /var/lib/oauthmail/a.json): the account comes from the file */
static void test_sealed_by_path(void)
{
	static const unsigned char key[32] = {1, 2, 3};
	struct token_record rec = {0}, got;
	const char *error = "";

	rec.account = "a";
	rec.access_token = "sealed-access";
	rec.access_expires = time(NULL) + 3600;
	check_int("write sealed", token_store_write(path, key, &rec, &error),
		  0);
	check_int("read sealed by path",
		  token_store_read(path, key, NULL, &got, &error), 0);
	check_str("account from the file", got.account ? got.account : "", "a");
	token_record_free(&got);
	check_int("read sealed by the wrong name",
		  token_store_read(path, key, "b", &got, &error), -1);
	unlink(path);
}

/* the refusal rules: only the current token, once; a second refusal
   soon after a refusal-driven refresh is held (rate limit) */
static void test_refusal_rules(struct token_cache *c)
{
	struct access_token tok;
	const char *error = "";
	char fp[7], want[40];
	time_t now = time(NULL);

	write_refused("EwB-current", NULL, now);
	check_int("get", token_cache_get(c, "a", &tok, &error), OM_OK);
	memcpy(fp, tok.fingerprint, sizeof(fp));
	check_int("another token's fingerprint: stale",
		  token_cache_invalidate(c, "a", "000000"),
		  TOKEN_REFUSAL_STALE);
	check_true("stale: nothing recorded", !file_has("rejected_token"));
	check_int("the current token: marked",
		  token_cache_invalidate(c, "a", fp), TOKEN_REFUSAL_MARKED);
	snprintf(want, sizeof(want), "\"rejected_token\":\"%s\"", fp);
	check_true("marked in the file", file_has(want));
	check_int("again: still the one mark",
		  token_cache_invalidate(c, "a", fp), TOKEN_REFUSAL_MARKED);
	write_refused("EwB-after", "000000", now - 5);
	check_int("new token after a refusal",
		  token_cache_get(c, "a", &tok, &error), OM_OK);
	check_str("the new token", tok.token, "EwB-after");
	check_int("refused 5 s after a refusal-driven refresh: held",
		  token_cache_invalidate(c, "a", tok.fingerprint),
		  TOKEN_REFUSAL_HELD);
	check_int("held: still served", token_cache_get(c, "a", &tok, &error),
		  OM_OK);
	check_int("held, without fingerprint (an old client) too",
		  token_cache_invalidate(c, "a", NULL), TOKEN_REFUSAL_HELD);
	write_refused("EwB-later", "000000",
		      now - TOKEN_CACHE_REFUSAL_HOLDOFF - 1);
	check_int("old client, token not handed out here: stale",
		  token_cache_invalidate(c, "a", NULL), TOKEN_REFUSAL_STALE);
	check_int("get it", token_cache_get(c, "a", &tok, &error), OM_OK);
	check_int("after the hold-off: marked",
		  token_cache_invalidate(c, "a", NULL), TOKEN_REFUSAL_MARKED);
	check_int("no such account", token_cache_invalidate(c, "zz", NULL),
		  TOKEN_REFUSAL_UNKNOWN);
	unlink(path);
}

int main(void)
{
	struct oauthmail_config *cfg = NULL;
	struct token_cache *c = NULL;
	const char *error = "";
	char conf[512];
	int n;

	setenv("OAUTHMAIL_HTTP_TIMEOUT", "2", 1);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/a.json", dir);
	n = snprintf(conf, sizeof(conf),
		     "token_dir = %s\n[account a]\n"
		     "authority = http://127.0.0.1:1\nclient_id = x\n",
		     dir);
	check_int("config",
		  config_parse("t.conf", conf, (size_t)n, &cfg, &error), 0);
	check_int("open", token_cache_open(cfg, &c, &error), 0);
	if (c != NULL)
		test_cache(c);
	if (c != NULL)
		test_refusal_rules(c);
	test_sealed_by_path();
	token_cache_close(&c);
	config_free(&cfg);
	unlink(path);
	snprintf(conf, sizeof(conf), "%s/a.lock", dir);
	unlink(conf);
	rmdir(dir);
	return test_done("test_token_cache");
}
