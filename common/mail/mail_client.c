/*
 * mail_client.c - just enough IMAP (RFC 9051), POP3 (RFC 1939, 5034)
 * and SMTP (RFC 5321, 4954) to reach an authenticated session: the
 * greeting, STARTTLS, capabilities, and the SASL exchange driven by
 * libsasl2 (mail_sasl.c).
 *
 * Rules: TLS before any credential (implicit, or STARTTLS that must
 * succeed: no fallback to plain); server lines capped at MAIL_LINE_MAX;
 * what the server says is kept printable and cut for error messages.
 * Microsoft's POP3 wants "AUTH XOAUTH2" and the response on separate
 * lines (split); long SMTP initial responses are sent the same way so
 * servers with short line limits accept them.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/crypto.h"
#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "mail/mail_client.h"
#include "mail/mail_sasl.h"
#include "mail/tls_conn.h"

#define CAPS_MAX 8192
#define B64_MAX (4 * 16384 / 3 + 4096)
#define INLINE_IR_MAX 400 /* longer SMTP initial responses go split */

enum reply_kind {
	REPLY_OK = 0,
	REPLY_NO = 1,
	REPLY_CONT = 2,
};

static const char *const proto_names[] = {"imap", "pop3", "smtp"};

int mail_proto_parse(const char *name, enum mail_proto *proto_r)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, proto_names[i]) == 0) {
			*proto_r = (enum mail_proto)i;
			return 0;
		}
	return -1;
}

const char *mail_proto_name(enum mail_proto proto)
{
	return proto_names[proto];
}

const struct mail_server *mail_proto_server(const struct account_config *a,
					    enum mail_proto proto)
{
	return proto == MAIL_IMAP   ? &a->imap
	       : proto == MAIL_POP3 ? &a->pop3
				    : &a->smtp;
}

static void keep_reply(struct mail_client *mc)
{
	snprintf(mc->reply, sizeof(mc->reply), "%s",
		 printable_len(mc->line.data ? mc->line.data : "", mc->line.len,
			       MAIL_REPLY_SHOW));
}

static int send_line(struct mail_client *mc, const char *text,
		     const char **error_r)
{
	struct strbuf sb;
	int ret;

	strbuf_init(&sb, B64_MAX + 1024);
	ret = strbuf_printf(&sb, "%s\r\n", text);
	if (ret == 0)
		ret = tls_conn_write(mc->conn, sb.data, sb.len, error_r);
	else
		*error_r = "command too long";
	strbuf_free(&sb);
	return ret;
}

/* add_caps - append upper-cased words to the capability text; prefix
 * (e.g. "AUTH=") goes before each word */
static void add_caps(struct mail_client *mc, const char *text,
		     const char *prefix)
{
	struct strbuf sb;
	const char *p = text;
	size_t n;

	strbuf_init(&sb, CAPS_MAX);
	strbuf_append_str(&sb, mc->caps ? mc->caps : " ");
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ]");
		if (n > 0 &&
		    strbuf_printf(&sb, "%s%.*s ", prefix, (int)n, p) < 0)
			break;
		p += n;
		if (*p == ']')
			break;
	}
	for (n = 0; n < sb.len; n++)
		sb.data[n] = (char)toupper((unsigned char)sb.data[n]);
	free(mc->caps);
	mc->caps = strbuf_steal(&sb);
}

int mail_client_has_cap(const struct mail_client *mc, const char *cap)
{
	char want[128];

	if (mc->caps == NULL)
		return 0;
	snprintf(want, sizeof(want), " %s ", cap);
	return strcasestr(mc->caps, want) != NULL;
}

/* imap_untagged - remember capabilities an untagged line carries */
static void imap_untagged(struct mail_client *mc, const char *line)
{
	const char *code = strstr(line, "[CAPABILITY ");

	if (strncasecmp(line, "* CAPABILITY ", 13) == 0) {
		free(mc->caps);
		mc->caps = NULL;
		add_caps(mc, line + 13, "");
	} else if (code != NULL) {
		free(mc->caps);
		mc->caps = NULL;
		add_caps(mc, code + 12, "");
	}
}

