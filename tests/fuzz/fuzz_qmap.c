/* fuzz_qmap.c - the queue map parser and lookup on arbitrary bytes */
#include "oauthmail-config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ticket/ticket_qmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* lookups - the input itself as a recipient, every entry, an extension */
static void lookups(const struct ticket_qmap *map, const char *text, size_t len)
{
	char addr[300];
	size_t n = len < sizeof(addr) - 1 ? len : sizeof(addr) - 1;
	size_t i;

	memcpy(addr, text, n);
	addr[n] = '\0';
	(void)ticket_qmap_lookup(map, addr);
	for (i = 0; i < ticket_qmap_count(map); i++)
		(void)ticket_qmap_dir(map, i);
	(void)ticket_qmap_lookup(map, "x+y@example.com");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ticket_qmap *map = NULL;
	const char *error;

	if (ticket_qmap_parse("fuzz.map", (const char *)data, size, &map,
			      &error) == 0) {
		lookups(map, (const char *)data, size);
		ticket_qmap_free(&map);
	}
	return 0;
}
