/*
 * mech.c - the XOAUTH2 and OAUTHBEARER client mechanisms.
 *
 * State 0 (serverin NULL, or the empty challenge of a server that does
 * not take an initial response): get the user and the "password" from
 * callbacks (Postfix) or interaction prompts (mbsync registers its
 * callbacks with NULL procs, so we return SASL_INTERACT and it fills
 * the prompts), canonicalize the user, resolve the password to an
 * access token, send the message, SASL_CONTINUE.
 * State 1: an empty challenge means the server is done (SASL_OK).  A
 * non-empty one is the server's JSON error: we mark the token refused
 * (the next attempt gets a fresh one), answer as the mechanism requires
 * (XOAUTH2: empty; OAUTHBEARER: a single ^A) and finish; the server
 * then sends its failure reply, which the application reports.
 * Failures to get a token: SASL_TRYAGAIN for temporary ones (Postfix
 * defers), SASL_FAIL otherwise, always with the reason in the log and
 * in sasl_errdetail().  The token lives in memory we wipe.
 */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/number.h"
#include "lib/strbuf.h"
#include "token/bearer_msg.h"
#include "xoauth2.h"

#define RESPONSE_MAX (BEARER_TOKEN_MAX + 2048)

struct mech_ctx {
	struct xoauth2_global *g;
	int state;
	char *authid;
	char *authzid;
	char *password;
	struct source_token tok;
	struct strbuf out;
};

/* The prompts we may ask an interactive application to fill. */
struct creds_want {
	int authid, authzid, password; /* 1 = needs a prompt */
};

int xoauth2_mech_new(void *glob_context, sasl_client_params_t *params,
		     void **conn_context)
{
	struct mech_ctx *mc = calloc(1, sizeof(*mc));

	if (mc == NULL) {
		params->utils->seterror(params->utils->conn, 0,
					"oauthmail: out of memory");
		return SASL_NOMEM;
	}
	mc->g = glob_context;
	log_set_output(xoauth2_log_output, (void *)params->utils);
	strbuf_init(&mc->out, RESPONSE_MAX);
	*conn_context = mc;
	return SASL_OK;
}

void xoauth2_mech_dispose(void *conn_context, const sasl_utils_t *utils)
{
	struct mech_ctx *mc = conn_context;

	(void)utils;
	if (mc == NULL)
		return;
	log_set_output(xoauth2_log_output, (void *)mc->g->utils);
	free(mc->authid);
	free(mc->authzid);
	wipe_free_str(&mc->password);
	token_source_release(&mc->tok);
	strbuf_free(&mc->out);
	free(mc);
}

static int set_str(char **dst, const char *src, size_t len)
{
	if (*dst != NULL || src == NULL)
		return 0;
	*dst = len ? strndup(src, len) : strdup(src);
	return *dst == NULL ? -1 : 0;
}

/* take_prompt_answers - copy what the application filled in, then free
 * the prompt list we gave it */
static int take_prompt_answers(struct mech_ctx *mc,
			       sasl_client_params_t *params,
			       sasl_interact_t **prompt_need)
{
	sasl_interact_t *p;
	int ret = 0;

	if (prompt_need == NULL || *prompt_need == NULL)
		return 0;
	for (p = *prompt_need; p->id != SASL_CB_LIST_END; p++) {
		if (p->result == NULL)
			continue;
		if (p->id == SASL_CB_AUTHNAME)
			ret |= set_str(&mc->authid, p->result, p->len);
		else if (p->id == SASL_CB_USER)
			ret |= set_str(&mc->authzid, p->result, p->len);
		else if (p->id == SASL_CB_PASS)
			ret |= set_str(&mc->password, p->result, p->len);
	}
	params->utils->free(*prompt_need);
	*prompt_need = NULL;
	return ret;
}

/* get_simple - AUTHNAME or USER through a callback; 1 = needs a prompt */
static int get_simple(sasl_client_params_t *params, unsigned long id,
		      char **dst)
{
	sasl_getsimple_t *proc = NULL;
	void *ctx = NULL;
	const char *value = NULL;
	unsigned len = 0;
	int ret;

	if (*dst != NULL)
		return 0;
	ret = params->utils->getcallback(params->utils->conn, id,
					 (sasl_callback_ft *)&proc, &ctx);
	if (ret == SASL_INTERACT)
		return 1;
	if (ret != SASL_OK || proc == NULL ||
	    proc(ctx, (int)id, &value, &len) != SASL_OK)
		return 0;
	return set_str(dst, value, len) < 0 ? -1 : 0;
}

