/* token_perms.h - are token_dir and the token files closed to other
 * users?  (docs/oauthmail.1, "PERMISSIONS") */
#ifndef OAUTHMAIL_TOKEN_PERMS_H
#define OAUTHMAIL_TOKEN_PERMS_H

#include <sys/types.h>

enum token_perms_level {
	TOKEN_PERMS_OK,
	TOKEN_PERMS_WARN,   /* works, but someone else could read or write */
	TOKEN_PERMS_REFUSE, /* others can write token_dir: do not use it */
};

/* token_perms_dir_mode - others may write (sticky or not): REFUSE; its
 * group may write: WARN; else OK (group or others may search and read
 * the directory: the files keep their own 0600) */
enum token_perms_level token_perms_dir_mode(mode_t mode);
/* token_perms_file_mode - a token file is 0600: any group or other bit
 * is a WARN */
enum token_perms_level token_perms_file_mode(mode_t mode);

/* token_perms_dir - token_dir's mode as token_perms_dir_mode() judges
 * it; for anything but OK, why_r names the directory, who may write it
 * and the chmod that fixes it.  A missing directory is OK here: the
 * token cache reports it. */
enum token_perms_level token_perms_dir(const char *token_dir,
				       const char **why_r);
/* token_perms_file - the same for token_dir/<account>.json (a missing
 * file is OK) */
enum token_perms_level token_perms_file(const char *token_dir,
					const char *account,
					const char **why_r);
/* token_perms_account - token_dir and, unless account is NULL, the
 * account's token file: the worse of the two levels; for anything but
 * OK, why_r says what is open to whom and the chmod that fixes it (one
 * line; both problems joined by "; "). */
enum token_perms_level token_perms_account(const char *token_dir,
					   const char *account,
					   const char **why_r);

/* token_perms_usable - can this process use token_dir at all (it
 * exists, is a directory, this uid may write it)?  NULL when it looks
 * usable; else the problem and its fix, naming config_path (the file
 * that set token_dir).  For messages after the cache failed. */
const char *token_perms_usable(const char *token_dir, const char *config_path);

#endif
