#!/usr/bin/env bash
# Runs the four embedding examples in turn, each over the whole conformance table, and prints each
# one's lines (the last is `N passed, 0 failed`); fails if any example fails. Assumes the
# artifacts are built: target/wasm/tombstone_adapter.wasm (`cargo run --release -p xtask --
# plugin`) and www/pkg/ (scripts/web.sh). Called by scripts/test.sh after its `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
header() { printf '\n-- examples/%s\n' "$*"; }

header "rust: wasmtime, bindgen! over adapter/wit/adapter.wit"
# Built through the example's integration test with the workspace's features, the build that
# `cargo test --workspace` already made (`cargo run -p` alone would resolve features for this one
# package and compile a second wasmtime).
cargo test --quiet --locked --workspace --exclude tombstone-spin --test table --no-run
"${CARGO_TARGET_DIR:-target}/debug/tombstone-example-rust"

header "node: the component transpiled by jco"
# `npm install` with the committed lock, not `npm ci`: jco's dependencies declare optional
# platform packages that were never published, which `npm ci` refuses.
(cd examples/node && npm install --no-audit --no-fund --loglevel=error >/dev/null &&
  npm run --silent transpile >/dev/null && node convert-table.mjs &&
  { out=$(npm test --silent 2>&1) || { echo "$out"; exit 1; }; } && echo "api.test.mjs: detect, taskId, schema: ok")

header "python: wasmtime (PyPI), its component API"
examples/python/run.sh

header "browser: the web module in headless Chromium"
(cd examples/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null && node run.mjs)
