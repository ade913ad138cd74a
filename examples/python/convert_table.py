"""The tombstone plugin in Python with wasmtime: loads the component
(target/wasm/tombstone_adapter.wasm, world `adapter` of adapter/wit/adapter.wit), converts one
payload, then runs the whole conformance table (tests/conformance/cases/*.json) and prints
`N passed, 0 failed`; exits non-zero if any case fails.

    pip install -r requirements.txt && python convert_table.py [REPO]   (REPO: default ../..)

The plugin imports nothing: the linker stays empty. Through wasmtime's component API a WIT record
is a `Record` whose attributes carry the WIT names (`organization-id`), an option is the value or
None, and a `result` is a `Variant` with tag 'ok' or 'err'.
"""
import base64
import json
import sys
from pathlib import Path

from wasmtime import Engine, Store
from wasmtime.component import Component, Linker, Record

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent / ".." / "..")
conformance = root / "tests" / "conformance"

# Compile once; each call then gets a fresh instance (nothing leaks between deliveries).
engine = Engine()
component = Component.from_file(engine, str(root / "target" / "wasm" / "tombstone_adapter.wasm"))
linker = Linker(engine)


def convert(payload: bytes, context: dict):
    """`('conversion', record)` or `('problem', record)`; `context` has the table's snake-case keys."""
    record = Record()
    for field in ("organization_id", "clinic_id", "idempotency_key", "source", "received_at", "delay_seconds"):
        setattr(record, field.replace("_", "-"), context.get(field))  # absent or null: None
    store = Store(engine)
    instance = linker.instantiate(store, component)
    result = instance.get_func(store, "convert")(store, payload, record)
    return ("conversion" if result.tag == "ok" else "problem"), result.payload


# One payload: a provider's own example.
file = "payloads/mercoa/00-doc-example-verbatim.json"
context = {"organization_id": "acme-vet", "received_at": "2026-01-01T00:00:00Z"}
_, c = convert((conformance / file).read_bytes(), context)
print(f"{file}: {getattr(c, 'invoices-count')} invoice(s) from {c.source}, task {getattr(c, 'task-id')}")


def payload_bytes(case: dict) -> bytes:
    if "payload_file" in case:
        return (conformance / case["payload_file"]).read_bytes()
    if "payload_text" in case:
        return case["payload_text"].encode("utf-8")
    if "payload_base64" in case:
        return base64.b64decode(case["payload_base64"])
    return compact(case["payload"]).encode("utf-8")


def compact(value) -> str:
    """Compact JSON in the file's key order, non-ASCII as is: the text every runtime prints."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def first_difference(expected: str, actual: str) -> str:
    """Where two texts first differ, with a little of each around it."""
    at = next((i for i, (e, a) in enumerate(zip(expected, actual)) if e != a), min(len(expected), len(actual)))
    around = slice(max(0, at - 30), max(0, at - 30) + 80)
    return f"first difference at character {at}\n  expected: …{expected[around]}\n  actual:   …{actual[around]}"


# The whole table: the output text must equal the case's `expect`, byte for byte.
passed = failed = 0
for path in sorted((conformance / "cases").glob("*.json")):
    case = json.loads(path.read_text(encoding="utf-8"))
    kind, record = convert(payload_bytes(case), case["context"])
    output = f'{{"{kind}":{record.json}}}'
    expected = compact(case["expect"])
    if output == expected:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {path.stem}: {first_difference(expected, output)}")
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
