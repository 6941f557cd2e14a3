/*
 * oauthmail.c - the admin command: authorize accounts, hand out tokens,
 * report their health, move them between hosts.
 */
#include "oauthmail-config.h"

#include <stdio.h>

#include "log.h"

int main(int argc, char **argv)
{
	(void)argc;
	log_init("oauthmail");
	log_error("%s: not implemented yet", argv[0]);
	return 1;
}
