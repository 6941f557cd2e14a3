#!/bin/sh
# mock_idp_selftest.sh - the mock identity provider answers like Microsoft's
# identity platform v2.0: every endpoint, grant, knob and fault of
# tests/mock/mock-idp.md, checked against the shapes in
# microsoft-identity-graph-protocol.md (field order, AADSTS bodies, status
# codes, headers), plus the shell helpers and the ways the mock stops.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init mock_idp_selftest
t_need curl

mock_idp_start || t_fail "mock_idp_start"

# --- shell helpers -----------------------------------------------------------
case $MOCK_PORT in '' | *[!0-9]*) t_fail "MOCK_PORT '$MOCK_PORT'" ;; *) t_pass "MOCK_PORT set" ;; esac
t_eq "$MOCK_URL" "http://127.0.0.1:$MOCK_PORT" "MOCK_URL"
t_eq "$(mock_stat token)" 0 "mock_stat before any request"
tok=$(mock_mint alice@contoso.test 60)
case $tok in EwB*) t_pass "mock_mint prints an access token" ;; *) t_fail "mock_mint: '$tok'" ;; esac
t_eq "$(mock_ctl state | mock_json access_tokens_live)" 1 "mock_ctl GET + mock_json"
if mock_ctl config '{"no_such_knob": 1}' >"$T/bad.out" 2>&1; then
	t_fail "mock_ctl must fail on an unknown knob"
else
	t_grep "unknown config key no_such_knob" "$T/bad.out" "unknown knob named"
fi
[ -s "$MOCK_CLIENT_SECRET_FILE" ] && t_pass "client secret file written" || t_fail "no client secret file"
perm=$(stat -c %a "$MOCK_CLIENT_SECRET_FILE")
t_eq "$perm" 600 "client secret file mode"

# --- every endpoint and knob (python: exact JSON and header checks) -----------
"$PYTHON3" - "$MOCK_URL" "$MOCK_CLIENT_SECRET_FILE" >"$T/check.out" 2>&1 <<'EOF'
import base64, hashlib, http.client, json, os, re, socket, sys, time
from urllib.parse import urlencode, urlsplit, parse_qs

