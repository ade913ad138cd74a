#!/usr/bin/env bash
# Builds what `tombstone` needs (the plugin component) and runs it with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo run --quiet --release --locked -p xtask -- plugin >&2
exec cargo run --quiet --release --locked -p tombstone-host -- "$@"
