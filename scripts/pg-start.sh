#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster (Debian's postgresql-15 binaries) for tests and
# prints its URL. Usage: scripts/pg-start.sh DIR [PORT]   (stop: scripts/pg-stop.sh DIR)
# As root, the cluster runs as the `postgres` user (initdb refuses root).
set -euo pipefail
DIR=$(realpath -m "${1:?usage: pg-start.sh DIR [PORT]}")
PORT=${2:-55432}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/initdb" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres -A trust --no-sync >"$DIR/initdb.log" 2>&1
fi
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
