/*
 * fuzz_ticket_parse.c - libFuzzer target for the parse-and-classify path
 * of `ticketq deliver`: GMime parsing with our options, the part walk,
 * text extraction and charset conversion, DSN original lookup,
 * classification (headers, out-of-office subjects), the dedup key's
 * Message-ID lookup, cid: marking and HTML rewriting, safe file names
 * and the subject tag / reply subject code.  No disk I/O.
 */
#include "oauthmail-config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ticket/ticket_classify.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_files.h"
#include "ticket/ticket_id.h"
#include "ticket/ticket_mail.h"
#include "ticket/ticket_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ticket_config *fuzz_config(void)
{
	static const char text[] = "address = help@tickets.test\n"
				   "hmac_key = "
				   "000102030405060708090a0b0c0d0e0f10111213141"
				   "5161718191a1b1c1d1e1f\n";
	static struct ticket_config *cfg;
	const char *error;

	if (cfg == NULL)
		ticket_config_parse("/q", "fuzz.conf", text, strlen(text), &cfg,
				    &error);
	return cfg;
}

static void exercise_parts(struct ticket_mail *m)
{
	char name[TICKET_FILE_NAME_MAX + 1];
	struct ticket_part *p;
	unsigned int i = 0;

	ticket_files_mark_inline(m);
	for (p = m->parts; p != NULL; p = p->next) {
		ticket_files_safe_name(p->name, "bin", name, sizeof(name));
		if (p->content_id != NULL && ++i % 2 == 1)
			p->path = strdup("files/123456/x.png");
	}
	ticket_files_rewrite_html(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ticket_config *cfg = fuzz_config();
	struct ticket_mail *m = NULL;
	const char *error;
	uint64_t t;
	char *s;

	if (cfg == NULL)
		return 0;
	s = ticket_mail_message_id((const char *)data, size);
	free(s);
	if (ticket_mail_parse_mem((const char *)data, size, 64 * 1024, &m,
				  &error) < 0)
		return 0;
	ticket_classify(m, cfg);
	exercise_parts(m);
	ticket_id_find_tag(cfg, m->subject, &t);
	s = ticket_reply_subject(cfg, 123456, m->subject);
	free(s);
	if (m->message_id != NULL)
		ticket_id_parse_own(cfg, m->message_id, &t);
	ticket_mail_free(&m);
	return 0;
}
