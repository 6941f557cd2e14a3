/* conf_section.h - one [account NAME] section of oauthmail.conf as the
 * admin wrote it: read out for export, added or replaced for import */
#ifndef OAUTHMAIL_CONF_SECTION_H
#define OAUTHMAIL_CONF_SECTION_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* conf_section_get - the settings of [account name] in text, as a JSON
 * object of strings in the order written (comments dropped); NULL when
 * there is no such section or the text does not parse.  *first_r is
 * the line of its header, *end_r the line of the next section's header
 * (0: the section runs to the end). */
cJSON *conf_section_get(const char *text, size_t len, const char *name,
			unsigned int *first_r, unsigned int *end_r);

/* conf_section_format - "[account NAME]\nkey = value\n..." from such an
 * object (outside input: keys [a-z0-9_], values one printable line,
 * never client_secret); malloc'd, or NULL with why_r */
char *conf_section_format(const char *name, const cJSON *settings,
			  const char **why_r);

/* conf_section_splice - text with its lines first..end-1 replaced by
 * section (first 0: section appended after a blank line); malloc'd */
char *conf_section_splice(const char *text, size_t len, unsigned int first,
			  unsigned int end, const char *section);

#endif
