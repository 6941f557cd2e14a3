/* test_token_store.c - the token file: the record's JSON (strict and
 * bounded), the round trip, atomic 0600 writes, reads that refuse bad
 * files, and sealing with key_file (wrong key, renamed file, no key) */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "testlib.h"
#include "token/token_store.h"

static char dir[] = "/tmp/test_token_store.XXXXXX";

static const unsigned char key[CRYPTO_KEY_LEN] =
	"0123456789abcdef0123456789abcde";
static const unsigned char other_key[CRYPTO_KEY_LEN] =
	"fedcba9876543210fedcba987654321";

static void sample(struct token_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->account = "a";
	rec->provider = "microsoft";
	rec->client_id = "00000000-0000-0000-0000-000000000001";
	rec->user = "support@contoso.com";
	rec->scope = "offline_access https://outlook.office.com/SMTP.Send";
	rec->access_token = "eyJ0eXAi.access-token-secret";
	rec->access_expires = 1900000000;
	rec->refresh_token = "0.AXrefresh-token-secret";
	rec->refresh_issued = 1800000000;
	rec->authorized = 1700000000;
	rec->last_refresh = 1800000001;
	rec->reauth_needed = 1;
	rec->last_error = "account a: AADSTS70008 (invalid_grant)";
	rec->last_error_time = 1800000002;
	rec->backoff_until = 1800000060;
	rec->failures = 3;
	rec->rejected = "a1b2c3";
	rec->signed_in_as = "Support@Contoso.com";
}

static void check_same(const struct token_record *got,
		       const struct token_record *want)
{
	check_str("account", got->account, want->account);
	check_str("provider", got->provider, want->provider);
	check_str("client_id", got->client_id, want->client_id);
	check_str("user", got->user, want->user);
	check_str("scope", got->scope, want->scope);
	check_str("access_token", got->access_token, want->access_token);
	check_int("access_expires", got->access_expires, want->access_expires);
	check_str("refresh_token", got->refresh_token, want->refresh_token);
	check_int("refresh_issued", got->refresh_issued, want->refresh_issued);
	check_int("authorized", got->authorized, want->authorized);
	check_int("last_refresh", got->last_refresh, want->last_refresh);
	check_int("reauth_needed", got->reauth_needed, want->reauth_needed);
	check_str("last_error", got->last_error, want->last_error);
	check_int("last_error_time", got->last_error_time,
		  want->last_error_time);
	check_int("backoff_until", got->backoff_until, want->backoff_until);
	check_int("failures", got->failures, want->failures);
	check_str("rejected", got->rejected, want->rejected);
	check_str("signed_in_as", got->signed_in_as, want->signed_in_as);
}

static void test_round_trip(void)
{
	struct token_record rec, got;
	const char *error = NULL;
	char *json;

	sample(&rec);
	json = token_record_format(&rec);
	check_true("formatted", json != NULL);
	if (json == NULL)
		return;
	check_int("parses",
		  token_record_parse(json, strlen(json), &got, &error), 0);
	check_same(&got, &rec);
	token_record_free(&got);
	check_true("free zeroes", got.account == NULL && got.failures == 0);
	free(json);

	memset(&rec, 0, sizeof(rec));
	rec.account = "b";
	json = token_record_format(&rec);
	check_true("absent fields left out",
		   json != NULL && strstr(json, "access_token") == NULL &&
			   strstr(json, "access_expires") == NULL);
	check_int("minimal parses",
		  token_record_parse(json, strlen(json), &got, &error), 0);
	check_true("absent stays NULL/0", got.refresh_token == NULL &&
						  got.access_expires == 0 &&
						  got.signed_in_as == NULL);
	token_record_free(&got);
	free(json);
}