BASE = sys.argv[1]
SECRET = open(sys.argv[2]).read().strip()
HOST, PORT = urlsplit(BASE).hostname, urlsplit(BASE).port
A1 = "00000000-0000-0000-0000-0000000000a1"
C2 = "00000000-0000-0000-0000-0000000000c2"
G = "000000000000-mock.apps.googleusercontent.com"
TEN = "11111111-2222-3333-4444-555555555555"
IMAP = "https://outlook.office.com/IMAP.AccessAsUser.All"
SMTP = "https://outlook.office.com/SMTP.Send"
GRAPH_R = "https://graph.microsoft.com/Mail.Read"
# A fresh verifier (not RFC 7636's public vector: the mock records every
# verifier as a secret, and leak_check greps all logs for them).
VERIFIER = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
CHALLENGE = base64.urlsafe_b64encode(
    hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
assert base64.urlsafe_b64encode(hashlib.sha256(
    b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").digest()).decode() \
    .rstrip("=") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
fails = 0


def ok(cond, what):
    global fails
    if cond:
        print("ok: " + what)
    else:
        fails += 1
        print("FAIL: " + what)


def req(method, path, form=None, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    h = dict(headers or {})
    if form is not None:
        body = urlencode(form)
        h["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def ctl(name, spec=None):
    st, _, data = req("POST" if spec is not None else "GET",
                      "/_control/" + name,
                      body=json.dumps(spec) if spec is not None else None)
    assert st == 200, (name, st, data)
    return json.loads(data)


def tok(tenant="common", **form):
    st, hd, data = req("POST", "/%s/oauth2/v2.0/token" % tenant, form=form)
    return st, hd, json.loads(data) if data else None


ERR_KEYS = ["error", "error_description", "error_codes", "timestamp",
            "trace_id", "correlation_id", "error_uri"]
DESC_RE = re.compile(r"^AADSTS(\d+): .+\r\nTrace ID: [0-9a-f-]{36}\r\n"
                     r"Correlation ID: [0-9a-f-]{36}\r\nTimestamp: "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$", re.S)


def is_aad_error(res, status, error, code, what):
    st, hd, b = res
    good = st == status and isinstance(b, dict) and b.get("error") == error \
        and b.get("error_codes") == [code] and \
        list(b)[:6] == ERR_KEYS[:6] and \
        bool(DESC_RE.match(b.get("error_description", ""))) and \
        b["error_description"].startswith("AADSTS%d: " % code) and \
        hd.get("content-type") == "application/json; charset=utf-8" and \
        hd.get("cache-control") == "no-store, no-cache"
    ok(good, "%s -> %d %s AADSTS%d" % (what, status, error, code))
    if not good:
        # never print token values: the leak check greps this log
        print("   got", st, b.get("error") if isinstance(b, dict) else "?",
              b.get("error_codes") if isinstance(b, dict) else "",
              sorted(b) if isinstance(b, dict) else "")


def authorize(client=A1, redirect="http://localhost:8765/", tenant="common",
              extra=None):
    q = {"client_id": client, "response_type": "code",
         "redirect_uri": redirect, "response_mode": "query",
         "scope": "offline_access openid %s %s" % (IMAP, SMTP),
         "state": "st4te", "code_challenge": CHALLENGE,
         "code_challenge_method": "S256"}
    q.update(extra or {})
    return req("GET", "/%s/oauth2/v2.0/authorize?%s" % (tenant, urlencode(q)))


def code_from(res):
    st, hd, _ = res
    loc = hd.get("location", "")
    return parse_qs(urlsplit(loc).query).get("code", [None])[0], loc


# ---- authorize --------------------------------------------------------------
res = authorize()
code, loc = code_from(res)
ok(res[0] == 302 and loc.startswith("http://localhost:8765/?code="),
   "authorize: 302 to the redirect URI with code first")
q = parse_qs(urlsplit(loc).query)
ok(q.get("state") == ["st4te"] and "session_state" in q,
   "authorize: state and session_state returned")
ok(code and code.startswith("0.A") and len(code) > 500,
   "authorize: realistic code")
res = authorize(redirect="http://127.0.0.1:40000/")
ok(res[0] == 302, "authorize: http://127.0.0.1 any port accepted")
res = authorize(redirect="http://evil.example/cb")
ok(res[0] == 200 and "location" not in res[1] and
   b"AADSTS50011: The redirect URI 'http://evil.example/cb' specified"
   in res[2] and res[1]["content-type"].startswith("text/html"),
   "authorize: wrong redirect URI -> HTML page AADSTS50011, no redirect")
res = authorize(redirect="http://localhost:8765/other")
ok(res[0] == 200 and b"AADSTS50011" in res[2],
   "authorize: localhost with another path is a mismatch")
res = authorize(client="deadbeef-0000-0000-0000-000000000000")
ok(res[0] == 200 and b"AADSTS700016" in res[2],
   "authorize: unknown client -> page AADSTS700016")
res = authorize(tenant="no_such_tenant")
ok(res[0] == 200 and b"AADSTS90002" in res[2],
   "authorize: unknown tenant -> page AADSTS90002")
ctl("config", {"authorize_deny": True})
res = authorize()
q = parse_qs(urlsplit(res[1].get("location", "")).query)
ok(res[0] == 302 and q.get("error") == ["access_denied"] and
   q.get("error_description", [""])[0].startswith("AADSTS65004: ") and
   q.get("state") == ["st4te"],
   "authorize_deny -> redirect error=access_denied AADSTS65004")
ctl("config", {"authorize_deny": False})
ctl("error", {"code": "50011", "endpoint": "authorize"})
res = authorize()
ok(res[0] == 200 and b"AADSTS50011" in res[2],
   "forced 50011 at authorize -> HTML page")
res = authorize(extra={"response_type": "token"})
q = parse_qs(urlsplit(res[1].get("location", "")).query)
ok(q.get("error") == ["unsupported_response_type"],
   "authorize: response_type without code -> error redirect")

# ---- authorization_code grant --------------------------------------------------
code, _ = code_from(authorize(extra={
    "login_hint": "bob@contoso.test",
    "scope": "offline_access openid profile %s %s" % (IMAP, SMTP)}))
r = tok(client_id=A1, grant_type="authorization_code", code=code,
        redirect_uri="http://localhost:8765/", code_verifier=VERIFIER,
        scope="%s offline_access openid" % IMAP)
st, hd, b = r
ok(st == 200 and list(b) == ["token_type", "scope", "expires_in",
                             "ext_expires_in", "access_token",
                             "refresh_token", "id_token"],
   "code grant: 200 with Microsoft's field order")
ok(b.get("token_type") == "Bearer" and b.get("expires_in") == 3599 and
   isinstance(b.get("expires_in"), int) and b.get("ext_expires_in") == 3599,
   "code grant: Bearer, expires_in 3599 (int)")
ok(hd.get("cache-control") == "no-store, no-cache" and
   hd.get("content-type") == "application/json; charset=utf-8" and
   hd.get("pragma") == "no-cache" and "x-ms-request-id" in hd,
   "code grant: Microsoft's headers")
ok(b["access_token"].startswith("EwB") and 1100 < len(b["access_token"]) < 1400,
   "access token EwB..., ~1200 chars")
ok(b["refresh_token"].startswith("0.A") and 700 < len(b["refresh_token"]) < 900,
   "refresh token 0.A..., ~800 chars")
ok(b["scope"].split() == [IMAP, "openid"],
   "code grant: scope = one resource (+ openid)")
idt = json.loads(base64.urlsafe_b64decode(b["id_token"].split(".")[1] + "=="))
ok(idt.get("preferred_username") == "bob@contoso.test" and idt["aud"] == A1,
   "id_token names the login_hint user")
RT1, AT1 = b["refresh_token"], b["access_token"]
is_aad_error(tok(client_id=A1, grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/",
                 code_verifier=VERIFIER),
             400, "invalid_grant", 54005, "code reuse")


def id_token_of(scope, extra=None):
    """the id_token claims (None: no id_token) of a code grant"""
    q = {"scope": scope}
    q.update(extra or {})
    c, _ = code_from(authorize(extra=q))
    _, _, j = tok(client_id=A1, grant_type="authorization_code", code=c,
                  redirect_uri="http://localhost:8765/",
                  code_verifier=VERIFIER)
    if "id_token" not in j:
        return None
    return json.loads(base64.urlsafe_b64decode(
        j["id_token"].split(".")[1] + "=="))


idt = id_token_of("openid offline_access " + IMAP)
ok("preferred_username" not in idt and "email" not in idt and
   idt.get("tid") and idt.get("sub") and idt.get("ver") == "2.0",
   "openid alone: an id_token naming nobody (no profile, no email)")
idt = id_token_of("openid email offline_access " + IMAP)
ok(idt.get("email") == "support@contoso.test" and
   "preferred_username" not in idt, "scope email: the email claim")
ctl("config", {"signin_user": "eve@contoso.test"})
idt = id_token_of("openid profile offline_access " + IMAP,
                  {"login_hint": "support@contoso.test"})
ok(idt.get("preferred_username") == "eve@contoso.test",
   "knob signin_user: signed in as another user than login_hint")
ctl("config", {"signin_user": "", "id_token": False})
ok(id_token_of("openid profile offline_access " + IMAP) is None,
   "knob id_token false: no id_token (an OAuth-only provider)")
ctl("config", {"id_token": True})
code, _ = code_from(authorize())
is_aad_error(tok(client_id=A1, grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/",
                 code_verifier=VERIFIER[:-1] + (
                     "B" if VERIFIER.endswith("A") else "A")),
             400, "invalid_grant", 501481, "wrong PKCE verifier")
is_aad_error(tok(client_id=A1, grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/"),
             400, "invalid_grant", 501481, "missing PKCE verifier")
is_aad_error(tok(client_id=A1, grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:9999/",
                 code_verifier=VERIFIER),
             400, "invalid_grant", 500112, "redirect_uri differs from authorize")
is_aad_error(tok(client_id=A1, grant_type="authorization_code", code=code,
                 code_verifier=VERIFIER),
             400, "invalid_request", 900144, "redirect_uri missing")
is_aad_error(tok(tenant="contoso.test", client_id=A1,
                 grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/",
                 code_verifier=VERIFIER),
             400, "invalid_grant", 700005, "code redeemed at another tenant")
is_aad_error(tok(client_id=A1, grant_type="authorization_code",
                 code="0.AXEAbogus", redirect_uri="http://localhost:8765/"),
             400, "invalid_grant", 70000, "unknown code")
is_aad_error(tok(client_id=A1, grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/",
                 code_verifier=VERIFIER, scope="%s %s" % (IMAP, GRAPH_R)),
             400, "invalid_scope", 28000, "two resources at /token")
st, _, b = tok(client_id=A1, grant_type="authorization_code", code=code,
               redirect_uri="http://localhost:8765/", code_verifier=VERIFIER)
ok(st == 200, "the code still works after failed attempts")
ctl("config", {"code_lifetime": 0})
code, _ = code_from(authorize())
time.sleep(0.05)
is_aad_error(tok(client_id=A1, grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/",
                 code_verifier=VERIFIER),
             400, "invalid_grant", 70000, "expired code (code_lifetime 0)")
ctl("config", {"code_lifetime": 600})
code, _ = code_from(authorize(extra={"code_challenge": "plainchallenge",
                                     "code_challenge_method": "plain"}))
st, _, b = tok(client_id=A1, grant_type="authorization_code", code=code,
               redirect_uri="http://localhost:8765/",
               code_verifier="plainchallenge")
ok(st == 200, "PKCE plain")
code, _ = code_from(authorize(extra={"scope": IMAP}))
st, _, b = tok(client_id=A1, grant_type="authorization_code", code=code,
               redirect_uri="http://localhost:8765/", code_verifier=VERIFIER)
ok(st == 200 and "refresh_token" not in b and "id_token" not in b,
   "no offline_access/openid -> no refresh_token, no id_token")

# ---- client authentication -------------------------------------------------------
is_aad_error(tok(client_id="deadbeef-0000-0000-0000-000000000000",
                 grant_type="refresh_token", refresh_token=RT1),
             400, "unauthorized_client", 700016, "unknown client")
is_aad_error(tok(client_id=A1, client_secret="x", grant_type="refresh_token",
                 refresh_token=RT1),
             401, "invalid_client", 700025, "public client sends a secret")
code, _ = code_from(authorize(client=C2))
is_aad_error(tok(client_id=C2, grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/",
                 code_verifier=VERIFIER),
             401, "invalid_client", 7000218, "confidential client, no secret")
is_aad_error(tok(client_id=C2, client_secret=SECRET + "x",
                 grant_type="authorization_code", code=code,
                 redirect_uri="http://localhost:8765/",
                 code_verifier=VERIFIER),
             401, "invalid_client", 7000215, "wrong client secret")
ok(SECRET[3:6] == "8Q~", "client secret looks like an Entra secret")
st, _, b = tok(client_id=C2, client_secret=SECRET,
               grant_type="authorization_code", code=code,
               redirect_uri="http://localhost:8765/", code_verifier=VERIFIER)
ok(st == 200, "confidential client with its secret")
RTC = b["refresh_token"]
basic = base64.b64encode(("%s:%s" % (C2, SECRET.replace("~", "%7E")))
                         .encode()).decode()
st, _, data = req("POST", "/common/oauth2/v2.0/token",
                  form={"grant_type": "refresh_token", "refresh_token": RTC},
                  headers={"Authorization": "Basic " + basic})
ok(st == 200, "client secret through HTTP Basic")
RTC = json.loads(data)["refresh_token"]
ctl("clients", {"client_id": C2, "secret_expired": True})
is_aad_error(tok(client_id=C2, client_secret=SECRET,
                 grant_type="refresh_token", refresh_token=RTC),
             401, "invalid_client", 7000222, "expired client secret")
ctl("clients", {"client_id": C2, "secret_expired": False})
ctl("config", {"client_secret_expired": True})
is_aad_error(tok(client_id=C2, client_secret=SECRET,
                 grant_type="refresh_token", refresh_token=RTC),
             401, "invalid_client", 7000222, "config client_secret_expired")
ctl("config", {"client_secret_expired": False})
r = ctl("clients", {"client_id": "12345678-aaaa-bbbb-cccc-1234567890ab",
                    "public_flows": False, "secret": "n3w~Secret"})
ok(any(c["client_id"] == "12345678-aaaa-bbbb-cccc-1234567890ab" and
       c["has_secret"] and "secret" not in c for c in r["clients"]),
   "clients: add a client; secrets not listed")
st, _, b = tok(tenant=TEN, client_id="12345678-aaaa-bbbb-cccc-1234567890ab",
               client_secret="n3w~Secret", grant_type="client_credentials",
               scope="https://outlook.office365.com/.default")
ok(st == 200, "added client works")

# ---- refresh_token grant -----------------------------------------------------------
st, _, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT1)
ok(st == 200 and b["refresh_token"] != RT1 and b["access_token"] != AT1 and
   list(b)[:6] == ["token_type", "scope", "expires_in", "ext_expires_in",
                   "access_token", "refresh_token"],
   "refresh: new access and refresh token (rotation)")
RT2 = b["refresh_token"]
ok(b["scope"].split()[0] == IMAP and "id_token" in b,
   "refresh without scope: same resource (and id_token) as before")
st, _, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT1)
ok(st == 200, "old refresh token still valid by default")
st, _, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT2,
               scope=SMTP + " offline_access")
ok(st == 200 and b["scope"] == SMTP,
   "refresh for another consented resource (SMTP.Send)")
RT3 = b["refresh_token"]
is_aad_error(tok(client_id=A1, grant_type="refresh_token", refresh_token=RT3,
                 scope=GRAPH_R),
             400, "invalid_grant", 65001, "scope never consented")
is_aad_error(tok(client_id=A1, grant_type="refresh_token", refresh_token=RT3,
                 scope=IMAP + " " + GRAPH_R),
             400, "invalid_scope", 28000, "refresh with two resources")
ctl("config", {"invalidate_used_refresh_tokens": True})
st, _, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT3)
RT4 = b["refresh_token"]
r = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT3)
is_aad_error(r, 400, "invalid_grant", 70000,
             "invalidate_used_refresh_tokens: used token")
ok("'refresh_token'" in r[2]["error_description"],
   "used token text names refresh_token")
ctl("config", {"invalidate_used_refresh_tokens": False})
is_aad_error(tok(client_id=A1, grant_type="refresh_token",
                 refresh_token="0.AYEAnope"),
             400, "invalid_grant", 9002313, "unknown refresh token")
ctl("config", {"access_lifetime": 5})
st, _, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT4)
ok(b["expires_in"] == 5 and b["ext_expires_in"] == 5, "access_lifetime knob")
RT5 = b["refresh_token"]
ctl("config", {"access_lifetime": 3599, "access_token_style": "jwt"})
st, _, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT5)
ok(b["access_token"].startswith("eyJ") and b["access_token"].count(".") == 2,
   "access_token_style jwt")
