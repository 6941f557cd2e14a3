/*
 * cmd_postfix.c - oauthmail postfix check [--config-dir DIR]: is this
 * Postfix set up to relay with XOAUTH2 through the oauthmail plugin?
 *
 * Reads the instance through postconf(1) (main.cf values with defaults
 * and $expansion, master.cf services), the SASL password maps, the
 * oauthmail config and the plugin as libsasl2 would load it.  Every
 * problem is printed with the exact command that fixes it (postconf -e
 * / -Me lines carry -c DIR when a config directory was given).  Exit 0
 * when nothing is wrong, 1 otherwise.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "lib/errorf.h"
#include "lib/log.h"
#include "token/oauthmail_conf.h"
#include "mail/mail_sasl.h"
#include "postconf.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"

#define POSTFIX_USAGE                                                    \
	"postfix check [--config-dir DIR]\n"                             \
	"  check main.cf, master.cf, the SASL password map, the chroot " \
	"and the plugin"
#define MAP_FILE_MAX (4 * 1024 * 1024)

struct check {
	struct postconf pc;
	const struct oauthmail_config *cfg;
	char postconf_cmd[600]; /* "postconf" or "postconf -c DIR" */
	int problems;
	int oauth_entries;
	int relay_covered;
};

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(struct check *c, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void problem(struct check *c, const char *fix, const char *fmt, ...)
{
	va_list ap;

	printf("problem: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n  fix: %s\n", fix);
	c->problems++;
}

/* set_fix - "postconf [-c DIR] -e 'name = value'" */
static const char *set_fix(const struct check *c, const char *name,
			   const char *value)
{
	return errorf("%s -e '%s = %s'", c->postconf_cmd, name, value);
}

static void check_basics(struct check *c)
{
	const char *v = postconf_get(&c->pc, "smtp_sasl_auth_enable");

	if (strcasecmp(v, "yes") == 0)
		ok("smtp_sasl_auth_enable = yes");
	else
		problem(c, set_fix(c, "smtp_sasl_auth_enable", "yes"),
			"smtp_sasl_auth_enable = %s: Postfix does not "
			"authenticate at all",
			v);
	v = postconf_get(&c->pc, "smtp_sasl_type");
	if (strcmp(v, "cyrus") != 0)
		problem(c, set_fix(c, "smtp_sasl_type", "cyrus"),
			"smtp_sasl_type = %s: the oauthmail plugin is a Cyrus "
			"SASL plugin",
			v);
	v = postconf_get(&c->pc, "smtp_sasl_auth_soft_bounce");
	if (strcasecmp(v, "no") == 0)
		problem(c, set_fix(c, "smtp_sasl_auth_soft_bounce", "yes"),
			"smtp_sasl_auth_soft_bounce = no: mail bounces when a "
			"token is refused instead of waiting in the queue");
}

static void check_mech_filter(struct check *c)
{
	const char *v = postconf_get(&c->pc, "smtp_sasl_mechanism_filter");

	if (*v == '\0')
		problem(c, set_fix(c, "smtp_sasl_mechanism_filter", "xoauth2"),
			"smtp_sasl_mechanism_filter is empty: Postfix may "
			"pick PLAIN or LOGIN and send 'oauthmail:ACCOUNT' as "
			"a password");
	else if (!postconf_has_word(v, "xoauth2") &&
		 !postconf_has_word(v, "oauthbearer"))
		problem(c, set_fix(c, "smtp_sasl_mechanism_filter", "xoauth2"),
			"smtp_sasl_mechanism_filter = %s leaves out XOAUTH2 "
			"and OAUTHBEARER",
			v);
	else
		ok("smtp_sasl_mechanism_filter = %s", v);
}

static int verified_level(const char *level)
{
	return strcmp(level, "verify") == 0 || strcmp(level, "secure") == 0 ||
	       strcmp(level, "dane") == 0 || strcmp(level, "dane-only") == 0 ||
	       strcmp(level, "fingerprint") == 0;
}

static void check_tls(struct check *c)
{
	char level[64];

	snprintf(level, sizeof(level), "%s",
		 postconf_get(&c->pc, "smtp_tls_security_level"));
	if (strcmp(level, "encrypt") == 0 || verified_level(level))
		ok("smtp_tls_security_level = %s: the token never crosses "
		   "without TLS",
		   level);
	else
		problem(c, set_fix(c, "smtp_tls_security_level", "encrypt"),
			"smtp_tls_security_level = %s: TLS is not required, "
			"so the relay could run without it",
			level[0] ? level : "(empty)");
	if (*postconf_get(&c->pc, "smtp_tls_policy_maps") != '\0')
		printf("note: smtp_tls_policy_maps is set; make sure the "
		       "relay's entry requires TLS (encrypt or better)\n");
}

static void check_sec_param(struct check *c, const char *name)
{
	char value[256];

	snprintf(value, sizeof(value), "%s", postconf_get(&c->pc, name));
	if (postconf_has_word(value, "noplaintext"))
		problem(c, set_fix(c, name, "noanonymous"),
			"%s = %s: 'noplaintext' silently excludes XOAUTH2 and "
			"OAUTHBEARER (they send a bearer token, like PLAIN; "
			"TLS protects it)",
			name, value);
	else
		ok("%s = %s", name, value);
}

static void check_security_options(struct check *c)
{
	char level[64], plain[256];

	snprintf(level, sizeof(level), "%s",
		 postconf_get(&c->pc, "smtp_tls_security_level"));
	snprintf(plain, sizeof(plain), "%s",
		 postconf_get(&c->pc, "smtp_sasl_security_options"));
	check_sec_param(c, "smtp_sasl_tls_security_options");
	if (verified_level(level))
		check_sec_param(c, "smtp_sasl_tls_verified_security_options");
	if (!postconf_has_word(plain, "noplaintext") &&
	    strcmp(level, "encrypt") != 0 && !verified_level(level))
		problem(c,
			set_fix(c, "smtp_sasl_security_options",
				"noplaintext, noanonymous"),
			"smtp_sasl_security_options = %s lets the token go "
			"over a connection without TLS",
			plain);
}

/* map_source - the text file behind a Postfix table, or NULL */
static const char *map_source(const char *map)
{
	static const char *const types[] = {
		"texthash:", "hash:", "btree:", "lmdb:", "cdb:", "dbm:"};
	size_t i, n;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n = strlen(types[i]);
		if (strncmp(map, types[i], n) == 0 && map[n] == '/')
			return map + n;
	}
	return NULL;
}

