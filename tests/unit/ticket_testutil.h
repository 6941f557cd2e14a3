/* ticket_testutil.h - helpers for the ticket queue unit tests */
#ifndef OAUTHMAIL_TICKET_TESTUTIL_H
#define OAUTHMAIL_TICKET_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "ticket/ticket_config.h"

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

#endif
