#!/usr/bin/env python3
"""mock_idp.py - a mock of Microsoft's identity platform v2.0 (and, cheaply,
Google's OAuth endpoints) for oauthmail's tests.

Python 3 standard library only.  Listens on 127.0.0.1 on a port the kernel
picks, writes that port to --port-file once listening, and stops by itself
when --watch-pid's process is gone, after --max-lifetime seconds, or on
POST /_control/shutdown.

It answers like login.microsoftonline.com: same paths
(/{tenant}/oauth2/v2.0/{authorize,token,devicecode}), same JSON fields in the
same order, same AADSTS error bodies, status codes and headers.  It adds an
RFC 7662 style /introspect endpoint for Dovecot's passdb oauth2 and a
/_control/ API with which tests script every fault.

The full contract (clients, knobs, control API) is in tests/mock/mock-idp.md.
Rules kept here: no secret (token, code, client secret) is ever logged;
every request body is capped; every token value is random and unguessable.
"""

import argparse
import base64
import hashlib
import html
import json
import os
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit, unquote, \
    unquote_plus

PUBLIC_CLIENT = "00000000-0000-0000-0000-0000000000a1"
CONFIDENTIAL_CLIENT = "00000000-0000-0000-0000-0000000000c2"
GOOGLE_CLIENT = "000000000000-mock.apps.googleusercontent.com"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
GRAPH = "https://graph.microsoft.com"
MAX_BODY = 1 << 20
OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
GENERIC_TENANTS = {"common", "organizations", "consumers"}
GOOGLE_DEVICE_SCOPES = {"openid", "email", "profile",
                        "https://www.googleapis.com/auth/userinfo.email",
                        "https://www.googleapis.com/auth/userinfo.profile"}
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DOMAIN_RE = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_ALPHABET = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789_-.~")

DEFAULT_CONFIG = {
    "access_lifetime": 3599,
    "ext_expires_in": None,
    "code_lifetime": 600,
    "refresh_lifetime": 90 * 86400,
    "rotate_refresh_tokens": True,
    "invalidate_used_refresh_tokens": False,
    "device_pending_polls": 1,
    "device_interval": 5,
    "device_expires_in": 900,
    "device_auto_approve": True,
    "device_outcome": "approve",
    "device_enforce_interval": False,
    "device_slow_down": 0,
    "verification_uri": "https://microsoft.com/devicelogin",
    "default_user": "support@contoso.test",
    "app_mailbox": "support@contoso.test",
    "unknown_tenants": [],
    "access_token_style": "opaque",
    "authorize_deny": False,
    "client_secret_expired": False,
    "strict_consent": True,
    "google_rotate_refresh_tokens": False,
    "google_device_any_scope": False,
    "signin_user": "",
    "id_token": True,
}

# ---------------------------------------------------------------------------
# Error texts.  key -> (HTTP status, error, AADSTS code, text, extra members)
# Texts are Microsoft's (see microsoft-identity-graph-protocol.md section 2);
# {name} fields are filled from the request.

AAD = {
    "post_only": (400, "invalid_request", 900561,
                  "The endpoint only accepts POST requests. Received a "
                  "{method} request.", {}),
    "malformed": (400, "invalid_request", 9002313,
                  "Invalid request. Request is malformed or invalid.", {}),
    "missing": (400, "invalid_request", 900144,
                "The request body must contain the following parameter: "
                "'{param}'.", {}),
    "tenant_not_found": (400, "invalid_request", 90002,
                         "Tenant '{tenant}' not found. This may happen if "
                         "there are no active subscriptions for the tenant. "
                         "Check to make sure you have the correct tenant ID. "
                         "Check with your subscription administrator.", {}),
    "unknown_client": (400, "unauthorized_client", 700016,
                       "Application with identifier '{client_id}' was not "
                       "found in the directory '{tenant}'. This can happen if "
                       "the application has not been installed by the "
                       "administrator of the tenant or consented to by any "
                       "user in the tenant. You may have sent your "
                       "authentication request to the wrong tenant.", {}),
    "bad_secret": (401, "invalid_client", 7000215,
                   "Invalid client secret provided. Ensure the secret being "
                   "sent in the request is the client secret value, not the "
                   "client secret ID, for a secret added to app "
                   "'{client_id}'.", {}),
    "expired_secret": (401, "invalid_client", 7000222,
                       "The provided client secret keys for app "
                       "'{client_id}' are expired. Visit the Azure portal to "
                       "create new keys for your app: "
                       "https://aka.ms/NewClientSecret, or consider using "
                       "certificate credentials for added security: "
                       "https://aka.ms/certCreds.", {}),
    "public_with_secret": (401, "invalid_client", 700025,
                           "Client is public so neither 'client_assertion' "
                           "nor 'client_secret' should be presented.", {}),
    "secret_required": (401, "invalid_client", 7000218,
                        "The request body must contain the following "
                        "parameter: 'client_assertion' or 'client_secret'.",
                        {}),
    "unsupported_grant": (400, "unsupported_grant_type", 70003,
                          "The app requested an unsupported grant type "
                          "'{grant}'.", {}),
    "multi_resource": (400, "invalid_scope", 28000,
                       "Provided value for the input parameter scope is not "
                       "valid because it contains more than one resource. "
                       "Scope {scope} is not valid.", {}),
    "invalid_scope": (400, "invalid_scope", 70011,
                      "The provided value for the input parameter 'scope' "
                      "isn't valid. The scope {scope} isn't valid.", {}),
    "cc_scope": (400, "invalid_scope", 1002012,
                 "The provided value for scope {scope} is not valid. Client "
                 "credential flows must have a scope value with /.default "
                 "suffixed to the resource identifier (application ID URI).",
                 {}),
    "cc_tenant": (400, "invalid_request", 9001023,
                  "The grant type is not supported over the /common or "
                  "/consumers endpoints. Please use the /organizations or "
                  "tenant-specific endpoint.", {}),
    "code_invalid": (400, "invalid_grant", 70000,
                     "The provided value for the 'code' parameter is not "
                     "valid.", {}),
    "code_expired": (400, "invalid_grant", 70000,
                     "The provided value for the 'code' parameter is not "
                     "valid. The code has expired.", {}),
    "code_client": (400, "invalid_grant", 70000,
                    "The provided value for the 'code' parameter is not "
                    "valid. The code was issued to another client.", {}),
    "code_used": (400, "invalid_grant", 54005,
                  "OAuth2 Authorization code was already redeemed, please "
                  "retry with a new valid code or use an existing refresh "
                  "token.", {}),
    "code_tenant": (400, "invalid_grant", 700005,
                    "Provided Authorization Code is intended to use against "
                    "other tenant, thus rejected.", {}),
    "code_redirect": (400, "invalid_grant", 500112,
                      "The reply address '{uri}' does not match the reply "
                      "address '{want}' provided when requesting "
                      "Authorization code.", {}),
    "pkce": (400, "invalid_grant", 501481,
             "The Code_Verifier does not match the code_challenge supplied "
             "in the authorization request.", {}),
    "rt_invalid": (400, "invalid_grant", 9002313,
                   "Invalid request. Request is malformed or invalid.", {}),
    "rt_client": (400, "invalid_grant", 70000,
                  "The provided value for the input parameter "
                  "'refresh_token' or 'assertion' is not valid. The token "
                  "was issued to another client.", {}),
    "rt_used": (400, "invalid_grant", 70000,
                "The provided value for the input parameter 'refresh_token' "
                "or 'assertion' is not valid.", {}),
    "rt_revoked": (400, "invalid_grant", 50173,
                   "The provided grant has expired due to it being revoked, "
                   "a fresh auth token is needed. The user might have changed "
                   "or reset their password. The grant was issued on "
                   "'{issued}' and the TokensValidFrom date (before which "
                   "tokens are not valid) for this user is '{valid_from}'.",
                   {}),
    "rt_inactive": (400, "invalid_grant", 700082,
                    "The refresh token has expired due to inactivity. The "
                    "token was issued on {issued} and was inactive for "
                    "90.00:00:00.", {"suberror": "bad_token"}),
    "consent_required": (400, "invalid_grant", 65001,
                         "The user or administrator has not consented to use "
                         "the application with ID '{client_id}' named "
                         "'{client_name}'. Send an interactive authorization "
                         "request for this user and resource.",
                         {"suberror": "consent_required", "no_uri": True}),
    "device_pending": (400, "authorization_pending", 70016,
                       "OAuth 2.0 device flow error. Authorization is "
                       "pending. Continue polling.", {}),
    "device_slow": (400, "slow_down", 70016,
                    "OAuth 2.0 device flow error. Polling too often: slow "
                    "down and add 5 seconds to the interval.", {}),
    "device_declined": (400, "authorization_declined", 70000,
                        "The user declined the authorization request.", {}),
    "device_expired": (400, "expired_token", 70020,
                       "The provided value for the input parameter "
                       "'device_code' is not valid. This device code has "
                       "expired.", {}),
    "device_bad": (400, "bad_verification_code", 70018,
                   "The provided value for the input parameter 'device_code' "
                   "is not valid.", {}),
    "device_used": (400, "invalid_grant", 70000,
                    "The provided value for the input parameter "
                    "'device_code' is not valid. It was already redeemed.",
                    {}),
    "redirect_mismatch": (400, "invalid_request", 50011,
                          "The redirect URI '{uri}' specified in the request "
                          "does not match the redirect URIs configured for "
                          "the application '{client_id}'. Make sure the "
                          "redirect URI sent in the request matches one added "
                          "to your application in the Azure portal. Navigate "
                          "to https://aka.ms/redirectUriMismatchError to learn "
                          "more about how to fix this.", {}),
    "mfa_required": (400, "invalid_grant", 50076,
                     "Due to a configuration change made by your "
                     "administrator, or because you moved to a new location, "
                     "you must use multi-factor authentication to access "
                     "'" + EXCHANGE_APP_ID + "'.",
                     {"suberror": "basic_action"}),
    "mfa_enroll": (400, "interaction_required", 50079,
                   "The user is required to use multi-factor "
                   "authentication.",
                   {"suberror": "basic_action", "no_uri": True,
                    "claims": '{"access_token":{"capolids":{"essential":true,'
                              '"values":["59866338-815e-41e6-9613-'
                              '0ec6218e5c3d"]}}}'}),
    "inactive_grant": (400, "invalid_grant", 70008,
                       "The provided authorization code or refresh token has "
                       "expired due to inactivity. Send a new interactive "
                       "authorization request for this user and resource.",
                       {}),
    "user_declined": (400, "access_denied", 65004,
                      "User declined to consent to access the app.", {}),
    "unsupported_response_type": (400, "unsupported_response_type", 700054,
                                  "response_type '{response_type}' is not "
                                  "enabled for the application.", {}),
    "bad_challenge_method": (400, "invalid_request", 501491,
                             "Invalid code_challenge_method '{method}'.", {}),
    "unavailable": (503, "temporarily_unavailable", 90033,
                    "A transient error has occurred. Please try again.", {}),
    "server_error": (500, "server_error", 50000,
                     "There was an error issuing a token or an issue with "
                     "our sign-in service.", {}),
    "throttled": (429, "temporarily_unavailable", 90055,
                  "There are too many incoming requests. Please wait and "
                  "try again.", {}),
}