static void check_password(struct check *c, const char *key, const char *value)
{
	const char *colon = strchr(value, ':');
	const char *pass = colon ? colon + 1 : "";
	const char *relay = postconf_get(&c->pc, "relayhost");
	struct stat st;

	if (strcmp(key, relay) == 0)
		c->relay_covered = 1;
	if (strncmp(pass, "oauthmail:", 10) == 0) {
		c->oauth_entries++;
		if (c->cfg != NULL &&
		    config_find_account(c->cfg, pass + 10) == NULL)
			problem(c,
				errorf("add [account %s] to %s, or fix the "
				       "entry for %s",
				       printable(pass + 10, 64), c->cfg->path,
				       printable(key, 100)),
				"smtp_sasl_password_maps: %s uses %s, which "
				"is not in the oauthmail config",
				printable(key, 100), printable(pass, 80));
	} else if (pass[0] == '/') {
		c->oauth_entries++;
		if (stat(pass, &st) < 0)
			problem(c,
				"create it with oauthmail authorize, or "
				"fix the path",
				"smtp_sasl_password_maps: token file %s for "
				"%s: %s",
				printable(pass, 200), printable(key, 100),
				strerror(errno));
	}
}

static void scan_map_text(struct check *c, char *text)
{
	char *line, *nl, *p, *key;

	for (line = text; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\0')
			continue;
		key = p;
		p += strcspn(p, " \t");
		if (*p == '\0')
			continue;
		*p++ = '\0';
		p += strspn(p, " \t");
		p[strcspn(p, " \t\r")] = '\0';
		check_password(c, key, p);
	}
}

static void scan_map(struct check *c, const char *map)
{
	const char *path = map_source(map), *error;
	struct strbuf text;
	int ret;

	if (path == NULL) {
		printf("note: cannot look inside %s; check its oauthmail: "
		       "entries by hand\n",
		       printable(map, 200));
		return;
	}
	strbuf_init(&text, MAP_FILE_MAX);
	ret = safefile_read(path, MAP_FILE_MAX, &text, &error);
	if (ret != 0)
		problem(c,
			"create the file (one line per relay: "
			"[smtp.office365.com]:587 user@example.com:"
			"oauthmail:ACCOUNT), then postmap it",
			"smtp_sasl_password_maps: %s: %s", printable(map, 200),
			ret > 0 ? "no such file" : error);
	else if (text.data != NULL)
		scan_map_text(c, text.data);
	strbuf_free(&text);
}

