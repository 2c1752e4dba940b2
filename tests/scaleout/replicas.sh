#!/usr/bin/env bash
# Scale-out bar (issue 10) with real processes: three hub replicas on one PostgreSQL and one
# S3 endpoint (Garage), behind a round-robin load balancer whose URL is every replica's
# --public-url (signer identities are {lb}/{user}).
#   1. replica 1 starts on a fresh database and bucket prefix; its sigstore/ key material is
#      copied to replicas 2 and 3 before they start;
#   2. 16 clients push 300 small distinct models (`hallmark push`), round-robin over the
#      three replicas and the load balancer (which sends each request of a push to the next
#      replica: upload session, file PUTs and commit on different replicas);
#   3. the replica holding the log's sequencer lease (tlog_state.holder in PostgreSQL) is
#      SIGKILLed while the clients keep pushing through the other two; takeover time is the
#      first acknowledged push started after the kill, and the lease holder's change;
#      the killed replica is restarted (same data dir) and rejoins;
#   4. every push acknowledged before and after the kill: downloadable from every replica
#      with the pushed bytes, bundle byte-identical everywhere, `hallmark verify sigstore`
#      (offline, the uploader's identity and the hub's issuer); every logIndex distinct, log
#      size == acknowledged pushes == signed revisions in PostgreSQL; the final checkpoint
#      verifies against the tiles on every replica (`hallmark log audit`); every checkpoint
#      any client saw (in its bundle's inclusion proof) is linked to the final one by a
#      consistency proof (`hallmark log audit --since-checkpoint`, and independently in
#      replicas.py from /api/v1/log/proof and from the entries).
# Uses the PostgreSQL and Garage of tests/scaleout/run.sh (HALLMARK_TEST_PG_URL,
# HALLMARK_TEST_S3, AWS_*), else starts its own. Knobs: REPLICAS (3), MODELS (300),
# CLIENTS (16), TAKEOVER_MAX (10 s).
#   usage: tests/scaleout/replicas.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: replicas.sh path/to/hallmark}")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${REPLICAS:-3}
MODELS=${MODELS:-300}
CLIENTS=${CLIENTS:-16}
TAKEOVER_MAX=${TAKEOVER_MAX:-10}
# shellcheck source=../../scripts/test-servers.sh
source "$ROOT/scripts/test-servers.sh"
W=$(mktemp -d)
[ "$(id -u)" = 0 ] && chmod 755 "$W"
DB_URL="" LB_PID="" PUSHER=""
declare -a PID PORT
cleanup() {
  set +e
  [ -n "$PUSHER" ] && kill "$PUSHER" 2>/dev/null
  for k in "${!PID[@]}"; do kill "${PID[$k]}" 2>/dev/null; done
  [ -n "$LB_PID" ] && kill "$LB_PID" 2>/dev/null
  wait 2>/dev/null
  if [ -n "$DB_URL" ] && [ -z "$OWN_PG" ]; then psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; fi
  servers_down "$W"
  rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
now() { date +%s.%N; }
T_START=$(date +%s)

servers_up "$W"
PG_URL=$HALLMARK_TEST_PG_URL
DB=replicas_$$
psql -q "$PG_URL" -c "CREATE DATABASE $DB" >/dev/null
DB_URL="${PG_URL%/*}/$DB"
BLOB="s3://$(echo "$HALLMARK_TEST_S3" | sed -e 's|^s3://||' -e "s|?|/replicas-$$?|")"
q() { psql -X "$DB_URL" -Atc "$1" 2>/dev/null; }
echo "replicas: $N on $DB_URL + $BLOB"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKENDS=()
for k in $(seq 1 "$N"); do PORT[$k]=$(free_port); BACKENDS+=("http://127.0.0.1:${PORT[$k]}"); done
python3 "$HERE/lb.py" "$W/lb.port" "${BACKENDS[@]}" &
LB_PID=$!
for _ in $(seq 100); do [ -s "$W/lb.port" ] && break; sleep 0.05; done
PUBLIC=http://127.0.0.1:$(cat "$W/lb.port")
REPS=$(IFS=,; echo "${BACKENDS[*]}")

start_replica() {
  local k=$1
  "$HM" hub serve --data-dir "$W/data$k" --listen "127.0.0.1:${PORT[$k]}" --public-url "$PUBLIC" \
    --database "$DB_URL" --blob-store "$BLOB" >>"$W/r$k.log" 2>&1 &
  PID[$k]=$!
  for _ in $(seq 300); do
    local n; n=$(grep -c 'listening on' "$W/r$k.log" 2>/dev/null || true)
    [ "${n:-0}" -ge "${2:-1}" ] && return 0
    kill -0 "${PID[$k]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "replica $k did not start:"; tail -20 "$W/r$k.log" | sed 's/^/    /'
  return 1
}
start_replica 1
if grep -q 'bootstrap token' "$W/r1.log"; then ok "replica 1: first start on an empty database prints the bootstrap token"; else bad "replica 1 printed no bootstrap token"; fi
for k in $(seq 2 "$N"); do
  mkdir -p "$W/data$k" && chmod 700 "$W/data$k"
  cp -a "$W/data1/sigstore" "$W/data$k/"
  start_replica "$k"
done
if [ "$N" -gt 1 ] && ! grep -q 'bootstrap token' "$W"/r[2-9].log; then ok "replicas 2..$N joined the database (no second bootstrap)"; elif [ "$N" -gt 1 ]; then bad "another replica bootstrapped again"; fi
echo "public URL (load balancer): $PUBLIC; replicas: $REPS"

adm() { "$HM" hub admin --data-dir "$W/admin" --database "$DB_URL" "$@"; }
: >"$W/tokens"
for u in u0 u1 u2 u3; do adm user add "$u" >/dev/null; done
adm org add acme --owner u0 >/dev/null
for u in u1 u2 u3; do adm org member acme "$u" --role maintainer >/dev/null; done
for u in u0 u1 u2 u3; do echo "$u $(adm token "$u" --scope write 2>/dev/null)" >>"$W/tokens"; done
ok "users, org and tokens created with hub admin on PostgreSQL while $N replicas run"

# --- 1. 16 clients, 300 models, round-robin over all replicas ---------------------------
# Round-robin over the replicas and the load balancer: a push through the balancer has its
# upload session opened, its files PUT and its commit made on different replicas.
echo "--- $CLIENTS clients push $MODELS models through $N replicas (and the load balancer)"
python3 "$HERE/replicas.py" push --hm "$HM" --hubs "$REPS,$PUBLIC" --tokens "$W/tokens" --workdir "$W" \
  --out "$W/push1.jsonl" --count "$MODELS" --jobs "$CLIENTS" | tee "$W/push1.txt"
R1=$(python3 -c 'import json,sys; print(sum(json.loads(l)["rc"]==0 for l in open(sys.argv[1])))' "$W/push1.jsonl")
if [ "$R1" = "$MODELS" ]; then ok "all $MODELS concurrent pushes acknowledged"; else bad "only $R1 of $MODELS pushes acknowledged"; fi
for k in $(seq 1 "$N"); do
  c=$(grep -c "\"hub\": \"http://127.0.0.1:${PORT[$k]}\"" "$W/push1.jsonl" || true)
  echo "    replica $k (pid ${PID[$k]}) took $c pushes directly"
done
c=$(grep -c "\"hub\": \"$PUBLIC\"" "$W/push1.jsonl" || true)
echo "    the load balancer took $c pushes (each request to the next replica)"

# --- 2. SIGKILL the sequencer while clients keep pushing through the others --------------
# The clients push through all replicas; then, repeatedly until the lease holder is stable:
# read the holder, route the clients away from it, wait until no push to it is in flight,
# and kill it if it still holds the lease.
RESULTS=("$W/push1.jsonl")
holder_replica() { local p k; p=$(echo "$1" | cut -d: -f2); for k in "${!PID[@]}"; do [ "${PID[$k]}" = "$p" ] && echo "$k"; done; return 0; }
inflight_to() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$W/inflight" "$1" 2>/dev/null || echo 0; }
HOLDER=$(q "select holder from tlog_state" || true)
if [ "$N" -lt 2 ]; then
  echo "SKIP sequencer kill: a single replica"
elif [ -z "$HOLDER" ]; then
  bad "no sequencer lease in PostgreSQL (tlog_state.holder empty or missing): the replicas do not share one log"
else
  echo "$REPS" >"$W/hubs"
  python3 "$HERE/replicas.py" push --hm "$HM" --hubs-file "$W/hubs" --inflight "$W/inflight" --tokens "$W/tokens" \
    --workdir "$W" --out "$W/push2.jsonl" --first "$MODELS" --until "$W/stop" --jobs "$CLIENTS" >"$W/push2.txt" &
  PUSHER=$!
  sleep 2
  V="" T_KILL=""
  for _ in 1 2 3 4 5; do
    HOLDER=$(q "select holder from tlog_state" || true)
    V=$(holder_replica "$HOLDER")
    [ -n "$V" ] || break
    VURL=http://127.0.0.1:${PORT[$V]}
    SURV=(); for k in $(seq 1 "$N"); do [ "$k" != "$V" ] && SURV+=("http://127.0.0.1:${PORT[$k]}"); done
    (IFS=,; echo "${SURV[*]}") >"$W/hubs"
    for _ in $(seq 300); do [ "$(inflight_to "$VURL")" = 0 ] && break; sleep 0.1; done
    sleep 0.5
    if [ "$(q "select holder from tlog_state")" = "$HOLDER" ] && [ "$(inflight_to "$VURL")" = 0 ]; then
      LEASE_LEFT=$(q "select round(extract(epoch from lease_until - now())::numeric, 2) from tlog_state")
      T_KILL=$(now)
      kill -9 "${PID[$V]}"
      break
    fi
    echo "    the lease moved while routing away from replica $V; again"
    echo "$REPS" >"$W/hubs"
  done
  if [ -z "$T_KILL" ]; then
    bad "could not catch the sequencer (holder ${HOLDER:-none} is ${V:+replica $V}${V:-none of the replicas})"
    touch "$W/stop"; wait "$PUSHER" || true; PUSHER=""
  else
    echo "--- SIGKILLed the sequencer, replica $V (holder $HOLDER; its lease had ${LEASE_LEFT:-?} s left), while $CLIENTS clients push through the others"
    wait "${PID[$V]}" 2>/dev/null || true
    unset "PID[$V]"
    NEW=""
    for _ in $(seq 300); do
      h=$(q "select holder from tlog_state" || true)
      if [ -n "$h" ] && [ "$h" != "$HOLDER" ]; then NEW=$h; T_HOLDER=$(now); break; fi
      sleep 0.1
    done
    sleep 4
    touch "$W/stop"
    wait "$PUSHER" || true
    PUSHER=""
    cat "$W/push2.txt"
    RESULTS+=("$W/push2.jsonl")
    if [ -n "$NEW" ]; then
      NPID=$(echo "$NEW" | cut -d: -f2)
      NK=""; for k in "${!PID[@]}"; do [ "${PID[$k]}" = "$NPID" ] && NK=$k; done
      HT=$(echo "$T_HOLDER - $T_KILL" | bc)
      if [ -n "$NK" ] && (( $(echo "$HT <= $TAKEOVER_MAX" | bc) )); then
        ok "replica $NK took the sequencer lease $(printf %.1f "$HT") s after the SIGKILL (<= $TAKEOVER_MAX s; lease TTL 5 s)"
      else
        bad "lease moved to $NEW after $HT s (replica ${NK:-?}; wanted <= $TAKEOVER_MAX s)"
      fi
    else
      bad "no replica took the sequencer lease within 30 s of the SIGKILL"
    fi
    TK=0
    python3 - "$W/push2.jsonl" "$T_KILL" "$TAKEOVER_MAX" >"$W/takeover.txt" <<'PYEOF' || TK=$?
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
kill, limit = float(sys.argv[2]), float(sys.argv[3])
after = sorted(r["t1"] - kill for r in rs if r["rc"] == 0 and r["t0"] > kill)
inflight = [r for r in rs if r["t0"] < kill < r["t1"]]
stall = max((r["t1"] - kill for r in inflight), default=0)
before = sum(1 for r in rs if r["rc"] == 0 and r["t1"] < kill)
print(f"first={after[0] if after else -1:.2f} stall={stall:.2f} inflight={len(inflight)} "
      f"before={before} after={len(after)} failed={sum(r['rc'] != 0 for r in rs)}")
sys.exit(0 if after and after[0] <= limit else 1)
PYEOF
    TAKE=$(cat "$W/takeover.txt")
    echo "    takeover: $TAKE (seconds after the kill)"
    if [ $TK = 0 ]; then ok "first acknowledged push started after the SIGKILL: $(echo "$TAKE" | sed 's/first=\([0-9.]*\).*/\1/') s (<= $TAKEOVER_MAX s)"; else bad "no push started after the kill was acknowledged within $TAKEOVER_MAX s ($TAKE)"; fi
    if grep -q 'failed=0' "$W/takeover.txt"; then ok "no push through the surviving replicas failed across the takeover"; else bad "pushes failed across the takeover: $TAKE"; fi
    # The killed replica rejoins from its data directory.
    if start_replica "$V" 2; then ok "the killed replica restarts and rejoins"; else bad "the killed replica does not restart"; fi
  fi
fi

# --- 3. checks on every replica ----------------------------------------------------------
echo "--- checks"
DBC=$(q "select count(*) from revisions where sig_log_index is not null")
QC=$(q "select count(*) from tlog_queue where seq is not null" || true)
EXTRA=(--db-count "$DBC")
[ -n "$QC" ] && EXTRA+=(--queue-count "$QC")
LIVE=()
for k in $(seq 1 "$N"); do [ -n "${PID[$k]:-}" ] && LIVE+=("http://127.0.0.1:${PORT[$k]}"); done
if python3 "$HERE/replicas.py" check --hm "$HM" --replicas "$(IFS=,; echo "${LIVE[*]}")" --public "$PUBLIC" \
     --workdir "$W" --results "${RESULTS[@]}" "${EXTRA[@]}" --pull-sample 24 | tee "$W/check.txt"; then :; fi
pass=$((pass + $(grep -c '^PASS' "$W/check.txt" || true)))
fail=$((fail + $(grep -c '^FAIL' "$W/check.txt" || true)))
grep -q '^checks: ' "$W/check.txt" || bad "replicas.py check did not finish"
# Readiness: every live replica is ready and reports the same log size; exactly one says it
# holds the sequencer lease (the holder may have just renewed: retry for a lease lifetime).
for _ in $(seq 30); do
  READY=0; SEQ=0; SIZES=""
  for u in "${LIVE[@]}"; do
    body=$(curl -s -w ' %{http_code}' "$u/readyz" || true)
    case "$body" in *' 200') READY=$((READY + 1)) ;; esac
    case "$body" in *'"sequencing":true'*) SEQ=$((SEQ + 1)) ;; esac
    SIZES="$SIZES $(echo "$body" | grep -o '"size":[0-9]*' || true)"
  done
  [ "$READY" = "${#LIVE[@]}" ] && [ "$SEQ" = 1 ] && [ "$(echo $SIZES | tr ' ' '\n' | sort -u | wc -l)" = 1 ] && break
  sleep 0.2
done
if [ "$READY" = "${#LIVE[@]}" ] && [ "$SEQ" = 1 ]; then
  ok "/readyz: all ${#LIVE[@]} replicas ready, exactly one sequencing, log sizes:$SIZES"
else
  bad "/readyz: $READY of ${#LIVE[@]} ready, $SEQ sequencing (sizes:$SIZES)"
fi
for k in $(seq 1 "$N"); do
  if grep -qi 'panic' "$W/r$k.log"; then bad "replica $k log shows a panic"; grep -i -m3 panic "$W/r$k.log" | sed 's/^/    /'; fi
done
grep -h 'hallmark log' "$W"/r*.log | sed 's/^/    log: /' | head -12 || true

echo
echo "scale-out replicas: $pass passed, $fail failed ($(( $(date +%s) - T_START )) s)"
[ "$fail" = 0 ]
