# Sourced by test and benchmark scripts that need PostgreSQL and S3 (Garage): reuse the
# servers named by HALLMARK_TEST_PG_URL / HALLMARK_TEST_S3 (+ AWS_*), as
# tests/scaleout/run.sh exports them, or start throwaway ones under a directory.
#   servers_up DIR     sets and exports HALLMARK_TEST_PG_URL, HALLMARK_TEST_S3, AWS_*;
#                      OWN_PG / OWN_S3 say which servers it started
#   servers_down DIR   stops what servers_up started (call it from the EXIT trap)
SERVERS_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OWN_PG="" OWN_S3=""

servers_up() {
  local dir=$1
  if [ -z "${HALLMARK_TEST_PG_URL:-}" ]; then
    OWN_PG=1
    HALLMARK_TEST_PG_URL=$(bash "$SERVERS_SCRIPTS/pg-start.sh" "$dir/pg" "$((56000 + RANDOM % 1000))")
  fi
  if [ -z "${HALLMARK_TEST_S3:-}" ]; then
    OWN_S3=1
    eval "$(bash "$SERVERS_SCRIPTS/garage-start.sh" "$dir/garage" "$((39000 + RANDOM % 500 * 4))")"
  fi
  export HALLMARK_TEST_PG_URL HALLMARK_TEST_S3 AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}

servers_down() {
  local dir=$1
  [ -n "$OWN_S3" ] && bash "$SERVERS_SCRIPTS/garage-stop.sh" "$dir/garage" 2>/dev/null
  [ -n "$OWN_PG" ] && bash "$SERVERS_SCRIPTS/pg-stop.sh" "$dir/pg" 2>/dev/null
  return 0
}
