"""The conformance table through the tombstone Extism plugin (target/wasm/tombstone_extism.wasm,
built by `cargo run --release -p xtask -- extism`) in Extism's Python host SDK (`extism`, whose
extism-sys wheel carries the Extism runtime): every case's output must be its `expect`, byte for
byte; then detect, task_id and schema. Prints `N passed, M failed` and exits 1 on a failure.
Run by tests/extism/run.sh (which makes target/extism-venv); TOMBSTONE_EXTISM_WASM overrides the
module's path.
"""

import base64
import json
import os
import sys
from pathlib import Path

import extism

ROOT = Path(__file__).resolve().parents[3]
CONFORMANCE = ROOT / "tests" / "conformance"
WASM = Path(os.environ.get("TOMBSTONE_EXTISM_WASM", ROOT / "target" / "wasm" / "tombstone_extism.wasm"))


def compact(value):
    """Compact JSON as serde_json and JSON.stringify write it (key order kept, UTF-8 as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def convert_input(case):
    """A case file's fields as `convert`'s input; a `payload_file` becomes `payload_base64`."""
    given = {"context": case["context"]}
    if "payload_file" in case:
        data = (CONFORMANCE / case["payload_file"]).read_bytes()
        given["payload_base64"] = base64.b64encode(data).decode("ascii")
    else:
        for field in ("payload_text", "payload_base64", "payload"):
            if field in case:
                given[field] = case[field]
    return compact(given)


def main():
    # The module imports only Extism's kernel: no WASI.
    plugin = extism.Plugin(WASM.read_bytes(), wasi=False)

    def call(name, data):
        return plugin.call(name, data, parse=lambda buf: bytes(buf).decode("utf-8"))

    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name}{': ' + detail if detail else ''}")

    names = sorted(p.name for p in (CONFORMANCE / "cases").glob("*.json"))
    check("the conformance table is there", len(names) >= 60, f"only {len(names)} cases")
    for name in names:
        case = json.loads((CONFORMANCE / "cases" / name).read_text("utf-8"))
        expected = compact(case["expect"])
        try:
            actual = call("convert", convert_input(case))
        except extism.Error as e:
            actual = f"<extism error: {e}>"
        check(name, actual == expected, f"\n  expected: {expected}\n  actual:   {actual}")

    mercoa = (CONFORMANCE / "payloads/mercoa/00-doc-example-verbatim.json").read_bytes()
    check("detect mercoa", call("detect", mercoa) == '{"source":"mercoa"}')
    check("detect none", call("detect", "{}") == '{"source":null}')
    key = {"organization_id": "org_123", "idempotency_key": "5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59"}
    check(
        "task_id",
        call("task_id", compact(key))
        == '{"task_id":"af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60"}',
    )
    problem = json.loads(call("task_id", compact({"organization_id": "org 123", "idempotency_key": "k"})))
    check(
        "task_id problem",
        problem["problem"]["type"] == "urn:tombstone:problem:invalid-header" and problem["problem"]["status"] == 400,
        compact(problem),
    )
    schema = json.loads(call("schema", "canonical-request"))
    check("schema", schema["title"].startswith("Invoice deletions request"), schema.get("title", ""))
    check("schema unknown", call("schema", "nope") == "null")
    for bad in ["not json", '{"payload":{}}', '{"context":{},"payload":{},"payload_text":"{}"}']:
        try:
            call("convert", bad)
            check(f"convert {bad!r} fails", False, "no error")
        except extism.Error as e:
            check(f"convert {bad!r} fails", "tombstone: bad convert input" in str(e), str(e))
    check("the plugin answers again after an error", call("detect", "{}") == '{"source":null}')

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
