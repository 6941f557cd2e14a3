/* test_ticket_id.c - ticket numbers, signed Message-IDs, subject tags */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_id.h"
#include "ticket_testutil.h"

static const struct {
	const char *subject;
	long long want; /* 0 = no tag */
} tags[] = {
	{"Re: [#482913] Printer jams", 482913},
	{"[#482913]", 482913},
	{"AW: Re: [#1234567890] x", 1234567890},
	{"[# 482913] spaced", 0},
	{"[#48291] five digits", 0},
	{"[#0482913] leading zero", 0},
	{"[#4829130000000] thirteen digits", 0},
	{"[#482913 unclosed", 0},
	{"no tag 482913", 0},
	{"[x] [#111111] [#222222] first wins", 111111},
	{"", 0},
};

static void test_tags(struct ticket_config *cfg)
{
	uint64_t t;
	size_t i;
	int r;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		t = 0;
		r = ticket_id_find_tag(cfg, tags[i].subject, &t);
		check_int(tags[i].subject, r ? (long long)t : 0, tags[i].want);
	}
	check_int("NULL subject", ticket_id_find_tag(cfg, NULL, &t), 0);
}

static void test_prefix(struct ticket_config *cfg)
{
	uint64_t t = 0;

	free(cfg->tag_prefix);
	cfg->tag_prefix = strdup("ACME#");
	check_int("custom prefix",
		  ticket_id_find_tag(cfg, "Re: [acme#123456] x", &t), 1);
	check_int("custom prefix number", (long long)t, 123456);
	check_int("default tag no longer",
		  ticket_id_find_tag(cfg, "[#123456]", &t), 0);
}

static void test_message_ids(struct ticket_config *cfg)
{
	char mid[TICKET_ID_MAX + 64], forged[TICKET_ID_MAX + 64], *p;
	uint64_t t = 0;

	check_int("make", ticket_id_message_id(cfg, 482913, mid, sizeof(mid)),
		  0);
	check_true("shape", strncmp(mid, "tq.482913.", 10) == 0 &&
				    strstr(mid, "@tickets.test") != NULL);
	check_int("ours", ticket_id_parse_own(cfg, mid, &t), 1);
	check_int("ticket", (long long)t, 482913);
	snprintf(forged, sizeof(forged), "%s", mid);
	p = strchr(forged, '@') - 1;
	*p = *p == '0' ? '1' : '0';
	check_int("bad signature", ticket_id_parse_own(cfg, forged, &t), 0);
	snprintf(forged, sizeof(forged), "%s", mid);
	forged[3] = '5'; /* another ticket number, same signature */
	check_int("moved to another ticket",
		  ticket_id_parse_own(cfg, forged, &t), 0);
	check_int("foreign", ticket_id_parse_own(cfg, "abc@example.com", &t),
		  0);
	check_int("truncated", ticket_id_parse_own(cfg, "tq.482913.00@x", &t),
		  0);
	check_int("too small", ticket_id_message_id(cfg, 1, mid, 10), -1);
}

static void test_numbers(struct ticket_config *cfg)
{
	uint64_t a = ticket_id_number(cfg, "key-1", 0);
	uint64_t b = ticket_id_number(cfg, "key-1", 0);
	uint64_t c = ticket_id_number(cfg, "key-2", 0);
	uint64_t d = ticket_id_number(cfg, "key-1", 8);
	uint64_t e = ticket_id_number(cfg, "key-1", 1000);

	check_true("6 digits", a >= 100000 && a <= 999999);
	check_int("deterministic", (long long)a, (long long)b);
	check_true("differs by message", a != c);
	check_true("7 digits after 8 attempts", d >= 1000000 && d <= 9999999);
	check_true("12 digits at most", e <= 999999999999ULL);
	check_int("sign/check", ticket_id_check(cfg, "p", "d", "0"), 0);
}

int main(void)
{
	struct ticket_config *cfg = testutil_config("/q");

	if (cfg == NULL)
		return 1;
	test_tags(cfg);
	test_message_ids(cfg);
	test_numbers(cfg);
	test_prefix(cfg);
	ticket_config_free(&cfg);
	return test_done("test_ticket_id");
}
