#!/usr/bin/env bash
# Issue 10 benchmark: pushes per second and log entries per second with CLIENTS (16)
# concurrent `hallmark push` clients, each push a small distinct model (config.json + 1-4 KiB
# weights, one keyless signature = one log entry), on
#   (a) one hub, SQLite + files (the single-node default),
#   (b) one replica on PostgreSQL + Garage (S3),
#   (c) REPLICAS (3) replicas on the same PostgreSQL + Garage, clients round-robin over them,
# each on a fresh database / directory / bucket prefix, after a warm-up of 32 pushes.
# Entries/s is the log's size delta (its /checkpoint before and after) over the run's wall
# time. Ratios are against (a). The clients run on the same machine as the servers,
# PostgreSQL and Garage (2 cores here): the figures are for the whole system on one box.
# Uses HALLMARK_TEST_PG_URL / HALLMARK_TEST_S3 / AWS_* if set, else starts PostgreSQL and
# Garage itself (scripts/pg-start.sh, scripts/garage-start.sh). Not a test: prints figures.
#   usage: benches/replicas.sh path/to/hallmark   (MODELS=300 CLIENTS=16 REPLICAS=3 RUNS=1)
set -euo pipefail
HM=$(realpath "${1:?usage: replicas.sh path/to/hallmark}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/tests/scaleout/replicas.py"
MODELS=${MODELS:-300}
CLIENTS=${CLIENTS:-16}
NREP=${REPLICAS:-3}
RUNS=${RUNS:-1}
# shellcheck source=../scripts/test-servers.sh
source "$ROOT/scripts/test-servers.sh"
W=$(mktemp -d)
[ "$(id -u)" = 0 ] && chmod 755 "$W"
PIDS=()
DBS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
cleanup() {
  set +e
  stop_all
  if [ -z "$OWN_PG" ]; then for d in "${DBS[@]}"; do psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done; fi
  servers_down "$W"
  rm -rf "$W"
}
trap cleanup EXIT
servers_up "$W"
PG_URL=$HALLMARK_TEST_PG_URL

# start_hubs NAME COUNT [pg]: starts COUNT replicas (SQLite + files without pg), sets HUBS.
start_hubs() {
  local name=$1 n=$2 shared=${3:-} k args=()
  local d="$W/$name"
  mkdir -p "$d"
  ADM=(--data-dir "$d/data1")
  if [ -n "$shared" ]; then
    local db="bench_${name}_$$"
    psql -q "$PG_URL" -c "CREATE DATABASE $db" >/dev/null
    DBS+=("$db")
    args=(--database "${PG_URL%/*}/$db" --blob-store "s3://$(echo "$HALLMARK_TEST_S3" | sed -e 's|^s3://||' -e "s|?|/bench-$name-$$?|")")
    ADM+=(--database "${PG_URL%/*}/$db")
  fi
  HUBS=()
  local public=""
  for k in $(seq 1 "$n"); do
    if [ "$k" -gt 1 ]; then mkdir -p "$d/data$k"; cp -a "$d/data1/sigstore" "$d/data$k/"; fi
    "$HM" hub serve --data-dir "$d/data$k" --listen 127.0.0.1:0 ${public:+--public-url "$public"} "${args[@]}" >"$d/r$k.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 300); do grep -q 'listening on' "$d/r$k.log" 2>/dev/null && break; sleep 0.1; done
    HUBS+=("$(grep -o 'listening on http://[0-9.:]*' "$d/r$k.log" | cut -d' ' -f3)")
    [ -n "$public" ] || public=${HUBS[0]}
  done
  : >"$d/tokens"
  for u in u0 u1 u2 u3; do "$HM" hub admin "${ADM[@]}" user add "$u" >/dev/null; done
  "$HM" hub admin "${ADM[@]}" org add acme --owner u0 >/dev/null
  for u in u1 u2 u3; do "$HM" hub admin "${ADM[@]}" org member acme "$u" --role maintainer >/dev/null; done
  for u in u0 u1 u2 u3; do echo "$u $("$HM" hub admin "${ADM[@]}" token "$u" --scope write 2>/dev/null)" >>"$d/tokens"; done
}

size() { curl -sf "$1/checkpoint" | sed -n 2p; }
# CPU seconds: of the given pids (utime + stime), and of the whole machine (busy, all cores).
pid_cpu() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "scale=2; $t / $(getconf CLK_TCK)" | bc; }
# PostgreSQL (postmaster with its reaped children + live backends) and Garage, when started here.
pg_cpu() {
  [ -n "$OWN_PG" ] || { echo 0; return; }
  local pm t
  pm=$(head -1 "$W/pg/data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0))); done
  echo "scale=2; $t / $(getconf CLK_TCK)" | bc
}
s3_cpu() { if [ -n "$OWN_S3" ]; then pid_cpu "$(cat "$W/garage/pid")"; else echo 0; fi; }
box_cpu() { awk '/^cpu / {print ($2 + $3 + $4 + $7 + $8) / '"$(getconf CLK_TCK)"'}' /proc/stat; }

# run NAME: warm-up, then MODELS pushes; prints "pushes/s entries/s acked".
run() {
  local name=$1 d="$W/$1" hubs
  hubs=$(IFS=,; echo "${HUBS[*]}")
  python3 "$PY" push --hm "$HM" --hubs "$hubs" --tokens "$d/tokens" --workdir "$d" --out "$d/warm.jsonl" \
    --count 32 --first 100000 --jobs "$CLIENTS" >/dev/null
  local s0 s1 t0 t1 h0 h1 b0 b1 cl
  s0=$(size "${HUBS[0]}")
  h0=$(pid_cpu "${PIDS[@]}"); b0=$(box_cpu); p0=$(pg_cpu); g0=$(s3_cpu)
  t0=$(date +%s.%N)
  python3 "$PY" push --hm "$HM" --hubs "$hubs" --tokens "$d/tokens" --workdir "$d" --out "$d/run.jsonl" \
    --count "$MODELS" --first 0 --jobs "$CLIENTS" >"$d/run.txt"
  t1=$(date +%s.%N)
  h1=$(pid_cpu "${PIDS[@]}"); b1=$(box_cpu); p1=$(pg_cpu); g1=$(s3_cpu)
  s1=$(size "${HUBS[0]}")
  cl=$(grep -o 'used [0-9.]* CPU' "$d/run.txt" | cut -d' ' -f2)
  echo "$name: CPU s per push: hub processes $(echo "scale=4; ($h1 - $h0) / $MODELS" | bc), clients $(echo "scale=4; $cl / $MODELS" | bc), PostgreSQL $(echo "scale=4; ($p1 - $p0) / $MODELS" | bc), Garage $(echo "scale=4; ($g1 - $g0) / $MODELS" | bc), whole machine $(echo "scale=4; ($b1 - $b0) / $MODELS" | bc) (machine busy $(echo "scale=0; 100 * ($b1 - $b0) / ($(nproc) * ($t1 - $t0))" | bc) %); sequencer lease acquisitions: $(cat "$d"/r*.log | grep -c ' sequences ' || true)" >&2
  local ok
  ok=$(python3 -c 'import json,sys; print(sum(json.loads(l)["rc"]==0 for l in open(sys.argv[1])))' "$d/run.jsonl")
  python3 -c "import sys; ok,dt,ds=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f'{ok/dt:.1f} {ds/dt:.1f} {ok} {ds} {dt:.2f}')" \
    "$ok" "$(echo "$t1 - $t0" | bc)" "$((s1 - s0))"
}

declare -A PUSH ENTR
for r in $(seq 1 "$RUNS"); do
  for cfg in a b c; do
    case $cfg in
      a) start_hubs "a$r" 1 ;;
      b) start_hubs "b$r" 1 pg ;;
      c) start_hubs "c$r" "$NREP" pg ;;
    esac
    read -r ps es ok ds dt < <(run "$cfg$r")
    stop_all
    echo "run $r ($cfg): $ok pushes acknowledged of $MODELS, log +$ds entries in $dt s: $ps pushes/s, $es entries/s"
    PUSH[$cfg]="${PUSH[$cfg]:-} $ps"; ENTR[$cfg]="${ENTR[$cfg]:-} $es"
  done
done

best() { tr ' ' '\n' <<<"$1" | grep . | sort -g | tail -1; }
A_P=$(best "${PUSH[a]}"); A_E=$(best "${ENTR[a]}")
echo
echo "hub throughput, $CLIENTS clients, $MODELS small models, best of $RUNS run(s), $(nproc) cores (clients and servers on the same machine)"
printf '%-44s %10s %8s %12s %8s\n' "configuration" "pushes/s" "ratio" "entries/s" "ratio"
for cfg in a b c; do
  case $cfg in
    a) label="(a) 1 node, SQLite + files" ;;
    b) label="(b) 1 replica, PostgreSQL + Garage S3" ;;
    c) label="(c) $NREP replicas, PostgreSQL + Garage S3" ;;
  esac
  p=$(best "${PUSH[$cfg]}"); e=$(best "${ENTR[$cfg]}")
  printf '%-44s %10s %8s %12s %8s\n' "$label" "$p" "$(printf '%.2fx' "$(echo "scale=4; $p / $A_P" | bc)")" "$e" "$(printf '%.2fx' "$(echo "scale=4; $e / $A_E" | bc)")"
done
