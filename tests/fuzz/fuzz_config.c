/* fuzz_config.c - oauthmail.conf parser on arbitrary bytes */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>

#include "token/oauthmail_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauthmail_config *cfg = NULL;
	const char *error;

	if (config_parse("fuzz.conf", (const char *)data, size, &cfg, &error) ==
	    0)
		config_free(&cfg);
	return 0;
}