RT6 = b["refresh_token"]
ctl("config", {"access_token_style": "opaque"})
r = ctl("revoke", {"user": "bob@contoso.test"})
ok(r["refresh_tokens_revoked"] >= 5, "revoke: user's refresh tokens")
r = tok(client_id=A1, grant_type="refresh_token", refresh_token=RT6)
is_aad_error(r, 400, "invalid_grant", 50173, "revoked refresh token")
ok("The grant was issued on '" in r[2]["error_description"],
   "50173 text names the issue date")
ctl("config", {"refresh_lifetime": 0})
m = ctl("mint", {"user": "carol@contoso.test"})
time.sleep(0.05)
r = tok(client_id=A1, grant_type="refresh_token",
        refresh_token=m["refresh_token"])
is_aad_error(r, 400, "invalid_grant", 700082, "refresh token inactive")
ok(r[2].get("suberror") == "bad_token", "700082 suberror bad_token")
ctl("config", {"refresh_lifetime": 7776000})
ctl("config", {"rotate_refresh_tokens": False})
m = ctl("mint", {"user": "dave@contoso.test"})
st, _, b = tok(client_id=A1, grant_type="refresh_token",
               refresh_token=m["refresh_token"])
ok(b["refresh_token"] == m["refresh_token"],
   "rotate_refresh_tokens false: same refresh token back")
