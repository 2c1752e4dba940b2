#!/usr/bin/env bash
# Issue 22 end to end: a hub whose log is witnessed by 3 `hallmark witness serve` processes,
# clients holding the hub's witness policy (2 of 3):
#   pushes go on with one witness killed (the hub's /readyz says degraded, names it) →
#   `hallmark pull --witness-policy` accepts the revision → a forked log (a copy of the hub's
#   data directory, same origin and key, that appends something else at the same size) is
#   refused by every witness (409/422, in the fork's log and /readyz) and by a client holding
#   the policy, naming the fork; a client that never saw the real log is refused naming the
#   missing witnesses.
#   usage: tests/witness/e2e.sh path/to/hallmark
# The functions are also used by benches/witness.sh (sourcing this file runs nothing).
set -euo pipefail

# --- helpers (sourced by the benchmark) --------------------------------------------------
WPIDS=()
# shellcheck source=tests/lib/hub.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/hub.sh"

# start_witness NAME: a witness of the log in $W/witness-logs.conf; sets WURL_NAME, WVKEY_NAME.
start_witness() {
  local name=$1 dir=$W/witness-$1
  "$HM" witness serve --data-dir "$dir" --name "$name" --config "$W/witness-logs.conf" \
    --listen 127.0.0.1:0 >"$dir.log" 2>&1 &
  WPIDS+=($!)
  eval "WPID_$name=$!"
  for _ in $(seq 100); do grep -q 'listening on' "$dir.log" 2>/dev/null && break; sleep 0.1; done
  eval "WURL_$name=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$dir.log" | grep -o 'http://.*')"
  eval "WVKEY_$name=$(grep -o 'witness: key [^ ]*' "$dir.log" | head -1 | cut -d' ' -f3)"
}

# start_hub DATA_DIR [WITNESS_POLICY]: the hub, witnessed if a policy file is given; sets HUB.
start_hub() {
  local extra=()
  [ -n "${2:-}" ] && extra=(--witness-config "$2" --witness-deadline-ms 2000)
  hub_start "$1" "$1.serve.log" "${extra[@]}"
}
stop_hub() { hub_stop; }

