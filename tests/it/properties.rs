//! Property tests over the whole conversion.

use proptest::prelude::*;
use serde_json::{json, Value};
use tombstone_core::{convert, Context, IdempotencyKey, OrganizationId, Source, Timestamp};

use crate::mutations::mutated_sample;

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
    "[^\\s]([^\\n]{0,253}[^\\s])?"
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

/// Every string value of a JSON document.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        Value::Object(o) => o.values().flat_map(strings).collect(),
        _ => vec![],
    }
}

proptest! {
    #[test]
    fn any_valid_canonical_request_converts_to_itself(body in canonical_request(), forced in any::<bool>()) {
        let bytes = serde_json::to_vec(&body).unwrap();
        let conversion = convert(&bytes, &ctx(forced.then_some(Source::CANONICAL))).unwrap();
        prop_assert_eq!(conversion.source, Source::CANONICAL);
        let out: Value = serde_json::from_str(&conversion.request.to_json()).unwrap();
        prop_assert_eq!(&out, &body);
        // And it is a fixed point.
        let again = convert(conversion.request.to_json().as_bytes(), &ctx(None)).unwrap();
        prop_assert_eq!(again.request, conversion.request);
    }

    /// Structure-aware: valid samples, mutated the way real payloads go wrong (a field gone,
    /// null, another type, blank, unknown fields, extra nesting), through the whole pipeline.
    #[test]
    fn mutated_samples_convert_consistently_or_fail_with_a_clean_problem(
        (sample, payload) in mutated_sample(),
        forced in proptest::option::of(proptest::sample::select(Source::ALL)),
    ) {
        let mut c = ctx(forced);
        c.clinic_id = Some(tombstone_core::EntityId::new("clinic-from-context").unwrap());
        let bytes = serde_json::to_vec(&payload).unwrap();
        match convert(&bytes, &c) {
            Ok(conversion) => {
                // A conversion is a valid canonical request that re-converts to itself.
                let body = conversion.request.to_json();
                prop_assert!(conversion.request.entries() >= 1, "{sample}");
                let again = convert(body.as_bytes(), &ctx(Some(Source::CANONICAL))).unwrap();
                prop_assert_eq!(&again.request, &conversion.request, "{}", sample);
                prop_assert_eq!(
                    conversion.task_id,
                    tombstone_core::TaskId::derive(&c.organization_id, &conversion.idempotency_key)
                );
            }
            Err(problem) => {
                prop_assert!(!problem.errors.is_empty(), "{sample}: {problem:?}");
                let json = problem.to_json();
                // The document says the kind's status and type.
                let doc: Value = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(&doc["status"], &json!(problem.kind.status()));
                prop_assert_eq!(
                    &doc["type"],
                    &json!(format!("urn:tombstone:problem:{}", problem.kind.slug()))
                );
                for e in &problem.errors {
                    prop_assert!(e.pointer.is_empty() || e.pointer.starts_with('/'), "{e:?}");
                }
                // Messages name places, never values (a value of 12+ characters is distinctive
                // enough not to appear in a message by chance; the supported events' names
                // appear in messages on purpose).
                let events: Vec<&str> = Source::ALL
                    .iter()
                    .flat_map(|s| s.events().iter().map(|e| e.name))
                    .collect();
                for value in strings(&payload) {
                    // Trimmed: the core trims ids, so an echo would be of the trimmed value.
                    let value = value.trim();
                    if value.chars().count() >= 12 && !events.contains(&value) {
                        prop_assert!(
                            !problem.detail.contains(value)
                                && problem.errors.iter().all(|e| !e.message.contains(value)),
                            "{sample}: a problem echoes {value:?}: {json}"
                        );
                    }
                }
            }
        }
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
