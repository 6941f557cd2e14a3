/*
 * mail_sasl.c - the client side of Cyrus SASL for oauthmail's own
 * programs (tunnel, test).
 *
 * Authentication goes through libsasl2 and whatever plugin provides the
 * mechanism (ours: libxoauth2.so), exactly as in Postfix, so a tunnel
 * that works proves the plugin works.  Callbacks: AUTHNAME and USER
 * answer the account's user, PASS answers the password given
 * ("oauthmail:ACCOUNT"), GETOPT tells the plugin which config to read,
 * GETPATH where to find plugins, LOG sends Cyrus's and the plugin's
 * lines to log.h.  The password copy is wiped.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>

#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "mail/mail_sasl.h"

struct mail_sasl {
	sasl_conn_t *conn;
	char *user;
	sasl_secret_t *secret;
	size_t secret_size;
	sasl_callback_t callbacks[4];
};

static char *sasl_config_path;
static char *sasl_plugin_path;
static int sasl_initialized;

typedef int sasl_cb_fn(void);

static int cb_log(void *ctx, int level, const char *message)
{
	(void)ctx;
	/* our plugin names itself; so does our own log prefix */
	if (strncmp(message, "oauthmail: ", 11) == 0)
		message += 11;
	if (level <= SASL_LOG_ERR)
		log_error("%s", message);
	else if (level <= SASL_LOG_WARN)
		log_warn("%s", message);
	else if (level == SASL_LOG_NOTE)
		log_info("%s", message);
	else
		log_debug("%s", message);
	return SASL_OK;
}

static int cb_getopt(void *ctx, const char *plugin, const char *option,
		     const char **result, unsigned *len)
{
	(void)ctx;
	(void)plugin;
	if (strcmp(option, "oauthmail_config") != 0 || sasl_config_path == NULL)
		return SASL_FAIL;
	*result = sasl_config_path;
	if (len != NULL)
		*len = (unsigned)strlen(sasl_config_path);
	return SASL_OK;
}

static int cb_getpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = sasl_plugin_path;
	return SASL_OK;
}

static sasl_callback_t global_callbacks[] = {
	{SASL_CB_LOG, (sasl_cb_fn *)(void (*)(void))cb_log, NULL},
	{SASL_CB_GETOPT, (sasl_cb_fn *)(void (*)(void))cb_getopt, NULL},
	{SASL_CB_GETPATH, (sasl_cb_fn *)(void (*)(void))cb_getpath, NULL},
	{SASL_CB_LIST_END, NULL, NULL},
};

static int plugin_path(const char *plugindir)
{
	const char *env = getenv("SASL_PATH");
	struct strbuf sb;

	strbuf_init(&sb, 8192);
	if (env != NULL && *env != '\0')
		strbuf_append_str(&sb, env);
	else if (plugindir != NULL && *plugindir != '\0' &&
		 strcmp(plugindir, OAUTHMAIL_SASL_SYSTEM_PLUGINDIR) != 0)
		strbuf_printf(&sb, "%s:%s", plugindir,
			      OAUTHMAIL_SASL_SYSTEM_PLUGINDIR);
	else
		strbuf_append_str(&sb, OAUTHMAIL_SASL_SYSTEM_PLUGINDIR);
	if (sb.data == NULL)
		return -1;
	free(sasl_plugin_path);
	sasl_plugin_path = strbuf_steal(&sb);
	return sasl_plugin_path == NULL ? -1 : 0;
}

int mail_sasl_init(const char *config_path, const char *plugindir,
		   const char **error_r)
{
	int ret;

	if (sasl_initialized)
		return 0;
	free(sasl_config_path);
	sasl_config_path = config_path ? strdup(config_path) : NULL;
	if (plugin_path(plugindir) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	ret = sasl_client_init(global_callbacks);
	if (ret != SASL_OK) {
		*error_r = errorf("sasl_client_init: %s",
				  sasl_errstring(ret, NULL, NULL));
		return -1;
	}
	sasl_initialized = 1;
	return 0;
}

int mail_sasl_has_mech(const char *mech)
{
	const char **list = sasl_global_listmech();

	for (; list != NULL && *list != NULL; list++)
		if (strcasecmp(*list, mech) == 0)
			return 1;
	return 0;
}

void mail_sasl_done(void)
{
	if (sasl_initialized)
		sasl_client_done();
	sasl_initialized = 0;
	free(sasl_config_path);
	free(sasl_plugin_path);
	sasl_config_path = NULL;
	sasl_plugin_path = NULL;
}

static int cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
	struct mail_sasl *s = ctx;

	if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER)
		return SASL_BADPARAM;
	*result = s->user;
	if (len != NULL)
		*len = (unsigned)strlen(s->user);
	return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **secret)
{
	struct mail_sasl *s = ctx;

	(void)conn;
	if (id != SASL_CB_PASS)
		return SASL_BADPARAM;
	*secret = s->secret;
	return SASL_OK;
}

