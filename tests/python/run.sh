#!/usr/bin/env bash
# Issue 19: the Python package end to end.
#   maturin (venv under $HOME/.cache) builds the wheel with the given hallmark binary bundled →
#   a fresh venv installs it (+ pytest, huggingface_hub) → pytest python/tests: the reference's
#   README examples through `from hallmark import model_signing` against reference-made fixtures,
#   the reference model-signing 1.1.1 (its own venv) verifying what the module signs, keyless
#   signing against `hallmark sigstore serve`, and verify-on-download against `hallmark hub serve`.
#   usage: tests/python/run.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: run.sh path/to/hallmark}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${HALLMARK_PY_TOOLS:-$HOME/.cache/hallmark-maturin-venv}
REF_VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/hallmark-target}
if ! "$TOOLS/bin/maturin" --version >/dev/null 2>&1; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check 'maturin>=1.5,<2'
fi
bash "$ROOT/scripts/ref-venv.sh" "$REF_VENV"
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W" "$ROOT/python/hallmark/bin"; }
trap cleanup EXIT

# --- the wheel: extension module + the CLI binary as the `hallmark` console command ---------
mkdir -p "$ROOT/python/hallmark/bin"
cp "$HM" "$ROOT/python/hallmark/bin/hallmark"
(cd "$ROOT/python" && "$TOOLS/bin/maturin" build --release --locked --quiet -o "$W/wheels")
WHEEL=$(ls "$W"/wheels/hallmark-*.whl)
echo "wheel: $(basename "$WHEEL") ($(du -h "$WHEEL" | cut -f1))"
python3 -m venv "$W/venv"
"$W/venv/bin/pip" install -q --disable-pip-version-check "$WHEEL" pytest huggingface_hub
"$W/venv/bin/hallmark" --version

# --- a private Sigstore instance (keyless signing) -------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); SIG_URL="http://127.0.0.1:$PORT"
"$HM" sigstore serve --data-dir "$W/sig" --listen "127.0.0.1:$PORT" >"$W/sig.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do curl -sf "$SIG_URL/trust-config.json" -o "$W/sig-tc.json" && break; sleep 0.2; done
[ -s "$W/sig-tc.json" ] || { cat "$W/sig.log"; echo "sigstore instance did not start" >&2; exit 1; }
export HALLMARK_TEST_SIGSTORE_TC="$W/sig-tc.json" HALLMARK_TEST_SIGSTORE_ISSUER="$SIG_URL" \
  HALLMARK_TEST_SIGSTORE_IDENTITY=py@example.com
HALLMARK_TEST_SIGSTORE_TOKEN=$("$HM" sigstore token --data-dir "$W/sig" --email py@example.com)
export HALLMARK_TEST_SIGSTORE_TOKEN

# --- a hub with a model signed by alice (acme/demo) and one by carol (carol/other) -----------
export HALLMARK_HUB_DATA="$W/hub" NO_PROGRESS=1 HF_HUB_DISABLE_TELEMETRY=1 HF_HOME="$W/hf-home"
# shellcheck source=tests/lib/hub.sh
source "$ROOT/tests/lib/hub.sh"
hub_start "$W/hub" "$W/hub.log"
PIDS+=("$HUB_PID")
export HALLMARK_HUB="$HUB"
echo 'alice-password-1' | "$HM" hub admin user add alice --password-stdin >/dev/null
"$HM" hub admin user add carol >/dev/null
"$HM" hub admin org add acme --owner alice >/dev/null
ALICE=$("$HM" hub admin token alice --scope write 2>/dev/null)
CAROL=$("$HM" hub admin token carol --scope write 2>/dev/null)
mkdir -p "$W/m/weights"
echo '{"hidden_size": 64}' > "$W/m/config.json"
head -c 300000 /dev/urandom > "$W/m/weights/model.safetensors"
"$HM" push "$W/m" acme/demo --token "$ALICE" -m first >/dev/null
"$HM" push "$W/m" carol/other --token "$CAROL" -m first >/dev/null
curl -sf -o "$W/hub-tc.json" "$HUB/trust-config.json"
export HALLMARK_TEST_HUB="$HUB" HALLMARK_TEST_HUB_TC="$W/hub-tc.json"

# --- the suite -------------------------------------------------------------------------------
export HALLMARK_TESTDATA="$ROOT/testdata" REF_PYTHON="$REF_VENV/bin/python"
cd "$W" && "$W/venv/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/python/tests"