/* get_secret - PASS through a callback; 1 = needs a prompt */
static int get_secret(sasl_client_params_t *params, char **dst)
{
	sasl_getsecret_t *proc = NULL;
	sasl_secret_t *secret = NULL;
	void *ctx = NULL;
	int ret;

	if (*dst != NULL)
		return 0;
	ret = params->utils->getcallback(params->utils->conn, SASL_CB_PASS,
					 (sasl_callback_ft *)&proc, &ctx);
	if (ret == SASL_INTERACT)
		return 1;
	if (ret != SASL_OK || proc == NULL ||
	    proc(params->utils->conn, ctx, SASL_CB_PASS, &secret) != SASL_OK ||
	    secret == NULL)
		return 0;
	*dst = strndup((const char *)secret->data, secret->len);
	return *dst == NULL ? -1 : 0;
}

static void fill_prompt(sasl_interact_t *p, unsigned long id,
			const char *challenge, const char *prompt)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->challenge = challenge;
	p->prompt = prompt;
}

/* make_prompts - the list of what we still need, for SASL_INTERACT */
static int make_prompts(sasl_client_params_t *params,
			const struct creds_want *w,
			sasl_interact_t **prompt_need)
{
	sasl_interact_t *list, *p;
	int n = w->authid + w->authzid + w->password + 1;

	list = params->utils->malloc(sizeof(*list) * (size_t)n);
	if (list == NULL)
		return SASL_NOMEM;
	p = list;
	if (w->authzid)
		fill_prompt(p++, SASL_CB_USER, "Authorization Name",
			    "Mailbox to use (authorization id)");
	if (w->authid)
		fill_prompt(p++, SASL_CB_AUTHNAME, "Authentication Name",
			    "Mailbox user name");
	if (w->password)
		fill_prompt(p++, SASL_CB_PASS, "Password",
			    "oauthmail:ACCOUNT, token file, or access token");
	fill_prompt(p, SASL_CB_LIST_END, NULL, NULL);
	*prompt_need = list;
	return SASL_INTERACT;
}

static int get_credentials(struct mech_ctx *mc, sasl_client_params_t *params,
			   sasl_interact_t **prompt_need)
{
	struct creds_want w = {0};

	if (take_prompt_answers(mc, params, prompt_need) < 0)
		return SASL_NOMEM;
	w.authid = get_simple(params, SASL_CB_AUTHNAME, &mc->authid);
	w.authzid = get_simple(params, SASL_CB_USER, &mc->authzid);
	w.password = get_secret(params, &mc->password);
	if (w.authid < 0 || w.authzid < 0 || w.password < 0)
		return SASL_NOMEM;
	if ((w.authid || w.password) && prompt_need != NULL)
		return make_prompts(params, &w, prompt_need);
	if (mc->authid == NULL || *mc->authid == '\0' || mc->password == NULL) {
		params->utils->seterror(params->utils->conn, 0,
					"oauthmail: the application gave no "
					"user name or no password");
		return SASL_BADPARAM;
	}
	return SASL_OK;
}

/* identity - who the message names: the authzid when given, else the
 * authid (Exchange: a shared mailbox goes in user=) */
static const char *identity(const struct mech_ctx *mc)
{
	return mc->authzid != NULL && *mc->authzid != '\0' ? mc->authzid
							   : mc->authid;
}

static int canon(struct mech_ctx *mc, sasl_client_params_t *params,
		 sasl_out_params_t *oparams)
{
	int ret;

	if (mc->authzid != NULL && *mc->authzid != '\0' &&
	    strcmp(mc->authzid, mc->authid) != 0) {
		ret = params->canon_user(params->utils->conn, mc->authzid, 0,
					 SASL_CU_AUTHZID, oparams);
		if (ret != SASL_OK)
			return ret;
		return params->canon_user(params->utils->conn, mc->authid, 0,
					  SASL_CU_AUTHID, oparams);
	}
	return params->canon_user(params->utils->conn, mc->authid, 0,
				  SASL_CU_AUTHID | SASL_CU_AUTHZID, oparams);
}

static int status_to_sasl(enum om_status st)
{
	return st == OM_ERR_TEMP ? SASL_TRYAGAIN : SASL_FAIL;
}

/* fail - report why (Cyrus logs it too, as "SASL authentication
 * failure" in Postfix), return code */
static int fail(sasl_client_params_t *params, int code, const char *why)
{
	params->utils->seterror(params->utils->conn, 0, "oauthmail: %s", why);
	return code;
}

/* server_port - the port of "ip;port" (Cyrus's ipremoteport), or 0 */
static unsigned int server_port(const sasl_client_params_t *params)
{
	const char *semi;
	unsigned long long v;

	if (params->ipremoteport == NULL ||
	    (semi = strrchr(params->ipremoteport, ';')) == NULL ||
	    number_parse(semi + 1, 1, 65535, &v) < 0)
		return 0;
	return (unsigned int)v;
}

