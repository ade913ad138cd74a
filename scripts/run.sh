#!/usr/bin/env bash
# Builds what `tombstone` needs and runs it with the given arguments; with none, starts the
# ingestion server (`tombstone serve`) on 127.0.0.1:3000 with its embedded SQLite key-value store
# in .tombstone/. Whatever is already built is reused: the components are the very artifacts
# scripts/test.sh builds (docs/building.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown wasm32-wasip2 >/dev/null 2>&1 || true
if [ $# -eq 0 ]; then
  # The server needs two artifacts: the host (release) and the Spin component (built with the
  # command spin.toml runs). They are built at once, so that both cores stay busy while one
  # build waits on a long crate; the component is then put where serve and xtask put it.
  cargo build --quiet --profile wasm --locked -p tombstone-spin --target wasm32-wasip2 &
  component_build=$!
  cargo build --release --locked -p tombstone-host
  wait "$component_build"
  mkdir -p target/wasm
  cp target/wasm32-wasip2/wasm/tombstone_spin.wasm target/wasm/tombstone_spin.wasm
  exec target/release/tombstone serve
fi
# A command: the plugin too (`convert --engine wasm` runs it) and the Spin component (serve).
cargo run --quiet --release --locked -p xtask -- all >&2
exec cargo run --quiet --release --locked -p tombstone-host -- "$@"
