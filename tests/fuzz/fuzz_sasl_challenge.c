/* fuzz_sasl_challenge.c - what a server may send the SASL mechanisms:
 * the JSON error challenge parser, and the plugin-side message builders
 * fed with server-controlled host names */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "token/bearer_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bearer_error err;
	struct strbuf sb;
	const char *error;
	char *host;

	if (bearer_msg_error((const char *)data, size, &err) == 0)
		(void)bearer_msg_error_text(&err);
	if (size > 4096)
		return 0;
	host = strndup((const char *)data, size);
	if (host == NULL)
		return 0;
	strbuf_init(&sb, 65536);
	(void)bearer_msg_oauthbearer(host, host, 993, "tok", &sb, &error);
	strbuf_reset(&sb);
	(void)bearer_msg_xoauth2(host, host, &sb, &error);
	strbuf_free(&sb);
	free(host);
	return 0;
}