static int set_credentials(struct mail_sasl *s, const char *user,
			   const char *password)
{
	size_t n = strlen(password);

	s->user = strdup(user);
	s->secret_size = sizeof(sasl_secret_t) + n + 1;
	s->secret = calloc(1, s->secret_size);
	if (s->user == NULL || s->secret == NULL)
		return -1;
	s->secret->len = n;
	memcpy(s->secret->data, password, n);
	s->callbacks[0] = (sasl_callback_t){
		SASL_CB_AUTHNAME, (sasl_cb_fn *)(void (*)(void))cb_simple, s};
	s->callbacks[1] = (sasl_callback_t){
		SASL_CB_USER, (sasl_cb_fn *)(void (*)(void))cb_simple, s};
	s->callbacks[2] = (sasl_callback_t){
		SASL_CB_PASS, (sasl_cb_fn *)(void (*)(void))cb_pass, s};
	s->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
	return 0;
}

/* allow_bearer - our connections are always TLS: let mechanisms that
 * send a bearer token run (they do not claim NOPLAINTEXT) */
static int allow_bearer(struct mail_sasl *s)
{
	sasl_security_properties_t props;

	memset(&props, 0, sizeof(props));
	props.min_ssf = 0;
	props.max_ssf = 0;
	props.maxbufsize = 0;
	props.security_flags = SASL_SEC_NOANONYMOUS;
	return sasl_setprop(s->conn, SASL_SEC_PROPS, &props);
}

int mail_sasl_new(const char *service, const char *host, const char *user,
		  const char *password, struct mail_sasl **sasl_r,
		  const char **error_r)
{
	struct mail_sasl *s = calloc(1, sizeof(*s));
	int ret;

	if (s == NULL || set_credentials(s, user, password) < 0) {
		mail_sasl_free(&s);
		*error_r = "out of memory";
		return -1;
	}
	ret = sasl_client_new(service, host, NULL, NULL, s->callbacks, 0,
			      &s->conn);
	if (ret == SASL_OK)
		ret = allow_bearer(s);
	if (ret != SASL_OK) {
		*error_r = errorf("sasl_client_new: %s",
				  sasl_errstring(ret, NULL, NULL));
		mail_sasl_free(&s);
		return -1;
	}
	*sasl_r = s;
	return 0;
}

static const char *sasl_failure(struct mail_sasl *s, int ret)
{
	const char *detail = sasl_errdetail(s->conn);

	if (ret == SASL_NOMECH)
		return errorf("no SASL plugin offers this mechanism (is "
			      "libxoauth2.so in %s? check: SASL_PATH=... "
			      "saslpluginviewer -c)",
			      sasl_plugin_path);
	return errorf("%s", detail ? detail : sasl_errstring(ret, NULL, NULL));
}

int mail_sasl_start(struct mail_sasl *s, const char *mech, const char **out_r,
		    unsigned *outlen_r, const char **error_r)
{
	const char *chosen = NULL;
	int ret;

	*out_r = NULL;
	*outlen_r = 0;
	ret = sasl_client_start(s->conn, mech, NULL, out_r, outlen_r, &chosen);
	if (ret != SASL_OK && ret != SASL_CONTINUE) {
		*error_r = sasl_failure(s, ret);
		return -1;
	}
	return 0;
}

int mail_sasl_step(struct mail_sasl *s, const char *in, unsigned inlen,
		   const char **out_r, unsigned *outlen_r, const char **error_r)
{
	int ret;

	*out_r = NULL;
	*outlen_r = 0;
	ret = sasl_client_step(s->conn, in, inlen, NULL, out_r, outlen_r);
	if (ret != SASL_OK && ret != SASL_CONTINUE) {
		*error_r = sasl_failure(s, ret);
		return -1;
	}
	return 0;
}

void mail_sasl_free(struct mail_sasl **sasl)
{
	struct mail_sasl *s = *sasl;

	if (s == NULL)
		return;
	if (s->conn != NULL)
		sasl_dispose(&s->conn);
	if (s->secret != NULL) {
		wipe(s->secret, s->secret_size);
		free(s->secret);
	}
	free(s->user);
	free(s);
	*sasl = NULL;
}
