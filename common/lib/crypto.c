/*
 * crypto.c - the small amount of cryptography oauthmail needs, all of it
 * OpenSSL: randomness for PKCE verifiers and state, the S256 challenge,
 * SHA-256 fingerprints for logging, base64, and AES-256-GCM sealing of
 * token files at rest (key_file).
 *
 * Sealed data is nonce (12 random bytes) | ciphertext | tag (16 bytes),
 * with the account name as additional authenticated data, so a token
 * file copied onto another account's name fails to open, as does any
 * flipped bit.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "lib/crypto.h"
#include "lib/errorf.h"
#include "lib/safefile.h"

#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16

static void urlsafe(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (*s == '=')
			break;
		*w++ = *s == '+' ? '-' : *s == '/' ? '_' : *s;
	}
	*w = '\0';
}

static int b64url(const unsigned char *data, size_t len, char *out,
		  size_t outsize)
{
	if (outsize < 4 * ((len + 2) / 3) + 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	urlsafe(out);
	return 0;
}

int crypto_random_urlsafe(size_t nbytes, char *out, size_t outsize)
{
	unsigned char buf[64];
	int ret;

	if (nbytes > sizeof(buf) || RAND_bytes(buf, (int)nbytes) != 1)
		return -1;
	ret = b64url(buf, nbytes, out, outsize);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

int crypto_pkce_challenge(const char *verifier, char *out, size_t outsize)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	return b64url(md, sizeof(md), out, outsize);
}

/* len bytes as 2*len lowercase hex digits and a NUL into out */
static void hex_encode(const unsigned char *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[data[i] >> 4];
		out[2 * i + 1] = hex[data[i] & 15];
	}
	out[2 * len] = '\0';
}

int crypto_random_hex(size_t nbytes, char *out, size_t outsize)
{
	unsigned char buf[64];

	if (nbytes > sizeof(buf) || outsize < 2 * nbytes + 1 ||
	    RAND_bytes(buf, (int)nbytes) != 1)
		return -1;
	hex_encode(buf, nbytes, out);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

void crypto_fingerprint(const char *data, size_t len,
			char out[CRYPTO_FINGERPRINT_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)data, len, md);
	hex_encode(md, CRYPTO_FINGERPRINT_LEN / 2, out);
}

int crypto_base64_encode(const void *data, size_t len, struct strbuf *out)
{
	size_t need = 4 * ((len + 2) / 3);
	unsigned char *tmp;
	int ret;

	if (len > (size_t)1 << 28 || (tmp = malloc(need + 1)) == NULL)
		return -1;
	EVP_EncodeBlock(tmp, data, (int)len);
	ret = strbuf_append(out, tmp, need);
	OPENSSL_cleanse(tmp, need);
	free(tmp);
	return ret;
}

static int valid_base64(const char *text, size_t len)
{
	size_t i, pad = 0;

	if (len % 4 != 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || !(isalnum(c) || c == '+' || c == '/'))
			return 0;
	}
	return pad <= 2;
}

int crypto_base64_decode(const char *text, size_t len, struct strbuf *out)
{
	unsigned char buf[768];
	size_t pos, chunk, pad = 0;
	int n;

	if (!valid_base64(text, len))
		return -1;
	if (len >= 1 && text[len - 1] == '=')
		pad = len >= 2 && text[len - 2] == '=' ? 2 : 1;
	for (pos = 0; pos < len; pos += chunk) {
		chunk = len - pos > 1024 ? 1024 : len - pos;
		n = EVP_DecodeBlock(buf, (const unsigned char *)text + pos,
				    (int)chunk);
		if (n < 0)
			return -1;
		if (pos + chunk == len)
			n -= (int)pad;
		if (strbuf_append(out, buf, (size_t)n) < 0)
			return -1;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_hex_key(const char *text, size_t len,
			 unsigned char key[CRYPTO_KEY_LEN])
{
	size_t i;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len != 2 * CRYPTO_KEY_LEN)
		return -1;
	for (i = 0; i < CRYPTO_KEY_LEN; i++) {
		int hi = hex_value((unsigned char)text[2 * i]);
		int lo = hex_value((unsigned char)text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int crypto_load_key(const char *path, unsigned char key[CRYPTO_KEY_LEN],
		    const char **error_r)
{
	struct strbuf sb;
	struct stat st;
	int ret;

	strbuf_init(&sb, 256);
	ret = safefile_read(path, 256, &sb, error_r);
	if (ret > 0)
		*error_r = errorf("key_file %s: no such file (create one: "
				  "openssl rand -hex 32 > %s; chmod 600 %s)",
				  path, path, path);
	else if (ret == 0 && stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		*error_r = errorf("key_file %s is readable by group or others "
				  "(fix: chmod 600 %s)",
				  path, path);
	else if (ret == 0 && parse_hex_key(sb.data, sb.len, key) < 0)
		*error_r = errorf("key_file %s: expected 64 hex digits "
				  "(openssl rand -hex 32)",
				  path);
	else if (ret == 0) {
		strbuf_free(&sb);
		return 0;
	}
	strbuf_free(&sb);
	OPENSSL_cleanse(key, CRYPTO_KEY_LEN);
	return -1;
}

static int gcm_run(int encrypt, const unsigned char *key,
		   const unsigned char *nonce, const char *aad,
		   const unsigned char *in, size_t len, unsigned char *out,
		   unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ok;

	ok = ctx != NULL && aad != NULL && len <= (size_t)1 << 28 &&
	     EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
			       encrypt) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE_LEN,
				 NULL) == 1 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad,
			      (int)strlen(aad)) == 1 &&
	     EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
	     (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
					     GCM_TAG_LEN, tag) == 1) &&
	     EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
	     (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
					      GCM_TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
		const void *plain, size_t len, struct strbuf *out)
{
	unsigned char nonce[GCM_NONCE_LEN], tag[GCM_TAG_LEN];
	unsigned char *buf = malloc(len + 1);
	int ret = -1;

	if (buf != NULL && RAND_bytes(nonce, sizeof(nonce)) == 1 &&
	    gcm_run(1, key, nonce, aad, plain, len, buf, tag) == 0 &&
	    strbuf_append(out, nonce, sizeof(nonce)) == 0 &&
	    strbuf_append(out, buf, len) == 0 &&
	    strbuf_append(out, tag, sizeof(tag)) == 0)
		ret = 0;
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return ret;
}

int crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
		const void *sealed, size_t len, struct strbuf *plain_out)
{
	const unsigned char *p = sealed;
	unsigned char tag[GCM_TAG_LEN], *buf;
	size_t clen;
	int ret = -1;

	if (len < GCM_NONCE_LEN + GCM_TAG_LEN)
		return -1;
	clen = len - GCM_NONCE_LEN - GCM_TAG_LEN;
	memcpy(tag, p + GCM_NONCE_LEN + clen, GCM_TAG_LEN);
	buf = malloc(clen + 1);
	if (buf != NULL &&
	    gcm_run(0, key, p, aad, p + GCM_NONCE_LEN, clen, buf, tag) == 0 &&
	    strbuf_append(plain_out, buf, clen) == 0)
		ret = 0;
	if (buf != NULL) {
		OPENSSL_cleanse(buf, clen);
		free(buf);
	}
	return ret;
}
