#!/usr/bin/env bash
# Incremental re-sign benchmark (issue 21; not a timed test). In one run, for two layouts:
#   eight: a 2 GiB model in 8 files of 256 MiB + README.md; README.md is edited;
#   many:  20,000 files of 16 KiB; one of them is edited;
# it edits, then times `hallmark sign key` (full) and `hallmark sign key --incremental`
# (whose previous signature and stat cache are those of the unedited model) on the same
# bytes, both with a warm page cache, REPS times, and prints best full/best incremental, checks that both signatures carry the
# byte-identical in-toto statement (ECDSA signatures are randomized, the statements are
# not), and verifies the incremental signature with the reference
# `model_signing verify key` (1.1.1, venv as tests/interop/run.sh). It also times
# `hallmark verify key` against `--incremental`.
#   usage: benches/incremental.sh [path/to/hallmark]   (default: builds it, release)
# Environment: BENCH_DIR (default mktemp), SMALL_COUNT (20000), EIGHTH_MIB (256),
#   OMS_REF_VENV (default ~/.cache/hallmark-oms-ref), REPS (3, best wall time),
#   BASELINE (another hallmark binary, e.g. a build of an older commit: its incremental
#   sign runs in the same rounds, with its own stat cache and signature, for before/after
#   ratios from one run; its statement is compared too).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SMALL_COUNT=${SMALL_COUNT:-20000}
EIGHTH_MIB=${EIGHTH_MIB:-256}
REPS=${REPS:-3}
VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
if [ -n "${1:-}" ]; then
  HM=$(realpath "$1")
else
  cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" -p hallmark-cli \
    --no-default-features --features verify
  HM=${CARGO_TARGET_DIR:-$ROOT/target}/release/hallmark
fi
[ -z "${BASELINE:-}" ] || BASELINE=$(realpath "$BASELINE")
bash "$ROOT/scripts/ref-venv.sh" "$VENV"
W=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/hallmark-incr.XXXXXX")}
mkdir -p "$W"
[ -z "${BENCH_DIR:-}" ] && trap 'rm -rf "$W"' EXIT
export XDG_CACHE_HOME=$W/cache NO_PROGRESS=1
cd "$W"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out key.pem
openssl pkey -in key.pem -pubout -out pub.pem

# best NAME CMD...: best wall time of REPS runs (seconds) into $BEST; output of the last in $W/out
best() {
  BEST=""
  for _ in $(seq "$REPS"); do
    local t0 t1 w
    t0=$(date +%s.%N); "$@" >"$W/out" 2>&1 || { echo "FAILED: $*" >&2; cat "$W/out" >&2; exit 1; }
    t1=$(date +%s.%N); w=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$BEST" ] || [ "$(echo "$w < $BEST" | bc -l)" = 1 ]; then BEST=$w; fi
  done
}
payload() { "$VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dsseEnvelope"]["payload"])' "$1"; }

# time1 CMD...: wall time of one run (seconds) into $T; output in $W/out
time1() {
  local t0 t1
  t0=$(date +%s.%N); "$@" >"$W/out" 2>&1 || { echo "FAILED: $*" >&2; cat "$W/out" >&2; exit 1; }
  t1=$(date +%s.%N); T=$(echo "$t1 - $t0" | bc -l)
}
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ]; then echo "$2"; else echo "$1"; fi; }

layout() { # layout NAME EDITED-FILE
  local name=$1 m=$W/$1 edit=$2 full="" inc="" base="" counts="" same=yes
  # priming: the signature and stat cache an earlier (incremental) sign left behind
  "$HM" sign key "$m" --private-key key.pem --signature "$W/$name.inc.sig" --incremental -q >/dev/null
  if [ -n "${BASELINE:-}" ]; then
    XDG_CACHE_HOME=$W/cache-base "$BASELINE" sign key "$m" --private-key key.pem \
      --signature "$W/$name.base.sig" --incremental -q >/dev/null
  fi
  for _ in $(seq "$REPS"); do
    sleep 0.1   # past the previous run's timestamp tick (else every file would be racy)
    echo "edited $(date +%s.%N)" >>"$m/$edit"
    time1 "$HM" sign key "$m" --private-key key.pem --signature "$W/$name.full.sig" -q
    full=$(min "$full" "$T")
    if [ -n "${BASELINE:-}" ]; then
      time1 env XDG_CACHE_HOME="$W/cache-base" "$BASELINE" sign key "$m" --private-key key.pem \
        --signature "$W/$name.base.sig" --incremental -q
      base=$(min "$base" "$T")
      [ "$(payload "$W/$name.full.sig")" = "$(payload "$W/$name.base.sig")" ] || same=no
    fi
    time1 "$HM" sign key "$m" --private-key key.pem --signature "$W/$name.inc.sig" --incremental -q
    inc=$(min "$inc" "$T")
    counts=$(grep -o 'incremental: .*' "$W/out")
    [ "$(payload "$W/$name.full.sig")" = "$(payload "$W/$name.inc.sig")" ] || same=no
  done
  if [ -n "$base" ]; then
    printf '%-6s baseline incremental %6.3fs  ratio full/baseline %6.1fx  (this build: %6.1fx; load %s)\n' \
      "$name" "$base" "$(echo "$full / $base" | bc -l)" "$(echo "$full / $inc" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  fi
  local ref=FAILED
  "$VENV/bin/model_signing" verify key "$m" --signature "$W/$name.inc.sig" --public_key pub.pem >/dev/null 2>&1 && ref=verified
  best "$HM" verify key "$m" --signature "$W/$name.inc.sig" --public-key pub.pem -q
  local vfull=$BEST
  "$HM" verify key "$m" --signature "$W/$name.inc.sig" --public-key pub.pem -q --incremental >/dev/null 2>&1
  best "$HM" verify key "$m" --signature "$W/$name.inc.sig" --public-key pub.pem -q --incremental
  local vinc=$BEST
  printf '%-6s sign after the edit: full %6.3fs  incremental %6.3fs  ratio %6.1fx  (%s)\n' \
    "$name" "$full" "$inc" "$(echo "$full / $inc" | bc -l)" "$counts"
  printf '%-6s verify unchanged: full %6.3fs  incremental %6.3fs  ratio %6.1fx\n' \
    "$name" "$vfull" "$vinc" "$(echo "$vfull / $vinc" | bc -l)"
  printf '%-6s statement identical to the full sign (%s runs): %s; model_signing 1.1.1 verify key: %s\n' \
    "$name" "$REPS" "$same" "$ref"
  [ "$same" = yes ] && [ "$ref" = verified ]
}

echo "# generating: 8 x $EIGHTH_MIB MiB + README.md; $SMALL_COUNT x 16 KiB" >&2
mkdir -p eight many
for i in 0 1 2 3 4 5 6 7; do head -c "${EIGHTH_MIB}M" /dev/urandom >"eight/model-0000$i-of-00008.safetensors"; done
echo "# a model" >eight/README.md
python3 - "$W/many" "$SMALL_COUNT" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i // 1000:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(16384))
EOF
echo "# load: $(uptime)" >&2
layout eight README.md
layout many d007/f07007.bin
