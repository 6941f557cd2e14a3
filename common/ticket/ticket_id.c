/*
 * ticket_id.c - the identities a ticket queue hands out and checks.
 *
 * Ticket numbers: 6 or more digits, derived from HMAC(key, message key,
 * attempt).  Not sequential (a customer cannot guess the neighbour's
 * ticket) and reproducible: `reindex` replays the Maildir in delivery
 * order and arrives at the same numbers, so subject tags and our
 * Message-IDs in customers' mail keep pointing at the right ticket.
 *
 * Our Message-IDs carry the ticket number and an HMAC over it, so a
 * reply that quotes one threads even when our index lost it, and one
 * that comes back as a message's own Message-ID is recognised as a
 * loop.  A look-alike with a bad signature is treated as foreign.
 *
 * Subject tags "[#482913]" (prefix configurable) are only a hint: the
 * caller accepts them from participants of the ticket only.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sys/random.h>

#include <glib.h>

#include "ticket/ticket_config.h"
#include "ticket/ticket_id.h"

#define TICKET_DIGITS_MAX 12

/* HMAC-SHA256 with GLib (already linked for GMime), not OpenSSL: in a
 * process that lives for one delivery, OpenSSL costs more than all of
 * the hashing.  Measured (ticketq deliver, CPU per delivery, 3.1-3.6
 * ms with GLib): EVP or one-shot SHA256()/HMAC() +1.9 ms (+57%: the
 * provider and config start-up), low-level SHA256_* +0.6 ms (+18%:
 * loading libcrypto.so at all), +0.3 ms (+10%) even with libcrypto
 * linked statically. */
static void hmac_raw(const struct ticket_config *cfg, const char *purpose,
		     const char *data, unsigned char out[32])
{
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, cfg->hmac_key,
			      sizeof(cfg->hmac_key));
	gsize len = 32;

	g_hmac_update(h, (const guchar *)purpose, (gssize)strlen(purpose));
	g_hmac_update(h, (const guchar *)":", 1);
	g_hmac_update(h, (const guchar *)data, (gssize)strlen(data));
	g_hmac_get_digest(h, out, &len);
	g_hmac_unref(h);
}

void ticket_id_sign(const struct ticket_config *cfg, const char *purpose,
		    const char *data, char sig[TICKET_SIG_LEN + 1])
{
	unsigned char mac[32];
	int i;

	hmac_raw(cfg, purpose, data, mac);
	for (i = 0; i < TICKET_SIG_LEN / 2; i++)
		snprintf(sig + 2 * i, 3, "%02x", mac[i]);
	sig[TICKET_SIG_LEN] = '\0';
}

int ticket_id_equal(const char *a, const char *b, size_t n)
{
	unsigned char diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

int ticket_id_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ticket_id_check(const struct ticket_config *cfg, const char *purpose,
		    const char *data, const char *sig)
{
	char want[TICKET_SIG_LEN + 1];
	char got[TICKET_SIG_LEN + 1];
	size_t i;

	if (strlen(sig) != TICKET_SIG_LEN)
		return 0;
	for (i = 0; i < TICKET_SIG_LEN; i++)
		got[i] = (char)tolower((unsigned char)sig[i]);
	got[TICKET_SIG_LEN] = '\0';
	ticket_id_sign(cfg, purpose, data, want);
	return ticket_id_equal(want, got, TICKET_SIG_LEN);
}

uint64_t ticket_id_number(const struct ticket_config *cfg, const char *key,
			  unsigned int attempt)
{
	unsigned char mac[32];
	char data[256];
	unsigned int digits = 6 + attempt / 8;
	uint64_t low = 1, v = 0;
	unsigned int i;

	if (digits > TICKET_DIGITS_MAX)
		digits = TICKET_DIGITS_MAX;
	for (i = 1; i < digits; i++)
		low *= 10;
	snprintf(data, sizeof(data), "%s:%u", key, attempt);
	hmac_raw(cfg, "ticket", data, mac);
	for (i = 0; i < 8; i++)
		v = (v << 8) | mac[i];
	return low + v % (9 * low);
}

int ticket_id_message_id(const struct ticket_config *cfg, uint64_t ticket,
			 char *buf, size_t size)
{
	unsigned char nonce[8];
	char data[64], sig[TICKET_SIG_LEN + 1];
	int n;

	if (ticket_id_random(nonce, sizeof(nonce)) < 0)
		return -1;
	n = snprintf(data, sizeof(data),
		     "%llu.%02x%02x%02x%02x%02x%02x%02x%02x",
		     (unsigned long long)ticket, nonce[0], nonce[1], nonce[2],
		     nonce[3], nonce[4], nonce[5], nonce[6], nonce[7]);
	if (n < 0 || (size_t)n >= sizeof(data))
		return -1;
	ticket_id_sign(cfg, "msgid", data, sig);
	n = snprintf(buf, size, "tq.%s.%s@%s", data, sig, cfg->id_domain);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int ticket_id_parse_number(const char *s, uint64_t *ticket_r)
{
	size_t n = strspn(s, "0123456789");
	uint64_t v = 0;
	size_t i;

	if (n < 6 || n > TICKET_DIGITS_MAX || s[n] != '\0' || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*ticket_r = v;
	return 0;
}

/* "tq.<digits>.<16 hex>.<sig>@..." */
int ticket_id_parse_own(const struct ticket_config *cfg, const char *msgid,
			uint64_t *ticket_r)
{
	char data[64], num[TICKET_DIGITS_MAX + 1], sig[TICKET_SIG_LEN + 1];
	const char *p, *dot, *at;
	size_t dlen;

	if (strncasecmp(msgid, "tq.", 3) != 0)
		return 0;
	p = msgid + 3;
	dot = strchr(p, '.');
	if (dot == NULL || (size_t)(dot - p) > TICKET_DIGITS_MAX)
		return 0;
	memcpy(num, p, (size_t)(dot - p));
	num[dot - p] = '\0';
	if (strspn(dot + 1, "0123456789abcdef") != 16 || dot[17] != '.')
		return 0;
	at = strchr(dot + 18, '@');
	if (at == NULL || at - (dot + 18) != TICKET_SIG_LEN)
		return 0;
	dlen = (size_t)(dot + 17 - p);
	memcpy(data, p, dlen);
	data[dlen] = '\0';
	memcpy(sig, dot + 18, TICKET_SIG_LEN);
	sig[TICKET_SIG_LEN] = '\0';
	if (ticket_id_parse_number(num, ticket_r) < 0 ||
	    !ticket_id_check(cfg, "msgid", data, sig))
		return 0;
	return 1;
}

static int tag_at(const char *p, const char *prefix, uint64_t *ticket_r)
{
	size_t plen = strlen(prefix), n;
	char num[TICKET_DIGITS_MAX + 1];

	if (strncasecmp(p + 1, prefix, plen) != 0)
		return 0;
	p += 1 + plen;
	n = strspn(p, "0123456789");
	if (n < 6 || n > TICKET_DIGITS_MAX || p[n] != ']')
		return 0;
	memcpy(num, p, n);
	num[n] = '\0';
	return ticket_id_parse_number(num, ticket_r) == 0;
}

int ticket_id_find_tag(const struct ticket_config *cfg, const char *subject,
		       uint64_t *ticket_r)
{
	const char *p;

	if (subject == NULL)
		return 0;
	for (p = strchr(subject, '['); p != NULL; p = strchr(p + 1, '['))
		if (tag_at(p, cfg->tag_prefix, ticket_r))
			return 1;
	return 0;
}
