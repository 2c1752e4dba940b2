#!/usr/bin/env bash
# Keyless signing where users are (issue 18), against a `hallmark sigstore serve` on 127.0.0.1,
# checked by the stock model_signing 1.1.1:
#   * ambient GitHub Actions credentials: a local server plays the Actions OIDC token endpoint
#     and hands out a token minted by the instance's issuer; `hallmark sign MODEL --trust_config
#     tc.json --use_ambient_credentials` signs, `model_signing verify sigstore` accepts;
#   * the public-good signing path: the instance presented through a public-good-shaped
#     signing config installed as the refreshed production config
#     ($XDG_CONFIG_HOME/hallmark/trust/production.json), so `hallmark sign MODEL` runs with no
#     trust flag, exactly as it would against Sigstore public good; model_signing accepts;
#   * a hub user signs on their machine with their hub identity ({hub}/alice): stock
#     model_signing and hallmark each run the OAuth browser flow against the hub's issuer, a
#     script playing the browser; model_signing verifies both;
#   * bad input: an expired token and an unreachable CA exit 2 and write no model.sig.
#   usage: tests/sigstore/keyless.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: keyless.sh path/to/hallmark}")
VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
bash "$(dirname "$0")/../../scripts/ref-venv.sh" "$VENV"
MS="$VENV/bin/model_signing"
W=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
"$HM" sigstore serve --data-dir "$W/data" --listen "127.0.0.1:$PORT" >"$W/serve.log" 2>&1 &
SERVER=$!
PIDS="$SERVER"
trap 'kill $PIDS 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -sf "$URL/trust-config.json" -o "$W/tc.json" && break; sleep 0.2; done
[ -s "$W/tc.json" ] || { cat "$W/serve.log"; echo "instance did not start" >&2; exit 1; }
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"
export XDG_CONFIG_HOME="$W/config"
unset SIGSTORE_ID_TOKEN GITHUB_ACTIONS GITLAB_CI BUILDKITE CIRCLECI || true
no_secret() {
  if grep -qF -- "$1" "$W/out.txt"; then fail=$((fail+1)); echo "FAIL $2: the output shows the token"; else pass=$((pass+1)); echo "PASS $2"; fi
}
mkdir -p model/weights
echo '{"hidden_size": 8}' > model/config.json
head -c 100000 /dev/urandom > model/weights/w.bin

# 1. GitHub Actions ambient credentials.
ALICE=$("$HM" sigstore token --data-dir data --email alice@example.com)
APORT=$(free_port)
TOKEN="$ALICE" python3 - "$APORT" >"$W/actions.log" 2>&1 <<'PYEOF' &
import http.server, json, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = "audience=sigstore" in self.path and self.headers.get("Authorization", "").lower() == "bearer actions-request-secret"
        body = json.dumps({"value": os.environ["TOKEN"]} if ok else {"message": "bad request"}).encode()
        self.send_response(200 if ok else 403); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PYEOF
PIDS="$PIDS $!"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$APORT/" && break; sleep 0.1; done
expect 0 "hallmark sign MODEL --use_ambient_credentials (GitHub Actions endpoint on loopback)" \
  env GITHUB_ACTIONS=true ACTIONS_ID_TOKEN_REQUEST_URL="http://127.0.0.1:$APORT/token?api-version=2.0" \
  ACTIONS_ID_TOKEN_REQUEST_TOKEN=actions-request-secret \
  "$HM" sign model --signature gha.sig --trust_config tc.json --use_ambient_credentials
no_secret "$ALICE" "the ambient token is not printed"
expect 0 "model_signing verifies the ambient-credential signature" "$MS" verify sigstore model --signature gha.sig --trust_config tc.json --identity alice@example.com --identity_provider "$URL"
expect 0 "hallmark verify MODEL (sigstore by default) agrees" "$HM" verify model --signature gha.sig --trust_config tc.json --identity alice@example.com --identity_provider "$URL"
expect 2 "GitHub Actions without id-token permission: exit 2" env GITHUB_ACTIONS=true "$HM" sign model --signature none.sig --trust_config tc.json --use_ambient_credentials
grep -q "ACTIONS_ID_TOKEN_REQUEST_URL" "$W/out.txt" && [ ! -e none.sig ] && { pass=$((pass+1)); echo "PASS  ... naming the missing variable, no model.sig"; } || { fail=$((fail+1)); echo "FAIL  ... message or model.sig"; cat "$W/out.txt"; }

# 2. The public-good path: no trust flag, the refreshed production config points at the instance.
mkdir -p "$XDG_CONFIG_HOME/hallmark/trust"
"$VENV/bin/python" - "$HM" <<'PYEOF'
import json, subprocess, sys, os
# The built-in public-good signing config, every service moved to the instance's URL (same
# lists, versions, operators and selectors), with the instance's trusted root.
inst = json.load(open("tc.json"))
prod_sc = json.load(open(os.path.join(os.path.dirname(__import__("sigstore").__file__), "_store", "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev", "signing_config.v0.2.json")))
sc = json.loads(json.dumps(prod_sc))
for key in ("caUrls", "oidcUrls", "rekorTlogUrls", "tsaUrls"):
    mine = inst["signingConfig"].get(key) or []
    moved = []
    for svc in sc.get(key, []):
        same = [m for m in mine if m.get("majorApiVersion") == svc.get("majorApiVersion")]
        if same:
            svc["url"] = same[0]["url"]
            moved.append(svc)
    sc[key] = moved
