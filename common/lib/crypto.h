/* crypto.h - PKCE, random strings, fingerprints, base64, token sealing */
#ifndef OAUTHMAIL_CRYPTO_H
#define OAUTHMAIL_CRYPTO_H

#include <stddef.h>

#include "lib/strbuf.h"

#define CRYPTO_KEY_LEN 32
#define CRYPTO_FINGERPRINT_LEN 6

/* crypto_random_urlsafe - nbytes of randomness as unpadded base64url
 * into out (needs 4*nbytes/3+2 bytes).  0, or -1. */
int crypto_random_urlsafe(size_t nbytes, char *out, size_t outsize);

/* crypto_random_hex - nbytes of randomness as 2*nbytes lowercase hex
 * digits into out (needs 2*nbytes+1 bytes).  0, or -1. */
int crypto_random_hex(size_t nbytes, char *out, size_t outsize);

/* crypto_pkce_challenge - S256: base64url(SHA-256(verifier)), unpadded */
int crypto_pkce_challenge(const char *verifier, char *out, size_t outsize);

/* crypto_fingerprint - first 6 hex digits of SHA-256(data): safe to log */
void crypto_fingerprint(const char *data, size_t len,
			char out[CRYPTO_FINGERPRINT_LEN + 1]);

/* crypto_base64_encode - standard base64, one line, appended to out */
int crypto_base64_encode(const void *data, size_t len, struct strbuf *out);
/* crypto_base64_decode - strict standard base64 (padding required, no
 * white space) appended to out; -1 on any invalid input */
int crypto_base64_decode(const char *text, size_t len, struct strbuf *out);

/* crypto_load_key - key_file: 64 hex digits (a newline may follow),
 * not readable by group or others.  0, or -1 with error_r. */
int crypto_load_key(const char *path, unsigned char key[CRYPTO_KEY_LEN],
		    const char **error_r);

/* crypto_seal - AES-256-GCM: out gets nonce(12) | ciphertext | tag(16);
 * aad binds the ciphertext to its context (the account name) */
int crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
		const void *plain, size_t len, struct strbuf *out);
/* crypto_open - reverse of crypto_seal; -1 when tampered or wrong key */
int crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
		const void *sealed, size_t len, struct strbuf *plain_out);

#endif
