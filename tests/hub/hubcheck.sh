# Shared set-up of tests/hub/claims.sh and tests/hub/export.sh, sourced with $HM set: a work
# dir removed on exit (the shell cds into it), PASS/FAIL counters with check/refuse, and a
# `hallmark hub serve` on a free port with alice owning org acme (write token $ALICE).
# shellcheck source=tests/lib/hub.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/hub.sh"
cleanup() { hub_stop; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"
export HALLMARK_HUB_DATA="$W/data" XDG_CONFIG_HOME="$W/config"

hub_start "$W/data" "$W/serve.log"
export HALLMARK_HUB=$HUB
echo "hub at $HUB"
"$HM" hub admin user add alice >/dev/null
"$HM" hub admin org add acme --owner alice >/dev/null
ALICE=$("$HM" hub admin token alice --scope write 2>/dev/null)