static int read_imap(struct mail_client *mc, const char *tag,
		     struct strbuf *data, const char **error_r)
{
	size_t taglen = tag ? strlen(tag) : 0;

	for (;;) {
		if (tls_conn_read_line(mc->conn, &mc->line, error_r) < 0)
			return -1;
		if (mc->line.data[0] == '+')
			return REPLY_CONT;
		if (tag != NULL && strncmp(mc->line.data, tag, taglen) == 0 &&
		    mc->line.data[taglen] == ' ') {
			imap_untagged(mc, mc->line.data);
			keep_reply(mc);
			return strncasecmp(mc->line.data + taglen + 1, "OK ",
					   3) == 0
				       ? REPLY_OK
				       : REPLY_NO;
		}
		if (strncmp(mc->line.data, "* ", 2) != 0) {
			*error_r = errorf("unexpected line from the IMAP "
					  "server: %s",
					  printable(mc->line.data, 200));
			return -1;
		}
		imap_untagged(mc, mc->line.data);
		if (data != NULL)
			strbuf_printf(data, "%s\n", mc->line.data);
		if (tag == NULL) { /* the greeting */
			keep_reply(mc);
			return strncasecmp(mc->line.data, "* OK", 4) == 0
				       ? REPLY_OK
				       : REPLY_NO;
		}
	}
}

static int read_pop3(struct mail_client *mc, int multiline, struct strbuf *data,
		     const char **error_r)
{
	if (tls_conn_read_line(mc->conn, &mc->line, error_r) < 0)
		return -1;
	keep_reply(mc);
	if (strncmp(mc->line.data, "+OK", 3) != 0) {
		if (mc->line.data[0] == '+')
			return REPLY_CONT;
		return REPLY_NO;
	}
	while (multiline) {
		if (tls_conn_read_line(mc->conn, &mc->line, error_r) < 0)
			return -1;
		if (strcmp(mc->line.data, ".") == 0)
			break;
		if (data != NULL)
			strbuf_printf(data, "%s\n",
				      mc->line.data +
					      (mc->line.data[0] == '.'));
	}
	return REPLY_OK;
}

static int read_smtp(struct mail_client *mc, struct strbuf *data,
		     const char **error_r)
{
	for (;;) {
		if (tls_conn_read_line(mc->conn, &mc->line, error_r) < 0)
			return -1;
		if (mc->line.len < 3 ||
		    !isdigit((unsigned char)mc->line.data[0])) {
			*error_r = errorf("not an SMTP reply: %s",
					  printable(mc->line.data, 200));
			return -1;
		}
		if (data != NULL && mc->line.len > 4)
			strbuf_printf(data, "%s\n", mc->line.data + 4);
		if (mc->line.len == 3 || mc->line.data[3] != '-')
			break;
	}
	keep_reply(mc);
	if (mc->line.data[0] == '3')
		return REPLY_CONT;
	return mc->line.data[0] == '2' ? REPLY_OK : REPLY_NO;
}

/* command - send cmd (IMAP: tagged) and read the reply */
static int command(struct mail_client *mc, const char *cmd, int multiline,
		   struct strbuf *data, const char **error_r)
{
	char tag[16], line[1024];

	if (mc->proto == MAIL_IMAP) {
		snprintf(tag, sizeof(tag), "oa%u", ++mc->tag);
		snprintf(line, sizeof(line), "%s %s", tag, cmd);
		if (send_line(mc, line, error_r) < 0)
			return -1;
		return read_imap(mc, tag, data, error_r);
	}
	if (send_line(mc, cmd, error_r) < 0)
		return -1;
	if (mc->proto == MAIL_POP3)
		return read_pop3(mc, multiline, data, error_r);
	return read_smtp(mc, data, error_r);
}

