/* fuzz_token_response.c - what a token endpoint may answer: the token
 * parser and the error classifier on arbitrary bodies and statuses */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "token/oauth_grant.h"
#include "token/oauthmail_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 400, 401, 429, 503};
	struct account_config acct;
	struct oauth_token tok;
	struct oauth_error err;
	const char *error;
	long status;

	if (size < 1)
		return 0;
	status = statuses[data[0] % 5];
	memset(&acct, 0, sizeof(acct));
	acct.name = "fuzz";
	memset(&tok, 0, sizeof(tok));
	if (oauth_token_parse((const char *)data + 1, size - 1, &tok, &error) ==
	    0)
		oauth_token_free(&tok);
	oauth_error_from_response(&acct, status, (const char *)data + 1,
				  size - 1, -1, &err);
	return 0;
}
