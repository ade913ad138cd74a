#!/usr/bin/env bash
# Installs what a fresh machine (Rust toolchain, Node, Python only) lacks for building and testing
# tombstone. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2 wasm32-unknown-unknown >/dev/null
rustup component add clippy rustfmt >/dev/null 2>&1 || true

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz (a few minutes, once)"
  cargo install --locked cargo-fuzz
fi
