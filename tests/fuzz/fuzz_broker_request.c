/* fuzz_broker_request.c - the token broker's request and reply parsers
 * (outside input from any process that reaches the socket) */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>

#include "token/broker_proto_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct broker_request req;
	struct broker_reply reply;
	const char *error;

	(void)broker_proto_parse_request((const char *)data, size, &req,
					 &error);
	if (broker_proto_parse_reply((const char *)data, size, &reply,
				     &error) == 0)
		broker_proto_reply_free(&reply);
	return 0;
}
