#!/usr/bin/env python3
"""An independent oracle for the conformance table, written from SPEC §1-§4 (not from the Rust code).

For every case that expects a conversion it recomputes, in plain Python, the source, the canonical
body, the idempotency key (UUIDv5), the task id (SHA-256) and the times, and compares them with the
case's expectation. For every case that expects a problem it checks the RFC 9457 shape and that no
message or detail echoes a string value of the payload. Exit 1 on any disagreement.
"""
import base64
import datetime as dt
import hashlib
import json
import os
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
NAMESPACE = uuid.UUID("13e7f5ba-b182-57f9-be3d-c73b47ad3873")
EVENTS = {"mercoa": "invoice.deleted", "willsuite": "case_invoice_item.deleted", "highlevel": "InvoiceDelete"}
STATUS = {"invalid-json": 400, "missing-header": 400, "invalid-header": 400, "unsupported-media-type": 415,
          "payload-too-large": 413, "unknown-format": 422, "validation": 422, "unmappable": 422,
          "idempotency-key-reuse": 422, "conflict": 409, "unauthorized": 401}


def payload_bytes(case):
    if "payload_file" in case:
        return open(os.path.join(HERE, case["payload_file"]), "rb").read()
    if "payload_text" in case:
        return case["payload_text"].encode()
    if "payload_base64" in case:
        return base64.b64decode(case["payload_base64"])
    return json.dumps(case["payload"]).encode()


def usable(v):
    return v.strip() if isinstance(v, str) and v.strip() else None


def get(obj, *path):
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def detect(p):
    if not isinstance(p, dict):
        return None
    if p.get("eventType") == "invoice.deleted":
        return "mercoa"
    if p.get("webhook_type") == "case_invoice_item.deleted":
        return "willsuite"
    if p.get("type") == "InvoiceDelete" or ("type" not in p and isinstance(p.get("_id"), str) and isinstance(p.get("altType"), str)):
        return "highlevel"
    if "invoices" in p or "invoice_lines" in p:
        return "canonical"
    return None


def first(*values):
    for v in values:
        if usable(v):
            return usable(v)
    return None


def expected_body(source, p, clinic_ctx):
    """SPEC §3's mapping table."""
    if source == "mercoa":
        inv = p["invoice"]
        vendor_customer = get(inv, "vendor", "isCustomer") is True
        payer_customer = get(inv, "payer", "isCustomer") is True
        clinic_party, client_party = ("vendor", "payer") if vendor_customer and not payer_customer else ("payer", "vendor")
        clinic = first(inv.get(clinic_party + "Id"), get(inv, clinic_party, "id")) or clinic_ctx
        client = first(inv.get(client_party + "Id"), get(inv, client_party, "id"))
        entry = {"invoice_id": inv["id"].strip(), "clinic_id": clinic}
        if client:
            entry["client_id"] = client
        return {"invoices": [entry]}, inv["id"].strip()
    if source == "willsuite":
        item = p["invoice_item_data"]
        return {"invoice_lines": [{"invoice_line_id": item["id"].strip(), "invoice_id": item["case_invoice_id"].strip(),
                                   "clinic_id": clinic_ctx}]}, item["id"].strip()
    if source == "highlevel":
        alt = p.get("altId") if p.get("altType") == "location" else None
        clinic = first(p.get("locationId"), alt) or clinic_ctx
        entry = {"invoice_id": p["_id"].strip(), "clinic_id": clinic}
        client = first(get(p, "contactDetails", "id"))
        if client:
            entry["client_id"] = client
        return {"invoices": [entry]}, p["_id"].strip()
    body = {}
    for field in ("invoices", "invoice_lines"):
        items = [{k: v.strip() for k, v in item.items() if v is not None} for item in p.get(field, [])]
        if items:
            body[field] = items
    return body, None


def parse_time(s):
    t = dt.datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
    return t.astimezone(dt.timezone.utc)


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)


def check(name, case):
    ctx = case["context"]
    exp = case["expect"]
    raw = payload_bytes(case)
    if "conversion" in exp:
        c = exp["conversion"]
        p = json.loads(raw.decode("utf-8-sig"))
        source = ctx.get("source") if ctx.get("source") not in (None, "auto") else detect(p)
        assert c["source"] == source, f"source {c['source']} != {source}"
        clinic_ctx = usable(ctx.get("clinic_id"))
        body, event_id = expected_body(source, p, clinic_ctx)
        assert c["request"]["body"] == body, f"body {c['request']['body']} != {body}"
        key = ctx.get("idempotency_key")
        if key is None:
            key = str(uuid.uuid5(NAMESPACE, f"{source}:{EVENTS[source]}:{event_id}"))
        elif key.startswith('"'):
            key = key[1:-1]
        headers = c["request"]["headers"]
        assert headers == {"Idempotency-Key": key, "X-Organization-Id": ctx["organization_id"]}, headers
        task = hashlib.sha256(ctx["organization_id"].encode() + b"\0" + key.encode()).hexdigest()
        assert c["task_id"] == task, "task_id"
        assert (c["request"]["method"], c["request"]["path"]) == ("POST", "/api/v1/invoice-deletions")
        received = parse_time(ctx["received_at"])
        assert parse_time(c["received_at"]) == received and c["received_at"].endswith("Z"), "received_at"
        delay = dt.timedelta(seconds=ctx.get("delay_seconds", 0))
        assert parse_time(c["scheduled_for"]) == received + delay, "scheduled_for"
        assert c["invoices_count"] == len(body.get("invoices", [])), "invoices_count"
        assert c["invoice_lines_count"] == len(body.get("invoice_lines", [])), "invoice_lines_count"
        assert list(c) == ["source", "request", "task_id", "scheduled_for", "received_at", "invoices_count",
                           "invoice_lines_count", "warnings"] or sorted(c) == sorted(
            ["source", "request", "task_id", "scheduled_for", "received_at", "invoices_count", "invoice_lines_count", "warnings"]), "fields"
    else:
        prob = exp["problem"]
        kind = prob["type"].removeprefix("urn:tombstone:problem:")
        assert STATUS[kind] == prob["status"], "status"
        assert prob["errors"], "a problem names at least one place"
        try:
            values = set(strings(json.loads(raw.decode("utf-8-sig"))))
        except (ValueError, UnicodeDecodeError):
            values = set()
        values |= {v for k, v in ctx.items() if isinstance(v, str) and k not in ("source",)}
        texts = [prob["detail"]] + [e["message"] for e in prob["errors"]]
        vocabulary = set(EVENTS.values())  # messages name the supported events on purpose
        for v in values - vocabulary:
            if len(v) >= 4 and v.strip():
                for t in texts:
                    assert v not in t, f"a message echoes a value: {v[:20]!r}"
        for e in prob["errors"]:
            assert e["pointer"] == "" or e["pointer"].startswith("/"), e


def main():
    cases_dir = os.path.join(HERE, "cases")
    failed = 0
    names = sorted(n for n in os.listdir(cases_dir) if n.endswith(".json"))
    for n in names:
        case = json.load(open(os.path.join(cases_dir, n)))
        try:
            check(n, case)
        except (AssertionError, KeyError) as e:
            failed += 1
            print(f"FAIL {n}: {e}")
    print(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
