/* ticket_qmap.h - which queue a recipient's mail goes to (several
 * queues on one host: `ticketq lmtp --queues FILE`, `ticketq deliver
 * --queues FILE --recipient ADDR`).
 *
 * The map file, one queue per line, '#' comments, blank lines ignored:
 *
 *     support@contoso.com   /var/spool/ticketq/support
 *     sales@contoso.com     /var/spool/ticketq/sales
 *     @contoso.com          /var/spool/ticketq/catchall
 *
 * Lookup order for a recipient (case-insensitive, an address extension
 * "user+ext@domain" tried as "user@domain" after the full address):
 * the full address, then "@domain".  No match: NULL (LMTP answers
 * 550 5.1.1, deliver exits 67).  Bounded: lines, entries, lengths. */
#ifndef OAUTHMAIL_TICKET_QMAP_H
#define OAUTHMAIL_TICKET_QMAP_H

#include <stddef.h>

struct ticket_qmap;

/* ticket_qmap_parse - parse map text (pure: no files touched).  0, or
 * -1 with error_r "FILE:LINE: why, and the fix". */
int ticket_qmap_parse(const char *filename, const char *text, size_t len,
		      struct ticket_qmap **map_r, const char **error_r);

/* ticket_qmap_load - read and parse FILE.  0, or -1 with error_r. */
int ticket_qmap_load(const char *path, struct ticket_qmap **map_r,
		     const char **error_r);

/* ticket_qmap_lookup - the queue directory for recipient, or NULL */
const char *ticket_qmap_lookup(const struct ticket_qmap *map,
			       const char *recipient);

/* ticket_qmap_count - the number of entries; ticket_qmap_dir - the
 * directory of entry i (0 <= i < count; a directory named by several
 * entries appears once per entry) */
size_t ticket_qmap_count(const struct ticket_qmap *map);
const char *ticket_qmap_dir(const struct ticket_qmap *map, size_t i);

/* ticket_qmap_free - free and NULL */
void ticket_qmap_free(struct ticket_qmap **map);

#endif
