/*
 * http.c - HTTP for the token endpoint (and later Graph), hardened in
 * one file.
 *
 * Rules: https only, except http to a loopback host (tests); no
 * redirects; connect and total timeouts; no signals; a cap on the
 * response body enforced in the write callback; TLS verification always
 * on, trusting the system bundle plus the configured ca_file, both read
 * into memory when the client is created (so a chrooted process needs
 * no CA files); every curl_easy_setopt checked.  Request bodies carry
 * secrets: they are wiped after use and never logged.
 */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/number.h"
#include "lib/safefile.h"
#include "token/http.h"
#include "token/provider.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CA_FILE_MAX (4 * 1024 * 1024)
#define DEFAULT_MAX_RESPONSE (1024 * 1024)
#define DEFAULT_TIMEOUT 30
#define FORM_MAX (64 * 1024)

struct http_client {
	struct strbuf ca;
	size_t max_response;
	long timeout;
};

struct body_sink {
	struct strbuf *body;
	int overflow;
};

static int curl_ready;

static int load_ca(struct strbuf *ca, const char *path, int optional,
		   const char **error_r)
{
	int ret = safefile_read(path, CA_FILE_MAX, ca, error_r);

	if (ret > 0 && !optional) {
		*error_r = errorf("ca_file %s: no such file", path);
		return -1;
	}
	if (ret < 0)
		return -1;
	return strbuf_append(ca, "\n", 1);
}

static long timeout_from_env(void)
{
	const char *s = getenv("OAUTHMAIL_HTTP_TIMEOUT");
	unsigned long long v;

	if (s == NULL || number_parse(s, 1, 600, &v) < 0)
		return DEFAULT_TIMEOUT;
	return (long)v;
}

int http_client_new(const char *ca_file, struct http_client **client_r,
		    const char **error_r)
{
	struct http_client *c;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			*error_r = "curl_global_init failed";
			return -1;
		}
		curl_ready = 1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	strbuf_init(&c->ca, 2 * CA_FILE_MAX + 2);
	if (load_ca(&c->ca, SYSTEM_CA_BUNDLE, 1, error_r) < 0 ||
	    (ca_file != NULL && load_ca(&c->ca, ca_file, 0, error_r) < 0)) {
		http_client_free(&c);
		return -1;
	}
	c->max_response = DEFAULT_MAX_RESPONSE;
	c->timeout = timeout_from_env();
	*client_r = c;
	return 0;
}

void http_client_free(struct http_client **client)
{
	if (*client == NULL)
		return;
	strbuf_free(&(*client)->ca);
	free(*client);
	*client = NULL;
}

void http_client_set_max_response(struct http_client *client, size_t max)
{
	client->max_response = max;
}

int http_url_encode(struct strbuf *out, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char enc[3];

	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			if (strbuf_append(out, p, 1) < 0)
				return -1;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[*p >> 4];
		enc[2] = hex[*p & 15];
		if (strbuf_append(out, enc, 3) < 0)
			return -1;
	}
	return 0;
}

void http_form_init(struct http_form *form)
{
	strbuf_init(&form->body, FORM_MAX);
}

int http_form_add(struct http_form *form, const char *key, const char *value)
{
	if ((form->body.len > 0 && strbuf_append(&form->body, "&", 1) < 0) ||
	    http_url_encode(&form->body, key) < 0 ||
	    strbuf_append(&form->body, "=", 1) < 0 ||
	    http_url_encode(&form->body, value) < 0)
		return -1;
	return 0;
}

void http_form_free(struct http_form *form)
{
	strbuf_free(&form->body);
}

void http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	strbuf_init(&resp->body, DEFAULT_MAX_RESPONSE);
	resp->retry_after = -1;
}

void http_response_free(struct http_response *resp)
{
	strbuf_free(&resp->body);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body_sink *sink = ctx;
	size_t n = size * nmemb;

	if (strbuf_append(sink->body, data, n) < 0) {
		sink->overflow = 1;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	return n;
}

static void header_value(const char *line, size_t n, char *out, size_t size)
{
	const char *v = memchr(line, ':', n);
	size_t len;

	if (v == NULL)
		return;
	for (v++; v < line + n && (*v == ' ' || *v == '\t'); v++)
		;
	len = (size_t)(line + n - v);
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n'))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
	struct http_response *resp = ctx;
	size_t n = size * nmemb;
	char value[64];
	unsigned long long v;

	if (n > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
		value[0] = '\0';
		header_value(line, n, value, sizeof(value));
		if (number_parse(value, 0, 86400, &v) == 0)
			resp->retry_after = (long)v;
	} else if (n > 13 && strncasecmp(line, "Content-Type:", 13) == 0) {
		header_value(line, n, resp->content_type,
			     sizeof(resp->content_type));
	}
	return n;
}

static int set_common(CURL *h, struct http_client *c, const char *url,
		      struct body_sink *sink, struct http_response *resp)
{
	struct curl_blob ca = {c->ca.data, c->ca.len, CURL_BLOB_NOCOPY};

	return curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
						"https,http") != CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION,
						0L) != CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) !=
				       CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_NOPROXY,
						"127.0.0.1,localhost,::1") !=
				       CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
						c->timeout / 3 + 1) !=
				       CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_TIMEOUT,
						c->timeout) != CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER,
						1L) != CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST,
						2L) != CURLE_OK ||
			       (c->ca.len > 0 &&
				curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca) !=
					CURLE_OK) ||
			       curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
						(curl_off_t)c->max_response) !=
				       CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_USERAGENT,
						PACKAGE_NAME
						"/" PACKAGE_VERSION) !=
				       CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_WRITEFUNCTION,
						on_body) != CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_WRITEDATA, sink) !=
				       CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_HEADERFUNCTION,
						on_header) != CURLE_OK ||
			       curl_easy_setopt(h, CURLOPT_HEADERDATA, resp) !=
				       CURLE_OK
		       ? -1
		       : 0;
}

