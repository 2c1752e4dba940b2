#!/usr/bin/env bash
# `hallmark pull` benchmark (issue 21; not a timed test). A local hub (release binary,
# SQLite + files, on loopback) holds a signed model of 4 × QUARTER_MIB MiB of random
# safetensors-named weights plus config.json, tokenizer.json and README.md (1 GiB with the
# default 256), pushed with `hallmark push` (the hub signs it). Then, page cache warm (one
# untimed pull first, which also pins the signer), RUNS rounds, alternating in each round:
#   pull:     hallmark pull bench/m OUT --hub URL -q   (downloads, hashes while downloading,
#             verifies the signature, moves the files into OUT; default --jobs 4)
#   curl -Z:  one curl downloading the same files from the hub's resolve URLs to disk,
#             4 transfers in parallel (--parallel --parallel-max 4), like pull's --jobs 4
#   curl seq: the same curl, one file after the other
# each into a fresh directory on the same filesystem (deleted after the round). Prints the
# median of the per-round ratios pull / curl -Z (the issue's bar: <= 1.15) and pull / curl seq.
# Resume: a pull is SIGKILLed once its stage holds half the bytes, then run again; the bytes
# the hub wrote to its sockets during the second run (its /proc/PID/io wchar; also
# printed for a full pull as a check) as a fraction of the model's size.
#   usage: benches/pull.sh [path/to/hallmark]   (default: builds it, release)
# Environment: BENCH_DIR (default mktemp, deleted on exit), QUARTER_MIB (256), RUNS (5).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUARTER_MIB=${QUARTER_MIB:-256}
RUNS=${RUNS:-5}
if [ -n "${1:-}" ]; then
  HM=$(realpath "$1")
else
  cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" -p hallmark-cli
  HM=${CARGO_TARGET_DIR:-$ROOT/target}/release/hallmark
fi
W=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/hallmark-pull.XXXXXX")}
mkdir -p "$W"
# shellcheck source=tests/lib/hub.sh
source "$ROOT/tests/lib/hub.sh"
cleanup() {
  hub_stop
  [ -z "${BENCH_DIR:-}" ] && rm -rf "$W"
}
trap cleanup EXIT
export XDG_CONFIG_HOME=$W/config XDG_CACHE_HOME=$W/cache NO_PROGRESS=1
cd "$W"

mkdir model
for i in 1 2 3 4; do
  head -c "$((QUARTER_MIB * 1024 * 1024))" /dev/urandom > "model/model-0000$i-of-00004.safetensors"
done
echo '{"model_type": "bench", "hidden_size": 4096}' > model/config.json
head -c 2000000 /dev/urandom | base64 > model/tokenizer.json
printf '# bench model\n\nWeights for the pull benchmark.\n' > model/README.md
TOTAL=$(cat model/* | wc -c)

hub_start data serve.log --scrub-rate 0
HALLMARK_HUB_DATA=data "$HM" hub admin user add bench > /dev/null
TOK=$(HALLMARK_HUB_DATA=data "$HM" hub admin token bench --scope write 2> /dev/null)
"$HM" push model bench/m --hub "$HUB" --token "$TOK" -q > /dev/null
rm -rf model

COMMIT=$(curl -s -f "$HUB/api/models/bench/m/revision/main" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha"])')
CURL_ARGS=()
while read -r f; do
  CURL_ARGS+=(-o "$f" "$HUB/bench/m/resolve/$COMMIT/$f")
done < <(curl -s -f "$HUB/api/models/bench/m/revision/$COMMIT" | python3 -c 'import json,sys; [print(s["rfilename"]) for s in json.load(sys.stdin)["siblings"]]')
FILES=$((${#CURL_ARGS[@]} / 3))

pull() { "$HM" pull bench/m "$1" --hub "$HUB" -q > /dev/null; }
curl_into() {  # DIR [curl options...]
  local d=$1
  shift
  mkdir -p "$d"
  (cd "$d" && curl -sS -f --no-progress-meter --create-dirs "$@" "${CURL_ARGS[@]}")
}
t() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
wchar() { awk '/^wchar/ {print $2}' "/proc/$HUB_PID/io"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# warm-up: page cache, the hub's verified-blob cache, the signer pin; and the wchar check
w0=$(wchar)
pull warm
w1=$(wchar)
rm -rf warm
curl_into warm --parallel --parallel-max 4
rm -rf warm

P=()
Z=()
S=()
RP=()
RS=()
for r in $(seq "$RUNS"); do
  p=$(t pull "out-p$r")
  rm -rf "out-p$r"
  z=$(t curl_into "out-z$r" --parallel --parallel-max 4)
  rm -rf "out-z$r"
  s=$(t curl_into "out-s$r")
  rm -rf "out-s$r"
  P+=("$p")
  Z+=("$z")
  S+=("$s")
  RP+=("$(echo "scale=4; $p / $z" | bc)")
  RS+=("$(echo "scale=4; $p / $s" | bc)")
  printf 'round %d: pull %.3f s, curl -Z %.3f s, curl seq %.3f s\n' "$r" "$p" "$z" "$s"
done

# resume: kill a pull once half of the bytes are staged, run it again
HALF=$((TOTAL / 2))
"$HM" pull bench/m resumed --hub "$HUB" -q > /dev/null 2>&1 &
PULL_PID=$!
staged=0
while kill -0 "$PULL_PID" 2> /dev/null; do
  staged=$(du -sb --apparent-size "$XDG_CACHE_HOME" 2> /dev/null | cut -f1)
  [ "$staged" -ge "$HALF" ] && break
  sleep 0.01
done
kill -9 "$PULL_PID" 2> /dev/null || true
wait "$PULL_PID" 2> /dev/null || true
test ! -e resumed
kept=$(find "$XDG_CACHE_HOME" -type f \( -name '*.part' -o -path '*/files/*' \) -printf '%s\n' | awk '{s += $1} END {print s + 0}')
w2=$(wchar)
second=$(t pull resumed)
w3=$(wchar)
test -f resumed/model-00004-of-00004.safetensors

echo "model: $FILES files, $TOTAL bytes; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $HM"
printf 'full pull: hub wrote %d bytes to its sockets (%.4f of the model)\n' "$((w1 - w0))" "$(echo "scale=4; ($w1 - $w0) / $TOTAL" | bc)"
printf 'median of %d rounds: pull %.3f s, curl -Z (4 parallel) %.3f s, curl sequential %.3f s\n' \
  "$RUNS" "$(median "${P[@]}")" "$(median "${Z[@]}")" "$(median "${S[@]}")"
printf 'median ratio pull / curl -Z: %.3f (bar <= 1.15); pull / curl sequential: %.3f\n' \
  "$(median "${RP[@]}")" "$(median "${RS[@]}")"
printf 'resume: killed with %d bytes staged (%.3f of the model); the second run took %.3f s and the hub wrote %d bytes (%.3f of the model; %.3f of what was missing)\n' \
  "$kept" "$(echo "scale=4; $kept / $TOTAL" | bc)" "$second" "$((w3 - w2))" \
  "$(echo "scale=4; ($w3 - $w2) / $TOTAL" | bc)" "$(echo "scale=4; ($w3 - $w2) / ($TOTAL - $kept)" | bc)"
