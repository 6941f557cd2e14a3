/*
 * token_store.c - one JSON file per account in token_dir
 * (docs/internals.md, "The shared token-refresh cache", rule 1): mode
 * 0600, owned like token_dir, written atomically and durably
 * (safefile.c), optionally sealed with AES-256-GCM (key_file).
 *
 * The file is outside input when read back (another process, an admin
 * with an editor, a disk error): it is parsed strictly, every string is
 * bounded, and a file that does not parse is an error, never a token.
 * A sealed file is {"version":1,"account":A,"sealed":base64} with the
 * account name bound in as additional data.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "token/token_store.h"

#define TOKEN_FILE_MAX (256 * 1024)
#define TOKEN_MAX (16 * 1024)
#define TEXT_MAX 2048

struct string_field {
	const char *key;
	size_t offset;
	size_t max;
};

struct time_field {
	const char *key;
	size_t offset;
};

static const struct string_field string_fields[] = {
	{"account", offsetof(struct token_record, account), 64},
	{"provider", offsetof(struct token_record, provider), 32},
	{"client_id", offsetof(struct token_record, client_id), 256},
	{"user", offsetof(struct token_record, user), 320},
	{"scope", offsetof(struct token_record, scope), TEXT_MAX},
	{"access_token", offsetof(struct token_record, access_token),
	 TOKEN_MAX},
	{"refresh_token", offsetof(struct token_record, refresh_token),
	 TOKEN_MAX},
	{"last_error", offsetof(struct token_record, last_error), TEXT_MAX},
	{"rejected_token", offsetof(struct token_record, rejected), 16},
	{"signed_in_as", offsetof(struct token_record, signed_in_as), 320},
};

static const struct time_field time_fields[] = {
	{"access_expires", offsetof(struct token_record, access_expires)},
	{"refresh_issued", offsetof(struct token_record, refresh_issued)},
	{"authorized", offsetof(struct token_record, authorized)},
	{"last_refresh", offsetof(struct token_record, last_refresh)},
	{"last_error_time", offsetof(struct token_record, last_error_time)},
	{"backoff_until", offsetof(struct token_record, backoff_until)},
};

#define N_STRINGS (sizeof(string_fields) / sizeof(string_fields[0]))
#define N_TIMES (sizeof(time_fields) / sizeof(time_fields[0]))

static char **string_at(struct token_record *rec, size_t i)
{
	return (char **)(void *)((char *)rec + string_fields[i].offset);
}

static time_t *time_at(struct token_record *rec, size_t i)
{
	return (time_t *)(void *)((char *)rec + time_fields[i].offset);
}

int token_store_path(const char *token_dir, const char *account,
		     const char *suffix, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s%s", token_dir, account, suffix);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int parse_strings(const cJSON *root, struct token_record *rec,
			 const char **error_r)
{
	const char *v;
	size_t i;

	for (i = 0; i < N_STRINGS; i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(
			root, string_fields[i].key);

		if (item == NULL || cJSON_IsNull(item))
			continue;
		v = json_string(root, string_fields[i].key,
				string_fields[i].max);
		if (v == NULL) {
			*error_r = errorf(
				"%s: not a string of at most %zu bytes",
				string_fields[i].key, string_fields[i].max);
			return -1;
		}
		if ((*string_at(rec, i) = strdup(v)) == NULL) {
			*error_r = "out of memory";
			return -1;
		}
	}
	return 0;
}

static int parse_numbers(const cJSON *root, struct token_record *rec,
			 const char **error_r)
{
	const cJSON *flag;
	long long v;
	size_t i;

	for (i = 0; i < N_TIMES; i++) {
		if (!json_has(root, time_fields[i].key))
			continue;
		if (json_long(root, time_fields[i].key, 0, 1LL << 40, &v) < 0) {
			*error_r = errorf("%s: not a time", time_fields[i].key);
			return -1;
		}
		*time_at(rec, i) = (time_t)v;
	}
	if (json_has(root, "failures") &&
	    json_long(root, "failures", 0, 1000000, &v) == 0)
		rec->failures = (int)v;
	flag = cJSON_GetObjectItemCaseSensitive(root, "reauth_needed");
	if (flag != NULL && !cJSON_IsBool(flag)) {
		*error_r = "reauth_needed: not true or false";
		return -1;
	}
	rec->reauth_needed = cJSON_IsTrue(flag);
	return 0;
}

int token_record_parse(const char *json, size_t len, struct token_record *rec,
		       const char **error_r)
{
	cJSON *root;
	long long version;

	memset(rec, 0, sizeof(*rec));
	root = json_parse(json, len, error_r);
	if (root == NULL)
		return -1;
	if (!cJSON_IsObject(root) ||
	    json_long(root, "version", 1, 1, &version) < 0) {
		*error_r = "not an oauthmail token file (version 1)";
		json_delete_wiped(root);
		return -1;
	}
	if (parse_strings(root, rec, error_r) < 0 ||
	    parse_numbers(root, rec, error_r) < 0) {
		json_delete_wiped(root);
		token_record_free(rec);
		return -1;
	}
	json_delete_wiped(root);
	return 0;
}

static int add_fields(cJSON *root, struct token_record *rec)
{
	size_t i;

	if (cJSON_AddNumberToObject(root, "version", 1) == NULL)
		return -1;
	for (i = 0; i < N_STRINGS; i++) {
		const char *v = *string_at(rec, i);

		if (v != NULL && cJSON_AddStringToObject(
					 root, string_fields[i].key, v) == NULL)
			return -1;
	}
	for (i = 0; i < N_TIMES; i++) {
		if (*time_at(rec, i) != 0 &&
		    cJSON_AddNumberToObject(root, time_fields[i].key,
					    (double)*time_at(rec, i)) == NULL)
			return -1;
	}
	if (cJSON_AddBoolToObject(root, "reauth_needed", rec->reauth_needed) ==
		    NULL ||
	    cJSON_AddNumberToObject(root, "failures", rec->failures) == NULL)
		return -1;
	return 0;
}

char *token_record_format(const struct token_record *rec)
{
	cJSON *root = cJSON_CreateObject();
	char *out = NULL;

	if (root != NULL && add_fields(root, (struct token_record *)rec) == 0)
		out = json_print(root, TOKEN_FILE_MAX);
	json_delete_wiped(root);
	return out;
}

void token_record_free(struct token_record *rec)
{
	size_t i;

	for (i = 0; i < N_STRINGS; i++)
		wipe_free_str(string_at(rec, i));
	memset(rec, 0, sizeof(*rec));
}

static int unseal(const cJSON *root, const unsigned char *key,
		  const char *account, struct strbuf *plain,
		  const char **error_r)
{
	const char *sealed = json_string(root, "sealed", TOKEN_FILE_MAX);
	struct strbuf raw;
	int ret = -1;

	if (key == NULL) {
		*error_r = "the token file is sealed but no key_file is "
			   "configured (set key_file in oauthmail.conf)";
		return -1;
	}
	/* read by path: the account named outside; GCM authenticates it */
	if (account == NULL &&
	    (account = json_string(root, "account", 64)) == NULL) {
		*error_r = "sealed token file without an account name";
		return -1;
	}
	strbuf_init(&raw, TOKEN_FILE_MAX);
	if (sealed == NULL ||
	    crypto_base64_decode(sealed, strlen(sealed), &raw) < 0)
		*error_r = "sealed token file: bad base64";
	else if (crypto_open(key, account, raw.data, raw.len, plain) < 0)
		*error_r = "sealed token file does not open with key_file "
			   "(wrong key, or the file was altered or renamed)";
	else
		ret = 0;
	strbuf_free(&raw);
	return ret;
}

