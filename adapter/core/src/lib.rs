//! # tombstone-core
//!
//! Turns an "invoice deleted" webhook from Mercoa, WillSuite or HighLevel — or a canonical
//! request — into the one canonical deletion request (`POST /api/v1/invoice-deletions`), with
//! its deterministic idempotency key and task id.
//!
//! This crate does no I/O, reads no clock, no environment and no randomness: the caller passes
//! the payload bytes and a [`Context`] (organization, optional clinic and key, `received_at`).
//! Every runtime — the CLI, the WebAssembly plugin, the Spin app, the browser — wraps it.
//!
//! ```
//! use tombstone_core::{convert, Context, OrganizationId, Timestamp};
//!
//! let payload = br#"{"type":"InvoiceDelete","_id":"inv_1","locationId":"loc_1","altType":"location"}"#;
//! let ctx = Context::new(
//!     OrganizationId::new("acme-vet").unwrap(),
//!     Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
//! );
//! let conversion = convert(payload, &ctx).unwrap();
//! assert_eq!(conversion.request.invoices[0].clinic_id.as_str(), "loc_1");
//! assert_eq!(conversion.task_id.as_str().len(), 64);
//! ```
//!
//! The pipeline, in order: size limit → nesting limit → JSON parse → detect (or forced source)
//! → entry limit → JSON Schema → mapping → canonical body limit → ids.

pub mod canonical;
pub mod context;
pub mod conversion;
pub mod error;
pub mod fast;
pub mod idempotency;
pub mod ids;
pub mod json;
pub mod limits;
#[cfg(all(target_arch = "wasm32", getrandom_backend = "custom"))]
mod no_randomness;
mod pipeline;
pub mod raw_context;
mod schema_errors;
pub mod schemas;
pub mod signature;
pub mod sources;
pub mod time;
pub mod warning;
mod write;

pub use canonical::{
    DeletionRequest, DeletionResponse, DeletionStatus, InvoiceDeletion, InvoiceLineDeletion,
};
pub use context::Context;
pub use conversion::Conversion;
pub use error::{FieldError, Problem, ProblemKind};
pub use ids::{EntityId, IdError, IdempotencyKey, OrganizationId, TaskId};
pub use pipeline::{convert_slow, too_large};
pub use raw_context::RawContext;
pub use sources::Source;
pub use time::Timestamp;
pub use warning::Warning;

pub use sources::EventSpec;

use pipeline::{detect_value, parse};

/// The source a payload looks like, or `None` when it is not JSON, is none of the known formats,
/// or names a non-deletion event.
pub fn detect(payload: &[u8]) -> Option<Source> {
    detect_event(payload).map(|(source, _)| source)
}

/// The source and the deletion event a payload looks like (the event names the schema it is
/// validated against), or `None` as for [`detect`].
///
/// It walks the payload once without checking it, keeping only what detection reads
/// ([`fast::detect`]); what that walk cannot read is parsed whole ([`detect_event_slow`]).
pub fn detect_event(payload: &[u8]) -> Option<(Source, &'static EventSpec)> {
    fast::detect(payload).unwrap_or_else(|| detect_event_slow(payload))
}

/// [`detect_event`] on the whole parsed `Value`: what it answers, always (the agreement tests
/// check it).
#[doc(hidden)]
pub fn detect_event_slow(payload: &[u8]) -> Option<(Source, &'static EventSpec)> {
    let value = parse(payload).ok()?;
    detect_value(&value).ok()
}

/// Converts one delivery.
///
/// A valid delivery takes the fast path ([`fast`]): one streaming pass, no `Value` tree. Any
/// other payload — and any the fast path does not check exactly — takes [`convert_slow`], which
/// says what is wrong. Both give the same answer, byte for byte.
pub fn convert(payload: &[u8], ctx: &Context) -> Result<Conversion, Problem> {
    match fast::convert(payload, ctx) {
        Some(conversion) => Ok(conversion),
        None => convert_slow(payload, ctx),
    }
}

