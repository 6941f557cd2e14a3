/*
 * import_config.c - `oauthmail import` on a new host: the exported
 * accounts' sections go into the oauthmail.conf this command reads (-c,
 * OAUTHMAIL_CONF, or the default), so a move is two commands (export,
 * import).  The file is appended to, not a second file made beside it:
 * oauthmail.conf has no include, and the SASL plugin inside Postfix
 * reads that one file.
 *
 * Rules: a section already there is kept unless --overwrite, which
 * replaces it; the new text must pass config_parse() before anything is
 * written; the old file is kept as FILE.YYYYMMDD-HHMMSS.bak; the new
 * one replaces it atomically (lib/safefile.c) with its mode and owner.
 * A client secret never goes into oauthmail.conf: it goes to
 * ACCOUNT.secret beside the config (mode 0600), and the section's
 * client_secret_file is set to that, whatever path the old host used.
 * An export is outside input: a path from it could name any file root
 * may write (/etc/cron.d/x) or read and then send to a token_url of the
 * export's choosing (/etc/shadow), so no path from it is used.  Without
 * the secret in the export, ACCOUNT.secret must exist here already.
 * Account names are checked as the config parser checks them, before
 * they go into a section header, a file name or a message.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf_section.h"
#include "import_config.h"
#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "token/oauthmail_conf.h"

#define CONFIG_MAX (1024 * 1024)
#define SECRET_MAX 4096

/* The config text being changed, and where it goes */
struct conf_edit {
	const char *path;
	char *text;
	int missing; /* no config file yet */
	int changed;
	int overwrite;
};

/* valid_name - an account name as oauthmail.conf accepts it (ini.c's
 * section names, oauthmail_conf.c's length and first character) */
static int valid_name(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && strchr("_-.@+", c) == NULL)
			return 0;
	}
	return 1;
}

/* valid_secret - one line of printable ASCII, as a secret file holds */
static int valid_secret(const char *secret)
{
	for (; *secret != '\0'; secret++)
		if ((unsigned char)*secret < 0x21 ||
		    (unsigned char)*secret > 0x7e)
			return 0;
	return 1;
}

/* secret_file - where the account's secret lives on this host:
 * ACCOUNT.secret beside the config, set as the section's
 * client_secret_file; NULL for a public client (no secret on the old
 * host: none exported, no client_secret_file, no marker) */
static const char *secret_file(const struct conf_edit *e, const char *name,
			       cJSON *section, const char *secret, int needed)
{
	const char *old = json_string(section, "client_secret_file", 1024);
	char dir[1024];
	const char *file;

	if (secret == NULL && !needed &&
	    !cJSON_HasObjectItem(section, "client_secret_file"))
		return NULL;
	safefile_dirname(e->path, dir, sizeof(dir));
	file = errorf("%s/%s.secret", dir, name);
	if (old != NULL && strcmp(old, file) != 0)
		printf("%s: client_secret_file is %s here (%s on the old "
		       "host)\n",
		       name, file, printable(old, 200));
	cJSON_DeleteItemFromObjectCaseSensitive(section, "client_secret_file");
	cJSON_AddStringToObject(section, "client_secret_file", file);
	return json_string(section, "client_secret_file", 1024);
}

/* same_secret - 1 when file holds secret (trailing newline aside), 0
 * when it holds another, -1 when it cannot be read, 2 when missing */
static int same_secret(const char *file, const char *secret)
{
	struct strbuf sb;
	const char *error;
	int r;

	strbuf_init(&sb, SECRET_MAX);
	r = safefile_read(file, SECRET_MAX, &sb, &error);
	if (r < 0)
		log_error("%s", error);
	while (r == 0 && sb.len > 0 &&
	       strchr("\r\n ", sb.data[sb.len - 1]) != NULL)
		sb.data[--sb.len] = '\0';
	if (r == 0)
		r = secret == NULL || (sb.data != NULL &&
				       strcmp(sb.data, secret) == 0)
			    ? 1
			    : 0;
	else if (r > 0)
		r = 2;
	strbuf_free(&sb);
	return r;
}

/* place_secret - the secret in its file: written when missing, or when
 * it differs and --overwrite; 0, or -1 (said why) */
static int place_secret(const struct conf_edit *e, const char *name,
			const char *file, const char *secret)
{
	struct strbuf sb;
	struct stat st;
	const char *error;
	int r = file ? same_secret(file, secret) : 1, ret, have_old;

	if (r == 1 || r < 0)
		return r == 1 ? 0 : -1;
	if (secret == NULL) {
		log_error(
			"%s: not imported: its client_secret_file %s does "
			"not exist on this host; copy the secret from the old "
			"host there (mode 600), or export with --with-secrets",
			name, file);
		return -1;
	}
	if (r == 0 && !e->overwrite) {
		log_error("%s: not imported: %s holds another client secret "
			  "(--overwrite replaces it)",
			  name, file);
		return -1;
	}
	strbuf_init(&sb, SECRET_MAX + 2);
	strbuf_printf(&sb, "%s\n", secret);
	have_old = lstat(file, &st) == 0;
	ret = safefile_write(file, sb.data, sb.len, 0600, 0, &error);
	strbuf_free(&sb);
	if (ret == 0 && have_old && geteuid() == 0 &&
	    chown(file, st.st_uid, st.st_gid) < 0)
		log_warn("%s: could not give %s back to uid %u gid %u", name,
			 file, (unsigned)st.st_uid, (unsigned)st.st_gid);
	if (ret < 0)
		log_error("%s: not imported: %s", name, error);
	else
		printf("%s: client secret written to %s (mode 0600)\n", name,
		       file);
	return ret;
}