static int set_method(CURL *h, const char *method, const char *body,
		      size_t body_len, struct curl_slist *headers)
{
	if (strcmp(method, "GET") != 0 &&
	    (curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "") !=
		     CURLE_OK ||
	     curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			      (curl_off_t)body_len) != CURLE_OK))
		return -1;
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
	    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
		return -1;
	if (headers != NULL &&
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK)
		return -1;
	return 0;
}

/* url_shown - url for logs and errors: without its query and fragment,
 * which can carry codes or tokens (upload sessions, redirects) */
static const char *url_shown(const char *url)
{
	return printable_len(url, strcspn(url, "?#"), 300);
}

static const char *curl_failure(CURLcode rc, const struct body_sink *sink,
				const struct http_client *c, const char *url,
				const char *detail)
{
	url = url_shown(url);
	if (sink->overflow || rc == CURLE_FILESIZE_EXCEEDED)
		return errorf("%s: response larger than %zu bytes", url,
			      c->max_response);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return errorf("%s: no answer within %ld seconds", url,
			      c->timeout);
	return errorf("%s: %s%s%s", url, curl_easy_strerror(rc),
		      detail[0] ? ": " : "", printable(detail, 200));
}

static struct curl_slist *make_headers(const char *const *headers)
{
	struct curl_slist *list = NULL, *next;

	/* curl adds "Expect: 100-continue" to large POSTs; we don't want
	 * the extra round trip. */
	list = curl_slist_append(list, "Expect:");
	for (; list != NULL && headers != NULL && *headers != NULL; headers++) {
		next = curl_slist_append(list, *headers);
		if (next == NULL) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = next;
	}
	return list;
}

/* log_request - with -v (debug level): method, URL without its query,
 * status and time; never a header or a body (they carry secrets) */
static void log_request(CURL *h, const char *method, const char *url,
			long status, const char *failure)
{
	curl_off_t us = 0;

	if (log_get_min_level() > LOG_LEVEL_DEBUG)
		return;
	if (curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us) != CURLE_OK)
		us = 0;
	if (failure != NULL)
		log_debug("HTTP %s %s: failed after %ld ms (%s)", method,
			  url_shown(url), (long)(us / 1000), failure);
	else
		log_debug("HTTP %s %s: %ld in %ld ms", method, url_shown(url),
			  status, (long)(us / 1000));
}

int http_request(struct http_client *c, const char *method, const char *url,
		 const char *const *headers, const char *body, size_t body_len,
		 struct http_response *resp, const char **error_r)
{
	char detail[CURL_ERROR_SIZE] = "";
	struct body_sink sink = {&resp->body, 0};
	struct curl_slist *hdrs;
	CURL *h;
	CURLcode rc;
	int ret = -1;

	if (url == NULL || method == NULL) {
		*error_r = "no URL for this request (an endpoint is not set)";
		return -1;
	}
	if (!provider_url_allowed(url)) {
		*error_r = errorf("%s: refusing a non-https URL", url);
		return -1;
	}
	resp->body.max = c->max_response;
	h = curl_easy_init();
	hdrs = make_headers(headers);
	if (h == NULL || hdrs == NULL ||
	    set_common(h, c, url, &sink, resp) < 0 ||
	    set_method(h, method, body, body_len, hdrs) < 0 ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail) != CURLE_OK) {
		*error_r = "cannot set up libcurl";
		goto out;
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		*error_r = curl_failure(rc, &sink, c, url, detail);
		log_request(h, method, url, -1, *error_r);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	log_request(h, method, url, resp->status, NULL);
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	return ret;
}

int http_post_form(struct http_client *c, const char *url,
		   const struct http_form *form, struct http_response *resp,
		   const char **error_r)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json", NULL};

	return http_request(c, "POST", url, headers,
			    form->body.data ? form->body.data : "",
			    form->body.len, resp, error_r);
}
