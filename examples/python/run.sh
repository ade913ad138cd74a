#!/usr/bin/env bash
# The Python example: makes a venv under target/ from requirements.txt (again when the file
# changes), then runs convert_table.py over the conformance table. wasmtime's own component API
# (wasmtime.component) calls the plugin by its export names: no bindings to generate.
# Needs target/wasm/tombstone_adapter.wasm. Arguments go to convert_table.py ([REPO]).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${EXAMPLE_PYTHON_VENV:-$here/../../target/example-python-venv}
if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
exec "$venv/bin/python" "$here/convert_table.py" "$@"