int mail_client_command(struct mail_client *mc, const char *cmd,
			struct strbuf *data, const char **error_r)
{
	int ret = command(mc, cmd, 0, data, error_r);

	if (ret == REPLY_CONT) {
		*error_r = "server asked for more input";
		return -1;
	}
	return ret;
}

static int expect_ok(struct mail_client *mc, int ret, const char *what,
		     const char **error_r)
{
	if (ret == REPLY_OK)
		return 0;
	if (ret >= 0)
		*error_r = errorf("%s %s: server said: %s", what, mc->host,
				  mc->reply);
	return -1;
}

static int greeting(struct mail_client *mc, const char **error_r)
{
	int ret;

	if (mc->proto == MAIL_IMAP)
		ret = read_imap(mc, NULL, NULL, error_r);
	else if (mc->proto == MAIL_POP3)
		ret = read_pop3(mc, 0, NULL, error_r);
	else
		ret = read_smtp(mc, NULL, error_r);
	return expect_ok(mc, ret, "greeting from", error_r);
}

static int smtp_ehlo(struct mail_client *mc, const char *name,
		     const char **error_r)
{
	struct strbuf data;
	char cmd[300];
	const char *p, *nl;
	int ret;

	snprintf(cmd, sizeof(cmd), "EHLO %s", name);
	strbuf_init(&data, CAPS_MAX);
	ret = expect_ok(mc, command(mc, cmd, 0, &data, error_r), "EHLO at",
			error_r);
	free(mc->caps);
	mc->caps = NULL;
	for (p = data.data; ret == 0 && p != NULL && *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*(char *)nl = '\0';
		if (strncasecmp(p, "AUTH ", 5) == 0)
			add_caps(mc, p + 5, "AUTH=");
		else
			add_caps(mc, p, "");
	}
	strbuf_free(&data);
	return ret;
}

static int pop3_capa(struct mail_client *mc, const char **error_r)
{
	struct strbuf data;
	const char *p, *nl;
	int ret;

	strbuf_init(&data, CAPS_MAX);
	ret = command(mc, "CAPA", 1, &data, error_r);
	free(mc->caps);
	mc->caps = NULL;
	for (p = data.data; ret == REPLY_OK && p != NULL && *p != '\0';
	     p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*(char *)nl = '\0';
		if (strncasecmp(p, "SASL ", 5) == 0)
			add_caps(mc, p + 5, "AUTH=");
		else
			add_caps(mc, p, "");
	}
	strbuf_free(&data);
	return ret < 0 ? -1 : 0; /* -ERR: a server without CAPA */
}

static int capabilities(struct mail_client *mc, const char *ehlo_name,
			const char **error_r)
{
	if (mc->proto == MAIL_SMTP)
		return smtp_ehlo(mc, ehlo_name, error_r);
	if (mc->proto == MAIL_POP3)
		return pop3_capa(mc, error_r);
	return expect_ok(mc, command(mc, "CAPABILITY", 0, NULL, error_r),
			 "CAPABILITY at", error_r);
}

static int starttls(struct mail_client *mc, const char *ca_file,
		    const char *ehlo_name, const char **error_r)
{
	static const char *const cmds[] = {"STARTTLS", "STLS", "STARTTLS"};

	if (capabilities(mc, ehlo_name, error_r) < 0)
		return -1;
	if (expect_ok(mc, command(mc, cmds[mc->proto], 0, NULL, error_r),
		      "STARTTLS refused by", error_r) < 0)
		return -1;
	return tls_conn_start_tls(mc->conn, ca_file, error_r);
}

static enum tls_mode effective_tls(const struct mail_server *srv)
{
	return srv->tls == TLS_UNSET ? TLS_IMPLICIT : srv->tls;
}

