#!/usr/bin/env bash
# Runs every check and test of tombstone: the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n== %s  [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

step "format"
cargo fmt --all -- --check

step "lint (clippy, warnings are errors)"
# The Spin component only links for wasm32-wasip2 (its export names are not valid in a native
# shared library): it is linted there, and everything else natively.
cargo clippy --workspace --exclude tombstone-spin --all-targets --locked -- -D warnings
cargo clippy -p tombstone-spin --target wasm32-wasip2 --locked -- -D warnings
# The Extism plugin's exports and the Workers module's ABI exist only on wasm32.
cargo clippy -p tombstone-extism -p tombstone-workers --target wasm32-unknown-unknown --locked -- -D warnings

step "the core and the plugin compile for both wasm targets"
cargo check -p tombstone-core -p tombstone-plugin --locked --target wasm32-unknown-unknown
cargo check -p tombstone-core -p tombstone-plugin --locked --target wasm32-wasip2

step "fuzz targets build (convert; agree: the fast and slow paths), and survive a short run each"
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them. One
# build for both targets; scripts/fuzz.sh runs them for longer.
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build)
for target in convert agree; do
  FUZZ_SECONDS="${FUZZ_SECONDS:-30}" scripts/fuzz.sh "$target" 2>&1 | tail -n 3
done

step "an independent oracle (Python, from the contract, docs/contract.md) agrees with every expectation of the table"
python3 tests/conformance/check_table.py

step "build the wasm artifacts once (release): the plugin, the Spin component, the Extism plugin, the Workers module, the web module"
cargo run --release --locked -p xtask -- all
scripts/web.sh
# wrangler (workerd inside) from npm, with the committed lock: the end-to-end suite runs on it.
(cd workers && npm ci --no-audit --no-fund --loglevel=error)

step "tests: unit, property, conformance table (native, CLI, wasmtime), the service end to end over HTTP on tombstone serve, real Spin and workerd"
# The end-to-end suite runs each test on `tombstone serve`, on `spin up` with the project's
# spin.toml unchanged when a Spin CLI is found (SPIN, or spin on PATH), and the tests that fit
# Workers on `wrangler dev` (workerd) with workers/wrangler.toml unchanged.
spin_cli=${SPIN:-$(command -v spin || true)}
if [ -n "$spin_cli" ] && [ -x "$spin_cli" ]; then
  echo "real Spin: $("$spin_cli" --version) ($spin_cli): the end-to-end suite runs on it too"
  export SPIN="$spin_cli"
else
  echo "real Spin: no Spin CLI found (set SPIN or put spin on PATH): the end-to-end suite runs on tombstone serve only"
fi
cargo test --workspace --exclude tombstone-spin --locked
if [ -n "${SPIN:-}" ]; then
  # Each host's count, from the same run (a test that cannot reach Spin fails above).
  cargo test --locked -p tombstone-host --test it -- --list 2>/dev/null |
    awk -F': ' '/: test$/ {n++; if ($1 ~ /::spin$/) s++; else if ($1 ~ /::serve$/) v++; else if ($1 ~ /::workers$|::on_workers_/) w++}
      END {printf "end-to-end suite: %d tests on tombstone serve, %d on real Spin, %d on workerd (Cloudflare Workers)\n", v, s, w}'
fi

step "the embedding example (host/harness/examples/convert.rs) converts a provider's own example"
cargo run --quiet --locked -p tombstone-harness --example convert -- \
  tests/conformance/payloads/mercoa/00-doc-example-verbatim.json acme-vet | grep -q '"source":"mercoa"'
echo "ok"

step "the HTTP API against openapi.json: openapi-spec-validator, then Schemathesis on tombstone serve (open, and signed)"
tests/api/run.sh

step "the embedding examples (examples/): Rust with wasmtime, Node with jco, Python with wasmtime, the browser module in headless Chromium, each over the whole conformance table"
examples/run-all.sh

step "the Extism plugin in Extism's Node and Python hosts, over the conformance table"
tests/extism/run.sh

step "the browser playground in headless Chromium, served by tombstone serve at /playground/"
log=$(mktemp)
target/debug/tombstone serve --listen 127.0.0.1:0 --kv-memory --www www >"$log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
url="$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$log")/playground/"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && PLAYGROUND_URL="$url" npm test)
echo "screenshots: target/playground.png, target/playground-problem.png"
step "done"
