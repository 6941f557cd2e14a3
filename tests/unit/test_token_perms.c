/* test_token_perms.c - which modes of token_dir and of a token file are
 * refused, warned about or fine, and that each problem names the path
 * and the chmod that fixes it */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "token/token_perms.h"

static char dir[] = "/tmp/test_token_perms.XXXXXX";

struct mode_case {
	mode_t mode;
	enum token_perms_level want;
};

static void modes(void)
{
	static const struct mode_case dirs[] = {
		{0700, TOKEN_PERMS_OK},	     {0750, TOKEN_PERMS_OK},
		{0755, TOKEN_PERMS_OK},	     {0711, TOKEN_PERMS_OK},
		{0770, TOKEN_PERMS_WARN},    {0720, TOKEN_PERMS_WARN},
		{0702, TOKEN_PERMS_REFUSE},  {0777, TOKEN_PERMS_REFUSE},
		{01777, TOKEN_PERMS_REFUSE}, {01773, TOKEN_PERMS_REFUSE},
		{02770, TOKEN_PERMS_WARN},
	};
	static const struct mode_case files[] = {
		{0600, TOKEN_PERMS_OK},	  {0400, TOKEN_PERMS_OK},
		{0640, TOKEN_PERMS_WARN}, {0644, TOKEN_PERMS_WARN},
		{0604, TOKEN_PERMS_WARN}, {0660, TOKEN_PERMS_WARN},
		{0601, TOKEN_PERMS_WARN}, {0666, TOKEN_PERMS_WARN},
	};
	char what[64];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(what, sizeof(what), "dir mode %04o", dirs[i].mode);
		check_int(what, token_perms_dir_mode(dirs[i].mode),
			  dirs[i].want);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(what, sizeof(what), "file mode %04o", files[i].mode);
		check_int(what, token_perms_file_mode(files[i].mode),
			  files[i].want);
	}
}

/* judge - set the modes, then token_perms_account(dir, "a") */
static enum token_perms_level judge(mode_t dmode, mode_t fmode,
				    const char **why)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/a.json", dir);
	chmod(path, fmode);
	chmod(dir, dmode);
	*why = NULL;
	return token_perms_account(dir, "a", why);
}

static void contains(const char *what, const char *text, const char *want)
{
	check_true(what, text != NULL && strstr(text, want) != NULL);
	if (text == NULL || strstr(text, want) == NULL)
		printf("  got '%s' want it to contain '%s'\n",
		       text ? text : "(null)", want);
}

static void on_disk(void)
{
	char path[512], fix[600];
	const char *why;
	FILE *f;

	snprintf(path, sizeof(path), "%s/a.json", dir);
	f = fopen(path, "w");
	check_true("token file created", f != NULL);
	if (f != NULL)
		fclose(f);
	check_int("0700 + 0600", judge(0700, 0600, &why), TOKEN_PERMS_OK);
	check_true("0700 + 0600: no text", why == NULL);
	check_int("0750 + 0600", judge(0750, 0600, &why), TOKEN_PERMS_OK);

	check_int("0644 file", judge(0700, 0644, &why), TOKEN_PERMS_WARN);
	snprintf(fix, sizeof(fix), "Fix: chmod 600 %s", path);
	contains("0644 file: the fix", why, fix);
	contains("0644 file: who", why, "open to its group and others");
	contains("0644 file: the mode", why, "(mode 0644)");
	check_int("0640 file", judge(0700, 0640, &why), TOKEN_PERMS_WARN);
	contains("0640 file: who", why, "open to its group (");

	check_int("0777 dir", judge(0777, 0600, &why), TOKEN_PERMS_REFUSE);
	snprintf(fix, sizeof(fix), "Fix: chmod o-w %s", dir);
	contains("0777 dir: the fix", why, fix);
	check_int("1777 dir", judge(01777, 0600, &why), TOKEN_PERMS_REFUSE);
	contains("1777 dir: the mode", why, "(mode 1777)");
	check_int("0770 dir", judge(0770, 0600, &why), TOKEN_PERMS_WARN);
	snprintf(fix, sizeof(fix), "Fix: chmod g-w %s", dir);
	contains("0770 dir: the fix", why, fix);

	check_int("0777 dir + 0644 file", judge(0777, 0644, &why),
		  TOKEN_PERMS_REFUSE);
	contains("both: the dir", why, "chmod o-w");
	contains("both: the file", why, "; token file");

	chmod(dir, 0777);
	why = NULL;
	check_int("dir only", token_perms_account(dir, NULL, &why),
		  TOKEN_PERMS_REFUSE);
	chmod(dir, 0700);
	check_int("no such account file",
		  token_perms_account(dir, "nosuch", &why), TOKEN_PERMS_OK);
	check_int("no such dir",
		  token_perms_account("/nonexistent/tokens", "a", &why),
		  TOKEN_PERMS_OK);
	unlink(path);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	modes();
	on_disk();
	rmdir(dir);
	return test_done("test_token_perms");
}
