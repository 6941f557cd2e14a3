/* test_ticket_maildir.c - the durable raw copy: receive, commit, list */
#include "oauthmail-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "testlib.h"
#include "ticket/ticket_maildir.h"
#include "ticket_testutil.h"

static char dir[] = "/tmp/test_ticket_maildir.XXXXXX";

static int input(const char *text)
{
	int fds[2];

	if (pipe(fds) < 0)
		return -1;
	if (write(fds[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fds[1]);
	return fds[0];
}

static int count_files(const char *sub)
{
	struct ticket_maildir_entry *list;
	const char *error;
	char path[512];
	size_t n, i, c = 0;

	if (ticket_maildir_list(dir, &list, &n, &error) < 0)
		return -1;
	snprintf(path, sizeof(path), "/%s/", sub);
	for (i = 0; i < n; i++)
		c += strstr(list[i].path, path) != NULL;
	ticket_maildir_list_free(list, n);
	return (int)c;
}

static int tmp_files(void)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/tmp", dir);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_receive(void)
{
	static const char msg[] = "From alice@x Mon Nov 16 08:12:44 2026\n"
				  "Subject: hi\nMessage-ID: <a@x>\n\nbody\n";
	unsigned char want[32];
	gsize n = 32;
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	struct ticket_spool sp;
	const char *error;
	char path[512], buf[256];
	int fd = input(msg), existed;
	FILE *f;

	check_int("receive",
		  ticket_maildir_receive(dir, fd, "Return-Path: <a@x>\n", 0, 0,
					 &sp, &error),
		  0);
	close(fd);
	check_str("headers kept, From_ line dropped", sp.headers.data,
		  "Return-Path: <a@x>\nSubject: hi\nMessage-ID: <a@x>\n\n");
	g_checksum_update(c, (const guchar *)"body\n", 5);
	g_checksum_get_digest(c, want, &n);
	g_checksum_free(c);
	check_true("body hash", memcmp(want, sp.body_hash, 32) == 0);
	check_int("size", (long long)sp.size, 55);
	check_int("commit",
		  ticket_maildir_commit(dir, &sp, "key1", &existed, &error), 0);
	check_int("new", existed, 0);
	ticket_maildir_discard(&sp);
	snprintf(path, sizeof(path), "%s/new/key1", dir);
	f = fopen(path, "r");
	check_true("stored", f != NULL && fgets(buf, sizeof(buf), f) != NULL);
	check_str("first line", buf, "Return-Path: <a@x>\n");
	if (f != NULL)
		fclose(f);
	fd = input(msg);
	ticket_maildir_receive(dir, fd, NULL, 0, 0, &sp, &error);
	close(fd);
	check_int("commit again",
		  ticket_maildir_commit(dir, &sp, "key1", &existed, &error), 0);
	check_int("existing copy kept", existed, 1);
	ticket_maildir_discard(&sp);
	check_int("one copy", count_files("new"), 1);
	check_int("tmp empty", tmp_files(), 0);
}

/* An unnamed spool (O_TMPFILE): nothing in tmp/ at any point, readable
 * through ticket_maildir_open_spool, linked into new/ whole; a second
 * copy of the same name is dropped, and a discarded one leaves nothing. */
static void test_unnamed(void)
{
	static const char msg[] = "Subject: unnamed\n\nbody\n";
	struct ticket_spool sp;
	const char *error;
	char path[512], buf[64];
	int fd = input(msg), existed, rfd;
	ssize_t n;

	check_int("receive unnamed",
		  ticket_maildir_receive(dir, fd, NULL, 0, 1, &sp, &error), 0);
	close(fd);
	check_true("no name where O_TMPFILE works", sp.fd >= 0);
	check_int("nothing visible in tmp", tmp_files(), 0);
	rfd = ticket_maildir_open_spool(&sp);
	n = rfd >= 0 ? read(rfd, buf, sizeof(buf) - 1) : -1;
	if (rfd >= 0)
		close(rfd);
	buf[n > 0 ? n : 0] = '\0';
	check_str("readable from its start", buf, msg);
	check_int("commit",
		  ticket_maildir_commit(dir, &sp, "unnamed1", &existed, &error),
		  0);
	check_int("linked", existed, 0);
	check_int("descriptor closed", sp.fd, -1);
	ticket_maildir_discard(&sp);
	snprintf(path, sizeof(path), "%s/new/unnamed1", dir);
	rfd = open(path, O_RDONLY);
	n = rfd >= 0 ? read(rfd, buf, sizeof(buf) - 1) : -1;
	if (rfd >= 0)
		close(rfd);
	buf[n > 0 ? n : 0] = '\0';
	check_str("stored whole", buf, msg);
	fd = input(msg);
	ticket_maildir_receive(dir, fd, NULL, 0, 1, &sp, &error);
	close(fd);
	check_int("again",
		  ticket_maildir_commit(dir, &sp, "unnamed1", &existed, &error),
		  0);
	check_int("the existing copy kept", existed, 1);
	ticket_maildir_discard(&sp);
	fd = input(msg);
	ticket_maildir_receive(dir, fd, NULL, 0, 1, &sp, &error);
	close(fd);
	ticket_maildir_discard(&sp);
	check_int("discarded: nothing in tmp", tmp_files(), 0);
	check_int("discarded: descriptor closed", sp.fd, -1);
	unlink(path);
}

static void test_limits(void)
{
	struct ticket_spool sp;
	const char *error;
	int fd = input("Subject: big\n\n0123456789012345678901234567890\n");

	check_int("too large is not an error",
		  ticket_maildir_receive(dir, fd, NULL, 16, 0, &sp, &error), 0);
	close(fd);
	check_int("too large", sp.too_large, 1);
	ticket_maildir_discard(&sp);
	check_int("nothing left in tmp", tmp_files(), 0);
	fd = input("Fro");
	ticket_maildir_receive(dir, fd, NULL, 0, 0, &sp, &error);
	close(fd);
	check_int("tiny message kept whole", (long long)sp.size, 3);
	ticket_maildir_discard(&sp);
}

static void test_write_error(void)
{
	struct rlimit old, small = {1024, 1024};
	struct ticket_spool sp;
	const char *error = NULL;
	char big[8192];
	int fd, r, saved;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '\n';
	fd = input(big);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	setrlimit(RLIMIT_FSIZE, &small);
	r = ticket_maildir_receive(dir, fd, NULL, 0, 0, &sp, &error);
	saved = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	close(fd);
	check_int("write error", r, -1);
	check_int("errno kept", saved, EFBIG);
	check_true("says why", error != NULL && strstr(error, "write") != NULL);
	ticket_maildir_discard(&sp);
	check_int("temp file removed", tmp_files(), 0);
}

static void test_store_list(void)
{
	struct ticket_maildir_entry *list;
	struct timespec t[2] = {{1000, 0}, {1000, 0}};
	const char *error;
	char path[512];
	int existed;
	size_t n;

	check_int("store",
		  ticket_maildir_store(dir, "key0", "X: y\n\nz\n", 8, &existed,
				       &error),
		  0);
	snprintf(path, sizeof(path), "%s/new/key0", dir);
	utimensat(AT_FDCWD, path, t, 0);
	check_int("list", ticket_maildir_list(dir, &list, &n, &error), 0);
	check_int("two", (long long)n, 2);
	check_str("oldest first", n ? list[0].name : NULL, "key0");
	ticket_maildir_list_free(list, n);
	snprintf(path, sizeof(path), "%s/tmp/stale", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	utimensat(AT_FDCWD, path, t, 0);
	check_int("stale tmp removed", ticket_maildir_clean_tmp(dir, 3600), 1);
	check_int("missing dir",
		  ticket_maildir_list("/nonexistent", &list, &n, &error), -1);
}

int main(void)
{
	char path[512];
	const char *subs[] = {"tmp", "new", "cur"};
	size_t i;

	if (mkdtemp(dir) == NULL)
		return 1;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		mkdir(path, 0750);
	}
	test_receive();
	test_unnamed();
	test_limits();
	test_write_error();
	test_store_list();
	testutil_rm_tree(dir);
	return test_done("test_ticket_maildir");
}
