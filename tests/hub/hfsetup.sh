# Shared set-up of the real-client hub scripts (hfclient.sh, hfrefs.sh), sourced with $HM set:
# the huggingface_hub venv (newest release on PyPI), a work dir removed on exit, PASS/FAIL
# counters with check/row, a `hallmark hub serve` on a free port with alice (acme owner, write
# token $ALICE) and bob (acme reader, read token $BOB_READ), and HF_ENDPOINT pointing at it.
HF_VENV=${HF_CLIENT_VENV:-$HOME/.cache/hallmark-hfclient-venv}
if ! "$HF_VENV/bin/python" -c "import huggingface_hub" 2>/dev/null; then
  echo "creating huggingface_hub venv in $HF_VENV (newest release on PyPI)"
  python3 -m venv "$HF_VENV"
  "$HF_VENV/bin/pip" install -q --disable-pip-version-check --upgrade huggingface_hub
fi
PY="$HF_VENV/bin/python"
W=$(mktemp -d)
# shellcheck source=tests/lib/hub.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/hub.sh"
cleanup() { hub_stop; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"
export HALLMARK_HUB_DATA="$W/data" NO_PROGRESS=1 HF_HUB_DISABLE_TELEMETRY=1 HF_HOME="$W/hf-home"
export HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_PROGRESS_BARS=1
TABLE=${HF_TABLE:-$W/table.md}
: > "$TABLE"
CHECK_TAIL=12
# row CALL WHAT: a README table row for a client call, written when the check passes.
row() { local call=$1 what=$2; shift 2; if "$@" >"$W/out.txt" 2>&1; then ok "$call: $what"; printf '| `%s` | %s |\n' "$call" "$what" >> "$TABLE"; else bad "$call: $what"; tail -12 "$W/out.txt" | sed 's/^/    /'; fi; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

hub_start "$W/data" "$W/serve.log"
export HF_ENDPOINT=$HUB HALLMARK_HUB=$HUB
echo 'alice-password-1' | "$HM" hub admin user add alice --email alice@example.com --password-stdin >/dev/null
"$HM" hub admin user add bob >/dev/null
"$HM" hub admin org add acme --owner alice >/dev/null
"$HM" hub admin org member acme bob --role reader >/dev/null
ALICE=$("$HM" hub admin token alice --scope write 2>/dev/null)
BOB_READ=$("$HM" hub admin token bob --scope read 2>/dev/null)
export ALICE BOB_READ HUB
echo "hub at $HUB; huggingface_hub $("$PY" -c 'import huggingface_hub as h; print(h.__version__)')"
