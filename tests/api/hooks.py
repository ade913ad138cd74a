"""Schemathesis hooks of run.sh (loaded with SCHEMATHESIS_HOOKS=hooks).

- A check: a request the document says is valid may be refused with 422 only for the contract's (docs/contract.md)
  rules that no JSON Schema expresses (blank ids, a schedule past year 9999, a reused key),
  never by the schema validator itself: that would mean the document and the validator
  disagree.
- In the `signed` configuration (TOMBSTONE_WEBHOOK_SECRET set), a hook signs every request to
  a webhook route the way Standard Webhooks senders do (Mercoa and WillSuite through Svix,
  HighLevel too), so that the signature checks pass and every generated payload reaches
  validation and conversion. The signature covers the exact bytes sent: Schemathesis hands a
  JSON body to `requests` as `json=`, which sends `json.dumps(body, allow_nan=False)` encoded
  as UTF-8; the same call here gives the same bytes.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import schemathesis

SECRET = os.environ.get("TOMBSTONE_WEBHOOK_SECRET")
KEY = base64.b64decode(SECRET.removeprefix("whsec_")) if SECRET else None

# How the core words the problem of a payload its JSON Schema rejects (adapter/core/src/lib.rs).
SCHEMA_REJECTION = "The payload is not a valid "
# The routes that take any source's payload: the document admits any object there, and the
# schema that applies is the detected (or forced) source's.
ANY_SOURCE = ("/api/v1/convert", "/api/v1/webhooks/auto/{organization_id}")


@schemathesis.check
def schema_valid_payload_passes_the_validator(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    if case.operation.path in ANY_SOURCE:
        return None
    try:
        problem = response.json()
    except ValueError:
        return None
    if problem.get("type") == "urn:tombstone:problem:validation" and problem.get(
        "detail", ""
    ).startswith(SCHEMA_REJECTION):
        raise AssertionError(
            "A payload the document admits was refused by the schema validator: "
            + json.dumps(problem.get("errors"))
        )
    return None


def body_bytes(case):
    body = case.body
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if body is None:
        return b"null"
    try:
        return json.dumps(body, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        return None


@schemathesis.hook
def before_call(context, case, kwargs):
    if KEY is None or not case.operation.path.startswith("/api/v1/webhooks/"):
        return
    if not (case.media_type or "").startswith("application/json"):
        return
    body = body_bytes(case)
    if body is None:
        return
    webhook_id = f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(time.time()))
    mac = hmac.new(KEY, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    if case.headers is None:
        case.headers = {}
    case.headers["webhook-id"] = webhook_id
    case.headers["webhook-timestamp"] = timestamp
    case.headers["webhook-signature"] = "v1," + base64.b64encode(mac).decode()
