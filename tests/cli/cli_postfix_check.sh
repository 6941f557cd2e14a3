#!/bin/sh
# cli_postfix_check.sh - oauthmail postfix check against a private Postfix
# config directory (postconf -c DIR; nothing is started): a broken main.cf
# is flagged with the exact postconf lines that fix it, exit 1; the fixed
# one passes, exit 0.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init cli_postfix_check
. "$srcdir/sasl-lib.sh"
PATH=$PATH:/usr/sbin:/sbin
t_need postconf
[ -f /usr/share/postfix/master.cf.dist ] || t_skip "postfix's master.cf.dist missing"
sasl_env
PF=$T/pf
mkdir -p "$PF" "$T/tokens"
cp /usr/share/postfix/master.cf.dist "$PF/master.cf"
echo "[127.0.0.1]:2525 support@contoso.test:oauthmail:nosuch" >"$PF/sasl_passwd"
cat >"$T/oauthmail.conf" <<EOT
token_dir = $T/tokens
[account support]
provider = microsoft
tenant = common
client_id = 00000000-0000-0000-0000-0000000000a1
user = support@contoso.test
EOT
# broken: what a first attempt usually looks like
cat >"$PF/main.cf" <<EOT
compatibility_level = 3.6
relayhost = [127.0.0.1]:2525
smtp_sasl_password_maps = texthash:$PF/sasl_passwd
smtp_tls_security_level = may
EOT
oauthmail -c "$T/oauthmail.conf" postfix check --config-dir "$PF" >"$T/out" 2>"$T/err"
t_eq "$?" 1 "broken main.cf: exit 1"
P="postconf -c $PF"
t_grep "fix: $P -e 'smtp_sasl_auth_enable = yes'" "$T/out" "auth not enabled"
t_grep "fix: $P -e 'smtp_sasl_mechanism_filter = xoauth2'" "$T/out" "no mechanism filter"
t_grep "problem: smtp_sasl_tls_security_options = noplaintext, noanonymous: 'noplaintext' silently excludes XOAUTH2" "$T/out" "noplaintext named"
t_grep "fix: $P -e 'smtp_sasl_tls_security_options = noanonymous'" "$T/out" "noplaintext fix"
t_grep "fix: $P -e 'smtp_tls_security_level = encrypt'" "$T/out" "TLS not required"
t_grep "uses oauthmail:nosuch, which is not in the oauthmail config" "$T/out" "unknown account in sasl_passwd"
t_grep "smtp runs chrooted in /var/spool/postfix without the token broker" "$T/out" "chroot without broker"
t_grep "fix: token_socket = private/oauthmail in .* and $P -Me 'oauthmail/unix=oauthmail unix - n n - - spawn user=oauthmail argv=.*/oauthmail serve'" "$T/out" "broker fix"
t_grep "import_environment lacks OAUTHMAIL_CONF=$T/oauthmail.conf" "$T/out" "config path not passed to Postfix"
t_grep "^[0-9]+ problems$" "$T/out" "problem count"

# the same instance, fixed as the messages say
echo "[127.0.0.1]:2525 support@contoso.test:oauthmail:support" >"$PF/sasl_passwd"
echo "token_socket = private/oauthmail" | cat - "$T/oauthmail.conf" >"$T/conf2" && mv "$T/conf2" "$T/oauthmail.conf"
postconf -c "$PF" -e smtp_sasl_auth_enable=yes smtp_sasl_mechanism_filter=xoauth2 \
	smtp_sasl_tls_security_options=noanonymous smtp_tls_security_level=encrypt \
	"import_environment=MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME OAUTHMAIL_CONF=$T/oauthmail.conf SASL_PATH=$SASL_PATH"
postconf -c "$PF" -Me "oauthmail/unix=oauthmail unix - n n - - spawn user=oauthmail argv=/usr/bin/oauthmail serve"
oauthmail -c "$T/oauthmail.conf" postfix check --config-dir "$PF" >"$T/out" 2>"$T/err"
t_eq "$?" 0 "fixed main.cf: exit 0"
t_grep "^0 problems$" "$T/out" "no problems"
t_grep "^ok: token broker: master.cf service oauthmail" "$T/out" "broker service found"
t_grep "^ok: SASL plugin: XOAUTH2 available to Postfix" "$T/out" "plugin found via import_environment SASL_PATH"

# a plugin path without our plugin
postconf -c "$PF" -e "import_environment=OAUTHMAIL_CONF=$T/oauthmail.conf SASL_PATH=$T"
oauthmail -c "$T/oauthmail.conf" postfix check --config-dir "$PF" >"$T/out" 2>"$T/err"
t_eq "$?" 1 "plugin missing: exit 1"
t_grep "problem: no SASL plugin offers XOAUTH2" "$T/out" "plugin missing named"
t_done