ctl("config", {"rotate_refresh_tokens": True})

# ---- generic request checks -----------------------------------------------------------
is_aad_error((lambda s, h, d: (s, h, json.loads(d)))(
    *req("GET", "/common/oauth2/v2.0/token")),
    400, "invalid_request", 900561, "GET /token")
is_aad_error(tok(tenant="bogus_tenant", client_id=A1,
                 grant_type="refresh_token", refresh_token=RT1),
             400, "invalid_request", 90002, "unknown tenant")
ctl("config", {"unknown_tenants": ["gone.example"]})
is_aad_error(tok(tenant="gone.example", client_id=A1,
                 grant_type="refresh_token", refresh_token=RT1),
             400, "invalid_request", 90002, "unknown_tenants knob")
ctl("config", {"unknown_tenants": []})
is_aad_error(tok(client_id=A1), 400, "invalid_request", 900144,
             "missing grant_type")
is_aad_error(tok(client_id=A1, grant_type="password"),
             400, "unsupported_grant_type", 70003, "unsupported grant")
st, _, data = req("POST", "/common/oauth2/v2.0/token",
                  body="grant_type=refresh_token&client_id=%s&"
                       "refresh_token=a\xe9b" % A1,
                  headers={"Content-Type":
                           "application/x-www-form-urlencoded"})
