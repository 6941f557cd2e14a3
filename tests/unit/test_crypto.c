/* test_crypto.c - PKCE (RFC 7636 vector), base64 strictness, sealing
 * round trip and tamper detection, key files, fingerprints */
#include "oauthmail-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "testlib.h"

static void test_pkce(void)
{
	char out[64], r1[64], r2[64];

	check_int("challenge",
		  crypto_pkce_challenge(
			  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out,
			  sizeof(out)),
		  0);
	check_str("RFC 7636 appendix B", out,
		  "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	check_int("random", crypto_random_urlsafe(32, r1, sizeof(r1)), 0);
	check_int("random 2", crypto_random_urlsafe(32, r2, sizeof(r2)), 0);
	check_int("43 chars", (long long)strlen(r1), 43);
	check_true("differs", strcmp(r1, r2) != 0);
	check_true("url-safe", strpbrk(r1, "+/=") == NULL);
	check_int("too small", crypto_random_urlsafe(32, r1, 10), -1);
	check_int("hex", crypto_random_hex(8, r1, 17), 0);
	check_int("hex 2", crypto_random_hex(8, r2, 17), 0);
	check_int("16 digits", (long long)strlen(r1), 16);
	check_true("hex differs", strcmp(r1, r2) != 0);
	check_true("lowercase hex",
		   strspn(r1, "0123456789abcdef") == strlen(r1));
	check_int("hex too small", crypto_random_hex(8, r1, 16), -1);
	check_int("hex too many", crypto_random_hex(65, r1, sizeof(r1)), -1);
}

struct b64_case {
	const char *in;
	int ok;
	const char *want;
};

static const struct b64_case b64_cases[] = {
	{"", 1, ""},	    {"YQ==", 1, "a"},	     {"YWI=", 1, "ab"},
	{"YWJj", 1, "abc"}, {"YWJjZA==", 1, "abcd"}, {"YQ=", 0, NULL},
	{"Y Q==", 0, NULL}, {"YQ==YQ==", 0, NULL},   {"YW=j", 0, NULL},
	{"YQ-_", 0, NULL},  {"YQ===", 0, NULL},
};

static void test_base64(void)
{
	struct strbuf sb;
	size_t i;

	for (i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
		const struct b64_case *c = &b64_cases[i];
		int ret;

		strbuf_init(&sb, 1024);
		ret = crypto_base64_decode(c->in, strlen(c->in), &sb);
		check_int(c->in, ret == 0, c->ok);
		if (c->ok && ret == 0)
			check_str(c->in, sb.data ? sb.data : "", c->want);
		strbuf_free(&sb);
	}
	strbuf_init(&sb, 1024);
	check_int("encode",
		  crypto_base64_encode("user=a\001auth=Bearer x\001\001", 22,
				       &sb),
		  0);
	check_str("encode result", sb.data, "dXNlcj1hAWF1dGg9QmVhcmVyIHgBAQ==");
	strbuf_free(&sb);
}

static const unsigned char key1[CRYPTO_KEY_LEN] = {1, 2, 3, 4, 5};
static const unsigned char key2[CRYPTO_KEY_LEN] = {9, 9, 9};

static void test_seal(void)
{
	const char *plain = "{\"refresh_token\":\"0.AYEA-secret\"}";
	struct strbuf sealed, opened;

	strbuf_init(&sealed, 4096);
	strbuf_init(&opened, 4096);
	check_int("seal",
		  crypto_seal(key1, "support", plain, strlen(plain), &sealed),
		  0);
	check_int("sealed size", (long long)sealed.len,
		  (long long)strlen(plain) + 28);
	check_true("ciphertext hides plaintext",
		   memmem(sealed.data, sealed.len, "secret", 6) == NULL);
	check_int(
		"open",
		crypto_open(key1, "support", sealed.data, sealed.len, &opened),
		0);
	check_str("round trip", opened.data, plain);
	strbuf_reset(&opened);
	check_int(
		"wrong key",
		crypto_open(key2, "support", sealed.data, sealed.len, &opened),
		-1);
	check_int("wrong account (renamed file)",
		  crypto_open(key1, "sales", sealed.data, sealed.len, &opened),
		  -1);
	sealed.data[20] ^= 1;
	check_int(
		"flipped bit",
		crypto_open(key1, "support", sealed.data, sealed.len, &opened),
		-1);
	sealed.data[20] ^= 1;
	check_int("truncated",
		  crypto_open(key1, "support", sealed.data, sealed.len - 1,
			      &opened),
		  -1);
	check_int("too short",
		  crypto_open(key1, "support", sealed.data, 10, &opened), -1);
	strbuf_free(&sealed);
	strbuf_free(&opened);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		fchmod(fd, mode);
		close(fd);
	}
}

static void test_key_file(void)
{
	char dir[] = "/tmp/oauthmail-test-key.XXXXXX", path[128];
	unsigned char key[CRYPTO_KEY_LEN];
	const char *error = "";

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/key", dir);
	write_file(path,
		   "000102030405060708090a0b0c0d0e0f"
		   "101112131415161718191a1b1c1d1e1f\n",
		   0600);
	check_int("hex key", crypto_load_key(path, key, &error), 0);
	check_int("key byte 31", key[31], 0x1f);
	chmod(path, 0644);
	check_int("world-readable key refused",
		  crypto_load_key(path, key, &error), -1);
	check_true("says chmod 600", strstr(error, "chmod 600") != NULL);
	write_file(path, "abcd\n", 0600);
	check_int("short key", crypto_load_key(path, key, &error), -1);
	unlink(path);
	check_int("missing key", crypto_load_key(path, key, &error), -1);
	check_true("says how to make one",
		   strstr(error, "openssl rand -hex 32") != NULL);
	rmdir(dir);
}

static void test_fingerprint(void)
{
	char fp[CRYPTO_FINGERPRINT_LEN + 1];

	crypto_fingerprint("abc", 3, fp);
	check_str("sha256(abc) prefix", fp, "ba7816");
}

int main(void)
{
	test_pkce();
	test_base64();
	test_seal();
	test_key_file();
	test_fingerprint();
	return test_done("test_crypto");
}
