#!/usr/bin/env bash
# The Extism plugin (target/wasm/tombstone_extism.wasm) in two of Extism's host SDKs over the
# conformance table, each output compared byte for byte with the case's `expect` (the text the
# native core prints), then detect, task_id and schema:
#   node    @extism/extism on Node (tests/extism/node, node:test);
#   python  extism on CPython, the Extism runtime from extism-sys's wheel (tests/extism/python,
#           in target/extism-venv).
# Needs the module: `cargo run --release --locked -p xtask -- extism` (or `-- all`, as
# scripts/test.sh does). Prints each host's count.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOMBSTONE_EXTISM_WASM=$(realpath -m "${TOMBSTONE_EXTISM_WASM:-target/wasm/tombstone_extism.wasm}")
export TOMBSTONE_EXTISM_WASM
if [ ! -f "$TOMBSTONE_EXTISM_WASM" ]; then
  echo "no $TOMBSTONE_EXTISM_WASM: run \`cargo run --release --locked -p xtask -- extism\` first" >&2
  exit 1
fi

status=0
counts=()

echo "-- Extism, Node host (@extism/extism)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(cd tests/extism/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd tests/extism/node && node --test --test-reporter=tap conformance.test.mjs) >"$log" 2>&1 || status=1
grep -E '^not ok|^# (tests|pass|fail) ' "$log" || true
if [ $status -ne 0 ]; then cat "$log"; fi
counts+=("node: $(sed -n 's/^# pass //p' "$log" | tail -n 1) passed, $(sed -n 's/^# fail //p' "$log" | tail -n 1) failed")

echo "-- Extism, Python host (extism, extism-sys)"
venv=target/extism-venv
requirements=tests/extism/python/requirements.txt
# Made again when the pins change (the venv keeps a copy of the requirements it was made from).
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
python_out=$("$venv/bin/python" tests/extism/python/conformance.py) || status=1
echo "$python_out"
counts+=("python: $(echo "$python_out" | tail -n 1)")

echo "-- Extism hosts over the conformance table:"
printf '%s\n' "${counts[@]}"
exit $status
