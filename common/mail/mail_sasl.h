/* mail_sasl.h - a libsasl2 client session, so programs authenticate
 * through Cyrus SASL and the oauthmail plugin like Postfix does */
#ifndef OAUTHMAIL_MAIL_SASL_H
#define OAUTHMAIL_MAIL_SASL_H

struct mail_sasl;

/* mail_sasl_init - sasl_client_init once per process.  config_path (may
 * be NULL) is handed to the plugin (option oauthmail_config) so it
 * reads the same oauthmail.conf; plugins come from $SASL_PATH, else
 * plugindir and libsasl2's own directory. */
int mail_sasl_init(const char *config_path, const char *plugindir,
		   const char **error_r);

/* mail_sasl_new - a session for service ("imap", "pop", "smtp") at
 * host, answering the plugin's questions with user and password */
int mail_sasl_new(const char *service, const char *host, const char *user,
		  const char *password, struct mail_sasl **sasl_r,
		  const char **error_r);

/* mail_sasl_start - begin mech; out_r, outlen_r: the initial response
 * (raw, not base64; owned by the session).  0, or -1 with error_r. */
int mail_sasl_start(struct mail_sasl *sasl, const char *mech,
		    const char **out_r, unsigned *outlen_r,
		    const char **error_r);

/* mail_sasl_step - answer a (decoded) server challenge */
int mail_sasl_step(struct mail_sasl *sasl, const char *in, unsigned inlen,
		   const char **out_r, unsigned *outlen_r,
		   const char **error_r);

/* mail_sasl_free - dispose of the session; NULLs the pointer */
void mail_sasl_free(struct mail_sasl **sasl);

/* mail_sasl_has_mech - 1 when a loaded plugin offers mech */
int mail_sasl_has_mech(const char *mech);

/* mail_sasl_done - sasl_client_done (unloads the plugins) */
void mail_sasl_done(void);

#endif