static const struct {
	const char *json;
	const char *want; /* NULL: parses */
} parse_rows[] = {
	{"{\"version\":1}", NULL},
	{"{\"version\":1,\"account\":\"a\",\"refresh_token\":null}", NULL},
	{"{\"version\":1,\"access_expires\":\"1900000000\"}", NULL},
	{"{\"version\":1,\"unknown_future_key\":[1,2]}", NULL},
	{"{\"version\":1,\"failures\":\"lots\"}", NULL}, /* ignored */
	{"{\"version\":2}", "not an oauthmail token file (version 1)"},
	{"{\"account\":\"a\"}", "not an oauthmail token file (version 1)"},
	{"[1]", "not an oauthmail token file (version 1)"},
	{"", NULL}, /* json error; checked as a failure below */
	{"{\"version\":1,\"access_token\":42}",
	 "access_token: not a string of at most 16384 bytes"},
	{"{\"version\":1,\"account\":\"bell\\u0007\"}",
	 "account: not a string of at most 64 bytes"},
	{"{\"version\":1,\"account\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	 "account: not a string of at most 64 bytes"},
	{"{\"version\":1,\"rejected_token\":\"12345678901234567\"}",
	 "rejected_token: not a string of at most 16 bytes"},
	{"{\"version\":1,\"signed_in_as\":[\"bob@contoso.com\"]}",
	 "signed_in_as: not a string of at most 320 bytes"},
	{"{\"version\":1,\"signed_in_as\":\"bob\\u0001@contoso.com\"}",
	 "signed_in_as: not a string of at most 320 bytes"},
	{"{\"version\":1,\"access_expires\":-1}", "access_expires: not a time"},
	{"{\"version\":1,\"access_expires\":1.5}",
	 "access_expires: not a time"},
	{"{\"version\":1,\"backoff_until\":\"soon\"}",
	 "backoff_until: not a time"},
	{"{\"version\":1,\"refresh_issued\":1e300}",
	 "refresh_issued: not a time"},
	{"{\"version\":1,\"reauth_needed\":1}",
	 "reauth_needed: not true or false"},
	{"{\"version\":1} {}", NULL}, /* json error: trailing junk */
};

static void test_parse(void)
{
	struct token_record rec;
	const char *error;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const char *json = parse_rows[i].json;
		int junk = json[0] == '\0' || strstr(json, "} {") != NULL;

		error = NULL;
		ret = token_record_parse(json, strlen(json), &rec, &error);
		if (parse_rows[i].want == NULL && !junk) {
			check_int(json, ret, 0);
			token_record_free(&rec);
			continue;
		}
		check_int(json, ret, -1);
		check_true("says why", error != NULL);
		if (!junk)
			check_str(json, error, parse_rows[i].want);
		check_true("nothing kept",
			   rec.account == NULL && rec.access_token == NULL);
	}
	/* (ptr, len): bytes past len are not read */
	check_int(
		"len bounds the input",
		token_record_parse("{\"version\":1}garbage", 13, &rec, &error),
		0);
	token_record_free(&rec);
}

static void test_path(void)
{
	char buf[32];

	check_int(
		"path",
		token_store_path("/var/lib/om", "a", ".json", buf, sizeof(buf)),
		0);
	check_str("path text", buf, "/var/lib/om/a.json");
	check_int("lock path",
		  token_store_path("/d", "acct", ".lock", buf, sizeof(buf)), 0);
	check_str("lock path text", buf, "/d/acct.lock");
	check_int("too long",
		  token_store_path("/a/very/long/token/directory", "account",
				   ".json", buf, sizeof(buf)),
		  -1);
}

