/* fuzz_lmtp_command.c - LMTP line splitting, command parsing and the
 * DATA stream on arbitrary bytes, as a client could send them */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "ticket/lmtp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t left = size;
	struct lmtp_data d;
	struct strbuf out;
	int in_data = 0;

	strbuf_init(&out, 65536);
	lmtp_data_init(&d, 4096);
	for (;;) {
		size_t line_len, used;
		enum lmtp_line r = lmtp_next_line(p, left, LMTP_COMMAND_MAX,
						  &line_len, &used);
		struct lmtp_command cmd;
		const char *reply;

		if (r != LMTP_LINE_OK && r != LMTP_LINE_BARE_LF)
			break;
		if (in_data)
			in_data = !lmtp_data_line(&d, p, line_len, &out);
		else if (lmtp_parse_command(p, line_len, &cmd, &reply) == 0)
			in_data = cmd.verb == LMTP_DATA;
		p += used;
		left -= used;
	}
	strbuf_free(&out);
	return 0;
}
