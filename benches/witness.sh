#!/usr/bin/env bash
# Issue 22 benchmark: push latency with 3 witnesses (hallmark witness serve, loopback) as a
# ratio to the same hub without witnesses, at 16 concurrent pushes (bar: <= 1.2x).
# Each round pushes 16 small models at once (16 hallmark push processes, one repo each) and
# records every push's wall time; ROUNDS rounds per configuration, alternating, so a load
# change on the machine hits both. Prints median and p90 per configuration and the ratios.
#   usage: benches/witness.sh path/to/hallmark [ROUNDS=3]
set -euo pipefail
HM=$(realpath "${1:?usage: witness.sh path/to/hallmark [ROUNDS]}")
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'cleanup_all; rm -rf "$W"' EXIT
cd "$W"
export NO_PROGRESS=1
# shellcheck source=tests/witness/e2e.sh
source "$HERE/../tests/witness/e2e.sh"   # its helpers only

setup_witnessed_hub "$W"        # 3 witnesses + the policy file; $HUB_DATA has the log's key
for i in $(seq 16); do
  mkdir -p "m$i"; head -c 200000 /dev/urandom > "m$i/weights.bin"; echo "{\"i\": $i}" > "m$i/config.json"
done

# One round: 16 pushes at once into the hub at $HUB; appends each push's seconds to $1.
round() {
  local out=$1 tag=$2 pids=()
  for i in $(seq 16); do
    ( s=$(date +%s.%N); "$HM" push "m$i" "bench/$tag-$i" --hub "$HUB" --token "$TOK" >/dev/null 2>&1 || echo "push $tag-$i failed" >&2
      e=$(date +%s.%N); echo "$e - $s" | bc >> "$out" ) & pids+=($!)
  done
  wait "${pids[@]}"
}
: > none.txt; : > three.txt
for r in $(seq "$ROUNDS"); do
  start_hub "$W/hub" ""                    ; round none.txt "n$r"; stop_hub
  start_hub "$W/hub" "$W/witnesses.policy" ; round three.txt "w$r"; stop_hub
done
summary() { sort -n "$1" | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.9+0.999)]; printf "%.3f %.3f %d\n", m, p, NR}'; }
read -r n_med n_p90 n_n < <(summary none.txt)
read -r w_med w_p90 w_n < <(summary three.txt)
echo "16 concurrent pushes x $ROUNDS rounds (200 KB model each), loopback, fsync on"
printf 'no witnesses:  median %.3f s  p90 %.3f s  (%d pushes)\n' "$n_med" "$n_p90" "$n_n"
printf '3 witnesses:   median %.3f s  p90 %.3f s  (%d pushes)\n' "$w_med" "$w_p90" "$w_n"
printf 'ratio (3 witnesses / none): median %.3f  p90 %.3f  (bar <= 1.2)\n' \
  "$(echo "$w_med / $n_med" | bc -l)" "$(echo "$w_p90 / $n_p90" | bc -l)"
