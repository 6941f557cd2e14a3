/* http.h - the one place libcurl is set up (hardened, capped) */
#ifndef OAUTHMAIL_HTTP_H
#define OAUTHMAIL_HTTP_H

#include <stddef.h>

#include "lib/strbuf.h"

struct http_client;

/* An application/x-www-form-urlencoded body, built field by field.
 * Values are URL-encoded here; the body is wiped when freed. */
struct http_form {
	struct strbuf body;
};

struct http_response {
	long status;
	struct strbuf body;
	long retry_after; /* seconds from Retry-After, or -1 */
	char content_type[128];
};

/* http_client_new - a client trusting the system CA bundle plus
 * ca_file (may be NULL).  The CA data is read now, so later requests
 * need no files (chroot).  Timeouts: OAUTHMAIL_HTTP_TIMEOUT seconds
 * (default 30) total, a third of it to connect. */
int http_client_new(const char *ca_file, struct http_client **client_r,
		    const char **error_r);
/* http_client_free - free and NULL */
void http_client_free(struct http_client **client);
/* http_client_set_max_response - cap on response bodies (default 1 MB) */
void http_client_set_max_response(struct http_client *client, size_t max);

/* http_form_init - empty form */
void http_form_init(struct http_form *form);
/* http_form_add - append key=value, both URL-encoded */
int http_form_add(struct http_form *form, const char *key, const char *value);
/* http_form_free - wipe and free */
void http_form_free(struct http_form *form);

/* http_url_encode - percent-encode everything but RFC 3986 unreserved
 * characters into out; -1 when it would exceed out's cap */
int http_url_encode(struct strbuf *out, const char *value);

/* http_post_form - POST the form to url (https, or http to loopback
 * only; no redirects).  0 when an HTTP answer arrived (any status), -1
 * with error_r on network, TLS, timeout or size failures. */
int http_post_form(struct http_client *client, const char *url,
		   const struct http_form *form, struct http_response *resp,
		   const char **error_r);

/* http_request - general request (Graph): method, extra header lines
 * (NULL-terminated array, may be NULL), optional body */
int http_request(struct http_client *client, const char *method,
		 const char *url, const char *const *headers, const char *body,
		 size_t body_len, struct http_response *resp,
		 const char **error_r);

/* http_response_init / http_response_free - response lifecycle */
void http_response_init(struct http_response *resp);
void http_response_free(struct http_response *resp);

#endif
