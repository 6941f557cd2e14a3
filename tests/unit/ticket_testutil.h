/* ticket_testutil.h - helpers for the ticket queue unit tests */
#ifndef OAUTHMAIL_TICKET_TESTUTIL_H
#define OAUTHMAIL_TICKET_TESTUTIL_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ticket/ticket_config.h"
#include "ticket/ticket_deliver.h"
#include "ticket/ticket_queue.h"

static inline int testutil_rm_cb(const char *path, const struct stat *st,
				 int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* testutil_rm_tree - remove a scratch directory and all in it */
static inline void testutil_rm_tree(const char *dir)
{
	nftw(dir, testutil_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* testutil_config - a parsed config for queue dir with a fixed key */
static inline struct ticket_config *testutil_config(const char *dir)
{
	static const char text[] = "address = help@tickets.test\n"
				   "hmac_key = "
				   "000102030405060708090a0b0c0d0e0f10111213141"
				   "5161718191a1b1c1d1e1f\n";
	struct ticket_config *cfg = NULL;
	const char *error;

	if (ticket_config_parse(dir, "test.conf", text, strlen(text), &cfg,
				&error) < 0)
		printf("config: %s\n", error);
	return cfg;
}

/* testutil_queue - a fresh queue in dir (made by mkdtemp) with the
 * fixed key, busy_timeout 1 s (the busy-index tests wait it out) and
 * extra config lines ("" for none), opened; NULL after saying why */
static inline struct ticket_queue *testutil_queue(const char *dir,
						  const char *extra)
{
	struct ticket_queue *q = NULL;
	const char *error = NULL;
	char path[4096];
	int created;
	FILE *f;

	if (ticket_config_init(dir, "help@tickets.test", &created, &error) <
	    0) {
		printf("init: %s\n", error);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, TICKET_CONFIG_NAME);
	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	fprintf(f,
		"address = help@tickets.test\n"
		"hmac_key = 000102030405060708090a0b0c0d0e0f1011121314151617"
		"18191a1b1c1d1e1f\n"
		"busy_timeout = 1\n%s",
		extra);
	fclose(f);
	chmod(path, 0640);
	if (ticket_queue_open(dir, &q, &error) != TICKET_OK) {
		printf("queue: %s\n", error);
		return NULL;
	}
	return q;
}

/* testutil_fd - a descriptor reading text from its start */
static inline int testutil_fd(const char *text)
{
	int fd = memfd_create("test", MFD_CLOEXEC);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n ||
	    lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	return fd;
}

/* testutil_deliver - deliver text into q: its ticket (0: none, or
 * failed after saying why) */
static inline uint64_t testutil_deliver(struct ticket_queue *q,
					const char *text)
{
	struct ticket_deliver_opts o = {.from = TICKET_FROM_FD};
	struct ticket_delivery d;
	const char *error = NULL;
	uint64_t t;

	o.in_fd = testutil_fd(text);
	if (ticket_deliver(q, &o, &d, &error) != TICKET_OK)
		printf("deliver: %s\n", error);
	close(o.in_fd);
	t = d.ticket;
	ticket_delivery_done(&d);
	return t;
}

/* testutil_count - entries in dir/sub but . and .. */
static inline int testutil_count(const char *dir, const char *sub)
{
	char path[4200];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif
