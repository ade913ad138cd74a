#!/usr/bin/env python3
"""An independent oracle for the conformance table, written from the contract (docs/contract.md §1-§4) (not from the Rust code).

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

# The oracle's judgements are `assert` statements: under `python -O` (or PYTHONOPTIMIZE) they
# would vanish and every case would "pass".
if sys.flags.optimize:
    sys.exit("check_table.py judges with assert: run it without -O and without PYTHONOPTIMIZE")

HERE = os.path.dirname(os.path.abspath(__file__))
NAMESPACE = uuid.UUID("13e7f5ba-b182-57f9-be3d-c73b47ad3873")
# The deletion events each source sends (the first is the one a forced payload is held to).
EVENTS = {"mercoa": ["invoice.deleted"], "willsuite": ["case_invoice_item.deleted", "case_invoice.deleted"],
          "highlevel": ["InvoiceDelete"]}
STATUS = {"request-timeout": 408, "invalid-json": 400, "missing-header": 400, "invalid-header": 400, "unsupported-media-type": 415,
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
    if p.get("webhook_type") in EVENTS["willsuite"]:
        return "willsuite"
    if p.get("type") == "InvoiceDelete" or ("type" not in p and isinstance(p.get("_id"), str) and isinstance(p.get("altType"), str)):
        return "highlevel"
    if "invoices" in p or "invoice_lines" in p:
        return "canonical"
    return None


def pick(p, pointers, warnings):
    """The first usable id among `pointers` (RFC 6901, no escapes needed here). A blank candidate is
    ignored with a `blank-id-ignored` warning; a later candidate naming another id is an `id-mismatch`
    warning (docs/contract.md §3: inconsistencies that do not block the mapping are warnings)."""
    chosen = None
    for pointer in pointers:
        v = get(p, *pointer.split("/")[1:])
        if not isinstance(v, str):
            continue
        if not v.strip():
            warnings.append((pointer, "blank-id-ignored"))
        elif chosen is None:
            chosen = v.strip()
        elif v.strip() != chosen:
            warnings.append((pointer, "id-mismatch"))
    return chosen


def expected_body(source, p, clinic_ctx):
    """the contract's §3 (docs/contract.md) mapping table: (body, id the derived key hashes, [(pointer, warning code)])."""
    warnings = []
    if source == "mercoa":
        inv = p["invoice"]
        vendor_customer = get(inv, "vendor", "isCustomer") is True
        payer_customer = get(inv, "payer", "isCustomer") is True
        clinic_party, client_party = ("vendor", "payer") if vendor_customer and not payer_customer else ("payer", "vendor")
        clinic = pick(p, [f"/invoice/{clinic_party}Id", f"/invoice/{clinic_party}/id"], warnings) or clinic_ctx
        client = pick(p, [f"/invoice/{client_party}Id", f"/invoice/{client_party}/id"], warnings)
        entry = {"invoice_id": inv["id"].strip(), "clinic_id": clinic}
        if client:
            entry["client_id"] = client
        return {"invoices": [entry]}, inv["id"].strip(), warnings
    if source == "willsuite" and p.get("webhook_type") == "case_invoice.deleted":
        # A whole invoice: one invoices entry, no client; its items go with it (not as lines), and
        # an item naming another invoice is an id-mismatch warning.
        invoice_id = p["invoice_data"]["id"].strip()
        for i, item in enumerate(p["invoice_items_data"]):
            if str(item.get("case_invoice_id", "")).strip() != invoice_id:
                warnings.append((f"/invoice_items_data/{i}/case_invoice_id", "id-mismatch"))
        return {"invoices": [{"invoice_id": invoice_id, "clinic_id": clinic_ctx}]}, invoice_id, warnings
    if source == "willsuite":
        item = p["invoice_item_data"]
        invoice_data_id = get(p, "invoice_data", "id")
        if isinstance(invoice_data_id, str) and invoice_data_id.strip() and invoice_data_id.strip() != item["case_invoice_id"].strip():
            warnings.append(("/invoice_data/id", "id-mismatch"))
        return {"invoice_lines": [{"invoice_line_id": item["id"].strip(), "invoice_id": item["case_invoice_id"].strip(),
                                   "clinic_id": clinic_ctx}]}, item["id"].strip(), warnings
    if source == "highlevel":
        pointers = ["/locationId", "/altId"] if p.get("altType") == "location" else ["/locationId"]
        clinic = pick(p, pointers, warnings) or clinic_ctx
        entry = {"invoice_id": p["_id"].strip(), "clinic_id": clinic}
        client = pick(p, ["/contactDetails/id"], warnings)
        if client:
            entry["client_id"] = client
        return {"invoices": [entry]}, p["_id"].strip(), warnings
    body = {}
    for field in ("invoices", "invoice_lines"):
        items = [{k: v.strip() for k, v in item.items() if v is not None} for item in p.get(field, [])]
        if items:
            body[field] = items
    return body, None, warnings


