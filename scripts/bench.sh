#!/usr/bin/env bash
# One command, one run, one table: what a conversion costs natively, in the plugin (warm and
# fresh instance per call), the Extism plugin in Extism's Node host, and in the JavaScript peer (ajv + the same mapping in Node), on each
# provider's documentation example, with every row's ratio to the peer (host/benches/convert.rs).
# BENCH_ROUNDS (default 5) interleaved rounds of BENCH_MILLIS (default 400) per row.
# The load test of the HTTP service is scripts/bench-serve.sh; one call on each host of the
# service (serve, Workers, Spin) is scripts/bench-hosts.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown wasm32-wasip2 >/dev/null
cargo run --release --locked -p xtask -- plugin
cargo run --release --locked -p xtask -- extism
(cd tests/bench/ajv && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/extism/node && npm ci --no-audit --no-fund --loglevel=error)
cargo bench --locked -p tombstone-host --bench convert