static int parse_file(const struct strbuf *content, const unsigned char *key,
		      const char *account, struct token_record *rec,
		      const char **error_r)
{
	struct strbuf plain;
	cJSON *root;
	int ret;

	root = json_parse(content->data, content->len, error_r);
	if (root == NULL)
		return -1;
	if (!json_has(root, "sealed")) {
		json_delete_wiped(root);
		return token_record_parse(content->data, content->len, rec,
					  error_r);
	}
	strbuf_init(&plain, TOKEN_FILE_MAX);
	ret = unseal(root, key, account, &plain, error_r);
	json_delete_wiped(root);
	if (ret == 0)
		ret = token_record_parse(plain.data, plain.len, rec, error_r);
	strbuf_free(&plain);
	return ret;
}

int token_store_read(const char *path, const unsigned char *key,
		     const char *account, struct token_record *rec,
		     const char **error_r)
{
	struct strbuf content;
	const char *why;
	int ret;

	memset(rec, 0, sizeof(*rec));
	strbuf_init(&content, TOKEN_FILE_MAX);
	ret = safefile_read(path, TOKEN_FILE_MAX, &content, error_r);
	if (ret == 0 && content.len == 0) {
		*error_r = errorf("%s: empty token file", path);
		ret = -1;
	} else if (ret == 0 &&
		   parse_file(&content, key, account, rec, &why) < 0) {
		*error_r = errorf("%s: %s", path, why);
		ret = -1;
	} else if (ret == 0 && account != NULL &&
		   (rec->account == NULL ||
		    strcmp(rec->account, account) != 0)) {
		*error_r =
			errorf("%s: belongs to account '%s', not '%s'", path,
			       rec->account ? printable(rec->account, 64) : "?",
			       account);
		token_record_free(rec);
		ret = -1;
	}
	strbuf_free(&content);
	return ret;
}

static char *seal_record(const char *plain, const unsigned char *key,
			 const char *account)
{
	struct strbuf sealed, b64;
	cJSON *root = NULL;
	char *out = NULL;

	strbuf_init(&sealed, TOKEN_FILE_MAX);
	strbuf_init(&b64, 2 * TOKEN_FILE_MAX);
	if (crypto_seal(key, account, plain, strlen(plain), &sealed) == 0 &&
	    crypto_base64_encode(sealed.data, sealed.len, &b64) == 0 &&
	    (root = cJSON_CreateObject()) != NULL &&
	    cJSON_AddNumberToObject(root, "version", 1) != NULL &&
	    cJSON_AddStringToObject(root, "account", account) != NULL &&
	    cJSON_AddStringToObject(root, "sealed", b64.data) != NULL)
		out = json_print(root, 2 * TOKEN_FILE_MAX + 256);
	cJSON_Delete(root);
	strbuf_free(&sealed);
	strbuf_free(&b64);
	return out;
}

int token_store_write(const char *path, const unsigned char *key,
		      const struct token_record *rec, const char **error_r)
{
	char *plain = token_record_format(rec);
	char *data = plain;
	int ret;

	if (plain != NULL && key != NULL) {
		data = seal_record(plain, key, rec->account);
		wipe_free_str(&plain);
	}
	if (data == NULL) {
		*error_r = "cannot format the token file (out of memory)";
		return -1;
	}
	ret = safefile_write(path, data, strlen(data), 0600, 1, error_r);
	wipe_free_str(&data);
	return ret;
}
