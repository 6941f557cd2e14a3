/* fuzz_id_token.c - the id_token reader (the token endpoint's answer is
 * outside input); the input is the id_token as the answer carried it */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token/id_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct id_token_identity id;
	const char *error;
	char *text;

	if (size > 2 * ID_TOKEN_MAX || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (id_token_read(text, &id, &error) == 0) {
		(void)id_token_match(&id, "support@contoso.com");
		(void)id_token_name(&id);
		id_token_identity_free(&id);
	}
	free(text);
	return 0;
}