static int file_has(const char *path, const char *needle)
{
	struct strbuf sb;
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;
	int found;

	strbuf_init(&sb, 1 << 20);
	while (f != NULL && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_append(&sb, buf, n);
	if (f != NULL)
		fclose(f);
	found = sb.data != NULL && strstr(sb.data, needle) != NULL;
	strbuf_free(&sb);
	return found;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_plain_file(void)
{
	struct token_record rec, got;
	const char *error = NULL;
	char path[256], link[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/a.json", dir);
	snprintf(link, sizeof(link), "%s/l.json", dir);
	check_int("missing", token_store_read(path, NULL, "a", &got, &error),
		  1);
	sample(&rec);
	check_int("write", token_store_write(path, NULL, &rec, &error), 0);
	check_int("mode 0600",
		  stat(path, &st) == 0 ? (long long)(st.st_mode & 0777) : -1,
		  0600);
	check_int("read", token_store_read(path, NULL, "a", &got, &error), 0);
	check_same(&got, &rec);
	token_record_free(&got);
	check_int("read by path (no account)",
		  token_store_read(path, NULL, NULL, &got, &error), 0);
	token_record_free(&got);
	error = NULL;
	check_int("another account's file",
		  token_store_read(path, NULL, "b", &got, &error), -1);
	check_true("says whose",
		   error != NULL &&
			   strstr(error, "belongs to account 'a', not 'b'") !=
				   NULL);
	check_true("nothing kept", got.access_token == NULL);

	check_int("symlink", symlink(path, link), 0);
	check_int("symlink refused",
		  token_store_read(link, NULL, "a", &got, &error), -1);
	unlink(link);
	write_text(path, "");
	check_int("empty file", token_store_read(path, NULL, "a", &got, &error),
		  -1);
	check_true("empty says so",
		   error != NULL && strstr(error, "empty token file") != NULL);
	write_text(path, "{\"version\":1,\"account\":\"a\",\"access_expires\":"
			 "\"x\"}");
	check_int("bad file", token_store_read(path, NULL, "a", &got, &error),
		  -1);
	check_true("error names the file and the field",
		   error != NULL && strstr(error, path) != NULL &&
			   strstr(error, "access_expires: not a time") != NULL);
	write_text(path, "{\"version\":1}");
	check_int("a file without an account is nobody's",
		  token_store_read(path, NULL, "a", &got, &error), -1);
	unlink(path);
}

static void test_sealed_file(void)
{
	struct token_record rec, got;
	const char *error = NULL;
	char path[256], moved[256];

	snprintf(path, sizeof(path), "%s/a.json", dir);
	snprintf(moved, sizeof(moved), "%s/b.json", dir);
	sample(&rec);
	check_int("sealed write", token_store_write(path, key, &rec, &error),
		  0);
	check_true("sealed on disk", file_has(path, "\"sealed\""));
	check_true("account in the clear", file_has(path, "\"account\":\"a\""));
	check_true("no token in the clear",
		   !file_has(path, "access-token-secret") &&
			   !file_has(path, "refresh-token-secret") &&
			   !file_has(path, "support@contoso.com"));
	check_int("sealed read", token_store_read(path, key, "a", &got, &error),
		  0);
	check_same(&got, &rec);
	token_record_free(&got);
	check_int("sealed read by path",
		  token_store_read(path, key, NULL, &got, &error), 0);
	token_record_free(&got);

	error = NULL;
	check_int("no key", token_store_read(path, NULL, "a", &got, &error),
		  -1);
	check_true("says set key_file",
		   error != NULL && strstr(error, "no key_file") != NULL);
	error = NULL;
	check_int("wrong key",
		  token_store_read(path, other_key, "a", &got, &error), -1);
	check_true("does not open",
		   error != NULL && strstr(error, "does not open") != NULL);
	/* a sealed file renamed to another account: the name is bound in */
	check_int("rename", rename(path, moved), 0);
	error = NULL;
	check_int("renamed file refused",
		  token_store_read(moved, key, "b", &got, &error), -1);
	check_true("renamed says so",
		   error != NULL && strstr(error, "renamed") != NULL);
	unlink(moved);

	write_text(path, "{\"version\":1,\"account\":\"a\",\"sealed\":\"!!\"}");
	check_int("bad base64", token_store_read(path, key, "a", &got, &error),
		  -1);
	check_true("bad base64 says so",
		   error != NULL && strstr(error, "bad base64") != NULL);
	write_text(path, "{\"version\":1,\"sealed\":\"AAAA\"}");
	check_int("sealed without account",
		  token_store_read(path, key, NULL, &got, &error), -1);
	check_true("no account says so",
		   error != NULL &&
			   strstr(error, "without an account") != NULL);
	unlink(path);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_round_trip();
	test_parse();
	test_path();
	test_plain_file();
	test_sealed_file();
	rmdir(dir);
	return test_done("test_token_store");
}
