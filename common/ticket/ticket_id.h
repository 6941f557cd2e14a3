/* ticket_id.h - ticket numbers, signed Message-IDs, subject tags */
#ifndef OAUTHMAIL_TICKET_ID_H
#define OAUTHMAIL_TICKET_ID_H

#include <stddef.h>
#include <stdint.h>

struct ticket_config;

#define TICKET_SIG_LEN 20 /* hex digits of HMAC-SHA256 kept (80 bits) */
#define TICKET_ID_MAX 64  /* "tq.<ticket>.<nonce>.<sig>@" + domain fits */

/* ticket_id_sign - HMAC-SHA256(key, purpose ":" data), first
 * TICKET_SIG_LEN hex digits, into sig (NUL-terminated) */
void ticket_id_sign(const struct ticket_config *cfg, const char *purpose,
		    const char *data, char sig[TICKET_SIG_LEN + 1]);

/* ticket_id_check - 1 when sig is the signature of (purpose, data) */
int ticket_id_check(const struct ticket_config *cfg, const char *purpose,
		    const char *data, const char *sig);

/* ticket_id_equal - compare n bytes in constant time: 1 equal */
int ticket_id_equal(const char *a, const char *b, size_t n);

/* ticket_id_random - len bytes from the kernel CSPRNG (getrandom):
 * 0, or -1 */
int ticket_id_random(void *buf, size_t len);

/* ticket_id_number - the attempt-th candidate number for a new ticket
 * opened by the message with dedup key `key`: 6 digits for the first 8
 * attempts, then one more digit every 8 attempts.  Keyed by the HMAC
 * key, so numbers are neither sequential nor guessable, and the same
 * message in the same order gets the same number again (reindex). */
uint64_t ticket_id_number(const struct ticket_config *cfg, const char *key,
			  unsigned int attempt);

/* ticket_id_message_id - a fresh signed Message-ID (no angle brackets)
 * for a message about ticket: "tq.<ticket>.<nonce>.<sig>@<domain>".
 * 0, or -1 when buf is too small or no random bytes. */
int ticket_id_message_id(const struct ticket_config *cfg, uint64_t ticket,
			 char *buf, size_t size);

/* ticket_id_parse_own - 1 when msgid (no angle brackets) is one of our
 * Message-IDs with a valid signature (ticket_r set); 0 otherwise,
 * including look-alikes with a bad signature (forged). */
int ticket_id_parse_own(const struct ticket_config *cfg, const char *msgid,
			uint64_t *ticket_r);

/* ticket_id_find_tag - the ticket number in the first subject tag
 * "[<prefix><6 to 12 digits>]" (prefix compared case-insensitively).
 * 1 found, 0 none. */
int ticket_id_find_tag(const struct ticket_config *cfg, const char *subject,
		       uint64_t *ticket_r);

/* ticket_id_parse_number - "482913" (6 to 12 digits) to a number: 0, or -1 */
int ticket_id_parse_number(const char *s, uint64_t *ticket_r);

#endif
