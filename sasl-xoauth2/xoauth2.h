/* xoauth2.h - what the plugin's entry point (plugin.c) and its
 * mechanisms (mech.c) share */
#ifndef OAUTHMAIL_XOAUTH2_H
#define OAUTHMAIL_XOAUTH2_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "lib/log.h"
#include "token_source.h"

/* One per process: the config and cache opened in plug_init. */
struct xoauth2_global {
	int refs; /* one per registered mechanism (mech_free) */
	const sasl_utils_t *utils;
	struct token_source source;
};

/* xoauth2_log_output - log.h output to utils->log (ctx: the utils) */
void xoauth2_log_output(enum log_level level, const char *line, void *ctx);

/* xoauth2_mech_new - sasl_client_plug_t.mech_new for both mechanisms */
int xoauth2_mech_new(void *glob_context, sasl_client_params_t *params,
		     void **conn_context);
/* xoauth2_mech_step - mech_step for XOAUTH2 */
int xoauth2_mech_step(void *conn_context, sasl_client_params_t *params,
		      const char *serverin, unsigned serverinlen,
		      sasl_interact_t **prompt_need, const char **clientout,
		      unsigned *clientoutlen, sasl_out_params_t *oparams);
/* oauthbearer_mech_step - mech_step for OAUTHBEARER (RFC 7628) */
int oauthbearer_mech_step(void *conn_context, sasl_client_params_t *params,
			  const char *serverin, unsigned serverinlen,
			  sasl_interact_t **prompt_need, const char **clientout,
			  unsigned *clientoutlen, sasl_out_params_t *oparams);
/* xoauth2_mech_dispose - free a connection's state (secrets wiped) */
void xoauth2_mech_dispose(void *conn_context, const sasl_utils_t *utils);

#endif
