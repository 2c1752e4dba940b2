#!/usr/bin/env bash
# Transparency-log benchmark for issue 5 (not a timed test): appends N entries from many
# concurrent submitters to a hallmark-tlog log on the local disk (tiles, entry bundles and
# checkpoint lock fsynced on every batch) and prints entries/s, p50/p99 latency from
# submission to a durable inclusion proof, and the bytes on disk, with ratios to the bar
# (>= 20,000 entries/s, p99 < 500 ms on a 2-core machine).
#
# Environment (passed through to crates/tlog/examples/tlog_bench.rs):
#   TLOG_BENCH_N=N              entries (default 1000000; e.g. 20000 for a smoke run)
#   TLOG_BENCH_SUBMITTERS=N     concurrent submitters (default 5000)
#   TLOG_BENCH_ENTRY_BYTES=N    entry size (default 1836, a real dsse body with a certificate)
#   TLOG_BENCH_DIR=dir          parent directory of the log (default: system temp dir)
#   TLOG_BENCH_VERIFY=1         audit the whole log afterwards;  TLOG_BENCH_KEEP=1 keep it
#   TLOG_BENCH_SET=0            do not sign a SET per entry (default: each submitter signs its
#                               own, ~24 us of ECDSA per entry; the log itself never waits on it)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p hallmark-tlog --example tlog_bench
exec target/release/examples/tlog_bench