# Forced errors (/_control/error) by AADSTS code or name.
FORCED = {
    "50011": "redirect_mismatch", "50076": "mfa_required",
    "50079": "mfa_enroll", "50173": "rt_revoked",
    "65001": "consent_required", "70000": "rt_used",
    "70008": "inactive_grant", "700016": "unknown_client",
    "700082": "rt_inactive", "7000215": "bad_secret",
    "7000218": "secret_required", "7000222": "expired_secret",
    "90002": "tenant_not_found", "28000": "multi_resource",
    "54005": "code_used", "70011": "invalid_scope",
    "invalid_scope": "invalid_scope", "70016": "device_pending",
    "70020": "device_expired", "9001023": "cc_tenant",
    "700025": "public_with_secret", "501481": "pkce",
    "65004": "user_declined", "access_denied": "user_declined",
    "authorization_declined": "device_declined", "slow_down": "device_slow",
    "9002313": "rt_invalid", "90033": "unavailable", "50000": "server_error",
}

# Google: key -> (status, error, error_description)
GOOGLE = {
    "post_only": (405, "invalid_request", "Method Not Allowed"),
    "malformed": (400, "invalid_request", "Invalid request"),
    "missing": (400, "invalid_request", "Missing required parameter: {param}"),
    "unknown_client": (401, "invalid_client",
                       "The OAuth client was not found."),
    "bad_secret": (401, "invalid_client", "Unauthorized"),
    "expired_secret": (401, "invalid_client", "Unauthorized"),
    "public_with_secret": (401, "invalid_client", "Unauthorized"),
    "secret_required": (400, "invalid_request", "client_secret is missing."),
    "unsupported_grant": (400, "unsupported_grant_type",
                          "Invalid grant_type: {grant}"),
    "code_invalid": (400, "invalid_grant", "Malformed auth code."),
    "code_expired": (400, "invalid_grant", "Bad Request"),
    "code_client": (400, "invalid_grant", "Bad Request"),
    "code_used": (400, "invalid_grant", "Bad Request"),
    "code_redirect": (400, "redirect_uri_mismatch", "Bad Request"),
    "pkce": (400, "invalid_grant", "Invalid code verifier."),
    "rt_invalid": (400, "invalid_grant", "Bad Request"),
    "rt_client": (400, "unauthorized_client", "Unauthorized"),
    "rt_used": (400, "invalid_grant", "Token has been expired or revoked."),
    "rt_revoked": (400, "invalid_grant", "Token has been expired or revoked."),
    "rt_inactive": (400, "invalid_grant",
                    "Token has been expired or revoked."),
    "google_invalid_grant": (400, "invalid_grant",
                             "Token has been expired or revoked."),
    "consent_required": (400, "invalid_scope", "Bad Request"),
    "invalid_scope": (400, "invalid_scope",
                      "Some requested scopes were invalid. {{invalid="
                      "[{scope}]}}"),
    "multi_resource": (400, "invalid_scope", "Bad Request"),
    "device_pending": (428, "authorization_pending", "Precondition Required."),
    "device_slow": (403, "slow_down", "Forbidden."),
    "device_declined": (403, "access_denied", "Forbidden."),
    "device_expired": (400, "expired_token", "Bad Request."),
    "device_bad": (400, "invalid_grant", "Malformed auth code."),
    "device_used": (400, "invalid_grant", "Bad Request"),
    "device_scope": (400, "invalid_scope",
                     "Invalid device flow scope: {scope}"),
    "unavailable": (503, "temporarily_unavailable", "Service Unavailable"),
    "server_error": (500, "internal_failure", "Backend Error"),
    "throttled": (429, "rate_limit_exceeded", "Rate Limit Exceeded"),
}


class OAuthError(Exception):
    """An OAuth error answer: key into AAD / GOOGLE plus text fields."""

    def __init__(self, key, **ctx):
        super().__init__(key)
        self.key = key
        self.ctx = ctx


class Abort(Exception):
    """The connection was dropped on purpose (fault injection)."""


# ---------------------------------------------------------------------------
# Helpers


def now():
    return time.time()


def utc_stamp(t=None):
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(t or now()))


def iso7(t):
    frac = int((t - int(t)) * 10_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%07dZ" % frac


def b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def rand_chars(n, alphabet):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def scope_list(s):
    return [x for x in (s or "").split(" ") if x]


def resource_of(scope):
    """The resource (audience) a scope belongs to; None for OIDC scopes."""
    if scope.lower() in OIDC_SCOPES:
        return None
    if "://" in scope:
        u = urlsplit(scope)
        return ("%s://%s" % (u.scheme, u.netloc)).lower()
    return GRAPH


def tenant_guid(tenant):
    if GUID_RE.match(tenant):
        return tenant.lower()
    if tenant == "consumers":
        return "9188040d-6c67-4c5b-b112-36a304b66dad"
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, tenant.lower()))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return False
    except (OSError, IndexError):
        pass
    return True


# ---------------------------------------------------------------------------
# State