static void check_maps(struct check *c)
{
	char maps[1024], *p, *map;
	const char *relay;

	snprintf(maps, sizeof(maps), "%s",
		 postconf_get(&c->pc, "smtp_sasl_password_maps"));
	if (maps[0] == '\0') {
		problem(c,
			set_fix(c, "smtp_sasl_password_maps",
				"texthash:/etc/postfix/sasl_passwd"),
			"smtp_sasl_password_maps is empty: no credentials "
			"for any relay");
		return;
	}
	for (p = maps; *(map = p + strspn(p, " ,")) != '\0';) {
		p = map + strcspn(map, " ,");
		if (*p != '\0')
			*p++ = '\0';
		scan_map(c, map);
	}
	relay = postconf_get(&c->pc, "relayhost");
	if (c->oauth_entries == 0)
		problem(c,
			"add a line like [smtp.office365.com]:587 "
			"user@example.com:oauthmail:ACCOUNT (then postmap "
			"for hash: maps)",
			"no entry in smtp_sasl_password_maps uses "
			"oauthmail:ACCOUNT or a token file");
	else if (*relay != '\0' && !c->relay_covered)
		printf("note: no entry is keyed by relayhost %s exactly; "
		       "Postfix also tries the host name alone\n",
		       relay);
	else
		ok("smtp_sasl_password_maps: %d oauthmail entr%s",
		   c->oauth_entries, c->oauth_entries == 1 ? "y" : "ies");
}

static int smtp_service(const struct postconf_service *svc)
{
	return strcmp(svc->command, "smtp") == 0 &&
	       (strcmp(svc->type, "unix") == 0 ||
		strcmp(svc->type, "inet") == 0);
}

/* broker_service - the master.cf service that serves token_socket */
static const struct postconf_service *broker_service(const struct check *c,
						     const char *sock)
{
	const char *base = strrchr(sock, '/');
	size_t i;

	base = base ? base + 1 : sock;
	for (i = 0; i < c->pc.service_count; i++) {
		const struct postconf_service *s = &c->pc.services[i];

		if (strcmp(s->name, base) == 0 && strcmp(s->type, "unix") == 0)
			return &c->pc.services[i];
	}
	return NULL;
}

static const char *spawn_fix(const struct check *c, const char *name)
{
	return errorf("%s -Me '%s/unix=%s unix - n n - - spawn user=oauthmail "
		      "argv=%s/oauthmail serve' (user oauthmail owns "
		      "token_dir; not root, not postfix)",
		      c->postconf_cmd, name, name, OAUTHMAIL_BINDIR);
}

static void check_broker(struct check *c, const char *sock)
{
	const struct postconf_service *svc = broker_service(c, sock);
	const char *base = strrchr(sock, '/');
	int private_dir = strncmp(sock, "private/", 8) == 0;

	base = base ? base + 1 : sock;
	if (sock[0] == '/') {
		problem(c, "token_socket = private/oauthmail in oauthmail.conf",
			"token_socket = %s is absolute: smtp resolves it "
			"inside the chroot; use a path relative to the queue "
			"directory",
			sock);
		return;
	}
	if (svc == NULL) {
		problem(c, spawn_fix(c, base),
			"token_socket = %s, but master.cf has no %s service",
			sock, base);
		return;
	}
	if (strcmp(svc->command, "spawn") != 0 ||
	    strstr(svc->args, "serve") == NULL)
		problem(c, spawn_fix(c, base),
			"master.cf service %s does not run 'oauthmail serve' "
			"through spawn",
			base);
	else if (private_dir != (strcmp(svc->private_, "n") != 0))
		problem(c, spawn_fix(c, base),
			"token_socket = %s but master.cf service %s is %s",
			sock, base, private_dir ? "public" : "private");
	else
		ok("token broker: master.cf service %s (%s %s)", base,
		   svc->command, svc->args);
}

static void check_token_dir_owner(struct check *c, const char *dir,
				  const char *where)
{
	const char *owner = postconf_get(&c->pc, "mail_owner");
	struct passwd *pw = getpwnam(owner);
	struct stat st;

	if (stat(dir, &st) < 0) {
		problem(c,
			errorf("mkdir -p %s && chown %s %s (or use the broker: "
			       "token_socket = private/oauthmail)",
			       dir, owner, dir),
			"token_dir %s%s: %s", dir, where, strerror(errno));
		return;
	}
	if (pw != NULL && st.st_uid != pw->pw_uid)
		problem(c, errorf("chown -R %s %s", owner, dir),
			"token_dir %s%s is not owned by %s: smtp cannot "
			"write refreshed tokens",
			dir, where, owner);
	else
		ok("token_dir %s%s is usable by %s", dir, where, owner);
}