int mail_client_connect(enum mail_proto proto, const struct mail_server *srv,
			const char *ca_file, int timeout_ms,
			const char *ehlo_name, struct mail_client **mc_r,
			const char **error_r)
{
	struct mail_client *mc;
	int ret;

	if (srv->host == NULL || srv->port == 0) {
		*error_r =
			errorf("no %s server configured for this account "
			       "(%s_host, %s_port)",
			       mail_proto_name(proto), mail_proto_name(proto),
			       mail_proto_name(proto));
		return -1;
	}
	mc = calloc(1, sizeof(*mc));
	if (mc == NULL || (mc->host = strdup(srv->host)) == NULL) {
		free(mc);
		*error_r = "out of memory";
		return -1;
	}
	mc->proto = proto;
	strbuf_init(&mc->line, MAIL_LINE_MAX);
	ret = tls_conn_open(srv->host, srv->port, timeout_ms, &mc->conn,
			    error_r);
	if (ret == 0 && effective_tls(srv) == TLS_IMPLICIT)
		ret = tls_conn_start_tls(mc->conn, ca_file, error_r);
	if (ret == 0)
		ret = greeting(mc, error_r);
	if (ret == 0 && effective_tls(srv) == TLS_STARTTLS)
		ret = starttls(mc, ca_file, ehlo_name, error_r);
	if (ret == 0)
		ret = capabilities(mc, ehlo_name, error_r);
	if (ret < 0) {
		mail_client_close(&mc);
		return -1;
	}
	*mc_r = mc;
	return 0;
}

/* send_b64 - prefix, then base64 of (data, len), as one line */
static int send_b64(struct mail_client *mc, const char *prefix,
		    const char *data, unsigned len, const char **error_r)
{
	struct strbuf sb;
	int ret = -1;

	strbuf_init(&sb, B64_MAX + 512);
	if (strbuf_append_str(&sb, prefix) == 0 &&
	    crypto_base64_encode(data, len, &sb) == 0)
		ret = send_line(mc, sb.data, error_r);
	else
		*error_r = "SASL response too long";
	strbuf_free(&sb);
	return ret;
}

static int read_auth_reply(struct mail_client *mc, const char *tag,
			   const char **error_r)
{
	if (mc->proto == MAIL_IMAP)
		return read_imap(mc, tag, NULL, error_r);
	if (mc->proto == MAIL_POP3)
		return read_pop3(mc, 0, NULL, error_r);
	return read_smtp(mc, NULL, error_r);
}

/* answer_challenge - decode the server's challenge, step, send */
static int answer_challenge(struct mail_client *mc, struct mail_sasl *sasl,
			    const char **error_r)
{
	const char *text = mc->line.data + (mc->proto == MAIL_SMTP ? 3 : 1);
	const char *out;
	unsigned outlen;
	struct strbuf in;
	int ret = -1;

	if (*text == ' ' || *text == '-')
		text++;
	strbuf_init(&in, MAIL_LINE_MAX);
	if (crypto_base64_decode(text, strlen(text), &in) < 0)
		*error_r = errorf("bad base64 in the server's challenge: %s",
				  printable(mc->line.data, 100));
	else if (mail_sasl_step(sasl, in.data ? in.data : "", (unsigned)in.len,
				&out, &outlen, error_r) == 0)
		ret = send_b64(mc, "", out, outlen, error_r);
	strbuf_free(&in);
	return ret;
}

/* inline_response - may the initial response go on the command line */
static int inline_response(const struct mail_client *mc, unsigned len,
			   int split)
{
	if (mc->proto == MAIL_IMAP)
		return mail_client_has_cap(mc, "SASL-IR");
	if (mc->proto == MAIL_POP3)
		return !split;
	return (len + 2) / 3 * 4 <= INLINE_IR_MAX;
}