pg = {"mediaType": inst["mediaType"], "trustedRoot": inst["trustedRoot"], "signingConfig": sc}
json.dump(pg, open(os.path.join(os.environ["XDG_CONFIG_HOME"], "hallmark", "trust", "production.json"), "w"), indent=1)
json.dump(pg, open("pg-shaped.json", "w"), indent=1)
PYEOF
BOB=$("$HM" sigstore token --data-dir data --email bob@example.com)
expect 0 "hallmark sign MODEL --identity_token T on the default (public-good) path" "$HM" sign model --signature pg.sig --identity_token "$BOB"
no_secret "$BOB" "the explicit token is not printed"
expect 0 "model_signing verifies the public-good-path signature" "$MS" verify sigstore model --signature pg.sig --trust_config pg-shaped.json --identity bob@example.com --identity_provider "$URL"
rm -rf "$XDG_CONFIG_HOME/hallmark/trust"

# 3. A hub user signs on their own machine with their hub identity: the browser flow (OAuth
#    code + PKCE, loopback redirect) against the hub's issuer, the "browser" being a script that
#    follows the redirects and logs in as alice; stock model_signing and hallmark both sign so.
HPORT=$(free_port)
HUB="http://127.0.0.1:$HPORT"
"$HM" hub serve --listen "127.0.0.1:$HPORT" --data-dir "$W/hub" >"$W/hub.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -sf "$HUB/readyz" >/dev/null && break; sleep 0.2; done
printf '%s\n' 'alice-correct-horse' | "$HM" hub admin --data-dir "$W/hub" user add alice --password-stdin >/dev/null
curl -sf "$HUB/trust-config.json" -o hub-tc.json
cat > "$W/browser" <<'PYEOF'
#!/usr/bin/env python3
# A headless browser: open the URL (following redirects to the hub's consent page), log in as
# alice and allow; the 303 to the loopback callback is followed too.
import sys, urllib.parse, urllib.request
opener = urllib.request.build_opener()
r = opener.open(sys.argv[1], timeout=30)
page_url, page = r.geturl(), r.read().decode()
assert "Sign models as" in page, page[:300]
fields = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page_url).query))
fields.update(username="alice", password="alice-correct-horse", decision="allow")
r = opener.open(page_url.split("?")[0], data=urllib.parse.urlencode(fields).encode(), timeout=30)
r.read()
PYEOF
chmod +x "$W/browser"
expect 0 "model_signing sign sigstore --trust_config hub-tc.json: browser login at the hub" env BROWSER="$W/browser" "$MS" sign sigstore model --signature ms-hub.sig --trust_config hub-tc.json
expect 0 "model_signing verifies it as $HUB/alice" "$MS" verify sigstore model --signature ms-hub.sig --trust_config hub-tc.json --identity "$HUB/alice" --identity_provider "$HUB"
expect 0 "hallmark sign MODEL --trust_config hub-tc.json: browser login at the hub" env BROWSER="$W/browser" "$HM" sign model --signature hm-hub.sig --trust_config hub-tc.json
expect 0 "model_signing verifies hallmark's as $HUB/alice" "$MS" verify sigstore model --signature hm-hub.sig --trust_config hub-tc.json --identity "$HUB/alice" --identity_provider "$HUB"

# 4. Bad input: exit 2, nothing written.
EXPIRED=$(python3 -c 'import base64,json,time; e=lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("="); print(e({"alg":"ES256"})+"."+e({"iss":"'"$URL"'","sub":"x","aud":"sigstore","exp":int(time.time())-3600})+".c2ln")')
expect 2 "an expired token: exit 2" "$HM" sign model --signature bad.sig --trust_config tc.json --identity_token "$EXPIRED"
grep -q "expired at" "$W/out.txt" && [ ! -e bad.sig ] && { pass=$((pass+1)); echo "PASS  ... says expired, no model.sig"; } || { fail=$((fail+1)); echo "FAIL  ... message or model.sig"; cat "$W/out.txt"; }
python3 -c 'import json,sys; t=json.load(open("tc.json")); t["signingConfig"]["caUrls"][0]["url"]="http://127.0.0.1:9"; json.dump(t, open("dead.json","w"))'
expect 2 "an unreachable CA: exit 2" "$HM" sign model --signature bad.sig --trust_config dead.json --identity_token "$BOB"
grep -q "127.0.0.1:9" "$W/out.txt" && [ ! -e bad.sig ] && ok " ... names the CA, no model.sig" || { bad " ... message or model.sig"; cat "$W/out.txt"; }
echo "keyless e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