static void check_chroot(struct check *c)
{
	const char *queue = postconf_get(&c->pc, "queue_directory");
	char qdir[512];
	size_t i;
	int chrooted = 0;

	snprintf(qdir, sizeof(qdir), "%s", queue);
	for (i = 0; i < c->pc.service_count; i++)
		if (smtp_service(&c->pc.services[i]) &&
		    postconf_chrooted(&c->pc.services[i]))
			chrooted = 1;
	if (c->cfg == NULL)
		return;
	if (c->cfg->token_socket != NULL) {
		check_broker(c, c->cfg->token_socket);
		return;
	}
	if (!chrooted) {
		check_token_dir_owner(c, c->cfg->token_dir, "");
		return;
	}
	problem(c,
		errorf("token_socket = private/oauthmail in %s, and %s",
		       c->cfg->path, spawn_fix(c, "oauthmail")),
		"smtp runs chrooted in %s without the token broker: it would "
		"need the tokens, CA data and DNS inside the chroot",
		qdir);
	check_token_dir_owner(c, errorf("%s%s", qdir, c->cfg->token_dir),
			      " (inside the chroot)");
}

static void check_environment(struct check *c)
{
	char env[1024];
	const char *want;

	if (c->cfg == NULL || strcmp(c->cfg->path, OAUTHMAIL_CONFIG_PATH) == 0)
		return;
	snprintf(env, sizeof(env), "%s",
		 postconf_get(&c->pc, "import_environment"));
	want = errorf("OAUTHMAIL_CONF=%s", c->cfg->path);
	if (postconf_has_word(env, want))
		ok("import_environment passes %s", want);
	else
		problem(c,
			set_fix(c, "import_environment",
				errorf("%s %s", env, want)),
			"the plugin in Postfix reads " OAUTHMAIL_CONFIG_PATH
			", not %s: import_environment lacks %s",
			c->cfg->path, want);
}

/* check_plugin - load the SASL plugins as Postfix's smtp would (its
 * import_environment may set SASL_PATH) and look for XOAUTH2 */
static void check_plugin(struct check *c, const char *config_path)
{
	char env[1024], *p;
	const char *error;

	snprintf(env, sizeof(env), "%s",
		 postconf_get(&c->pc, "import_environment"));
	p = strstr(env, "SASL_PATH=");
	if (p != NULL) {
		p[strcspn(p, " ,")] = '\0';
		setenv("SASL_PATH", p + 10, 1);
	} else {
		unsetenv("SASL_PATH");
	}
	if (mail_sasl_init(config_path, NULL, &error) < 0) {
		problem(c, "reinstall libsasl2-2", "libsasl2: %s", error);
		return;
	}
	if (mail_sasl_has_mech("XOAUTH2"))
		ok("SASL plugin: XOAUTH2 available to Postfix");
	else
		problem(c,
			errorf("put libxoauth2.so into %s, libsasl2's plugin "
			       "directory (configure --with-sasl2plugindir=%s, "
			       "make install), or name its directory in "
			       "import_environment as SASL_PATH=DIR; check: "
			       "saslpluginviewer -c -m XOAUTH2 (if it is "
			       "listed there, the plugin disabled itself: "
			       "see the mail log)",
			       OAUTHMAIL_SASL_SYSTEM_PLUGINDIR,
			       OAUTHMAIL_SASL_SYSTEM_PLUGINDIR),
			"no SASL plugin offers XOAUTH2 (plugin path %s)",
			p ? p + 10 : OAUTHMAIL_SASL_SYSTEM_PLUGINDIR);
	mail_sasl_done();
}

int cmd_postfix(struct cli *cli, int argc, char **argv)
{
	struct check c;
	const char *dir = NULL, *error;

	if (cli_help(argc, argv, POSTFIX_USAGE))
		return OM_OK;
	if (argc == 4 && strcmp(argv[2], "--config-dir") == 0)
		dir = argv[3];
	if (argc < 2 || strcmp(argv[1], "check") != 0 ||
	    (argc != 2 && dir == NULL)) {
		fprintf(stderr, "usage: oauthmail %s\n", POSTFIX_USAGE);
		return OM_ERR_USAGE;
	}
	memset(&c, 0, sizeof(c));
	snprintf(c.postconf_cmd, sizeof(c.postconf_cmd), "postconf%s%s",
		 dir ? " -c " : "", dir ? dir : "");
	if (postconf_load(dir, &c.pc, &error) < 0) {
		printf("problem: %s\n", error);
		return 1;
	}
	c.cfg = cli_config(cli);
	if (c.cfg == NULL)
		problem(&c, "fix oauthmail.conf (see the error above)",
			"the oauthmail config cannot be read");
	check_basics(&c);
	check_maps(&c);
	check_mech_filter(&c);
	check_security_options(&c);
	check_tls(&c);
	check_chroot(&c);
	check_environment(&c);
	check_plugin(&c, c.cfg ? c.cfg->path : NULL);
	printf("%d problem%s\n", c.problems, c.problems == 1 ? "" : "s");
	postconf_free(&c.pc);
	return c.problems == 0 ? 0 : 1;
}
