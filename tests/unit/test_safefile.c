/* test_safefile.c - atomic writes (content, mode whatever the umask,
 * no temp file left, errors), bounded reads that refuse links and
 * non-files, owner-like-the-directory, dirname */
#include "oauthmail-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "testlib.h"

static char dir[] = "/tmp/test_safefile.XXXXXX";

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

static void test_dirname(void)
{
	static const struct {
		const char *path;
		size_t size;
		const char *want;
	} rows[] = {
		{"a/b", 64, "a"},
		{"/a/b/c.json", 64, "/a/b"},
		{"/x", 64, "/"},
		{"x", 64, "."},
		{"/long/dir/f", 5, "/lon"},
		{"dir/", 64, "dir"},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		safefile_dirname(rows[i].path, buf, rows[i].size);
		check_str(rows[i].path, buf, rows[i].want);
	}
}

static void test_write(void)
{
	static const mode_t modes[] = {0600, 0640, 0644};
	const char *error = NULL;
	struct strbuf sb;
	struct stat st;
	char path[256];
	size_t i;

	snprintf(path, sizeof(path), "%s/f.json", dir);
	umask(0077);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		check_int("write",
			  safefile_write(path, "abc", 3, modes[i], 0, &error),
			  0);
		check_int("mode is the one asked, not the umask's",
			  stat(path, &st) == 0 ? (long long)(st.st_mode & 07777)
					       : -1,
			  (long long)modes[i]);
	}
	umask(0022);
	check_int("replace",
		  safefile_write(path, "new content", 11, 0600, 1, &error), 0);
	strbuf_init(&sb, 100);
	check_int("read back", safefile_read(path, 100, &sb, &error), 0);
	check_str("replaced content", sb.data, "new content");
	strbuf_free(&sb);
	check_int("no temp file left", entries(), 1);
	check_int("empty write", safefile_write(path, "", 0, 0600, 0, &error),
		  0);
	check_int("empty file", stat(path, &st) == 0 ? st.st_size : -1, 0);

	snprintf(path, sizeof(path), "%s/missing/f.json", dir);
	error = NULL;
	check_int("no directory", safefile_write(path, "x", 1, 0600, 0, &error),
		  -1);
	check_true("error names the file",
		   error != NULL && strstr(error, "missing/f.json") != NULL);
	check_int("errno kept", errno, ENOENT);
	check_int("fsync_dir of nothing",
		  safefile_fsync_dir("/nonexistent/dir", &error), -1);
	check_int("fsync_dir", safefile_fsync_dir(dir, &error), 0);
	snprintf(path, sizeof(path), "%s/f.json", dir);
	unlink(path);
}

static void test_read(void)
{
	const char *error = NULL;
	char path[256], link[256], sub[256];
	struct strbuf sb;

	snprintf(path, sizeof(path), "%s/r", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	strbuf_init(&sb, 1000);
	check_int("missing is 1", safefile_read(path, 10, &sb, &error), 1);
	check_int("write",
		  safefile_write(path, "0123456789", 10, 0600, 0, &error), 0);
	check_int("exactly max", safefile_read(path, 10, &sb, &error), 0);
	check_str("content", sb.data, "0123456789");
	strbuf_reset(&sb);
	error = NULL;
	check_int("over max", safefile_read(path, 9, &sb, &error), -1);
	check_true("says too large",
		   error != NULL && strstr(error, "larger than 9") != NULL);
	strbuf_reset(&sb);

	check_int("symlink made", symlink(path, link), 0);
	error = NULL;
	check_int("symlink refused (O_NOFOLLOW)",
		  safefile_read(link, 100, &sb, &error), -1);
	check_true("open error",
		   error != NULL && strncmp(error, "open ", 5) == 0);
	check_int("nothing read through the link", (long long)sb.len, 0);
	unlink(path);
	check_int("dangling symlink refused too",
		  safefile_read(link, 100, &sb, &error), -1);
	unlink(link);

	check_int("directory made", mkdir(sub, 0700), 0);
	error = NULL;
	check_int("directory refused", safefile_read(sub, 100, &sb, &error),
		  -1);
	check_true("not a regular file",
		   error != NULL &&
			   strstr(error, "not a regular file") != NULL);
	rmdir(sub);
	check_int("fifo made", mkfifo(sub, 0600), 0);
	check_int("fifo refused without blocking",
		  safefile_read(sub, 100, &sb, &error), -1);
	unlink(sub);
	strbuf_free(&sb);
}

/* as root, a file takes the directory's owner; otherwise nothing to do */
static void test_own_like(void)
{
	const char *error = NULL;
	char sub[256], path[300];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/owned", dir);
	snprintf(path, sizeof(path), "%s/f", sub);
	check_int("mkdir", mkdir(sub, 0755), 0);
	check_int("own_like of a missing dir",
		  safefile_own_like(0, "/nonexistent"), -1);
	if (geteuid() == 0)
		check_int("chown dir", chown(sub, 65534, 65534), 0);
	check_int("write owned", safefile_write(path, "x", 1, 0600, 1, &error),
		  0);
	check_int("stat", stat(path, &st), 0);
	check_int("owner", st.st_uid, geteuid() == 0 ? 65534 : geteuid());
	check_int("group", st.st_gid, geteuid() == 0 ? 65534 : getegid());
	unlink(path);
	check_int("write not owned",
		  safefile_write(path, "x", 1, 0600, 0, &error), 0);
	check_int("stat", stat(path, &st), 0);
	check_int("owner stays ours", st.st_uid, geteuid());
	unlink(path);
	rmdir(sub);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_dirname();
	test_write();
	test_read();
	test_own_like();
	rmdir(dir);
	return test_done("test_safefile");
}
