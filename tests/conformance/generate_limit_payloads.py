#!/usr/bin/env python3
"""Writes the size- and count-limit payloads of the conformance table into payloads/limits/.

Deterministic: run it again and the files are byte-identical. Sizes are exact: each file is
padded with spaces before its final closing brace.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "payloads", "limits")
MIB = 1024 * 1024
CANONICAL_MAX = 750 * 1024


def padded(obj, size):
    text = json.dumps(obj, separators=(",", ":"))
    assert text.endswith("}") and len(text) <= size, (len(text), size)
    return text[:-1] + " " * (size - len(text)) + "}"


def write(name, text):
    data = text.encode("utf-8")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return len(data)


def mercoa(extra=None):
    invoice = {
        "id": "in_limits-0000-0000-0000-000000000001",
        "status": "DRAFT",
        "paymentDestinationConfirmed": False,
        "hasDocuments": False,
        "hasSourceEmail": False,
        "approvers": [],
        "approvalPolicy": [],
        "metadata": {},
        "createdAt": "2025-03-04T15:22:09.118Z",
        "updatedAt": "2025-03-10T08:01:44.002Z",
        "payerId": "ent_limits-payer",
        "vendorId": "ent_limits-vendor",
    }
    body = {"eventType": "invoice.deleted", "invoice": invoice}
    if extra:
        body.update(extra)
    return body


def canonical(n_invoices, n_lines=0):
    return {
        **({"invoices": [{"invoice_id": f"inv-{i:05d}", "clinic_id": "clinic-1"} for i in range(n_invoices)]} if n_invoices else {}),
        **({"invoice_lines": [{"invoice_line_id": f"line-{i:05d}", "invoice_id": "inv-00000", "clinic_id": "clinic-1"} for i in range(n_lines)]} if n_lines else {}),
    }


def willsuite_invoice(n_items):
    """A WillSuite case_invoice.deleted with `n_items` minimal items: the invoice and its lines
    count as 1 + n_items entries."""
    return {
        "webhook_type": "case_invoice.deleted",
        "invoice_data": {"id": "inv-limits"},
        "invoice_items_data": [{"id": f"item-{i:05d}", "case_invoice_id": "inv-limits"} for i in range(n_items)],
    }


def nested(depth):
    """A Mercoa deletion whose unknown property `x` nests so that the whole document is `depth` deep."""
    inner = {}
    for _ in range(depth - 2):  # the top-level object is depth 1, `x` itself adds one level
        inner = {"x": inner}
    return mercoa({"x": inner})


def main():
    os.makedirs(OUT, exist_ok=True)
    sizes = {
        "mercoa-1mib-exactly.json": write("mercoa-1mib-exactly.json", padded(mercoa(), MIB)),
        "mercoa-1mib-plus-1.json": write("mercoa-1mib-plus-1.json", padded(mercoa(), MIB + 1)),
        "canonical-750kib-exactly.json": write("canonical-750kib-exactly.json", padded(canonical(1, 1), CANONICAL_MAX)),
        "canonical-750kib-plus-1.json": write("canonical-750kib-plus-1.json", padded(canonical(1, 1), CANONICAL_MAX + 1)),
        "canonical-5000-entries.json": write("canonical-5000-entries.json", json.dumps(canonical(2500, 2500), separators=(",", ":"))),
        "canonical-5001-entries.json": write("canonical-5001-entries.json", json.dumps(canonical(2500, 2501), separators=(",", ":"))),
        "willsuite-invoice-4999-items.json": write("willsuite-invoice-4999-items.json", json.dumps(willsuite_invoice(4999), separators=(",", ":"))),
        "willsuite-invoice-5000-items.json": write("willsuite-invoice-5000-items.json", json.dumps(willsuite_invoice(5000), separators=(",", ":"))),
        "mercoa-depth-64.json": write("mercoa-depth-64.json", json.dumps(nested(64), separators=(",", ":"))),
        "mercoa-depth-65.json": write("mercoa-depth-65.json", json.dumps(nested(65), separators=(",", ":"))),
    }
    for name, size in sizes.items():
        print(f"{size:>9}  payloads/limits/{name}")


if __name__ == "__main__":
    main()