class State:
    """Everything the mock knows.  One lock guards all of it."""

    def __init__(self, args):
        self.lock = threading.RLock()
        self.args = args
        self.config = dict(DEFAULT_CONFIG)
        self.clients = {}
        self.codes = {}
        self.refresh = {}
        self.access = {}
        self.devices = {}
        self.users = {}
        self.revoked_at = {}
        self.issued = {"access_tokens": [], "refresh_tokens": [],
                       "codes": [], "device_codes": [], "client_secrets": [],
                       "id_tokens": [], "code_verifiers": []}
        self.faults = []
        self.forced = []
        self.stats = {}
        self.reset_stats()
        self.log_lock = threading.Lock()
        self.log_file = None
        if args.state_dir:
            os.makedirs(args.state_dir, exist_ok=True)
            self.log_file = open(os.path.join(args.state_dir, "mock.log"),
                                 "a", buffering=1)
        self.issued_file = None
        if args.issued_file:
            fd = os.open(args.issued_file,
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self.issued_file = os.fdopen(fd, "a", buffering=1)
        self.setup_clients(args.client_secret_file)

    # -- logging, secrets -------------------------------------------------

    def log(self, line):
        text = "%s mock_idp[%d]: %s\n" % (
            time.strftime("%H:%M:%S"), os.getpid(), line)
        with self.log_lock:
            out = self.log_file or sys.stderr
            out.write(text)
            out.flush()

    def remember(self, kind, value):
        with self.lock:
            self.issued[kind].append(value)
            if self.issued_file:
                self.issued_file.write(value + "\n")

    def new_secret(self):
        s = rand_chars(3, SECRET_ALPHABET[:62]) + "8Q~" + \
            rand_chars(34, SECRET_ALPHABET)
        return s

    # -- clients -----------------------------------------------------------

    def setup_clients(self, secret_file):
        secret = None
        if secret_file and os.path.exists(secret_file):
            with open(secret_file) as f:
                secret = f.read().strip() or None
        if secret is None:
            secret = self.new_secret()
            if secret_file:
                fd = os.open(secret_file + ".tmp",
                             os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secret + "\n")
                os.rename(secret_file + ".tmp", secret_file)
        loopback = ["http://localhost", "http://127.0.0.1",
                    "https://login.microsoftonline.com/common/oauth2/"
                    "nativeclient"]
        self.set_client({"client_id": PUBLIC_CLIENT,
                         "name": "oauthmail mock public client",
                         "public_flows": True, "secret": None,
                         "redirect_uris": loopback})
        self.set_client({"client_id": CONFIDENTIAL_CLIENT,
                         "name": "oauthmail mock confidential client",
                         "public_flows": False, "secret": secret,
                         "redirect_uris": loopback})
        self.set_client({"client_id": GOOGLE_CLIENT,
                         "name": "oauthmail mock Google client",
                         "public_flows": True, "secret": secret,
                         "redirect_uris": ["http://localhost",
                                           "http://127.0.0.1"],
                         "any_loopback_path": True})

    def set_client(self, spec):
        cid = spec.get("client_id")
        if not isinstance(cid, str) or not cid:
            raise ValueError("client_id missing")
        with self.lock:
            c = self.clients.get(cid, {
                "client_id": cid, "name": "mock app " + cid,
                "public_flows": True, "secret": None,
                "secret_expired": False, "redirect_uris": [
                    "http://localhost", "http://127.0.0.1"],
                "any_loopback_path": False})
            for k, v in spec.items():
                if k not in c:
                    raise ValueError("unknown client field " + k)
                c[k] = v
            if c["secret"] == "":
                c["secret"] = None
            if c["secret"] and c["secret"] not in self.issued[
                    "client_secrets"]:
                self.remember("client_secrets", c["secret"])
            self.clients[cid] = c
            return c

    def public_clients(self):
        with self.lock:
            out = []
            for c in self.clients.values():
                d = {k: v for k, v in c.items() if k != "secret"}
                d["has_secret"] = c["secret"] is not None
                out.append(d)
            return out

    # -- users ---------------------------------------------------------------

    def user(self, name):
        with self.lock:
            u = self.users.get(name.lower())
            if u is None:
                u = {"name": name, "oid": str(uuid.uuid4()),
                     "sub": b64url(secrets.token_bytes(32))}
                self.users[name.lower()] = u
            return u

    # -- stats, faults -------------------------------------------------------

    def reset_stats(self):
        with self.lock:
            self.stats = {"requests": 0, "authorize": 0, "token": 0,
                          "devicecode": 0, "introspect": 0, "revoke": 0,
                          "grant": {}, "token_ok": 0, "token_error": 0,
                          "errors": {}, "faults": 0,
                          "introspect_active": 0, "introspect_inactive": 0}

    def count(self, endpoint, grant=None):
        with self.lock:
            self.stats["requests"] += 1
            self.stats[endpoint] = self.stats.get(endpoint, 0) + 1
            if grant is not None:
                g = self.stats["grant"]
                g[grant] = g.get(grant, 0) + 1

    def count_error(self, code):
        with self.lock:
            e = self.stats["errors"]
            e[str(code)] = e.get(str(code), 0) + 1

    def take(self, queue, endpoint, grant):
        """The first pending fault / forced error matching this request."""
        with self.lock:
            for item in queue:
                if item["endpoint"] not in (endpoint, "any"):
                    continue
                if item.get("grant") and item["grant"] != grant:
                    continue
                item["count"] -= 1
                if item["count"] <= 0:
                    queue.remove(item)
                return dict(item)
        return None

    # -- token minting -------------------------------------------------------

    def mint_access(self, client_id, user, resource, scopes, tid,
                    lifetime=None, app=False, dialect="aad"):
        life = self.config["access_lifetime"] if lifetime is None else lifetime
        t = now()
        if dialect == "google":
            tok = "ya29.a0" + b64url(secrets.token_bytes(150))
        elif self.config["access_token_style"] == "jwt":
            tok = self.jwt_access(client_id, user, resource, scopes, tid, t,
                                  life, app)
        else:
            tok = "EwB" + base64.b64encode(
                secrets.token_bytes(900)).decode("ascii")[:1197]
        with self.lock:
            self.access[tok] = {"client_id": client_id, "user": user,
                                "app": app, "resource": resource,
                                "scope": " ".join(scopes), "iat": int(t),
                                "exp": t + life, "revoked": False}
        self.remember("access_tokens", tok)
        return tok, life

    def jwt_access(self, client_id, user, resource, scopes, tid, t, life,
                   app):
        u = self.user(user) if user else None
        head = {"typ": "JWT", "nonce": b64url(secrets.token_bytes(32)),
                "alg": "RS256", "x5t": "mockx5t", "kid": "mockkid"}
        body = {"aud": resource, "iss": "https://sts.windows.net/%s/" % tid,
                "iat": int(t), "nbf": int(t), "exp": int(t + life),
                "appid": client_id, "appidacr": "1" if app else "0",
                "idtyp": "app" if app else "user",
                "tid": tid, "uti": b64url(secrets.token_bytes(16)),
                "ver": "1.0"}
        if u:
            body.update({"amr": ["pwd"], "name": u["name"],
                         "oid": u["oid"], "scp": " ".join(
                             s.rsplit("/", 1)[-1] for s in scopes),
                         "sub": u["sub"], "unique_name": user, "upn": user})
        body["aio"] = b64url(secrets.token_bytes(60))
        return "%s.%s.%s" % (b64url_json(head), b64url_json(body),
                             b64url(secrets.token_bytes(256)))

    def mint_refresh(self, client_id, user, consented, token_scopes, tid,
                     dialect="aad", family=None):
        if dialect == "google":
            tok = "1//0" + b64url(secrets.token_bytes(75))
        else:
            tok = "0.AYEA" + b64url(secrets.token_bytes(600))[:794]
        with self.lock:
            self.refresh[tok] = {"client_id": client_id, "user": user,
                                 "consented": list(consented),
                                 "token_scopes": list(token_scopes),
                                 "tid": tid, "issued": now(), "used": False,
                                 "revoked": False, "dialect": dialect,
                                 "family": family or str(uuid.uuid4())}
        self.remember("refresh_tokens", tok)
        return tok

    def mint_id_token(self, client_id, user, tid, base, scopes,
                      dialect="aad"):
        """Microsoft v2 (Google) id_token: name, oid and
        preferred_username only with scope profile, email only with
        scope email (as the identity platform does)."""
        u = self.user(user)
        t = int(now())
        asked = {s.lower() for s in scopes}
        if dialect == "google":
            body = {"iss": "https://accounts.google.com", "azp": client_id,
                    "aud": client_id, "sub": u["sub"]}
            if "email" in asked:
                body.update({"email": user, "email_verified": True})
            body.update({"iat": t, "exp": t + 3600})
        else:
            body = {"aud": client_id, "iss": "%s/%s/v2.0" % (base, tid),
                    "iat": t, "nbf": t, "exp": t + 3600}
            if "email" in asked:
                body["email"] = user
            if "profile" in asked:
                body.update({"name": u["name"], "oid": u["oid"],
                             "preferred_username": user})
            body.update({"sub": u["sub"], "tid": tid, "ver": "2.0"})
        tok = "%s.%s.%s" % (b64url_json({"typ": "JWT", "alg": "RS256",
                                         "kid": "mockkid"}),
                            b64url_json(body),
                            b64url(secrets.token_bytes(256)))
        self.remember("id_tokens", tok)
        return tok


# ---------------------------------------------------------------------------
# Scope logic


def token_scopes(requested, consented, strict, client_id, client_name,
                 allow_default=True):
    """Check the scopes asked for at /token; return (resource, scopes)."""
    res = []
    for s in requested:
        r = resource_of(s)
        if r and r not in res:
            res.append(r)
    if len(res) > 1:
        raise OAuthError("multi_resource", scope=" ".join(requested))
    resource = res[0] if res else None
    defaults = [s for s in requested if s.endswith("/.default")]
    if defaults and (len([s for s in requested if resource_of(s)]) > 1
                     or not allow_default):
        raise OAuthError("invalid_scope", scope=" ".join(requested))
    low = {c.lower() for c in consented}
    out = []
    for s in requested:
        if resource_of(s) is None:
            continue
        if s.endswith("/.default"):
            out.extend(c for c in consented if resource_of(c) == resource)
            continue
        if strict and s.lower() not in low:
            raise OAuthError("consent_required", client_id=client_id,
                             client_name=client_name)
        out.append(s)
    if resource is None:
        resource = GRAPH
        out = [c for c in consented if resource_of(c) == GRAPH] or \
            ["User.Read"]
    oidc = [s for s in requested if s.lower() in ("openid", "profile",
                                                  "email")]
    return resource, out + oidc


# ---------------------------------------------------------------------------
# HTTP


AAD_HEADERS = [
    ("Cache-Control", "no-store, no-cache"),
    ("Pragma", "no-cache"),
    ("Content-Type", "application/json; charset=utf-8"),
    ("Expires", "-1"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("P3P", 'CP="DSP CUR OTPi IND OTRi ONL FIN"'),
]

ENDPOINT_RE = re.compile(r"^/([^/]+)/oauth2/v2\.0/(authorize|token|devicecode)$")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (Abort, ConnectionError, BrokenPipeError)):
            return
        self.st.log("internal error: %s" % type(exc).__name__)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "mock-idp"
    timeout = 120

    # -- plumbing ------------------------------------------------------------

    @property
    def st(self):
        return self.server.st

    def log_request(self, code="-", size="-"):
        path = urlsplit(self.path).path
        note = getattr(self, "note", "")
        self.st.log("%s %s -> %s%s" % (self.command, path, code,
                                      " " + note if note else ""))

    def log_message(self, fmt, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (Abort, ConnectionError, OSError, ValueError):
            self.close_connection = True

    def base_url(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def send_body(self, status, body, headers, ctype=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        hdr = list(AAD_HEADERS) + [
            ("x-ms-request-id", str(uuid.uuid4())),
            ("x-ms-ests-server", "2.1.17000.0 - mock ProdSlices")]
        self.send_body(status, compact(obj), hdr + list(extra))

    def send_html(self, status, text, extra=()):
        self.send_body(status, text, [("Cache-Control", "no-store, no-cache"),
                                      ("Pragma", "no-cache")] + list(extra),
                       "text/html; charset=utf-8")

    def send_plain(self, status, text):
        self.send_body(status, text, [("Cache-Control", "no-store")],
                       "text/plain; charset=utf-8")

    def redirect(self, location):
        self.send_body(302, "", [("Location", location),
                                 ("Cache-Control", "no-store, no-cache")],
                       "text/html; charset=utf-8")

    def read_body(self):
        n = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            raise OAuthError("malformed")
        try:
            n = int(n or "0")
        except ValueError:
            raise OAuthError("malformed")
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            raise OAuthError("malformed")
        return self.rfile.read(n) if n else b""

    def read_form(self):
        """The form body as a dict.  Strict: ASCII, no duplicates."""
        body = self.read_body()
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/x-www-form-urlencoded":
            return {}
        return parse_form(body)

    # -- error answers -------------------------------------------------------

    def aad_error_body(self, key, ctx):
        status, error, code, text, extra = AAD[key] if key in AAD \
            else ctx["_spec"]
        trace, corr, stamp = str(uuid.uuid4()), str(uuid.uuid4()), \
            utc_stamp()
        fields = dict(ctx)
        fields.setdefault("method", self.command)
        try:
            text = text.format(**fields)
        except (KeyError, IndexError):
            text = re.sub(r"\{[a-z_]+\}", "", text)
        desc = "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n" \
               "Timestamp: %s" % (code, text, trace, corr, stamp)
        body = {"error": error, "error_description": desc,
                "error_codes": [code], "timestamp": stamp,
                "trace_id": trace, "correlation_id": corr}
        if not extra.get("no_uri"):
            body["error_uri"] = \
                "https://login.microsoftonline.com/error?code=%d" % code
        for k in ("suberror", "claims"):
            if k in extra:
                body[k] = extra[k]
        return status, body, code

    def send_error_answer(self, dialect, err):
        key = err.key
        if dialect == "google" or key == "google_invalid_grant":
            g = GOOGLE.get(key) or GOOGLE["malformed"]
            status, error, desc = g
            try:
                desc = desc.format(**err.ctx)
            except (KeyError, IndexError):
                pass
            self.st.count_error(error)
            self.note += " error=%s" % error
            self.send_json(status, {"error": error,
                                    "error_description": desc})
            return
        status, body, code = self.aad_error_body(key, err.ctx)
        self.st.count_error(code)
        self.note += " AADSTS%d" % code
        extra = []
        if status == 429 or status == 503:
            extra.append(("Retry-After", str(err.ctx.get("retry_after", 1))))
        self.send_json(status, body, extra)

    def aad_error_page(self, key, ctx):
        status, body, code = self.aad_error_body(key, ctx)
        self.st.count_error(code)
        self.note += " AADSTS%d page" % code
        msg = html.escape(body["error_description"].split("\r\n")[0],
                          quote=False)
        page = (
            "<!DOCTYPE html>\n<html dir=\"ltr\" lang=\"en\"><head>"
            "<title>Sign in to your account</title></head>\n<body>"
            "<div id=\"error\"><h1>Sign in</h1>"
            "<p>Sorry, but we\u2019re having trouble signing you in.</p>"
            "<p id=\"message\">%s</p>\n<table>"
            "<tr><td>Request Id:</td><td>%s</td></tr>"
            "<tr><td>Correlation Id:</td><td>%s</td></tr>"
            "<tr><td>Timestamp:</td><td>%s</td></tr>"
            "<tr><td>Message:</td><td>%s</td></tr></table></div>"
            "</body></html>\n" % (msg, body["trace_id"],
                                  body["correlation_id"], body["timestamp"],
                                  msg))
        self.send_html(200, page)

    # -- fault injection -----------------------------------------------------

    def apply_fault(self, endpoint, grant, dialect="aad"):
        """Run a pending /_control/fail fault; True if it answered."""
        f = self.st.take(self.st.faults, endpoint, grant)
        if f is None:
            return False
        with self.st.lock:
            self.st.stats["faults"] += 1
        kind = str(f["kind"])
        self.note += " fault=%s" % kind
        if kind == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.log_request("RST")
            raise Abort()
        if kind == "close":
            self.close_connection = True
            self.log_request("closed")
            raise Abort()
        if kind == "delay":
            time.sleep(float(f.get("seconds", 30)))
            self.close_connection = True
            self.send_html(504, "<html><body><h1>504 Gateway Time-out</h1>"
                           "</body></html>\n")
            return True
        if kind == "delay_process":
            time.sleep(float(f.get("seconds", 30)))
            return False
        if kind == "empty_scope":
            self.empty_scope = True  # processed; the answer's scope is ""
            return False
        if kind == "garbage":
            self.send_body(200, b'{"token_type":"Bearer","expires_in":35'
                           b'\x00\xff\xfe<<garbage' +
                           secrets.token_hex(8).encode() + b'\n',
                           AAD_HEADERS)
            return True
        if kind == "empty":
            self.send_body(200, b"", AAD_HEADERS)
            return True
        if kind == "html":
            status = int(f.get("status", 500))
            self.send_html(status, "<!DOCTYPE html><html><head><title>"
                           "Service Unavailable</title></head><body><h2>"
                           "Our services aren't available right now</h2>"
                           "<p>We're working to restore all services as soon"
                           " as possible. Please check back soon.</p>"
                           "</body></html>\n")
            return True
        if kind == "big":
            size = int(f.get("size", 10 * 1024 * 1024))
            head = b'{"token_type":"Bearer","padding":"'
            tail = b'"}'
            fill = max(0, size - len(head) - len(tail))
            self.send_body(200, head + b"x" * fill + tail, AAD_HEADERS)
            return True
        if kind in ("503", "500", "429", "502", "504"):
            retry = f.get("retry_after", 1)
            key = {"503": "unavailable", "500": "server_error",
                   "429": "throttled"}.get(kind)
            if key is None:
                self.send_html(int(kind), "<html><body><h1>%s Bad Gateway"
                               "</h1></body></html>\n" % kind)
                return True
            err = OAuthError(key, retry_after=retry)
            if endpoint == "authorize":
                self.send_html(int(kind), "<html><body>%s</body></html>\n"
                               % kind, [("Retry-After", str(retry))])
            else:
                self.send_error_answer(dialect, err)
            return True
        self.send_plain(500, "unknown fault kind\n")
        return True

    def forced_error(self, endpoint, grant):
        f = self.st.take(self.st.forced, endpoint, grant)
        if f is None:
            return None
        code = str(f["code"])
        self.note += " forced=%s" % code
        if code in ("google", "google_invalid_grant"):
            return OAuthError("google_invalid_grant")
        if code == "custom":
            return f
        return OAuthError(FORCED[code], **f.get("ctx", {}))

    # -- routing -------------------------------------------------------------

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def route(self):
        self.note = ""
        u = urlsplit(self.path)
        path = u.path
        try:
            if path.startswith("/_control/"):
                return self.control(path[len("/_control/"):], u.query)
            if path in ("/introspect", "/userinfo"):
                return self.introspect(u.query)
            if path in ("/o/oauth2/v2/auth", "/o/oauth2/auth"):
                return self.authorize("google", None, u.query)
            if path in ("/token", "/o/oauth2/token"):
                return self.token("google", None)
            if path == "/device/code":
                return self.devicecode("google", None)
            if path == "/revoke":
                return self.google_revoke(u.query)
            m = ENDPOINT_RE.match(path)
            if m:
                tenant = unquote(m.group(1))
                if m.group(2) == "authorize":
                    return self.authorize("aad", tenant, u.query)
                if m.group(2) == "token":
                    return self.token("aad", tenant)
                return self.devicecode("aad", tenant)
            self.send_json(404, {"error": "not_found",
                                 "error_description": "no such endpoint"})
        except Abort:
            raise
        except (BrokenPipeError, ConnectionError):
            self.close_connection = True
        except Exception as e:  # never leak details, never die
            self.st.log("internal error on %s: %s" % (path, type(e).__name__))
            for line in traceback.format_exc().splitlines()[-3:]:
                self.st.log("  " + line[:200])
            self.close_connection = True
            try:
                self.send_plain(500, "mock internal error\n")
            except OSError:
                pass

    def check_tenant(self, tenant):
        t = tenant.lower()
        if t in [x.lower() for x in self.st.config["unknown_tenants"]]:
            raise OAuthError("tenant_not_found", tenant=tenant)
        if t in GENERIC_TENANTS or GUID_RE.match(t) or DOMAIN_RE.match(t):
            return
        raise OAuthError("tenant_not_found", tenant=tenant)

    # -- /authorize ------------------------------------------------------------

    def authorize(self, dialect, tenant, query):
        st = self.st
        st.count("authorize")
        q = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            q.setdefault(k, v)
        if self.command == "POST":
            try:
                for k, v in self.read_form().items():
                    q.setdefault(k, v)
            except OAuthError:
                pass
        self.note = "client=%s" % q.get("client_id", "-")[:64]
        if self.apply_fault("authorize", None, dialect):
            return
        try:
            client, redirect = self.authorize_checks(dialect, tenant, q)
        except OAuthError as e:
            if dialect == "google":
                return self.google_error_page(e)
            return self.aad_error_page(e.key, e.ctx)
        state = q.get("state")
        forced = self.forced_error("authorize", None)
        try:
            if forced is not None:
                if isinstance(forced, dict):
                    forced = OAuthError("user_declined")
                if forced.key == "redirect_mismatch":
                    forced.ctx.update(uri=redirect,
                                      client_id=client["client_id"])
                    return self.aad_error_page(forced.key, forced.ctx)
                raise forced
            self.authorize_params(dialect, q)
            if st.config["authorize_deny"]:
                raise OAuthError("user_declined")
        except OAuthError as e:
            return self.authorize_error_redirect(dialect, e, redirect, state,
                                                 q)
        self.authorize_grant(dialect, tenant, client, redirect, q)

    def authorize_checks(self, dialect, tenant, q):
        if dialect == "aad":
            self.check_tenant(tenant)
        cid = q.get("client_id")
        if not cid:
            raise OAuthError("missing", param="client_id")
        client = self.st.clients.get(cid)
        if client is None:
            raise OAuthError("unknown_client", client_id=cid,
                             tenant=tenant or "google")
        redirect = q.get("redirect_uri")
        if not redirect:
            raise OAuthError("missing", param="redirect_uri")
        if not redirect_ok(client, redirect):
            raise OAuthError("redirect_mismatch", uri=redirect,
                             client_id=cid)
        return client, redirect

    def authorize_params(self, dialect, q):
        rt = q.get("response_type", "")
        if "code" not in rt.split(" "):
            raise OAuthError("unsupported_response_type", response_type=rt)
        if not q.get("scope"):
            raise OAuthError("missing", param="scope")
        method = q.get("code_challenge_method")
        if method and method not in ("S256", "plain"):
            raise OAuthError("bad_challenge_method", method=method)

    def authorize_error_redirect(self, dialect, err, redirect, state, q):
        params = []
        if dialect == "google":
            g = GOOGLE.get(err.key, (400, "access_denied", ""))
            error = "access_denied" if err.key == "user_declined" else g[1]
            params.append(("error", error))
            self.st.count_error(error)
            self.note += " error=%s" % error
        else:
            status, body, code = self.aad_error_body(err.key, err.ctx)
            self.st.count_error(code)
            self.note += " AADSTS%d redirect" % code
            params += [("error", body["error"]),
                       ("error_description", body["error_description"])]
        if state is not None:
            params.append(("state", state))
        self.redirect(add_query(redirect, params,
                                q.get("response_mode", "query")))

    def authorize_grant(self, dialect, tenant, client, redirect, q):
        st = self.st
        user = st.config["signin_user"] or q.get("login_hint") or \
            st.config["default_user"]
        challenge = q.get("code_challenge")
        method = q.get("code_challenge_method") or (
            "plain" if challenge else None)
        if dialect == "google":
            code = "4/0A" + b64url(secrets.token_bytes(60))
        else:
            code = "0.AXEA" + b64url(secrets.token_bytes(600))[:744]
        scopes = scope_list(q.get("scope"))
        with st.lock:
            st.codes[code] = {
                "client_id": client["client_id"], "redirect_uri": redirect,
                "scopes": scopes, "user": user, "challenge": challenge,
                "method": method, "issued": now(), "used": False,
                "tenant": tenant, "dialect": dialect,
                "offline": (dialect == "aad" and any(
                    s.lower() == "offline_access" for s in scopes)) or (
                    dialect == "google" and
                    q.get("access_type") == "offline")}
        st.remember("codes", code)
        self.note += " user=%s" % user
        if dialect == "google":
            params = [("state", q["state"])] if "state" in q else []
            params += [("code", code), ("scope", " ".join(scopes)),
                       ("authuser", "0"), ("prompt", "consent")]
        else:
            params = [("code", code)]
            if "state" in q:
                params.append(("state", q["state"]))
            params.append(("session_state", str(uuid.uuid4())))
        mode = q.get("response_mode", "query")
        if mode == "form_post":
            inputs = "".join(
                '<input type="hidden" name="%s" value="%s"/>' %
                (html.escape(k), html.escape(v)) for k, v in params)
            return self.send_html(200, (
                '<html><head><title>Working...</title></head><body>'
                '<form method="POST" name="hiddenform" action="%s">%s'
                '<noscript><p>Script is disabled. Click Submit to continue.'
                '</p><input type="submit" value="Submit" /></noscript>'
                '</form><script>document.forms[0].submit();</script>'
                '</body></html>') % (html.escape(redirect), inputs))
        self.redirect(add_query(redirect, params, mode))

    def google_error_page(self, err):
        kind = {"redirect_mismatch": "redirect_uri_mismatch",
                "unknown_client": "invalid_client"}.get(err.key,
                                                         "invalid_request")
        self.st.count_error(kind)
        self.note += " error=%s page" % kind
        status = 401 if kind == "invalid_client" else 400
        self.send_html(status, (
            "<!DOCTYPE html><html lang=\"en\"><head><title>Error %d (%s)!!1"
            "</title></head><body><p><b>Access blocked: This app\u2019s "
            "request is invalid</b></p><p>Error %d: %s</p></body></html>\n")
            % (status, kind, status, kind))

    # -- /token ----------------------------------------------------------------

    def token(self, dialect, tenant):
        st = self.st
        try:
            if self.command != "POST":
                self.read_body()
                raise OAuthError("post_only")
            form = self.read_form()
        except OAuthError as e:
            st.count("token")
            with st.lock:
                st.stats["token_error"] += 1
            return self.send_error_answer(dialect, e)
        grant = form.get("grant_type", "")
        gkey = "device_code" if grant == DEVICE_GRANT else grant
        st.count("token", gkey or "none")
        self.note = "grant=%s client=%s" % (gkey or "-",
                                             form.get("client_id", "-")[:64])
        self.empty_scope = False
        if self.apply_fault("token", gkey, dialect):
            return
        try:
            if dialect == "aad":
                self.check_tenant(tenant)
            forced = self.forced_error("token", gkey)
            if isinstance(forced, dict):
                return self.send_custom_error(forced)
            if forced is not None:
                forced.ctx = self.forced_ctx(form, tenant, forced.ctx)
                raise forced
            body = self.token_grant(dialect, tenant, form, grant)
        except OAuthError as e:
            with st.lock:
                st.stats["token_error"] += 1
            return self.send_error_answer(dialect, e)
        with st.lock:
            st.stats["token_ok"] += 1
        if self.empty_scope and "scope" in body:
            body["scope"] = ""
        self.send_json(200, body)

    def forced_ctx(self, form, tenant, ctx):
        t = now()
        out = {"client_id": form.get("client_id", PUBLIC_CLIENT),
               "client_name": "oauthmail mock app",
               "tenant": tenant or "common",
               "uri": form.get("redirect_uri", "http://localhost/"),
               "scope": form.get("scope", ""),
               "grant": form.get("grant_type", ""),
               "issued": iso7(t - 91 * 86400),
               "valid_from": iso7(t - 3600)}
        out.update(ctx)
        return out

    def send_custom_error(self, f):
        spec = (int(f.get("status", 400)), str(f.get("error", "invalid_grant")),
                int(f.get("aadsts", 50000)),
                str(f.get("text", "Custom mock error.")), {})
        with self.st.lock:
            self.st.stats["token_error"] += 1
        self.send_error_answer("aad", OAuthError("_custom", _spec=spec))

    def token_grant(self, dialect, tenant, form, grant):
        if not grant:
            raise OAuthError("missing", param="grant_type")
        if grant == "client_credentials" and dialect == "aad" and \
                tenant.lower() in GENERIC_TENANTS:
            raise OAuthError("cc_tenant")
        known = ("authorization_code", "refresh_token", DEVICE_GRANT) + (
            ("client_credentials",) if dialect == "aad" else ())
        client = self.client_auth(dialect, tenant, form, grant)
        if grant not in known:
            raise OAuthError("unsupported_grant", grant=grant)
        if grant == "authorization_code":
            return self.grant_code(dialect, tenant, form, client)
        if grant == "refresh_token":
            return self.grant_refresh(dialect, tenant, form, client)
        if grant == DEVICE_GRANT:
            return self.grant_device(dialect, tenant, form, client)
        return self.grant_client_credentials(tenant, form, client)

    def client_auth(self, dialect, tenant, form, grant):
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True)
                bid, bsec = raw.decode("utf-8").split(":", 1)
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("malformed")
            bid, bsec = unquote(bid.replace("+", " ")), \
                unquote(bsec.replace("+", " "))
            if (cid and cid != bid) or secret:
                raise OAuthError("malformed")
            cid, secret = bid, bsec
        if not cid:
            raise OAuthError("missing", param="client_id")
        client = self.st.clients.get(cid)
        if client is None:
            raise OAuthError("unknown_client", client_id=cid,
                             tenant=tenant or "google")
        if "client_assertion" in form:
            raise OAuthError("malformed")
        if secret:
            if client["secret"] is None:
                raise OAuthError("public_with_secret")
            if not secrets.compare_digest(secret.encode(),
                                          client["secret"].encode()):
                raise OAuthError("bad_secret", client_id=cid)
            if client["secret_expired"] or \
                    self.st.config["client_secret_expired"]:
                raise OAuthError("expired_secret", client_id=cid)
        elif grant == "client_credentials" or not client["public_flows"] or \
                (dialect == "google" and client["secret"]):
            raise OAuthError("secret_required")
        return client

    def need(self, form, name):
        v = form.get(name)
        if not v:
            raise OAuthError("missing", param=name)
        return v

    def grant_code(self, dialect, tenant, form, client):
        st = self.st
        code = self.need(form, "code")
        redirect = self.need(form, "redirect_uri")
        with st.lock:
            rec = st.codes.get(code)
            if rec is None or rec["dialect"] != dialect:
                raise OAuthError("code_invalid")
            if rec["client_id"] != client["client_id"]:
                raise OAuthError("code_client")
            if rec["used"]:
                raise OAuthError("code_used")
            if now() > rec["issued"] + st.config["code_lifetime"]:
                raise OAuthError("code_expired")
            if dialect == "aad" and rec["tenant"].lower() != tenant.lower():
                raise OAuthError("code_tenant")
            if redirect != rec["redirect_uri"]:
                raise OAuthError("code_redirect", uri=redirect,
                                 want=rec["redirect_uri"])
            self.check_pkce(rec, form.get("code_verifier"))
            requested = scope_list(form.get("scope")) or rec["scopes"]
            resource, scopes = self.scopes_for(dialect, requested,
                                               rec["scopes"], client)
            rec["used"] = True
        self.note += " user=%s" % rec["user"]
        return self.issue(dialect, client, rec["user"], tenant, rec["scopes"],
                          resource, scopes, rec["offline"],
                          "openid" in [s.lower() for s in rec["scopes"]])

    def scopes_for(self, dialect, requested, consented, client):
        """(resource, scopes) of the token to issue.  Microsoft: one
        resource per token, consent checked; Google: as asked."""
        if dialect == "google":
            return "https://mail.google.com", list(requested)
        return token_scopes(requested, consented,
                            self.st.config["strict_consent"],
                            client["client_id"], client["name"])

    def check_pkce(self, rec, verifier):
        if verifier:
            self.st.remember("code_verifiers", verifier)
        if not rec["challenge"]:
            return
        if not verifier:
            raise OAuthError("pkce")
        if rec["method"] == "S256":
            calc = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        else:
            calc = verifier
        if not secrets.compare_digest(calc.encode(),
                                      rec["challenge"].encode()):
            raise OAuthError("pkce")

    def grant_refresh(self, dialect, tenant, form, client):
        st = self.st
        rt = self.need(form, "refresh_token")
        with st.lock:
            rec = st.refresh.get(rt)
            if rec is None or rec["dialect"] != dialect:
                raise OAuthError("rt_invalid")
            if rec["client_id"] != client["client_id"]:
                raise OAuthError("rt_client")
            if rec["revoked"]:
                raise OAuthError(
                    "rt_revoked", issued=iso7(rec["issued"]),
                    valid_from=iso7(st.revoked_at.get(rec["user"].lower(),
                                                      now())))
            if rec["used"] and st.config["invalidate_used_refresh_tokens"]:
                raise OAuthError("rt_used")
            if now() - rec["issued"] > st.config["refresh_lifetime"]:
                raise OAuthError("rt_inactive", issued=iso7(rec["issued"]))
            requested = scope_list(form.get("scope")) or rec["token_scopes"]
            resource, scopes = self.scopes_for(dialect, requested,
                                               rec["consented"], client)
            rotate = st.config["rotate_refresh_tokens"] if dialect == "aad" \
                else st.config["google_rotate_refresh_tokens"]
            rec["used"] = rec["used"] or rotate
        self.note += " user=%s" % rec["user"]
        want_id = "openid" in [s.lower() for s in requested]
        return self.issue(dialect, client, rec["user"], tenant,
                          rec["consented"], resource, scopes, True, want_id,
                          family=rec["family"],
                          reuse_refresh=None if rotate else rt)

    def grant_device(self, dialect, tenant, form, client):
        st = self.st
        dc = self.need(form, "device_code")
        with st.lock:
            rec = st.devices.get(dc)
            if rec is None or rec["client_id"] != client["client_id"] or \
                    rec["dialect"] != dialect:
                raise OAuthError("device_bad")
            self.device_state(rec)
            rec["redeemed"] = True
        self.note += " user=%s" % rec["user"]
        resource, scopes = self.scopes_for(dialect, rec["scopes"],
                                           rec["scopes"], client)
        return self.issue(dialect, client, rec["user"], tenant,
                          rec["scopes"], resource, scopes,
                          any(s.lower() == "offline_access"
                              for s in rec["scopes"]) or dialect == "google",
                          "openid" in [s.lower() for s in rec["scopes"]])

    def device_state(self, rec):
        """Decide one device-code poll; raises unless it succeeds."""
        st, cfg, t = self.st, self.st.config, now()
        if rec["redeemed"]:
            raise OAuthError("device_used")
        if rec["status"] == "denied":
            raise OAuthError("device_declined")
        if rec["status"] == "expired" or t > rec["issued"] + rec["expires_in"]:
            raise OAuthError("device_expired")
        if cfg["device_slow_down"] > 0:
            cfg["device_slow_down"] -= 1
            rec["last_poll"] = t
            raise OAuthError("device_slow")
        if cfg["device_enforce_interval"] and rec["last_poll"] and \
                t - rec["last_poll"] < rec["interval"]:
            rec["last_poll"] = t
            raise OAuthError("device_slow")
        rec["last_poll"] = t
        if rec["status"] == "pending" and cfg["device_auto_approve"] and \
                rec["polls"] >= cfg["device_pending_polls"]:
            outcome = cfg["device_outcome"]
            if outcome == "approve":
                rec["status"] = "approved"
            elif outcome == "decline":
                rec["status"] = "denied"
                raise OAuthError("device_declined")
            elif outcome == "expire":
                rec["status"] = "expired"
                raise OAuthError("device_expired")
        if rec["status"] != "approved":
            rec["polls"] += 1
            raise OAuthError("device_pending")

    def grant_client_credentials(self, tenant, form, client):
        scope = self.need(form, "scope")
        scopes = scope_list(scope)
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise OAuthError("cc_scope", scope=scope)
        resource = resource_of(scopes[0])
        tid = tenant_guid(tenant)
        tok, life = self.st.mint_access(client["client_id"], None, resource,
                                        scopes, tid, app=True)
        ext = self.st.config["ext_expires_in"]
        return {"token_type": "Bearer", "expires_in": int(life),
                "ext_expires_in": int(life if ext is None else ext),
                "access_token": tok}

    def issue(self, dialect, client, user, tenant, consented, resource,
              scopes, offline, want_id, family=None, reuse_refresh=None):
        st = self.st
        cid = client["client_id"]
        tid = tenant_guid(tenant or "google")
        at, life = st.mint_access(cid, user, resource, scopes, tid,
                                  dialect=dialect)
        rt = None
        if offline:
            if dialect == "google" and family is not None and \
                    not st.config["google_rotate_refresh_tokens"]:
                rt = None
            else:
                rt = reuse_refresh or st.mint_refresh(
                    cid, user, consented, scopes, tid, dialect, family)
        idt = st.mint_id_token(cid, user, tid, self.base_url(), consented,
                               dialect) \
            if want_id and st.config["id_token"] else None
        if dialect == "google":
            body = {"access_token": at, "expires_in": int(life)}
            if rt:
                body["refresh_token"] = rt
            body["scope"] = " ".join(consented)
            body["token_type"] = "Bearer"
            if idt:
                body["id_token"] = idt
            return body
        ext = st.config["ext_expires_in"]
        body = {"token_type": "Bearer", "scope": " ".join(scopes),
                "expires_in": int(life),
                "ext_expires_in": int(life if ext is None else ext),
                "access_token": at}
        if rt:
            body["refresh_token"] = rt
        if idt:
            body["id_token"] = idt
        return body

    # -- /devicecode -----------------------------------------------------------

    def devicecode(self, dialect, tenant):
        st = self.st
        try:
            if self.command != "POST":
                self.read_body()
                raise OAuthError("post_only")
            form = self.read_form()
        except OAuthError as e:
            st.count("devicecode")
            return self.send_error_answer(dialect, e)
        st.count("devicecode")
        self.note = "client=%s" % form.get("client_id", "-")[:64]
        if self.apply_fault("devicecode", None, dialect):
            return
        try:
            if dialect == "aad":
                self.check_tenant(tenant)
            forced = self.forced_error("devicecode", None)
            if isinstance(forced, dict):
                return self.send_custom_error(forced)
            if forced is not None:
                forced.ctx = self.forced_ctx(form, tenant, forced.ctx)
                raise forced
            body = self.device_start(dialect, tenant, form)
        except OAuthError as e:
            return self.send_error_answer(dialect, e)
        self.send_json(200, body)

    def device_start(self, dialect, tenant, form):
        st, cfg = self.st, self.st.config
        cid = self.need(form, "client_id")
        client = st.clients.get(cid)
        if client is None:
            raise OAuthError("unknown_client", client_id=cid,
                             tenant=tenant or "google")
        scope = self.need(form, "scope")
        scopes = scope_list(scope)
        if dialect == "google" and not cfg["google_device_any_scope"]:
            bad = [s for s in scopes if s not in GOOGLE_DEVICE_SCOPES]
            if bad:
                raise OAuthError("device_scope", scope=" ".join(bad))
        if dialect == "google":
            dc = "AH-1Ng" + b64url(secrets.token_bytes(100))
            uc = rand_chars(4, USER_CODE_ALPHABET) + "-" + \
                rand_chars(4, USER_CODE_ALPHABET)
            expires = 1800
        else:
            dc = "DAQABIQEAAAB" + b64url(secrets.token_bytes(220))
            uc = rand_chars(9, USER_CODE_ALPHABET)
            expires = cfg["device_expires_in"]
        interval = cfg["device_interval"]
        with st.lock:
            st.devices[dc] = {"client_id": cid, "scopes": scopes,
                              "user_code": uc, "issued": now(),
                              "expires_in": expires, "interval": interval,
                              "polls": 0, "last_poll": None,
                              "status": "pending", "redeemed": False,
                              "user": cfg["signin_user"] or
                              cfg["default_user"],
                              "dialect": dialect}
        st.remember("device_codes", dc)
        if dialect == "google":
            return {"device_code": dc, "user_code": uc,
                    "verification_url": "https://www.google.com/device",
                    "expires_in": expires, "interval": interval}
        uri = cfg["verification_uri"]
        return {"user_code": uc, "device_code": dc, "verification_uri": uri,
                "expires_in": expires, "interval": interval,
                "message": "To sign in, use a web browser to open the page "
                           "%s and enter the code %s to authenticate." %
                           (uri, uc)}

    # -- /introspect, /revoke -------------------------------------------------

    def introspect(self, query):
        st = self.st
        token = None
        try:
            if self.command == "POST":
                token = self.read_form().get("token")
        except OAuthError:
            token = None
        if not token:
            token = dict(parse_qsl(query)).get("token")
        auth = self.headers.get("Authorization") or ""
        if not token and auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        st.count("introspect")
        if self.apply_fault("introspect", None):
            return
        with st.lock:
            rec = st.access.get(token or "")
            live = rec is not None and not rec["revoked"] and \
                now() < rec["exp"]
            st.stats["introspect_active" if live else
                     "introspect_inactive"] += 1
        if not live:
            self.note = "active=false"
            return self.send_json(200, {"active": False})
        user = st.config["app_mailbox"] if rec["app"] else rec["user"]
        u = st.user(user)
        self.note = "active=true user=%s" % user
        self.send_json(200, {"active": True, "email": user,
                             "sub": u["sub"], "exp": int(rec["exp"]),
                             "iat": rec["iat"], "client_id": rec["client_id"],
                             "scope": rec["scope"], "aud": rec["resource"],
                             "token_type": "Bearer", "username": user})

    def google_revoke(self, query):
        st = self.st
        st.count("revoke")
        try:
            token = self.read_form().get("token") if self.command == "POST" \
                else None
        except OAuthError:
            token = None
        token = token or dict(parse_qsl(query)).get("token")
        with st.lock:
            rec = st.refresh.get(token or "")
            if rec:
                for r in st.refresh.values():
                    if r["family"] == rec["family"]:
                        r["revoked"] = True
            elif token in st.access:
                st.access[token]["revoked"] = True
            else:
                return self.send_json(400, {
                    "error": "invalid_token",
                    "error_description": "Token expired or revoked"})
        self.send_json(200, {})

    # -- /_control -----------------------------------------------------------

    def control(self, name, query):
        try:
            raw = self.read_body()
            spec = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            if not isinstance(spec, dict):
                raise ValueError("JSON object expected")
        except (ValueError, OAuthError) as e:
            return self.send_control(400, {"ok": False,
                                           "error": "bad JSON: %s" % e})
        fn = CONTROL.get(name)
        if fn is None:
            return self.send_control(404, {"ok": False,
                                           "error": "no control " + name})
        self.note = ""
        try:
            out = fn(self, spec, dict(parse_qsl(query)))
        except (ValueError, KeyError, TypeError) as e:
            return self.send_control(400, {"ok": False, "error": str(e)})
        except OAuthError as e:
            return self.send_control(400, {"ok": False, "error": e.key})
        if isinstance(out, str):
            return self.send_plain(200, out)
        self.send_control(200, out)
        if name == "shutdown":
            self.wfile.flush()
            threading.Thread(target=self.server.shutdown,
                             daemon=True).start()

    def send_control(self, status, obj):
        self.send_body(status, json.dumps(obj, indent=None) + "\n",
                       [("Cache-Control", "no-store")],
                       "application/json; charset=utf-8")


def parse_form(body):
    """application/x-www-form-urlencoded -> dict.  Raises OAuthError on
    non-ASCII bytes (an unencoded body), a field without '=', a bad
    %-escape and a repeated field.  Empty fields ("a=1&&b=2") are skipped."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise OAuthError("malformed")
    form = {}
    for field in text.split("&"):
        if not field:
            continue
        if "=" not in field or re.search(r"%(?![0-9A-Fa-f]{2})", field):
            raise OAuthError("malformed")
        k, v = field.split("=", 1)
        try:
            k = unquote_plus(k, errors="strict")
            v = unquote_plus(v, errors="strict")
        except UnicodeDecodeError:
            raise OAuthError("malformed")
        if k in form:
            raise OAuthError("malformed")
        form[k] = v
    return form


def redirect_ok(client, uri):
    try:
        u = urlsplit(uri)
        uport = u.port
    except ValueError:
        return False
    if u.fragment or not u.scheme or not u.hostname:
        return False
    for reg in client["redirect_uris"]:
        r = urlsplit(reg)
        if r.scheme.lower() != u.scheme.lower() or \
                (r.hostname or "").lower() != u.hostname.lower():
            continue
        loop = r.scheme.lower() == "http" and \
            r.hostname.lower() in ("localhost", "127.0.0.1")
        if not loop and r.port != uport:
            continue
        if loop and client.get("any_loopback_path"):
            return True
        if (r.path or "/") != (u.path or "/") or r.query != u.query:
            continue
        return True
    return False


def add_query(uri, params, mode="query"):
    if mode == "fragment":
        return uri + "#" + urlencode(params)
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


# ---------------------------------------------------------------------------
# Control API (JSON in, JSON out).  See tests/mock/mock-idp.md.


def ctl_config(h, spec, q):
    st = h.st
    with st.lock:
        for k, v in spec.items():
            if k not in DEFAULT_CONFIG:
                raise ValueError("unknown config key " + k)
            want = type(DEFAULT_CONFIG[k])
            if DEFAULT_CONFIG[k] is None:
                if v is not None and not isinstance(v, int):
                    raise ValueError(k + ": integer or null expected")
            elif want is bool and not isinstance(v, bool):
                raise ValueError(k + ": true or false expected")
            elif want is int and (isinstance(v, bool) or
                                  not isinstance(v, (int, float))):
                raise ValueError(k + ": number expected")
            elif want in (str, list) and not isinstance(v, want):
                raise ValueError(k + ": %s expected" % want.__name__)
            if k == "device_outcome" and v not in ("approve", "decline",
                                                   "expire", "pending"):
                raise ValueError("device_outcome: approve, decline, expire "
                                 "or pending")
            if k == "access_token_style" and v not in ("opaque", "jwt"):
                raise ValueError("access_token_style: opaque or jwt")
            st.config[k] = v
        h.note = "config " + ",".join(sorted(spec))
        return {"ok": True, "config": dict(st.config)}


FAULT_KINDS = {"503", "500", "429", "502", "504", "delay", "delay_process",
               "garbage", "empty", "html", "big", "reset", "close",
               "empty_scope"}
ENDPOINTS = {"token", "devicecode", "authorize", "introspect", "any"}


def ctl_fail(h, spec, q):
    st = h.st
    if spec.get("clear"):
        with st.lock:
            st.faults.clear()
        return {"ok": True, "pending": 0}
    kind = str(spec.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise ValueError("kind must be one of " + " ".join(sorted(FAULT_KINDS)))
    item = {"kind": kind, "endpoint": spec.get("endpoint", "token"),
            "count": int(spec.get("count", 1))}
    if item["endpoint"] not in ENDPOINTS:
        raise ValueError("endpoint must be one of " + " ".join(ENDPOINTS))
    for k in ("grant", "retry_after", "seconds", "status", "size"):
        if k in spec:
            item[k] = spec[k]
    with st.lock:
        st.faults.append(item)
        h.note = "fail %s x%d on %s" % (kind, item["count"], item["endpoint"])
        return {"ok": True, "pending": len(st.faults)}


def ctl_error(h, spec, q):
    st = h.st
    if spec.get("clear"):
        with st.lock:
            st.forced.clear()
        return {"ok": True, "pending": 0}
    code = str(spec.get("code", ""))
    if code not in FORCED and code not in ("google", "google_invalid_grant",
                                           "custom"):
        raise ValueError("unknown error code %s; known: %s google custom" %
                         (code, " ".join(sorted(FORCED))))
    item = {"code": code, "endpoint": spec.get("endpoint", "token"),
            "count": int(spec.get("count", 1))}
    if item["endpoint"] not in ENDPOINTS:
        raise ValueError("endpoint must be one of " + " ".join(ENDPOINTS))
    for k in ("grant", "aadsts", "status", "error", "text"):
        if k in spec:
            item[k] = spec[k]
    with st.lock:
        st.forced.append(item)
        h.note = "error %s x%d on %s" % (code, item["count"], item["endpoint"])
        return {"ok": True, "pending": len(st.forced)}


def ctl_revoke(h, spec, q):
    st = h.st
    user = spec.get("user") or st.config["default_user"]
    n = m = 0
    with st.lock:
        st.revoked_at[user.lower()] = now()
        for r in st.refresh.values():
            if r["user"] and r["user"].lower() == user.lower() and \
                    not r["revoked"]:
                r["revoked"] = True
                n += 1
        if spec.get("access_tokens"):
            for a in st.access.values():
                if a["user"] and a["user"].lower() == user.lower() and \
                        not a["revoked"]:
                    a["revoked"] = True
                    m += 1
    h.note = "revoke user=%s" % user
    return {"ok": True, "refresh_tokens_revoked": n,
            "access_tokens_revoked": m}


def ctl_expire(h, spec, q):
    st = h.st
    user = spec.get("user")
    n = 0
    with st.lock:
        t = now()
        for a in st.access.values():
            if a["exp"] > t and (user is None or (
                    a["user"] or "").lower() == user.lower()):
                a["exp"] = t
                n += 1
    return {"ok": True, "access_tokens_expired": n}


def device_pick(st, spec):
    uc = spec.get("user_code")
    cands = [d for d in st.devices.values()
             if not d["redeemed"] and d["status"] == "pending" and
             (uc is None or d["user_code"] == uc)]
    if not cands:
        raise ValueError("no pending device code" +
                         (" with user_code " + uc if uc else ""))
    return max(cands, key=lambda d: d["issued"])


def ctl_device_approve(h, spec, q):
    st = h.st
    with st.lock:
        d = device_pick(st, spec)
        d["status"] = "approved"
        if spec.get("user"):
            d["user"] = spec["user"]
        return {"ok": True, "user_code": d["user_code"], "user": d["user"]}


def ctl_device_deny(h, spec, q):
    st = h.st
    with st.lock:
        d = device_pick(st, spec)
        d["status"] = "denied"
        return {"ok": True, "user_code": d["user_code"]}


def ctl_device_expire(h, spec, q):
    st = h.st
    with st.lock:
        d = device_pick(st, spec)
        d["status"] = "expired"
        return {"ok": True, "user_code": d["user_code"]}


def ctl_clients(h, spec, q):
    st = h.st
    if spec:
        specs = spec.get("clients", [spec])
        for s in specs:
            st.set_client(s)
        h.note = "clients " + ",".join(s.get("client_id", "?")
                                       for s in specs)
    return {"ok": True, "clients": st.public_clients()}


def ctl_stats(h, spec, q):
    with h.st.lock:
        return json.loads(json.dumps(h.st.stats))


def ctl_stat(h, spec, q):
    key = q.get("key") or spec.get("key") or ""
    with h.st.lock:
        v = h.st.stats
        for part in key.split("."):
            if not isinstance(v, dict):
                v = 0
                break
            v = v.get(part, 0)
    return "%s\n" % (v if not isinstance(v, dict) else json.dumps(v))


def ctl_reset_stats(h, spec, q):
    h.st.reset_stats()
    return {"ok": True}


def ctl_issued(h, spec, q):
    st = h.st
    with st.lock:
        out = {k: list(v) for k, v in st.issued.items()}
    seen, allv = set(), []
    for k in ("access_tokens", "refresh_tokens", "codes", "device_codes",
              "client_secrets", "id_tokens", "code_verifiers"):
        for v in out[k]:
            if v not in seen:
                seen.add(v)
                allv.append(v)
    out["all"] = allv
    return out


def ctl_state(h, spec, q):
    st = h.st
    t = now()
    with st.lock:
        return {
            "access_tokens": len(st.access),
            "access_tokens_live": sum(1 for a in st.access.values()
                                      if not a["revoked"] and a["exp"] > t),
            "refresh_tokens": len(st.refresh),
            "refresh_tokens_valid": sum(
                1 for r in st.refresh.values() if not r["revoked"] and not (
                    r["used"] and
                    st.config["invalidate_used_refresh_tokens"])),
            "codes": len(st.codes),
            "devices": [{"user_code": d["user_code"], "status": d["status"],
                         "polls": d["polls"], "redeemed": d["redeemed"],
                         "user": d["user"]} for d in st.devices.values()],
            "pending_faults": len(st.faults),
            "pending_errors": len(st.forced)}


def ctl_mint(h, spec, q):
    st = h.st
    user = spec.get("user") or st.config["default_user"]
    cid = spec.get("client_id", PUBLIC_CLIENT)
    scopes = scope_list(spec.get(
        "scope", "https://outlook.office.com/IMAP.AccessAsUser.All "
                 "https://outlook.office.com/POP.AccessAsUser.All "
                 "https://outlook.office.com/SMTP.Send offline_access"))
    resource, tscopes = token_scopes(
        [s for s in scopes if resource_of(s)] or scopes, scopes, False, cid,
        "mint")
    tid = tenant_guid(spec.get("tenant", "contoso.test"))
    life = spec.get("lifetime")
    at, life = st.mint_access(cid, user, resource, tscopes, tid, life,
                              dialect=spec.get("dialect", "aad"))
    body = {"token_type": "Bearer", "scope": " ".join(tscopes),
            "expires_in": int(life), "ext_expires_in": int(life),
            "access_token": at}
    if spec.get("refresh_token", True):
        body["refresh_token"] = st.mint_refresh(
            cid, user, scopes, tscopes, tid, spec.get("dialect", "aad"))
    body["expires_at"] = int(now() + life)
    body["user"] = user
    h.note = "mint user=%s" % user
    return body


def ctl_shutdown(h, spec, q):
    h.st.log("shutdown requested")
    return {"ok": True}


CONTROL = {
    "config": ctl_config, "fail": ctl_fail, "error": ctl_error,
    "revoke": ctl_revoke, "expire": ctl_expire,
    "device/approve": ctl_device_approve, "device/deny": ctl_device_deny,
    "device/expire": ctl_device_expire, "clients": ctl_clients,
    "stats": ctl_stats, "stat": ctl_stat, "reset_stats": ctl_reset_stats,
    "issued": ctl_issued, "state": ctl_state, "mint": ctl_mint,
    "shutdown": ctl_shutdown,
}


# ---------------------------------------------------------------------------
# Main


def watchdog(server, st, pid, deadline):
    while True:
        time.sleep(0.5)
        if pid and not pid_alive(pid):
            st.log("watched process %d is gone: stopping" % pid)
            break
        if now() > deadline:
            st.log("max lifetime reached: stopping")
            break
    server.shutdown()


def main():
    ap = argparse.ArgumentParser(description="mock Microsoft identity "
                                 "platform for oauthmail tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--state-dir")
    ap.add_argument("--watch-pid", type=int, default=0)
    ap.add_argument("--max-lifetime", type=float, default=900)
    ap.add_argument("--client-secret-file")
    ap.add_argument("--issued-file")
    ap.add_argument("--config", help="JSON object of initial knobs")
    args = ap.parse_args()

    st = State(args)
    if args.config:
        st.config.update(json.loads(args.config))
    server = Server(("127.0.0.1", 0), Handler)
    server.st = st
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    st.log("listening on http://127.0.0.1:%d (pid %d)" % (port, os.getpid()))
    def on_term(signum, frame):
        try:
            os.unlink(args.port_file)
        except OSError:
            pass
        st.log("signal %d: stopping" % signum)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    threading.Thread(target=watchdog, daemon=True,
                     args=(server, st, args.watch_pid,
                           now() + args.max_lifetime)).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    server.server_close()
    try:
        os.unlink(args.port_file)
    except OSError:
        pass
    st.log("stopped")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