# setup_witnessed_hub W: creates the hub's log (one start without witnesses), starts the
# witnesses alpha, beta, gamma for it, writes $W/witnesses.policy (2 of 3) and a user
# "bench" with a write token in TOK.
setup_witnessed_hub() {
  start_hub "$W/hub"
  curl -s "$HUB/witness-policy" > "$W/log-only.policy"
  local origin vkey
  origin=$(curl -s "$HUB/checkpoint" | head -1)
  vkey=$(grep '^log ' "$W/log-only.policy" | head -1 | cut -d' ' -f2)
  echo "log $origin $vkey" > "$W/witness-logs.conf"
  HALLMARK_HUB_DATA="$W/hub" "$HM" hub admin user add bench >/dev/null
  TOK=$(HALLMARK_HUB_DATA="$W/hub" "$HM" hub admin token bench --scope write 2>/dev/null)
  stop_hub
  : > "$W/witnesses.policy"
  for n in alpha beta gamma; do
    start_witness "$n"
    echo "witness $n $(eval echo "\$WVKEY_$n") $(eval echo "\$WURL_$n")" >> "$W/witnesses.policy"
  done
  printf 'group two-of-three 2 alpha beta gamma\nquorum two-of-three\n' >> "$W/witnesses.policy"
}
cleanup_all() {
  stop_hub
  for p in "${WPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
[ "${BASH_SOURCE[0]}" != "$0" ] && return 0

# --- the test ----------------------------------------------------------------------------
HM=$(realpath "${1:?usage: e2e.sh path/to/hallmark}")
W=$(mktemp -d)
trap 'cleanup_all; rm -rf "$W"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"
export NO_PROGRESS=1 XDG_CONFIG_HOME="$W/client-config"
says() { if grep -q -- "$1" "$W/out.txt"; then ok "… naming $2"; else bad "… naming $2"; tail -5 "$W/out.txt" | sed 's/^/    /'; fi; }
cosigs() { curl -s "$HUB/checkpoint" | grep -c '^— \(alpha\|beta\|gamma\) ' || true; }
model() { mkdir -p "$1"; head -c 100000 /dev/urandom > "$1/weights.bin"; echo "{\"m\": \"$1\"}" > "$1/config.json"; }

setup_witnessed_hub
start_hub "$W/hub" "$W/witnesses.policy"
echo "hub at $HUB, witnesses at $WURL_alpha $WURL_beta $WURL_gamma"
curl -s "$HUB/witness-policy" > policy.txt
check "the hub's /witness-policy names its log and its 3 witnesses with the quorum" \
  bash -c "grep -c '^log ' policy.txt | grep -q '^[12]$' && grep -c '^witness ' policy.txt | grep -q '^3$' && grep -q '^quorum two-of-three' policy.txt"
model m1
check "push with 3 witnesses up" "$HM" push m1 bench/one --hub "$HUB" --token "$TOK"
check "/checkpoint carries 3 cosignatures" test "$(cosigs)" = 3
kill "$WPID_gamma"; wait "$WPID_gamma" 2>/dev/null || true
model m2
check "push with witness gamma killed" "$HM" push m2 bench/two --hub "$HUB" --token "$TOK"
check "/checkpoint carries 2 cosignatures" test "$(cosigs)" = 2
check "/readyz: still 200, witnesses degraded, gamma missing" bash -c \
  "curl -sf '$HUB/readyz' | python3 -c 'import json,sys; w=json.load(sys.stdin)[\"witnesses\"]; assert w[\"status\"]==\"degraded\" and w[\"missing\"]==[\"gamma\"], w'"
check "hallmark pull --witness-policy accepts the revision" \
  "$HM" pull bench/two pulled2 --hub "$HUB" --witness-policy policy.txt
openssl pkey -in "$W/hub/sigstore/log/log.key" -pubout -out log.pub 2>/dev/null
check "hallmark log audit --witness-policy accepts the log" \
  "$HM" log audit "$HUB" --public-key log.pub --witness-policy policy.txt
check "hallmark log monitor --witness-policy accepts the log" \
  "$HM" log monitor "$HUB" --public-key log.pub --state monitor.json --once --witness-policy policy.txt
start_witness gamma

# --- a fork: the same log (origin, key) with another history -------------------------------
stop_hub
cp -a "$W/hub" "$W/fork"
start_hub "$W/hub" "$W/witnesses.policy"
model m3
check "push to the real log (size n+1)" "$HM" push m3 bench/three --hub "$HUB" --token "$TOK"
check "pull of it with the policy (remembers the witnessed checkpoint)" \
  "$HM" pull bench/three pulled3 --hub "$HUB" --witness-policy policy.txt
stop_hub
start_hub "$W/fork" "$W/witnesses.policy"
model m4
check "the fork still takes a push (size n+1, another root): a log is never blocked" \
  "$HM" push m4 bench/four --hub "$HUB" --token "$TOK"
check "the fork's /checkpoint has no cosignature" test "$(cosigs)" = 0
check "every witness refused the fork (409/422 in the fork's log)" bash -c \
  "for n in alpha beta gamma; do grep -q \"witness \$n did not cosign.*\\(409\\|422\\|refused\\|cosigned tree size\\)\" '$W/fork.serve.log' || exit 1; done"
check "the fork's /readyz names all three as missing" bash -c \
  "curl -sf '$HUB/readyz' | python3 -c 'import json,sys; w=json.load(sys.stdin)[\"witnesses\"]; assert sorted(w[\"missing\"])==[\"alpha\",\"beta\",\"gamma\"], w'"
refuse "pull from the fork with the policy is refused" \
  "$HM" pull bench/four pulled4 --hub "$HUB" --witness-policy policy.txt
says "FORK" "the fork"
check "… and nothing was written" test ! -e pulled4
refuse "a client that never saw the real log is refused too" \
  env XDG_CONFIG_HOME="$W/fresh-client" "$HM" pull bench/four pulled5 --hub "$HUB" --witness-policy policy.txt
says "alpha, beta, gamma" "the missing witnesses"
refuse "hallmark log monitor --witness-policy on the fork (fresh state) alerts" \
  "$HM" log monitor "$HUB" --public-key log.pub --state monitor-fork.json --once --witness-policy policy.txt
says '"alert":"witness-policy"' "a witness-policy alert"
check "… and the unwitnessed fork is not saved as the monitor's state" test ! -e monitor-fork.json

echo "witness e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
