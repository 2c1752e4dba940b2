#!/usr/bin/env bash
# Issue 7 benchmark: upload and download of a SIZE-byte model file over loopback through the
# hub, against plain curl PUT/GET of the same bytes to/from a static file server (nginx-less
# baseline: a tiny Python PUT/GET server using sendfile/copyfileobj), plus the signing delay
# after the last byte (the commit call: manifest from upload-time digests, sign, store
# model.sig, verify, record). Ratios > 1 mean the hub is slower.
#   usage: benches/hub.sh path/to/hallmark [SIZE_MIB=2048]
set -euo pipefail
HM=$(realpath "${1:?usage: hub.sh path/to/hallmark [SIZE_MIB]}")
MIB=${2:-2048}
W=$(mktemp -d)
# shellcheck source=tests/lib/hub.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/lib/hub.sh"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
head -c $((MIB * 1024 * 1024)) /dev/urandom > model.bin
cat > static.py <<'PY'
import http.server, os, shutil, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_PUT(self):
        n = int(self.headers["Content-Length"]); left = n
        with open(os.path.join("put", "upload.bin"), "wb") as f:
            while left:
                b = self.rfile.read(min(left, 8 << 20)); f.write(b); left -= len(b)
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
os.makedirs("put", exist_ok=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 static.py 18765 & PIDS+=($!)
hub_start data serve.log
PIDS+=("$HUB_PID")
HALLMARK_HUB_DATA=data "$HM" hub admin user add bench >/dev/null
TOK=$(HALLMARK_HUB_DATA=data "$HM" hub admin token bench --scope write 2>/dev/null)
sync; sleep 1
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
# Downloads go to /dev/null (the served bytes are checked separately), and dirty pages are
# flushed between steps, so neither side pays for the other's disk writes.
sync
base_put=$(t curl -s -T model.bin http://127.0.0.1:18765/upload.bin)
sync
base_get=$(t curl -s -o /dev/null http://127.0.0.1:18765/model.bin)
UP=$(curl -s -X POST -H "Authorization: Bearer $TOK" -H 'content-type: application/json' -d '{}' "$HUB/api/models/bench/m/uploads" | python3 -c 'import json,sys; print(json.load(sys.stdin)["upload_id"])')
sync
hub_put=$(t curl -s -f -T model.bin -H "Authorization: Bearer $TOK" "$HUB/api/models/bench/m/uploads/$UP/files/model.bin")
sign=$(t curl -s -f -X POST -H "Authorization: Bearer $TOK" -H 'content-type: application/json' -d '{}' "$HUB/api/models/bench/m/uploads/$UP/commit")
sync
hub_get=$(t curl -s -f -o /dev/null "$HUB/bench/m/resolve/main/model.bin")
test "$(curl -s "$HUB/bench/m/resolve/main/model.bin" | sha256sum | cut -c1-64)" = "$(sha256sum < model.bin | cut -c1-64)"
gbs() { echo "scale=2; $MIB / 1024 / $1" | bc; }
echo "size: $MIB MiB (fsync on in the hub; the baseline server does not fsync)"
printf 'upload:   baseline %6.2f s (%s GiB/s)   hub %6.2f s (%s GiB/s)   ratio %s\n' "$base_put" "$(gbs "$base_put")" "$hub_put" "$(gbs "$hub_put")" "$(echo "scale=3; $hub_put / $base_put" | bc)"
printf 'download: baseline %6.2f s (%s GiB/s)   hub %6.2f s (%s GiB/s)   ratio %s\n' "$base_get" "$(gbs "$base_get")" "$hub_get" "$(gbs "$hub_get")" "$(echo "scale=3; $hub_get / $base_get" | bc)"
printf 'signing delay after the last byte (commit call): %.3f s = %s %% of the hub upload\n' "$sign" "$(echo "scale=2; 100 * $sign / $hub_put" | bc)"
