# shellcheck shell=bash
# Starting and stopping `hallmark hub serve` for the end-to-end scripts and the benchmarks;
# source it with $HM set (the hallmark binary).
#   hub_start DATA LOG [serve options…]
#       starts the hub in the background on a free loopback port, its data in DATA and its
#       output in LOG (emptied first, so a restart never reads the previous run's address);
#       sets HUB_PID and HUB (http://127.0.0.1:PORT). Returns 1, printing the log's tail, if
#       it is not listening within 20 s or exits before.
#   hub_stop
#       kills it, waits for it and empties HUB_PID.
HUB_PID=""
hub_start() {
  local data=$1 log=$2
  shift 2
  : >"$log"
  "$HM" hub serve --data-dir "$data" --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  HUB_PID=$!
  HUB=""
  for _ in $(seq 200); do
    HUB=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o 'http://.*') && break
    kill -0 "$HUB_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$HUB" ]; then
    echo "hallmark hub serve did not start listening ($log):" >&2
    tail -5 "$log" >&2
    return 1
  fi
}
hub_stop() {
  [ -n "$HUB_PID" ] || return 0
  kill "$HUB_PID" 2>/dev/null || true
  wait "$HUB_PID" 2>/dev/null || true
  HUB_PID=""
}
