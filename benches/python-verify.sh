#!/usr/bin/env bash
# The Python module's verify against the reference library's, same machine, same run:
#   `from hallmark import model_signing` vs `import model_signing` (1.1.1), key method,
#   files/sha256, on the layouts of benches/hash.sh: "eight" (8 × 512 MiB) and "many"
#   (20,000 × 16 KiB). Page cache warm (one untimed verify first). Prints seconds (median of
#   RUNS) and the ratio reference / hallmark.
#   usage: benches/python-verify.sh  (needs a venv with the wheel: PY_HALLMARK=venv/bin/python,
#          e.g. the one tests/python/run.sh builds with KEEP_VENV=dir; REF_PYTHON defaults to
#          $HOME/.cache/hallmark-oms-ref/bin/python)
#   env: SIZE_SCALE=N divides the 512 MiB; SMALL_COUNT=N (default 20000); RUNS=N (default 3);
#        LAYOUTS="eight many"; BENCH_DIR=dir (kept) else a temp dir.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY_HALLMARK=${PY_HALLMARK:?set PY_HALLMARK to a python with the hallmark wheel installed}
REF_PYTHON=${REF_PYTHON:-$HOME/.cache/hallmark-oms-ref/bin/python}
SIZE_SCALE=${SIZE_SCALE:-1}; SMALL_COUNT=${SMALL_COUNT:-20000}; RUNS=${RUNS:-3}
LAYOUTS=${LAYOUTS:-"eight many"}
if [ -n "${BENCH_DIR:-}" ]; then W=$BENCH_DIR; mkdir -p "$W"; else W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; fi
KEY=$ROOT/testdata/python/p256.key PUB=$ROOT/testdata/oms/case01-key-p256/p256.pub
EIGHTH=$((512 * 1024 * 1024 / SIZE_SCALE))
gen() {
  python3 - "$@" <<'PYEOF'
import os, sys, random
kind, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(d, exist_ok=True)
rnd = random.Random(19)
if kind == "eight":
    block = rnd.randbytes(1 << 20)
    for i in range(8):
        with open(f"{d}/model-0000{i}-of-00008.safetensors", "wb") as f:
            left = n
            while left:
                k = min(left, len(block)); f.write(block[:k]); left -= k
                block = block[1:] + block[:1]
else:
    for i in range(n):
        sub = f"{d}/d{i // 1000:03d}"
        os.makedirs(sub, exist_ok=True)
        with open(f"{sub}/f{i:05d}.bin", "wb") as f:
            f.write(rnd.randbytes(16384))
PYEOF
}
timeit() {  # python, import line, model, signature -> median seconds over RUNS
  "$1" - "$2" "$3" "$4" "$PUB" "$RUNS" <<'PYEOF'
import sys, time, statistics
imp, model, sig, pub, runs = sys.argv[1:6]
exec(imp)
cfg = lambda: model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub)
cfg().verify(model, sig)  # warm the page cache
ts = []
for _ in range(int(runs)):
    t = time.perf_counter(); cfg().verify(model, sig); ts.append(time.perf_counter() - t)
print(f"{statistics.median(ts):.3f}")
PYEOF
}
printf '%-28s %12s %12s %8s\n' layout hallmark_s reference_s ratio
for layout in $LAYOUTS; do
  case $layout in
    eight) gen eight "$W/eight" "$EIGHTH"; desc="8 x $((EIGHTH >> 20)) MiB" ;;
    many) gen many "$W/many" "$SMALL_COUNT"; desc="$SMALL_COUNT x 16 KiB" ;;
  esac
  "$PY_HALLMARK" -c "from hallmark import model_signing as m; m.signing.Config().use_elliptic_key_signer(private_key='$KEY').sign('$W/$layout', '$W/$layout.sig')"
  h=$(timeit "$PY_HALLMARK" "from hallmark import model_signing" "$W/$layout" "$W/$layout.sig")
  r=$(timeit "$REF_PYTHON" "import model_signing" "$W/$layout" "$W/$layout.sig")
  printf '%-28s %12s %12s %7.2fx\n' "$desc" "$h" "$r" "$(python3 -c "print($r / $h)")"
  [ -n "${BENCH_DIR:-}" ] || rm -rf "${W:?}/$layout"
done
