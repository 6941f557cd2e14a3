/* postconf.h - read a Postfix instance's settings through postconf(1) */
#ifndef OAUTHMAIL_POSTCONF_H
#define OAUTHMAIL_POSTCONF_H

#include <stddef.h>

/* One master.cf service (postconf -M). */
struct postconf_service {
	char *name, *type, *private_, *unpriv, *chroot, *command, *args;
};

struct postconf {
	const char *config_dir; /* -c DIR, or NULL for the default */
	char *main_text;	/* postconf -x: "name = value" lines */
	struct postconf_service *services;
	size_t service_count;
};

/* postconf_load - run postconf -x and postconf -M (with -c config_dir)
 * and keep their output.  0, or -1 with error_r. */
int postconf_load(const char *config_dir, struct postconf *pc,
		  const char **error_r);

/* postconf_get - a parameter's (expanded) value, "" when unknown; the
 * result is valid until the next few calls (errorf ring) */
const char *postconf_get(const struct postconf *pc, const char *name);

/* postconf_has_word - value, split at spaces and commas, contains word
 * (case-insensitive) */
int postconf_has_word(const char *value, const char *word);

/* postconf_chrooted - the service runs chrooted (column "-" is n since
 * Postfix 3.0) */
int postconf_chrooted(const struct postconf_service *svc);

/* postconf_free - free what postconf_load kept */
void postconf_free(struct postconf *pc);

#endif
