#!/usr/bin/env bash
# Builds the browser playground's module into www/pkg/ (gitignored) and copies the bundled
# examples into www/examples/ (gitignored): tombstone-web for wasm32-unknown-unknown with the
# `wasm-web` profile (the `wasm` profile, `opt-level 3` and LTO, with symbols kept for wasm-bindgen), wasm-bindgen's `--target web` glue (an ES module, no bundler), then
# wasm-opt. Prints the sizes the page loads. Run scripts/setup.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Profile `wasm-web` keeps symbols (wasm-bindgen reads the module's `target_features` section from
# them); wasm-opt strips afterwards.
cargo build --locked -p tombstone-web --target wasm32-unknown-unknown --profile wasm-web
rm -rf www/pkg
wasm-bindgen --target web --no-typescript --out-dir www/pkg \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-web/tombstone_web.wasm"
# wasm-opt from npm's binaryen, installed from the committed lock in scripts/web/ (Debian's
# binaryen 108 breaks wasm-bindgen's externref table). -Oz: -O3 and -Os come out the same within
# 0.2 % gzipped.
if [ ! -x scripts/web/node_modules/.bin/wasm-opt ]; then
  (cd scripts/web && npm ci --no-audit --no-fund --loglevel=error)
fi
raw=www/pkg/tombstone_web_bg.wasm
printf 'web: before wasm-opt: %d bytes (%d gzipped)\n' "$(stat -c %s $raw)" "$(gzip -9 -c $raw | wc -c)"
scripts/web/node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers -o $raw $raw

# The examples the page offers: the shared sample payloads of the conformance table, one folder
# per source, and the broken ones. index.json lists them for the page's picker.
rm -rf www/examples
mkdir -p www/examples
# Every folder of sample payloads (one per source, and the broken ones); not the generated
# limit payloads.
for dir in tests/conformance/payloads/*/; do
  [ "$(basename "$dir")" = limits ] || cp -r "$dir" www/examples/
done
(cd www/examples && find . -type f -name '*.json' | sed 's|^\./||' | sort |
  python3 -c 'import json, sys; print(json.dumps([l.strip() for l in sys.stdin], indent=1))' \
  > index.json)

size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }
wasm=www/pkg/tombstone_web_bg.wasm
glue=www/pkg/tombstone_web.js
printf 'web: %s %d bytes (%d gzipped); %s %d bytes (%d gzipped)\n' \
  "$wasm" "$(size $wasm)" "$(gz $wasm)" "$glue" "$(size $glue)" "$(gz $glue)"
