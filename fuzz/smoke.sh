#!/usr/bin/env bash
# Fuzz smoke run: every target for FUZZ_SECONDS (default 20) on a seed corpus made from the
# fixtures (seed.py). Exits non-zero if any target finds a crash; the reproducer is left in
# fuzz/artifacts/<target>/ (replay: RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>).
#
# cargo-fuzz needs nightly flags; on the stable toolchain RUSTC_BOOTSTRAP=1 allows them, set
# here for these commands only (docs: ../../shared/docs/rust-stack.md §2.10).
set -euo pipefail
cd "$(dirname "$0")"
SECS=${FUZZ_SECONDS:-10}
TARGETS=(bundle_parse statement_parse resource_name pem_keys scan_any scan_pickle scan_zip scan_safetensors scan_gguf scan_npy tlog_note)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

python3 seed.py
# One build of every target first, so the timed runs below are runs, not builds.
cargo fuzz build --release

failed=()
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if cargo fuzz run --release "$t" "corpus/$t" -- \
      -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed+=("$t")
    grep -E 'panicked|ERROR|SUMMARY|Test unit written|artifact' "$log" | head -20 || true
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || echo "cov: ?")
  printf 'fuzz %-16s %s  %s executions in %ss, %s\n' "$t" "$status" "$runs" "$SECS" "$cov"
  rm -f "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: crash in ${failed[*]} (reproducers in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz smoke: no crash"