ok(st == 400 and b"AADSTS9002313" in data, "unencoded (non-ASCII) form body")
st, _, data = req("POST", "/common/oauth2/v2.0/token",
                  body="grant_type=refresh_token&grant_type=refresh_token",
                  headers={"Content-Type":
                           "application/x-www-form-urlencoded"})
ok(st == 400 and b"AADSTS9002313" in data, "repeated form field")

# ---- client_credentials --------------------------------------------------------------
is_aad_error(tok(client_id=C2, client_secret=SECRET,
                 grant_type="client_credentials",
                 scope="https://outlook.office365.com/.default"),
             400, "invalid_request", 9001023, "client_credentials on /common")
st, _, b = tok(tenant=TEN, client_id=C2, client_secret=SECRET,
               grant_type="client_credentials",
               scope="https://outlook.office365.com/.default")
ok(st == 200 and list(b) == ["token_type", "expires_in", "ext_expires_in",
                             "access_token"],
   "client_credentials: token_type, expires_in, ext_expires_in, access_token")
APP_AT = b["access_token"]
is_aad_error(tok(tenant=TEN, client_id=C2, client_secret=SECRET,
                 grant_type="client_credentials", scope=IMAP),
             400, "invalid_scope", 1002012, "client_credentials without .default")
is_aad_error(tok(tenant=TEN, client_id=A1, grant_type="client_credentials",
                 scope="https://outlook.office365.com/.default"),
             401, "invalid_client", 7000218, "client_credentials without secret")

# ---- device code flow -------------------------------------------------------------------
def devicecode(client=A1, scope="offline_access " + IMAP, path=None):
    st, hd, data = req("POST", path or "/organizations/oauth2/v2.0/devicecode",
                       form={"client_id": client, "scope": scope})
    return st, hd, json.loads(data)


def poll(dc, client=A1, path=None, **extra):
    form = dict(grant_type="urn:ietf:params:oauth:grant-type:device_code",
                client_id=client, device_code=dc, **extra)
    st, hd, data = req("POST", path or "/organizations/oauth2/v2.0/token",
                       form=form)
    return st, hd, json.loads(data)


st, hd, d = devicecode()
ok(st == 200 and list(d) == ["user_code", "device_code", "verification_uri",
                             "expires_in", "interval", "message"],
   "devicecode: Microsoft's fields in order")
ok(d["expires_in"] == 900 and d["interval"] == 5 and
   d["user_code"] in d["message"] and
   d["verification_uri"] == "https://microsoft.com/devicelogin",
   "devicecode: 900 s, interval 5, message names the code")
r = poll(d["device_code"])
is_aad_error(r, 400, "authorization_pending", 70016, "first poll pending")
st, _, b = poll(d["device_code"])
ok(st == 200 and "refresh_token" in b, "second poll: tokens (pending_polls 1)")
is_aad_error(poll(d["device_code"]), 400, "invalid_grant", 70000,
             "device code redeemed twice")
ctl("config", {"device_pending_polls": 3, "device_interval": 1,
               "device_expires_in": 60})
st, hd, d = devicecode()
ok(d["interval"] == 1 and d["expires_in"] == 60, "device_interval knob")
for i in range(3):
    is_aad_error(poll(d["device_code"]), 400, "authorization_pending", 70016,
                 "pending poll %d of 3" % (i + 1))
ok(poll(d["device_code"])[0] == 200, "success after 3 pending polls")
ctl("config", {"device_pending_polls": 0, "device_slow_down": 1})
st, hd, d = devicecode()
is_aad_error(poll(d["device_code"]), 400, "slow_down", 70016,
             "device_slow_down knob")
ok(poll(d["device_code"])[0] == 200, "after slow_down: success")
ctl("config", {"device_outcome": "decline"})
st, hd, d = devicecode()
is_aad_error(poll(d["device_code"]), 400, "authorization_declined", 70000,
             "device_outcome decline")
ctl("config", {"device_outcome": "expire"})
st, hd, d = devicecode()
is_aad_error(poll(d["device_code"]), 400, "expired_token", 70020,
             "device_outcome expire")
ctl("config", {"device_outcome": "approve", "device_auto_approve": False})
st, hd, d = devicecode()
is_aad_error(poll(d["device_code"]), 400, "authorization_pending", 70016,
             "auto approve off: pending")
is_aad_error(poll(d["device_code"]), 400, "authorization_pending", 70016,
             "auto approve off: still pending")
