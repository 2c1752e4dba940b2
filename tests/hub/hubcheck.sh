# Shared set-up of tests/hub/claims.sh and tests/hub/export.sh, sourced with $HM set: a work
# dir removed on exit (the shell cds into it), PASS/FAIL counters with check/refuse, and a
# `hallmark hub serve` on a free port with alice owning org acme (write token $ALICE).
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"
export HALLMARK_HUB_DATA="$W/data" XDG_CONFIG_HOME="$W/config"

"$HM" hub serve --data-dir "$W/data" --listen 127.0.0.1:0 >"$W/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$W/serve.log" && break; sleep 0.1; done
HUB=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$W/serve.log" | grep -o 'http://.*$')
export HALLMARK_HUB=$HUB
echo "hub at $HUB"
"$HM" hub admin user add alice >/dev/null
"$HM" hub admin org add acme --owner alice >/dev/null
ALICE=$("$HM" hub admin token alice --scope write 2>/dev/null)