/* candidate - the config text with the section spliced in, checked by
 * the config parser; malloc'd, or NULL (said why) */
static char *candidate(const struct conf_edit *e, const char *name,
		       const cJSON *section, unsigned int first,
		       unsigned int end)
{
	struct oauthmail_config *cfg = NULL;
	const char *why;
	char *sec, *text;

	if ((sec = conf_section_format(name, section, &why)) == NULL) {
		log_error("%s: not imported: %s", name, why);
		return NULL;
	}
	text = conf_section_splice(e->text, strlen(e->text), first, end, sec);
	free(sec);
	if (text != NULL &&
	    config_parse(e->path, text, strlen(text), &cfg, &why) < 0) {
		log_error("%s: not imported: with its section %s would not "
			  "load: %s",
			  name, e->path, why);
		free(text);
		text = NULL;
	}
	config_free(&cfg);
	return text;
}

/* edit_one - one exported account: 0 done or nothing to do, -1 failed */
static int edit_one(struct conf_edit *e, const char *name, cJSON *section,
		    const char *secret, int needed)
{
	unsigned int first = 0, end = 0;
	cJSON *local;
	const char *file;
	char *text;
	int same;

	if (!valid_name(name)) {
		log_error("%s: not imported: not an account name (letters, "
			  "digits, _ - . @ +, at most 64)",
			  printable(name, 64));
		return -1;
	}
	if (secret != NULL && !valid_secret(secret)) {
		log_error("%s: not imported: its client secret is not one line "
			  "of printable characters",
			  name);
		return -1;
	}
	file = secret_file(e, name, section, secret, needed);
	local = conf_section_get(e->text, strlen(e->text), name, &first, &end);
	same = local != NULL && cJSON_Compare(local, section, 1);
	cJSON_Delete(local);
	if (local != NULL && !same && !e->overwrite) {
		log_warn("%s: kept [account %s] of %s: it differs from the "
			 "export's (--overwrite replaces it)",
			 name, name, e->path);
		return 0;
	}
	text = same ? NULL : candidate(e, name, section, first, end);
	if ((!same && text == NULL) || place_secret(e, name, file, secret)) {
		free(text);
		return -1;
	}
	if (text != NULL) {
		free(e->text);
		e->text = text;
		e->changed = 1;
		printf("%s: [account %s] %s %s\n", name, name,
		       local ? "replaced in" : "added to", e->path);
	}
	return 0;
}

/* write_config - the backup, then the new text in its place (mode and
 * owner kept); 0, or -1 (said why) */
static int write_config(const struct conf_edit *e, const char *old,
			size_t old_len)
{
	char stamp[32], backup[1100];
	struct stat st = {0};
	const char *error;
	time_t now = time(NULL);
	struct tm tm;

	st.st_mode = 0644;
	if (!e->missing && stat(e->path, &st) < 0)
		st.st_mode = 0600;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(backup, sizeof(backup), "%s.%s.bak", e->path, stamp);
	if (!e->missing && safefile_write(backup, old, old_len,
					  st.st_mode & 0777, 0, &error) < 0) {
		log_error("%s; %s is unchanged", error, e->path);
		return -1;
	}
	if (safefile_write(e->path, e->text, strlen(e->text), st.st_mode & 0777,
			   0, &error) < 0) {
		log_error("%s", error);
		return -1;
	}
	if (!e->missing && geteuid() == 0 &&
	    chown(e->path, st.st_uid, st.st_gid) < 0)
		log_warn("%s: could not give it back to uid %u gid %u", e->path,
			 (unsigned)st.st_uid, (unsigned)st.st_gid);
	if (e->missing)
		printf("%s: created\n", e->path);
	else
		printf("%s: updated (the old one is %s)\n", e->path, backup);
	return 0;
}

/* read_config - the config text, "" when there is none yet */
static int read_config(struct conf_edit *e, struct strbuf *old)
{
	const char *error;
	int r;

	strbuf_init(old, CONFIG_MAX);
	r = safefile_read(e->path, CONFIG_MAX, old, &error);
	if (r < 0) {
		log_error("%s", error);
		return -1;
	}
	e->missing = r > 0;
	e->text = strdup(r == 0 && old->data ? old->data
			 : r > 0 ? "# oauthmail.conf(5), made by oauthmail "
				   "import (token_dir: /var/lib/oauthmail "
				   "unless set here)\n"
				 : "");
	return e->text != NULL ? 0 : -1;
}

int import_config(struct cli *cli, const cJSON *root, int overwrite)
{
	struct conf_edit e = {NULL, NULL, 0, 0, overwrite};
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "accounts");
	const cJSON *item;
	struct strbuf old;
	cJSON *section;
	int failed = 0;

	e.path = cli->config_path ? cli->config_path : config_default_path();
	if (read_config(&e, &old) < 0) {
		strbuf_free(&old);
		return 1;
	}
	cJSON_ArrayForEach(item, list)
	{
		const char *name = json_string(item, "account", 200);
		const char *secret = json_string(item, "client_secret", 4096);
		int needed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			item, "client_secret_needed"));

		section = cJSON_Duplicate(
			cJSON_GetObjectItemCaseSensitive(item, "section"), 1);
		if (name != NULL && cJSON_IsObject(section) &&
		    edit_one(&e, name, section, secret, needed) < 0)
			failed++;
		json_delete_wiped(section);
	}
	if (e.changed && write_config(&e, old.data ? old.data : "", old.len))
		failed++;
	if (e.changed)
		config_free(&cli->cfg);
	strbuf_free(&old);
	free(e.text);
	return failed;
}
