#!/usr/bin/env bash
# Builds the browser playground's module into www/pkg/ (gitignored) and copies the bundled
# examples into www/examples/ (gitignored): tombstone-web for wasm32-unknown-unknown with the
# size-tuned `wasm` profile, wasm-bindgen's `--target web` glue (an ES module, no bundler), then
# wasm-opt. Prints the sizes the page loads. Run scripts/setup.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Symbols are kept in this build (strip = "debuginfo" instead of the profile's `true`) because
# wasm-bindgen reads the module's `target_features` section from them; wasm-opt strips afterwards.
CARGO_PROFILE_WASM_STRIP=debuginfo \
  cargo build --locked -p tombstone-web --target wasm32-unknown-unknown --profile wasm
rm -rf www/pkg
wasm-bindgen --target web --no-typescript --out-dir www/pkg \
  target/wasm32-unknown-unknown/wasm/tombstone_web.wasm
# Debian's binaryen (108) predates these features' default-on status; rustc emits them.
# -Oz: -O3 and -Os came out the same within 0.1 % gzipped.
wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  -o www/pkg/tombstone_web_bg.wasm www/pkg/tombstone_web_bg.wasm

# The examples the page offers: the shared sample payloads of the conformance table, one folder
# per source, and the broken ones. index.json lists them for the page's picker.
rm -rf www/examples
for dir in mercoa willsuite highlevel canonical invalid; do
  mkdir -p "www/examples/$dir"
  find "tests/conformance/payloads/$dir" -maxdepth 1 -type f -name '*.json' \
    -exec cp {} "www/examples/$dir/" \;
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
