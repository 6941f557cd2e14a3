/*
 * plugin.c - the Cyrus SASL client plugin's entry point:
 * sasl_client_plug_init, the only symbol libxoauth2.so exports.
 *
 * Cyrus calls it once per process when the application calls
 * sasl_client_init().  Postfix does that in smtp's pre_init, as root and
 * before the chroot, so this is where the config, the key and CA data
 * are read (token_source_init); no file is created here.  Everything
 * the plugin logs goes through the application's SASL log callback
 * (Postfix: "warning: SASL authentication problem: oauthmail: ...").
 * If the config is broken the plugin offers no mechanism at all and
 * says why: it never pretends to work.  It never exits the process.
 *
 * Security flags are honest: both mechanisms send a bearer token that
 * anyone who sees it can replay, so they do not claim NOPLAINTEXT.
 * Postfix's default smtp_sasl_security_options (noplaintext) therefore
 * keeps them off connections without TLS, and smtp_sasl_tls_security_
 * options = noanonymous lets them run inside TLS (docs/postfix.md).
 */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "xoauth2.h"

#define SEC_FLAGS (SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS)
#define FEATURES (SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY)

/* sasl_client_plug_init - the entry point Cyrus looks up by name */
int sasl_client_plug_init(const sasl_utils_t *utils, int maxversion,
			  int *out_version, sasl_client_plug_t **pluglist,
			  int *plugcount);

static struct xoauth2_global *xoauth2_global;

static void xoauth2_mech_free(void *glob_context, const sasl_utils_t *utils);

static sasl_client_plug_t xoauth2_plugins[] = {
	{
		.mech_name = "XOAUTH2",
		.max_ssf = 0,
		.security_flags = SEC_FLAGS,
		.features = FEATURES,
		.mech_new = xoauth2_mech_new,
		.mech_step = xoauth2_mech_step,
		.mech_dispose = xoauth2_mech_dispose,
		.mech_free = xoauth2_mech_free,
	},
	{
		.mech_name = "OAUTHBEARER",
		.max_ssf = 0,
		.security_flags = SEC_FLAGS,
		.features = FEATURES,
		.mech_new = xoauth2_mech_new,
		.mech_step = oauthbearer_mech_step,
		.mech_dispose = xoauth2_mech_dispose,
		.mech_free = xoauth2_mech_free,
	},
};

#define PLUGIN_COUNT (int)(sizeof(xoauth2_plugins) / sizeof(xoauth2_plugins[0]))

void xoauth2_log_output(enum log_level level, const char *line, void *ctx)
{
	const sasl_utils_t *utils = ctx;
	int sasl_level;

	switch (level) {
	case LOG_LEVEL_ERROR:
		sasl_level = SASL_LOG_ERR;
		break;
	case LOG_LEVEL_WARN:
		sasl_level = SASL_LOG_WARN;
		break;
	case LOG_LEVEL_INFO:
		sasl_level = SASL_LOG_NOTE;
		break;
	default:
		sasl_level = SASL_LOG_DEBUG;
		break;
	}
	utils->log(utils->conn, sasl_level, "oauthmail: %s", line);
}

/* config_override - the application may name the config through its
 * SASL_CB_GETOPT callback (option "oauthmail_config"); the oauthmail
 * tunnel does, so it and its plugin read the same file */
static const char *config_override(const sasl_utils_t *utils)
{
	const char *value = NULL;
	unsigned len = 0;

	if (utils->getopt == NULL ||
	    utils->getopt(utils->getopt_context, "XOAUTH2", "oauthmail_config",
			  &value, &len) != SASL_OK ||
	    value == NULL || *value == '\0')
		return NULL;
	return value;
}

static int global_setup(const sasl_utils_t *utils)
{
	struct xoauth2_global *g;
	const char *error;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return SASL_NOMEM;
	g->utils = utils;
	log_set_output(xoauth2_log_output, (void *)utils);
	if (token_source_init(&g->source, config_override(utils), &error) < 0) {
		log_error("XOAUTH2 and OAUTHBEARER disabled: %s", error);
		token_source_free(&g->source);
		log_set_output(NULL, NULL);
		free(g);
		return SASL_FAIL;
	}
	xoauth2_global = g;
	return SASL_OK;
}

int sasl_client_plug_init(const sasl_utils_t *utils, int maxversion,
			  int *out_version, sasl_client_plug_t **pluglist,
			  int *plugcount)
{
	int i, ret;

	if (maxversion < SASL_CLIENT_PLUG_VERSION) {
		utils->log(utils->conn, SASL_LOG_ERR,
			   "oauthmail: libsasl2 too old (client plugin "
			   "version %d, need %d)",
			   maxversion, SASL_CLIENT_PLUG_VERSION);
		return SASL_BADVERS;
	}
	if (xoauth2_global == NULL && (ret = global_setup(utils)) != SASL_OK)
		return ret;
	xoauth2_global->refs += PLUGIN_COUNT;
	for (i = 0; i < PLUGIN_COUNT; i++)
		xoauth2_plugins[i].glob_context = xoauth2_global;
	*out_version = SASL_CLIENT_PLUG_VERSION;
	*pluglist = xoauth2_plugins;
	*plugcount = PLUGIN_COUNT;
	return SASL_OK;
}

/* xoauth2_mech_free - Cyrus calls it once per mechanism at
 * sasl_client_done; the shared state goes with the last one */
static void xoauth2_mech_free(void *glob_context, const sasl_utils_t *utils)
{
	struct xoauth2_global *g = glob_context;

	(void)utils;
	if (g == NULL || --g->refs > 0)
		return;
	token_source_free(&g->source);
	log_set_output(NULL, NULL);
	if (g == xoauth2_global)
		xoauth2_global = NULL;
	free(g);
}