r = ctl("device/approve", {"user_code": d["user_code"],
                           "user": "erin@contoso.test"})
st, _, b = poll(d["device_code"])
ok(st == 200, "device/approve -> success")
st, _, data = req("POST", "/introspect", form={"token": b["access_token"]})
ok(json.loads(data).get("email") == "erin@contoso.test",
   "device/approve user is the token's user")
st, hd, d = devicecode()
ctl("device/deny", {})
is_aad_error(poll(d["device_code"]), 400, "authorization_declined", 70000,
             "device/deny")
st, hd, d = devicecode()
ctl("device/expire", {})
is_aad_error(poll(d["device_code"]), 400, "expired_token", 70020,
             "device/expire")
ctl("config", {"device_auto_approve": True, "device_enforce_interval": True,
               "device_interval": 2, "device_pending_polls": 5})
st, hd, d = devicecode()
poll(d["device_code"])
is_aad_error(poll(d["device_code"]), 400, "slow_down", 70016,
             "device_enforce_interval: polling too fast")
ctl("config", {"device_enforce_interval": False, "device_pending_polls": 1,
               "device_interval": 5})
st, hd, d = devicecode(client=C2)
ok(st == 200, "devicecode for a client without public flows: accepted")
is_aad_error(poll(d["device_code"], client=C2), 401, "invalid_client",
             7000218, "device flow polled without public client flows")
is_aad_error(poll("DAQABIQEAAABnope"), 400, "bad_verification_code", 70018,
             "unknown device code")
st, _, data = req("POST", "/organizations/oauth2/v2.0/devicecode",
                  form={"client_id": A1})
ok(st == 400 and b"AADSTS900144" in data, "devicecode without scope")

# ---- introspection ----------------------------------------------------------------------
m = ctl("mint", {"user": "frank@contoso.test", "lifetime": 60})
st, hd, data = req("POST", "/introspect", form={"token": m["access_token"]})
j = json.loads(data)
ok(st == 200 and list(j)[:4] == ["active", "email", "sub", "exp"] and
   j["active"] is True and j["email"] == "frank@contoso.test",
   "introspect: active, email, sub, exp")
st, hd, data = req("GET", "/introspect",
                   headers={"Authorization": "Bearer " + m["access_token"]})
ok(json.loads(data).get("active") is True, "introspect: Bearer header mode")
st, hd, data = req("POST", "/introspect", form={"token": "EwBnope"})
ok(st == 200 and json.loads(data) == {"active": False},
   "introspect: unknown token -> 200 {active: false}")
st, hd, data = req("POST", "/introspect", form={"token": APP_AT})
ok(json.loads(data).get("email") == "support@contoso.test",
   "introspect: app-only token -> app_mailbox")
r = ctl("expire", {"user": "frank@contoso.test"})
st, hd, data = req("POST", "/introspect", form={"token": m["access_token"]})
ok(json.loads(data) == {"active": False} and r["access_tokens_expired"] == 1,
   "expire: token no longer active")
m = ctl("mint", {"user": "gina@contoso.test", "lifetime": 1})
time.sleep(1.1)
st, hd, data = req("POST", "/introspect", form={"token": m["access_token"]})
ok(json.loads(data) == {"active": False}, "introspect: expired by lifetime")
m = ctl("mint", {"user": "hank@contoso.test"})
ctl("revoke", {"user": "hank@contoso.test", "access_tokens": True})
st, hd, data = req("POST", "/introspect", form={"token": m["access_token"]})
ok(json.loads(data) == {"active": False}, "revoke access_tokens: inactive")

# ---- forced errors ---------------------------------------------------------------------
cases = [("50011", "invalid_request"), ("50076", "invalid_grant"),
         ("50079", "interaction_required"), ("50173", "invalid_grant"),
         ("65001", "invalid_grant"), ("70000", "invalid_grant"),
         ("70008", "invalid_grant"), ("700016", "unauthorized_client"),
         ("700082", "invalid_grant"), ("7000215", "invalid_client"),
         ("7000218", "invalid_client"), ("7000222", "invalid_client"),
         ("90002", "invalid_request"), ("28000", "invalid_scope"),
         ("54005", "invalid_grant"), ("invalid_scope", "invalid_scope")]
m = ctl("mint", {"user": "ivan@contoso.test"})
rt = m["refresh_token"]
for code, error in cases:
    ctl("error", {"code": code})
    st, hd, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)
    want = 70011 if code == "invalid_scope" else int(code)
    status = 401 if error == "invalid_client" else 400
    ok(st == status and b.get("error") == error and
       b.get("error_codes") == [want] and
       b["error_description"].startswith("AADSTS%d: " % want),
       "forced error %s -> %d %s" % (code, status, error))
ok(b.get("error_description", "").count("\r\n") == 3,
   "forced error description has Trace/Correlation/Timestamp lines")
ctl("error", {"code": "50076"})
b = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)[2]
ok(b.get("suberror") == "basic_action", "50076 suberror basic_action")
ctl("error", {"code": "50079"})
b = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)[2]
ok("claims" in b and b.get("suberror") == "basic_action", "50079 claims")
ctl("error", {"code": "65001"})
b = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)[2]
ok(b.get("suberror") == "consent_required", "65001 suberror")
ctl("error", {"code": "google"})
st, hd, b = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)
ok(st == 400 and b == {"error": "invalid_grant",
                       "error_description":
                       "Token has been expired or revoked."},
   "forced Google invalid_grant")
