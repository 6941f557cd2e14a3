/*
 * token_perms.c - token_dir and the token files must be closed to
 * other users: a token file holds the account's refresh token (mode
 * 0600, rule 1 of docs/internals.md), and whoever can write token_dir
 * can replace any token file with one of their own (a grant for their
 * mailbox, say) or plant an account's file before its first sign-in.
 *
 * Legitimate: token_dir owned by the user that refreshes (postfix, or
 * the broker's user) with any read or search bits for its group and
 * others, the files 0600 and owned like the directory.  Its group
 * writing the directory is a warning; others writing it is refused,
 * sticky bit or not (the sticky bit stops others renaming our files,
 * not creating the file of an account not yet authorized).  A token
 * file with any group or other bit is a warning.  Each problem names
 * the path and the exact chmod that fixes it.  Nothing here prints.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "token/token_perms.h"
#include "token/token_store.h"

enum token_perms_level token_perms_dir_mode(mode_t mode)
{
	if (mode & S_IWOTH)
		return TOKEN_PERMS_REFUSE;
	if (mode & S_IWGRP)
		return TOKEN_PERMS_WARN;
	return TOKEN_PERMS_OK;
}

enum token_perms_level token_perms_file_mode(mode_t mode)
{
	return (mode & 077) ? TOKEN_PERMS_WARN : TOKEN_PERMS_OK;
}

/* open_to - who the group/other bits of mode let in */
static const char *open_to(mode_t mode)
{
	if ((mode & 070) && (mode & 007))
		return "its group and others";
	return (mode & 070) ? "its group" : "others";
}

enum token_perms_level token_perms_dir(const char *dir, const char **why_r)
{
	struct stat st;
	enum token_perms_level level;
	mode_t mode;

	*why_r = NULL;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return TOKEN_PERMS_OK;
	mode = st.st_mode & 07777;
	level = token_perms_dir_mode(mode);
	if (level == TOKEN_PERMS_REFUSE)
		*why_r = errorf("token_dir %s is writable by others (mode "
				"%04o): anyone on this host could replace or "
				"plant token files. Fix: chmod o-w %s",
				dir, (unsigned)mode, dir);
	else if (level == TOKEN_PERMS_WARN)
		*why_r = errorf("token_dir %s is writable by its group (mode "
				"%04o): members could replace token files. "
				"Fix: chmod g-w %s",
				dir, (unsigned)mode, dir);
	return level;
}

enum token_perms_level token_perms_file(const char *dir, const char *account,
					const char **why_r)
{
	char path[4096];
	struct stat st;
	mode_t mode;

	*why_r = NULL;
	if (token_store_path(dir, account, ".json", path, sizeof(path)) < 0 ||
	    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return TOKEN_PERMS_OK;
	mode = st.st_mode & 07777;
	if (token_perms_file_mode(mode) == TOKEN_PERMS_OK)
		return TOKEN_PERMS_OK;
	*why_r = errorf("token file %s is open to %s (mode %04o), and it "
			"holds the account's tokens. Fix: chmod 600 %s",
			path, open_to(mode), (unsigned)mode, path);
	return TOKEN_PERMS_WARN;
}

enum token_perms_level token_perms_account(const char *token_dir,
					   const char *account,
					   const char **why_r)
{
	const char *dir_why = NULL, *file_why = NULL;
	enum token_perms_level d, f = TOKEN_PERMS_OK;

	d = token_perms_dir(token_dir, &dir_why);
	if (account != NULL)
		f = token_perms_file(token_dir, account, &file_why);
	if (dir_why != NULL && file_why != NULL)
		*why_r = errorf("%s; %s", dir_why, file_why);
	else if (dir_why != NULL || file_why != NULL)
		*why_r = dir_why != NULL ? dir_why : file_why;
	return d > f ? d : f;
}

const char *token_perms_usable(const char *dir, const char *config_path)
{
	struct stat st;

	if (stat(dir, &st) < 0 && errno == ENOENT)
		return errorf("token_dir %s does not exist. Fix: correct "
			      "token_dir in %s (where oauthmail authorize "
			      "wrote the token files), or create it: mkdir -m "
			      "700 %s; chown postfix: %s",
			      dir, config_path, dir, dir);
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return errorf("token_dir %s is not a directory. Fix: correct "
			      "token_dir in %s",
			      dir, config_path);
	if (access(dir, W_OK | X_OK) < 0)
		return errorf("token_dir %s is not writable by uid %ld, which "
			      "this program runs as. Fix: chown -R that user "
			      "(postfix for Postfix's smtp) %s, or let the "
			      "token broker refresh (token_socket in %s)",
			      dir, (long)geteuid(), dir, config_path);
	return NULL;
}
