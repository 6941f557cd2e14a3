/* oauth_redirect.h - where the browser comes back: a loopback listener
 * on redirect_uri, or a pasted URL */
#ifndef OAUTHMAIL_OAUTH_REDIRECT_H
#define OAUTHMAIL_OAUTH_REDIRECT_H

struct redirect_listener;

/* The outcome of one redirect.  code is set on success; otherwise error
 * (and maybe description) say what the provider or browser reported. */
struct redirect_result {
	char *code;
	char *error;
	char *description;
};

/* oauth_redirect_listen - listen on the host and port of redirect_uri
 * (http, loopback hosts only; no port = any free port, which Microsoft
 * accepts for http://localhost).  *uri_r is the redirect URI to send. */
int oauth_redirect_listen(const char *redirect_uri,
			  struct redirect_listener **listener_r, char **uri_r,
			  const char **error_r);

/* oauth_redirect_wait - serve the browser until the redirect with our
 * state arrives (other paths get 404), at most timeout seconds.
 * 0 with result filled (code or error), -1 with error_r. */
int oauth_redirect_wait(struct redirect_listener *listener, const char *state,
			int timeout, struct redirect_result *result_r,
			const char **error_r);

/* oauth_redirect_close - stop listening, free, NULL */
void oauth_redirect_close(struct redirect_listener **listener);

/* oauth_redirect_parse - a redirected URL (or just its query) as the
 * user pasted it: checks state, fills result.  0, or -1 with error_r. */
int oauth_redirect_parse(const char *text, const char *state,
			 struct redirect_result *result_r,
			 const char **error_r);

/* oauth_redirect_result_free - wipe the code, free everything */
void oauth_redirect_result_free(struct redirect_result *result);

#endif