static int build_message(struct mech_ctx *mc, sasl_client_params_t *params,
			 int oauthbearer, const char **error_r)
{
	if (oauthbearer)
		return bearer_msg_oauthbearer(identity(mc), params->serverFQDN,
					      server_port(params),
					      mc->tok.token, &mc->out, error_r);
	return bearer_msg_xoauth2(identity(mc), mc->tok.token, &mc->out,
				  error_r);
}

static int first_step(struct mech_ctx *mc, sasl_client_params_t *params,
		      sasl_interact_t **prompt_need, const char **clientout,
		      unsigned *clientoutlen, sasl_out_params_t *oparams,
		      int oauthbearer)
{
	const char *error;
	enum om_status st;
	int ret;

	ret = get_credentials(mc, params, prompt_need);
	if (ret != SASL_OK)
		return ret;
	ret = canon(mc, params, oparams);
	if (ret != SASL_OK)
		return ret;
	st = token_source_get(&mc->g->source, mc->password, &mc->tok, &error);
	if (st != OM_OK)
		return fail(params, status_to_sasl(st), error);
	if (build_message(mc, params, oauthbearer, &error) < 0)
		return fail(params, SASL_BADPARAM, error);
	log_debug("%s: sending token %s for %s",
		  oauthbearer ? "OAUTHBEARER" : "XOAUTH2", mc->tok.fingerprint,
		  printable(identity(mc), 120));
	*clientout = mc->out.data;
	*clientoutlen = (unsigned)mc->out.len;
	mc->state = 1;
	return SASL_CONTINUE;
}

static void finish(struct mech_ctx *mc, sasl_out_params_t *oparams)
{
	mc->state = 2;
	strbuf_free(&mc->out);
	oparams->doneflag = 1;
	oparams->mech_ssf = 0;
	oparams->maxoutbuf = 0;
	oparams->encode_context = NULL;
	oparams->encode = NULL;
	oparams->decode_context = NULL;
	oparams->decode = NULL;
	oparams->param_version = 0;
}

/* refused - the server's error challenge: note it, answer, finish */
static int refused(struct mech_ctx *mc, const char *serverin, unsigned len,
		   const char **clientout, unsigned *clientoutlen,
		   sasl_out_params_t *oparams, int oauthbearer)
{
	struct bearer_error err;
	const char *what = "(not JSON)";

	if (bearer_msg_error(serverin, len, &err) == 0)
		what = bearer_msg_error_text(&err);
	log_warn("server refused token %s for %s: %s; a fresh token will be "
		 "used on the next attempt",
		 mc->tok.fingerprint, printable(identity(mc), 120), what);
	token_source_invalidate(&mc->g->source, &mc->tok);
	finish(mc, oparams);
	*clientout = oauthbearer ? "\001" : "";
	*clientoutlen = oauthbearer ? 1 : 0;
	return SASL_OK;
}

static int mech_step(void *conn_context, sasl_client_params_t *params,
		     const char *serverin, unsigned serverinlen,
		     sasl_interact_t **prompt_need, const char **clientout,
		     unsigned *clientoutlen, sasl_out_params_t *oparams,
		     int oauthbearer)
{
	struct mech_ctx *mc = conn_context;

	/* log through this connection: the application's callback */
	log_set_output(xoauth2_log_output, (void *)params->utils);
	*clientout = NULL;
	*clientoutlen = 0;
	if (mc->state == 0 && serverinlen > 0)
		return fail(params, SASL_BADPROT,
			    "server sent a challenge before the client "
			    "response");
	if (mc->state == 0)
		return first_step(mc, params, prompt_need, clientout,
				  clientoutlen, oparams, oauthbearer);
	if (mc->state == 1 && serverinlen > 0)
		return refused(mc, serverin, serverinlen, clientout,
			       clientoutlen, oparams, oauthbearer);
	if (mc->state == 1) {
		finish(mc, oparams);
		*clientout = "";
		return SASL_OK;
	}
	return fail(params, SASL_BADPROT, "authentication already finished");
}

int xoauth2_mech_step(void *conn_context, sasl_client_params_t *params,
		      const char *serverin, unsigned serverinlen,
		      sasl_interact_t **prompt_need, const char **clientout,
		      unsigned *clientoutlen, sasl_out_params_t *oparams)
{
	return mech_step(conn_context, params, serverin, serverinlen,
			 prompt_need, clientout, clientoutlen, oparams, 0);
}

int oauthbearer_mech_step(void *conn_context, sasl_client_params_t *params,
			  const char *serverin, unsigned serverinlen,
			  sasl_interact_t **prompt_need, const char **clientout,
			  unsigned *clientoutlen, sasl_out_params_t *oparams)
{
	return mech_step(conn_context, params, serverin, serverinlen,
			 prompt_need, clientout, clientoutlen, oparams, 1);
}
