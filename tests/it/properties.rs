//! Property tests over the whole conversion.

use proptest::prelude::*;
use serde_json::{json, Value};
use tombstone_core::{convert, Context, IdempotencyKey, OrganizationId, Source, Timestamp};

fn ctx(source: Option<Source>) -> Context {
    let mut ctx = Context::new(
        OrganizationId::new("org_123").unwrap(),
        Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
    );
    ctx.idempotency_key = Some(IdempotencyKey::new("k-1").unwrap());
    ctx.source = source;
    ctx
}

/// Ids as the canonical form has them: no surrounding white space, 1–255 characters.
fn id() -> impl Strategy<Value = String> {
    "[^\\s]([^\\n]{0,20}[^\\s])?"
}

fn invoice() -> impl Strategy<Value = Value> {
    (id(), id(), proptest::option::of(id())).prop_map(|(i, c, cl)| match cl {
        Some(cl) => json!({"invoice_id": i, "clinic_id": c, "client_id": cl}),
        None => json!({"invoice_id": i, "clinic_id": c}),
    })
}

fn line() -> impl Strategy<Value = Value> {
    (id(), id(), id())
        .prop_map(|(l, i, c)| json!({"invoice_line_id": l, "invoice_id": i, "clinic_id": c}))
}

fn canonical_request() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(invoice(), 0..8),
        proptest::collection::vec(line(), 0..8),
    )
        .prop_filter("at least one entry", |(a, b)| {
            !a.is_empty() || !b.is_empty()
        })
        .prop_map(|(invoices, lines)| {
            let mut body = serde_json::Map::new();
            if !invoices.is_empty() {
                body.insert("invoices".into(), Value::Array(invoices));
            }
            if !lines.is_empty() {
                body.insert("invoice_lines".into(), Value::Array(lines));
            }
            Value::Object(body)
        })
}

proptest! {
    #[test]
    fn any_valid_canonical_request_converts_to_itself(body in canonical_request(), forced in any::<bool>()) {
        let bytes = serde_json::to_vec(&body).unwrap();
        let conversion = convert(&bytes, &ctx(forced.then_some(Source::Canonical))).unwrap();
        prop_assert_eq!(conversion.source, Source::Canonical);
        let out: Value = serde_json::from_str(&conversion.request.to_json()).unwrap();
        prop_assert_eq!(&out, &body);
        // And it is a fixed point.
        let again = convert(conversion.request.to_json().as_bytes(), &ctx(None)).unwrap();
        prop_assert_eq!(again.request, conversion.request);
    }

    #[test]
    fn convert_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = convert(&bytes, &ctx(None));
    }

    #[test]
    fn provider_ids_round_trip_into_the_canonical_body(invoice_id in id(), location in id()) {
        let payload = json!({"type": "InvoiceDelete", "_id": invoice_id, "locationId": location});
        let mut c = ctx(None);
        c.idempotency_key = None;
        let conversion = convert(&serde_json::to_vec(&payload).unwrap(), &c).unwrap();
        prop_assert_eq!(conversion.request.invoices[0].invoice_id.as_str(), invoice_id.as_str());
        prop_assert_eq!(conversion.request.invoices[0].clinic_id.as_str(), location.as_str());
        prop_assert_eq!(
            conversion.idempotency_key,
            IdempotencyKey::derive("highlevel", "InvoiceDelete", &invoice_id)
        );
    }
}