ctl("error", {"code": "custom", "aadsts": 53003, "error": "invalid_grant",
              "text": "Access has been blocked by Conditional Access "
                      "policies."})
b = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)[2]
ok(b.get("error_codes") == [53003], "custom forced error")
ctl("error", {"code": "50173", "count": 2, "grant": "refresh_token"})
st, _, _ = tok(client_id=A1, grant_type="authorization_code", code="x",
               redirect_uri="http://localhost/")
ok(st == 400, "grant filter: other grants unaffected (own error)")
b1 = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)[2]
b2 = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)[2]
st, _, b3 = tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)
ok(b1["error_codes"] == [50173] and b2["error_codes"] == [50173] and
   st == 200, "count 2: two forced answers, then normal")
rt = b3["refresh_token"]
ctl("error", {"code": "50173", "count": 5})
ctl("error", {"clear": True})
ok(tok(client_id=A1, grant_type="refresh_token", refresh_token=rt)[0] == 200,
   "error clear")

# ---- faults ------------------------------------------------------------------------------
m = ctl("mint", {"user": "judy@contoso.test"})
rt = m["refresh_token"]


def refresh_raw(timeout=30):
    return req("POST", "/common/oauth2/v2.0/token",
               form={"client_id": A1, "grant_type": "refresh_token",
                     "refresh_token": rt}, timeout=timeout)


for kind, status in (("503", 503), ("500", 500), ("429", 429)):
    ctl("fail", {"kind": kind, "retry_after": 7})
    st, hd, data = refresh_raw()
    good = st == status and json.loads(data).get("error")
    if status in (503, 429):
        good = good and hd.get("retry-after") == "7"
    ok(good, "fail %s -> %d%s" % (kind, status,
                                  " + Retry-After" if status != 500 else ""))
ctl("fail", {"kind": "garbage"})
st, hd, data = refresh_raw()
try:
    json.loads(data)
    parsed = True
except ValueError:
    parsed = False
ok(st == 200 and not parsed, "fail garbage -> 200 with unparsable JSON")
ctl("fail", {"kind": "html"})
st, hd, data = refresh_raw()
ok(st == 500 and hd["content-type"].startswith("text/html") and
   data.startswith(b"<!DOCTYPE html>"), "fail html -> HTML error page")
ctl("fail", {"kind": "html", "status": 200})
ok(refresh_raw()[0] == 200, "fail html status 200")
ctl("fail", {"kind": "big"})
st, hd, data = refresh_raw()
ok(st == 200 and len(data) == 10 * 1024 * 1024, "fail big -> 10 MB body")
ctl("fail", {"kind": "empty"})
st, hd, data = refresh_raw()
ok(st == 200 and data == b"", "fail empty -> empty 200")
ctl("fail", {"kind": "reset"})
try:
    refresh_raw()
    ok(False, "fail reset -> connection reset")
except ConnectionResetError:
    ok(True, "fail reset -> connection reset")
ctl("fail", {"kind": "close"})
try:
    refresh_raw()
    ok(False, "fail close -> no answer")
except (http.client.RemoteDisconnected, ConnectionError):
    ok(True, "fail close -> connection closed without an answer")
ctl("fail", {"kind": "delay", "seconds": 3})
t0 = time.time()
try:
    refresh_raw(timeout=1)
    ok(False, "fail delay -> client times out")
except (socket.timeout, TimeoutError):
    ok(time.time() - t0 < 2.5, "fail delay -> client times out")
ctl("fail", {"kind": "503", "count": 2, "grant": "device_code"})
ok(refresh_raw()[0] == 200, "fault grant filter: refresh unaffected")
ctl("fail", {"clear": True})
st, _, data = refresh_raw()
ok(st == 200, "fail clear")
rt = json.loads(data)["refresh_token"]
ctl("fail", {"kind": "503", "endpoint": "introspect"})
st, _, _ = req("POST", "/introspect", form={"token": "x"})
ok(st == 503, "fault on introspect")
ctl("fail", {"kind": "503", "endpoint": "devicecode"})
ok(devicecode()[0] == 503, "fault on devicecode")

# ---- Google ------------------------------------------------------------------------------
st, _, data = req("POST", "/device/code",
                  form={"client_id": G, "scope": "https://mail.google.com/"})
j = json.loads(data)
ok(st == 400 and j == {"error": "invalid_scope",
                       "error_description": "Invalid device flow scope: "
                                            "https://mail.google.com/"},
   "Google device flow refuses the Gmail scope")
q = {"client_id": G, "response_type": "code", "access_type": "offline",
     "redirect_uri": "http://127.0.0.1:5555/cb", "state": "s",
     "scope": "https://mail.google.com/", "code_challenge": CHALLENGE,
     "code_challenge_method": "S256"}
st, hd, _ = req("GET", "/o/oauth2/v2/auth?" + urlencode(q))
gq = parse_qs(urlsplit(hd.get("location", "")).query)
ok(st == 302 and gq.get("code", [""])[0].startswith("4/0A"),
   "Google authorize -> code 4/0A...")