static int auth_begin(struct mail_client *mc, const char *mech, const char *out,
		      unsigned outlen, int split, char *tag, int *pending_r,
		      const char **error_r)
{
	char prefix[128], with_space[130];

	tag[0] = '\0';
	if (mc->proto == MAIL_IMAP) {
		snprintf(tag, 16, "oa%u", ++mc->tag);
		snprintf(prefix, sizeof(prefix), "%s AUTHENTICATE %s", tag,
			 mech);
	} else {
		snprintf(prefix, sizeof(prefix), "AUTH %s", mech);
	}
	*pending_r = 0;
	if (out != NULL && inline_response(mc, outlen, split)) {
		if (outlen == 0)
			return send_line(mc, errorf("%s =", prefix), error_r);
		snprintf(with_space, sizeof(with_space), "%s ", prefix);
		return send_b64(mc, with_space, out, outlen, error_r);
	}
	*pending_r = out != NULL;
	return send_line(mc, prefix, error_r);
}

int mail_client_auth(struct mail_client *mc, struct mail_sasl *sasl,
		     const char *mech, int split, const char **error_r)
{
	const char *out;
	unsigned outlen;
	char tag[16];
	int pending, kind;

	mc->server_failed = 0;
	if (mail_sasl_start(sasl, mech, &out, &outlen, error_r) < 0 ||
	    auth_begin(mc, mech, out, outlen, split, tag, &pending, error_r) <
		    0)
		return -1;
	for (;;) {
		kind = read_auth_reply(mc, tag[0] ? tag : NULL, error_r);
		if (kind < 0)
			return -1;
		if (kind == REPLY_OK)
			return 0;
		if (kind == REPLY_NO) {
			mc->server_failed = 1;
			*error_r = errorf("%s refused the authentication: %s",
					  mc->host, mc->reply);
			return -1;
		}
		if (pending) {
			pending = 0;
			if (send_b64(mc, "", out, outlen, error_r) < 0)
				return -1;
		} else if (answer_challenge(mc, sasl, error_r) < 0) {
			return -1;
		}
	}
}

static const struct {
	enum mail_proto proto;
	const char *match, *hint;
} hints[] = {
	{MAIL_SMTP, "5.7.139",
	 "SMTP AUTH is disabled for the tenant or the mailbox: "
	 "Set-CASMailbox -Identity USER -SmtpClientAuthenticationDisabled "
	 "$false (or Set-TransportConfig -SmtpClientAuthenticationDisabled "
	 "$false)"},
	{MAIL_SMTP, "5.7.3",
	 "the token was refused: the account's scope must include "
	 "https://outlook.office.com/SMTP.Send, the user must be the "
	 "mailbox the token was issued for, and SMTP AUTH must be enabled "
	 "for it"},
	{MAIL_SMTP, "5.5.127",
	 "the token was about to expire: raise refresh_margin to 600 or more"},
	{MAIL_SMTP, "", "check the token's scope (SMTP.Send) and the user"},
	{MAIL_IMAP, "",
	 "check that the scope includes "
	 "https://outlook.office.com/IMAP.AccessAsUser.All, that user is the "
	 "mailbox the token was issued for, and that IMAP is enabled for it "
	 "(Set-CASMailbox -ImapEnabled $true); then: oauthmail refresh "
	 "ACCOUNT --force"},
	{MAIL_POP3, "",
	 "check that the scope includes "
	 "https://outlook.office.com/POP.AccessAsUser.All, that user is the "
	 "mailbox the token was issued for, that POP is enabled for it "
	 "(Set-CASMailbox -PopEnabled $true), and pop3_split_auth"},
};

const char *mail_client_hint(enum mail_proto proto, const char *reply)
{
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (hints[i].proto == proto &&
		    strstr(reply ? reply : "", hints[i].match) != NULL)
			return hints[i].hint;
	return "";
}

void mail_client_close(struct mail_client **mc)
{
	struct mail_client *m = *mc;

	if (m == NULL)
		return;
	tls_conn_close(&m->conn);
	strbuf_free(&m->line);
	free(m->caps);
	free(m->host);
	free(m);
	*mc = NULL;
}