/// One delivery's whole answer, as the exact JSON text every runtime prints and the conformance
/// table expects: `{"conversion": …}` or `{"problem": …}`. The context is parsed first, so a bad
/// context is a problem like a bad payload.
pub fn convert_to_json(payload: &[u8], context: &RawContext) -> String {
    match context.parse().and_then(|ctx| convert(payload, &ctx)) {
        Ok(conversion) => format!("{{\"conversion\":{}}}", conversion.to_json()),
        Err(problem) => format!("{{\"problem\":{}}}", problem.to_json()),
    }
}

/// The name of the JSON Schema a payload is held to: its detected event's, or, with a forced
/// source, that source's event it names (its first event when it names none). `None` when the
/// payload is not JSON or, detected, is none of the known formats.
pub fn schema_for(payload: &[u8], source: Option<Source>) -> Option<&'static str> {
    let value = parse(payload).ok()?;
    let event = match source {
        Some(source) => source.event_for(&value).0,
        None => detect_value(&value).ok()?.1,
    };
    Some(event.schema.name)
}

/// The task id of an organization and a raw `Idempotency-Key` header value.
pub fn task_id(organization_id: &str, idempotency_key: &str) -> Result<TaskId, Problem> {
    let ctx = RawContext {
        organization_id: Some(organization_id.to_owned()),
        idempotency_key: Some(idempotency_key.to_owned()),
        received_at: Some("1970-01-01T00:00:00Z".to_owned()),
        ..RawContext::default()
    }
    .parse()?;
    let key = ctx.idempotency_key.expect("parsed from Some");
    Ok(TaskId::derive(&ctx.organization_id, &key))
}

/// The text of the JSON Schema called `name` ([`schemas::names`]).
pub fn schema(name: &str) -> Option<&'static str> {
    schemas::text(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_written_as_serde_json_writes_them() {
        let odd = EntityId::new("in_\"quoted\"\\back\u{1}\n\u{7f}é").unwrap();
        let plain = EntityId::new("in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9").unwrap();
        let invoice = |client_id: Option<EntityId>| InvoiceDeletion {
            invoice_id: odd.clone(),
            clinic_id: plain.clone(),
            client_id,
        };
        let line = InvoiceLineDeletion {
            invoice_line_id: plain.clone(),
            invoice_id: odd.clone(),
            clinic_id: plain.clone(),
        };
        let requests = [
            DeletionRequest::default(),
            DeletionRequest {
                invoices: vec![invoice(None), invoice(Some(plain.clone()))],
                invoice_lines: vec![],
            },
            DeletionRequest {
                invoices: vec![],
                invoice_lines: vec![line.clone(), line.clone()],
            },
            DeletionRequest {
                invoices: vec![invoice(Some(odd.clone()))],
                invoice_lines: vec![line],
            },
        ];
        let organization_id = OrganizationId::new("acme\"vet\\").unwrap();
        let idempotency_key = IdempotencyKey::parse_header("k\\1").unwrap();
        for (i, request) in requests.into_iter().enumerate() {
            let conversion = Conversion {
                source: Source::ALL[i % Source::ALL.len()],
                task_id: TaskId::derive(&organization_id, &idempotency_key),
                organization_id: organization_id.clone(),
                idempotency_key: idempotency_key.clone(),
                received_at: Timestamp::from_unix(1_767_225_600, 250_000_000, 3).unwrap(),
                scheduled_for: Timestamp::from_unix(1_767_225_600 + 86_400, 0, 0).unwrap(),
                warnings: (0..i)
                    .map(|n| Warning::new(format!("/a~1b/{n}"), "id-mismatch", "\"x\"\t"))
                    .collect(),
                request,
            };
            assert_eq!(
                conversion.request.to_json(),
                serde_json::to_string(&conversion.request).unwrap()
            );
            assert_eq!(conversion.to_json(), conversion.to_json_by_serde());
            let (body, json) = conversion.body_and_json();
            assert_eq!(body, serde_json::to_string(&conversion.request).unwrap());
            assert_eq!(json, conversion.to_json_by_serde());
        }
    }
}