st, _, data = req("POST", "/token", form={
    "client_id": G, "client_secret": SECRET, "grant_type":
    "authorization_code", "code": gq["code"][0],
    "redirect_uri": "http://127.0.0.1:5555/cb", "code_verifier": VERIFIER})
j = json.loads(data)
ok(st == 200 and list(j) == ["access_token", "expires_in", "refresh_token",
                             "scope", "token_type"] and
   j["access_token"].startswith("ya29.") and
   j["refresh_token"].startswith("1//"), "Google code grant: Google's fields")
st, _, data = req("POST", "/token", form={
    "client_id": G, "client_secret": SECRET, "grant_type": "refresh_token",
    "refresh_token": j["refresh_token"]})
j2 = json.loads(data)
ok(st == 200 and "refresh_token" not in j2, "Google refresh: no rotation")
st, _, data = req("POST", "/token", form={
    "client_id": G, "grant_type": "refresh_token",
    "refresh_token": j["refresh_token"]})
ok(st == 400 and json.loads(data)["error"] == "invalid_request",
   "Google: client_secret missing")
st, _, data = req("POST", "/revoke", form={"token": j["refresh_token"]})
ok(st == 200, "Google revoke")
st, _, data = req("POST", "/token", form={
    "client_id": G, "client_secret": SECRET, "grant_type": "refresh_token",
    "refresh_token": j["refresh_token"]})
ok(st == 400 and json.loads(data) == {
    "error": "invalid_grant",
    "error_description": "Token has been expired or revoked."},
   "Google revoked refresh token: invalid_grant")

# ---- stats, issued ------------------------------------------------------------------------
s = ctl("stats")
ok(s["token"] > 50 and s["grant"]["refresh_token"] > 20 and
   s["grant"]["device_code"] > 10 and s["devicecode"] > 10 and
   s["introspect"] > 5 and s["authorize"] > 10,
   "stats: per endpoint and per grant")
ok(s["errors"].get("50173", 0) >= 3 and s["faults"] >= 10,
   "stats: errors by AADSTS code, faults")
iss = ctl("issued")
ok(RT1 in iss["refresh_tokens"] and AT1 in iss["access_tokens"] and
   SECRET in iss["client_secrets"] and VERIFIER in iss["code_verifiers"] and
   len(iss["codes"]) > 5 and len(iss["device_codes"]) > 5 and
   RT1 in iss["all"] and SECRET in iss["all"],
   "issued: every secret kind, and 'all'")
ctl("reset_stats", {})
s = ctl("stats")
ok(s["token"] == 0 and s["grant"] == {}, "reset_stats")
print("issued-count %d" % len(iss["all"]))
json.dump(iss["all"], open(sys.argv[2] + ".issued.json", "w"))
sys.exit(1 if fails else 0)
EOF
rc=$?
cat "$T/check.out"
[ "$rc" -eq 0 ] || t_fail "python checks ($rc)"

# No secret the mock issued appears in its own log.
"$PYTHON3" - "$MOCK_CLIENT_SECRET_FILE.issued.json" "$MOCK_LOG" "$T/check.out" >"$T/leak.out" <<'EOF'
import json, sys
secrets = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
hits = [s[:12] for s in secrets if s in log]
print("secrets %d, hits in mock.log %d %s" % (len(secrets), len(hits), hits))
EOF
t_grep "hits in mock.log 0 " "$T/leak.out" "mock.log holds no issued secret"
rm -f "$MOCK_CLIENT_SECRET_FILE.issued.json"
t_grep "POST /common/oauth2/v2.0/token -> 200 grant=refresh_token" "$MOCK_LOG" "mock.log names requests"

# --- stopping -----------------------------------------------------------------
mock_idp_stop
if kill -0 "$MOCK_PID" 2>/dev/null; then t_fail "still running after shutdown"; else t_pass "control shutdown stops it"; fi
[ -e "$MOCK_DIR/port" ] && t_fail "port file left behind" || t_pass "port file removed"

# --watch-pid: stops within a second of the watched process going away.
sleep 30 &
sleeper=$!
"$PYTHON3" "$srcdir/mock/mock_idp.py" --port-file "$T/w.port" --watch-pid "$sleeper" 2>"$T/w.log" &
wpid=$!
t_bg "$wpid"
t_wait_file "$T/w.port" 20 || t_fail "watch mock did not start"
kill "$sleeper"
wait "$sleeper" 2>/dev/null
n=0
while kill -0 "$wpid" 2>/dev/null && [ "$n" -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
if kill -0 "$wpid" 2>/dev/null; then t_fail "--watch-pid: still running"; else t_pass "--watch-pid: stopped when the process went"; fi

# --max-lifetime
"$PYTHON3" "$srcdir/mock/mock_idp.py" --port-file "$T/l.port" --max-lifetime 1 2>"$T/l.log" &
lpid=$!
t_bg "$lpid"
t_wait_file "$T/l.port" 20 || t_fail "lifetime mock did not start"
n=0
while kill -0 "$lpid" 2>/dev/null && [ "$n" -lt 40 ]; do sleep 0.1; n=$((n + 1)); done
if kill -0 "$lpid" 2>/dev/null; then t_fail "--max-lifetime: still running"; else t_pass "--max-lifetime: stopped"; fi
t_grep "max lifetime reached" "$T/l.log" "--max-lifetime logged"

t_done
