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

# The browser playground: Debian's chromium, driven headless by playwright-core (never
# `playwright install`), with DejaVu so screenshots have glyphs; wasm-bindgen-cli at exactly the
# version of the wasm-bindgen crate in Cargo.lock (the CLI refuses a module built by any other
# version). wasm-opt comes from npm's binaryen (scripts/web/): Debian's binaryen 108 breaks the
# externref table wasm-bindgen emits.
# Debian's packages the tests use: chromium (the playground's browser tests), redis-server (the
# multi-instance tests start their own on a loopback port; installing it starts none), openssl
# (the HTTPS relay test makes its own CA and certificate).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (Debian packages, once)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  echo "setup: installing wasm-bindgen-cli $wb_version (a few minutes, once)"
  # --locked first; its lock can name a release the registry here does not have yet (ureq's
  # webpki-roots), and then the newest compatible dependencies are resolved instead.
  cargo install --locked wasm-bindgen-cli --version "$wb_version" ||
    cargo install wasm-bindgen-cli --version "$wb_version"
fi
