/* id_token.h - who signed in: the scope that makes the provider send an
 * OpenID Connect id_token naming the user, and that name read from it
 * (docs/internals.md, "Who signed in") */
#ifndef OAUTHMAIL_ID_TOKEN_H
#define OAUTHMAIL_ID_TOKEN_H

#include "token/oauthmail_conf.h"

#define ID_TOKEN_MAX (16 * 1024) /* Microsoft's are 1-2 KB */
#define ID_TOKEN_NAME_MAX 320	 /* the longest mail address */

/* The claims that name the signed-in user; NULL when absent or unusable */
struct id_token_identity {
	char *preferred_username; /* Microsoft (with scope profile) */
	char *upn;		  /* Microsoft work accounts, optional claim */
	char *email;		  /* Google (with scope email); Microsoft */
};

/* id_token_scope - scope plus what the provider needs to return an
 * id_token naming the user, each added only when missing: Microsoft
 * "openid profile" (preferred_username), Google "openid email", custom
 * nothing (the admin's scope as it is).  A fresh string (caller frees),
 * NULL when scope is NULL or out of memory. */
char *id_token_scope(enum provider_kind provider, const char *scope);

/* id_token_read - the identity claims of a JWT id_token's payload.  The
 * signature is not checked (see id_token.c).  Outside input: bounded,
 * strict base64url and JSON.  0, or -1 with error_r. */
int id_token_read(const char *id_token, struct id_token_identity *id_r,
		  const char **error_r);

/* id_token_name - the name to show: preferred_username, else upn, else
 * email; NULL when the id_token named nobody */
const char *id_token_name(const struct id_token_identity *id);

/* id_token_match - the claim that is address (compared without regard
 * to case: a UPN that is not the mail address still matches by email),
 * NULL when none is */
const char *id_token_match(const struct id_token_identity *id,
			   const char *address);

/* id_token_identity_free - free the claims and zero */
void id_token_identity_free(struct id_token_identity *id);

#endif
