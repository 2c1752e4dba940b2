#!/usr/bin/env bash
# Flat cost at any size (issue 21; not a timed test). In one run, `hallmark sign key`
# (files, sha256) of
#   sparse: a 100 GiB sparse file (truncate -s: zeros, no disk used) against a 4 GiB
#           sparse file (the size of benches/hash.sh's `big` layout; same bytes, so only
#           the size differs): GB/s and the ratio big/small;
#   many:   1,000,000 files of FILE_BYTES (1 KiB: ~4 GB of disk with 4 KiB blocks)
#           against 20,000 such files (the count of benches/hash.sh's `many` layout):
#           files/s and the ratio;
# with the peak RSS of each sign (GNU time; HALLMARK_TIMINGS=1 shows the resident memory
# after each phase), the signature's size (one JSON statement, base64 in the bundle:
# written as it is made, not held in memory, for key and certificate signers) and the stat
# cache of a `--incremental` sign of the large layouts. Data is deleted on exit.
#   usage: benches/flat.sh [path/to/hallmark]   (default: builds it, release)
# Environment: BENCH_DIR (default mktemp), BIG_GIB (100), SMALL_GIB (4), MANY (1000000),
#   FEW (20000), FILE_BYTES (1024), LAYOUTS ("sparse many"), HASH_BENCH (a built
#   crates/hash/examples/hash_bench, else built here), BASELINE (another hallmark
#   binary, e.g. a build of an older commit: its few/many signs run first on the same
#   files, for before/after figures from one run, and the statements both signed are
#   compared; rows few-base, many-base).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIG_GIB=${BIG_GIB:-100}; SMALL_GIB=${SMALL_GIB:-4}
MANY=${MANY:-1000000}; FEW=${FEW:-20000}; FILE_BYTES=${FILE_BYTES:-1024}
LAYOUTS=${LAYOUTS:-"sparse many"}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -n "${HASH_BENCH:-}" ]; then HB=$HASH_BENCH; else
  cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" -p hallmark-hash --example hash_bench
  HB=$TARGET/release/examples/hash_bench
fi
if [ -n "${1:-}" ]; then HM=$(realpath "$1"); else
  cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" -p hallmark-cli
  HM=$TARGET/release/hallmark
fi
W=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/hallmark-flat.XXXXXX")}
mkdir -p "$W"; trap 'rm -rf "$W"' EXIT
export XDG_CACHE_HOME=$W/cache NO_PROGRESS=1
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$W/key.pem"
echo "# load: $(uptime)" >&2

# sign NAME MODEL [ARGS...]: one timed sign with $BIN (default $HM); sets WALL (s) and RSS (MiB)
sign() {
  local name=$1 model=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$W/rss" "${BIN:-$HM}" sign key "$model" --private-key "$W/key.pem" \
    --signature "$W/$name.sig" -q "$@" >"$W/out" 2>&1 || { cat "$W/out" >&2; exit 1; }
  t1=$(date +%s.%N)
  WALL=$(echo "$t1 - $t0" | bc -l); RSS=$(( $(tail -1 "$W/rss") / 1024 ))
}
row() { # LABEL FILES BYTES [SIGNATURE NAME, default LABEL]
  printf '%-14s %9d files %8.2f GiB  %8.3f s  %7.3f GB/s  %10.0f files/s  peak RSS %5d MiB  signature %7.1f MiB\n' \
    "$1" "$2" "$(echo "$3 / 1073741824" | bc -l)" "$WALL" "$(echo "$3 / $WALL / 1000000000" | bc -l)" \
    "$(echo "$2 / $WALL" | bc -l)" "$RSS" "$(echo "$(stat -c %s "$W/${4:-$1}.sig") / 1048576" | bc -l)"
}

for layout in $LAYOUTS; do
  case $layout in
  sparse)
    mkdir -p "$W/small" "$W/big"
    truncate -s "${SMALL_GIB}G" "$W/small/model.safetensors"
    truncate -s "${BIG_GIB}G" "$W/big/model.safetensors"
    sign small "$W/small"; s_rate=$(echo "$SMALL_GIB * 1073741824 / $WALL" | bc -l)
    row small 1 $(( SMALL_GIB << 30 ))
    sign big "$W/big"; b_rate=$(echo "$BIG_GIB * 1073741824 / $WALL" | bc -l)
    row big 1 $(( BIG_GIB << 30 ))
    printf 'sparse: GB/s at %d GiB / at %d GiB = %.2f\n' "$BIG_GIB" "$SMALL_GIB" "$(echo "$b_rate / $s_rate" | bc -l)"
    rm -rf "$W/small" "$W/big"
    ;;
  many)
    echo "# generating $FEW and $MANY files of $FILE_BYTES bytes; disk: $(df -h "$W" | tail -1)" >&2
    "$HB" gen-many "$W/few" "$FEW" "$FILE_BYTES"
    "$HB" gen-many "$W/many" "$MANY" "$FILE_BYTES"
    sync
    find "$W/few" "$W/many" -type f -print0 | xargs -0 cat >/dev/null   # warm the page cache
    if [ -n "${BASELINE:-}" ]; then
      BIN=$(realpath "$BASELINE")
      sign few-base "$W/few"; f_rate=$(echo "$FEW / $WALL" | bc -l); row few-base "$FEW" $(( FEW * FILE_BYTES ))
      sign many-base "$W/many"; m_rate=$(echo "$MANY / $WALL" | bc -l); row many-base "$MANY" $(( MANY * FILE_BYTES ))
      printf 'many-base: files/s at %d files / at %d files = %.2f\n' "$MANY" "$FEW" "$(echo "$m_rate / $f_rate" | bc -l)"
      unset BIN
    fi
    sign few "$W/few"; f_rate=$(echo "$FEW / $WALL" | bc -l); row few "$FEW" $(( FEW * FILE_BYTES ))
    sign many "$W/many"; m_rate=$(echo "$MANY / $WALL" | bc -l); row many "$MANY" $(( MANY * FILE_BYTES ))
    printf 'many: files/s at %d files / at %d files = %.2f\n' "$MANY" "$FEW" "$(echo "$m_rate / $f_rate" | bc -l)"
    if [ -n "${BASELINE:-}" ]; then  # ECDSA is randomised: compare what was signed
      same=$(python3 -c 'import json,sys; p=[json.load(open(f))["dsseEnvelope"]["payload"] for f in sys.argv[1:]]; print("identical" if p[0]==p[1] else "DIFFERENT")' "$W/many-base.sig" "$W/many.sig")
      echo "many: signed payload (statement) of the baseline and of this build: $same"
      rm -f "$W/many-base.sig"
    fi
    sign many-incr "$W/many" --incremental; row many-incr "$MANY" $(( MANY * FILE_BYTES ))
    sign many-incr "$W/many" --incremental; row many-incr "$MANY" $(( MANY * FILE_BYTES ))
    echo "many: stat cache $(du -b "$W"/cache/hallmark/statcache/*.cache | cut -f1) bytes; $(grep -o 'incremental: .*' "$W/out" | cut -c1-60)"
    rm -rf "$W/few" "$W/many"
    ;;
  esac
done
echo "# load: $(uptime)" >&2
