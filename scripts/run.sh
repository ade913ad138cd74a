#!/usr/bin/env bash
# Builds what `tombstone` needs (the plugin and the Spin component, once) and runs it with the
# given arguments; with none, starts the ingestion server (`tombstone serve`) on 127.0.0.1:3000
# with its embedded SQLite key-value store in .tombstone/.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown wasm32-wasip2 >/dev/null 2>&1 || true
cargo run --quiet --release --locked -p xtask -- all >&2
if [ $# -eq 0 ]; then set -- serve; fi
exec cargo run --quiet --release --locked -p tombstone-host -- "$@"