def header_key(raw):
    """docs/contract.md §1: the Idempotency-Key bare or as an RFC 8941 sf-string (quotes and escapes are not part of
    the key); surrounding optional white space (SP / HTAB) is not part of a header value."""
    raw = raw.strip(" \t")
    if not raw.startswith('"'):
        return raw
    assert raw.endswith('"') and len(raw) >= 2, "quoted key"
    out, chars = [], iter(raw[1:-1])
    for ch in chars:
        out.append(next(chars) if ch == "\\" else ch)
    return "".join(out)


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
        body, event_id, warnings = expected_body(source, p, clinic_ctx)
        assert c["request"]["body"] == body, f"body {c['request']['body']} != {body}"
        got = [(w["pointer"], w["code"]) for w in c["warnings"]]
        assert got == warnings, f"warnings {got} != {warnings}"
        key = ctx.get("idempotency_key")
        if key is None:
            event = p.get("webhook_type") if source == "willsuite" else EVENTS[source][0]
            key = str(uuid.uuid5(NAMESPACE, f"{source}:{event}:{event_id}"))
        else:
            key = header_key(key)
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
        # The case file keeps the wire order (the contract (docs/contract.md §1 and §5)'s documents, field by field).
        assert list(c) == ["source", "request", "task_id", "scheduled_for", "received_at", "invoices_count",
                           "invoice_lines_count", "warnings"], f"conversion fields in order: {list(c)}"
        assert list(c["request"]) == ["method", "path", "headers", "body"], f"request fields: {list(c['request'])}"
        assert list(headers) == ["Idempotency-Key", "X-Organization-Id"], f"headers: {list(headers)}"
        assert list(c["request"]["body"]) == [k for k in ("invoices", "invoice_lines") if k in body], "body fields"
        for entry in c["request"]["body"].get("invoices", []):
            assert list(entry) == [k for k in ("invoice_id", "clinic_id", "client_id") if k in entry], entry
        for entry in c["request"]["body"].get("invoice_lines", []):
            assert list(entry) == ["invoice_line_id", "invoice_id", "clinic_id"], entry
        for w in c["warnings"]:
            assert list(w) == ["pointer", "code", "message"], w
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
        vocabulary = {e for events in EVENTS.values() for e in events}  # messages name the events on purpose
        for v in values - vocabulary:
            if len(v) >= 4 and v.strip():
                for t in texts:
                    assert v not in t, f"a message echoes a value: {v[:20]!r}"
        assert list(prob) == ["type", "title", "status", "detail", "errors"], f"problem fields in order: {list(prob)}"
        for e in prob["errors"]:
            assert list(e) == ["pointer", "keyword", "message"], e
            assert e["pointer"] == "" or e["pointer"].startswith("/"), e


def spec_vectors():
    """the contract's §2 (docs/contract.md) vectors, checked against this oracle's own hashing before it judges the table."""
    task = lambda org, key: hashlib.sha256(org.encode() + b"\0" + key.encode()).hexdigest()
    assert task("org_123", "5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59") == "af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60"
    assert task("acme-vet", "a") == "213a2970896a520fbdc8baef026abc1c51866ccac85b7599cae454f89bc4748a"
    for name, key in [("mercoa:invoice.deleted:in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9", "b1ba9d54-65e6-5911-b649-a53c18671e8f"),
                      ("willsuite:case_invoice_item.deleted:05a4a551-4333-4927-9406-a7381c3ed957", "e438475c-d3a4-577b-a2fa-65ca043d2dc1"),
                      ("highlevel:InvoiceDelete:6578278e879ad2646715ba9c", "1a6f642d-893c-5e2b-b138-8ad6b135547b"),
                      # issue 13: WillSuite's whole-invoice deletion
                      ("willsuite:case_invoice.deleted:510634bd-da51-448b-b06a-ab998e10670c", "b88a798e-f906-55a1-962e-66b1741a25a1")]:
        assert str(uuid.uuid5(NAMESPACE, name)) == key, name
    assert header_key('"abc"') == header_key("abc") == header_key(" abc\t") == "abc"
    assert header_key('"a\\"b"') == 'a"b'


def main():
    spec_vectors()
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
