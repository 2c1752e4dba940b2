#!/usr/bin/env bash
# Issue 8 comparison: hallmark scan vs picklescan 1.0.5, modelscan 0.8.8 and fickling 0.1.12
# (PyPI, in a venv under $HOME/.cache) on the generated corpus, then throughput on a
# generated ~2 GiB benign mix of safetensors and PyTorch zips (in a temporary directory).
#
# The corpus is written by crates/scan/examples/scan_corpus.rs (the same builders the tests
# use; every sample is built opcode by opcode, nothing is ever unpickled).
#
# Scoring per tool and sample: detected (flagged), missed (malicious but passed), false
# positive (benign but flagged), crashed (the tool errored without flagging).
#   hallmark    flagged = exit 1 (dangerous/suspicious) or 3 (unverified); crash = other non-zero
#   picklescan  flagged = exit 1 ("dangerous"); exit 0 with only "suspicious" globals = missed
#               (its default mode); crash = any other exit or a traceback
#   modelscan   flagged = exit 1; crash = exit 2, a traceback, or an "Errors" section without
#               issues (it fails open); exit 3 ("skipped") = missed
#   fickling    flagged = non-zero exit of --check-safety; crash = a traceback
# Bar (issue 8): hallmark misses nothing, flags no benign sample, and is >= 5x faster than the
# fastest of the three on the throughput set.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${HALLMARK_SCAN_COMPARE_CACHE:-$HOME/.cache/hallmark-scan-compare}
VENV=$CACHE/venv
BENCH_MIB=${BENCH_MIB:-2048}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if [ ! -x "$VENV/bin/fickling" ] || ! "$VENV/bin/pip" show picklescan 2>/dev/null | grep -q '^Version: 1.0.5$'; then
  python3 -m venv "$VENV"
  # fickling 0.1.12 does not import without typing_extensions (mlsecops.md §2.2).
  "$VENV/bin/pip" install -q picklescan==1.0.5 modelscan==0.8.8 fickling==0.1.12 typing_extensions
fi

cargo build -q --release --locked -p hallmark-cli
cargo build -q --release --locked -p hallmark-scan --example scan_corpus
BIN=$CARGO_TARGET_DIR/release/hallmark
GEN=$CARGO_TARGET_DIR/release/examples/scan_corpus

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$GEN" "$WORK/corpus"
"$GEN" --bench "$WORK/bench" "$BENCH_MIB"

export BIN VENV WORK
python3 - <<'PY'
import os, subprocess, sys, time
bin_, venv, work = os.environ["BIN"], os.environ["VENV"] + "/bin", os.environ["WORK"]
corpus = work + "/corpus"
rows = [l.rstrip("\n").split("\t") for l in open(corpus + "/manifest.tsv")]

def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    return p.returncode, p.stdout + p.stderr

def hallmark(path):
    rc, out = run([bin_, "scan", path])
    return "flagged" if rc in (1, 3) else ("clean" if rc == 0 else "crash")

def picklescan(path):
    rc, out = run([venv + "/picklescan", "-p", path])
    if rc == 1 or (rc == 2 and "dangerous import" in out):
        return "flagged"
    if rc == 0 and "Traceback" not in out:
        return "clean"
    return "crash"

def modelscan(path):
    rc, out = run([venv + "/modelscan", "-p", path])
    if rc == 1:
        return "flagged"
    if rc == 2 or "Traceback" in out or "--- Errors ---" in out:
        return "crash"
    return "clean"

def fickling(path):
    rc, out = run([venv + "/fickling", "--check-safety", path])
    if "Traceback" in out:
        return "crash"
    return "flagged" if rc != 0 else "clean"

tools = [("hallmark", hallmark), ("picklescan 1.0.5", picklescan), ("modelscan 0.8.8", modelscan), ("fickling 0.1.12", fickling)]
results = {name: {} for name, _ in tools}
for rel, kind, cls in rows:
    for name, fn in tools:
        results[name][rel] = fn(corpus + "/" + rel)

mal = [r for r in rows if r[1] == "malicious"]
ben = [r for r in rows if r[1] == "benign"]
print(f"\nCorpus: {len(mal)} malicious samples (bypass classes of mlsecops.md §2.3-2.4), {len(ben)} benign\n")
print(f"{'tool':<18}{'detected':>9}{'missed':>8}{'false pos':>10}{'crashed':>9}")
summary = {}
for name, _ in tools:
    r = results[name]
    det = sum(r[m[0]] == "flagged" for m in mal)
    crash = sum(r[x[0]] == "crash" for x in rows)
    missed = sum(r[m[0]] == "clean" for m in mal)
    fp = sum(r[b[0]] == "flagged" for b in ben)
    summary[name] = (det, missed, fp, crash)
    print(f"{name:<18}{det:>9}{missed:>8}{fp:>10}{crash:>9}")

print("\nPer sample (F flagged, . clean, X crashed):")
mark = {"flagged": "F", "clean": ".", "crash": "X"}
print(f"{'sample':<34}{'kind':<10}" + "".join(f"{n.split()[0][:10]:>11}" for n, _ in tools) + "  class")
for rel, kind, cls in rows:
    print(f"{rel.split('/')[-1][:33]:<34}{kind:<10}" + "".join(f"{mark[results[n][rel]]:>11}" for n, _ in tools) + f"  {cls}")

bench = work + "/bench"
files = sorted(os.listdir(bench))
total = sum(os.path.getsize(os.path.join(bench, f)) for f in files)
for f in files:  # warm the page cache: measure the scanners, not the disk
    with open(os.path.join(bench, f), "rb") as fh:
        while fh.read(1 << 24):
            pass

def timed(cmds):
    t = time.perf_counter()
    for c in cmds:
        subprocess.run(c, capture_output=True, cwd=work)
    return time.perf_counter() - t

print(f"\nThroughput on {len(files)} benign files, {total / 2**30:.2f} GiB (safetensors + PyTorch zip), warm cache, best of 3:")
timings = {
    "hallmark": min(timed([[bin_, "scan", bench]]) for _ in range(3)),
    "picklescan 1.0.5": min(timed([[venv + "/picklescan", "-p", bench]]) for _ in range(3)),
    "modelscan 0.8.8": min(timed([[venv + "/modelscan", "-p", bench]]) for _ in range(3)),
    "fickling 0.1.12": min(timed([[venv + "/fickling", "--check-safety", os.path.join(bench, f)] for f in files]) for _ in range(3)),
}
for name, t in timings.items():
    print(f"{name:<18}{t:>8.3f} s  {total / 2**30 / t:>9.2f} GiB/s")
fastest = min(t for n, t in timings.items() if n != "hallmark")
speedup = fastest / timings["hallmark"]
print(f"hallmark speed-up over the fastest other tool: {speedup:.1f}x")

det, missed, fp, crash = summary["hallmark"]
ok = missed == 0 and fp == 0 and crash == 0 and speedup >= 5
print("\nBar (no miss, no false positive, >= 5x faster):", "MET" if ok else "NOT MET")
sys.exit(0 if ok else 1)
PY
