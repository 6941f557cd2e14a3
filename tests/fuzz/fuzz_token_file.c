/* fuzz_token_file.c - the token file parser (files are outside input) */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "token/token_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_record rec;
	const char *error;
	char *again;

	if (token_record_parse((const char *)data, size, &rec, &error) != 0)
		return 0;
	again = token_record_format(&rec);
	free(again);
	token_record_free(&rec);
	return 0;
}
