#!/usr/bin/env bash
# Runs one fuzz target (convert, or agree: the fast path against the slow path) for
# FUZZ_SECONDS (default 1800), seeded with every sample payload, with a dictionary of the
# schemas' names and values (fuzz/dict.py). libFuzzer's last lines report the executions.
#   scripts/fuzz.sh agree
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target=${1:?usage: scripts/fuzz.sh convert|agree}
p=../tests/conformance/payloads
mkdir -p "corpus/$target" target
python3 dict.py >target/fuzz.dict
# Every sample folder (one per source, and the invalid ones) seeds the corpus.
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" $p/*/ \
  -- -max_total_time="${FUZZ_SECONDS:-1800}" -dict=target/fuzz.dict -rss_limit_mb=4096 \
  -print_final_stats=1
