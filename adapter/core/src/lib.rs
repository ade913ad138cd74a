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
pub mod schemas;
pub mod signature;
pub mod sources;
pub mod time;
mod write;

use serde_json::Value;

use json::Payload;

pub use canonical::{
    DeletionRequest, DeletionResponse, DeletionStatus, InvoiceDeletion, InvoiceLineDeletion,
};
pub use context::{Context, RawContext};
pub use conversion::{Conversion, Warning};
pub use error::{FieldError, Problem, ProblemKind};
pub use ids::{EntityId, IdError, IdempotencyKey, OrganizationId, TaskId};
pub use sources::Source;
pub use time::Timestamp;

use context::IDEMPOTENCY_KEY_POINTER;
use limits::{MAX_CANONICAL_BODY_BYTES, MAX_DEPTH, MAX_ENTRIES, MAX_SOURCE_BODY_BYTES};
use sources::Detection;
pub use sources::EventSpec;

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

/// The size limits, checked before anything is parsed.
pub(crate) fn check_size(payload: &[u8], ctx: &Context) -> Result<(), Problem> {
    if payload.len() > MAX_SOURCE_BODY_BYTES {
        return Err(too_large(
            payload.len(),
            MAX_SOURCE_BODY_BYTES,
            "webhook body",
        ));
    }
    if ctx.source == Some(Source::CANONICAL) && payload.len() > MAX_CANONICAL_BODY_BYTES {
        return Err(too_large(
            payload.len(),
            MAX_CANONICAL_BODY_BYTES,
            "canonical body",
        ));
    }
    Ok(())
}

/// [`convert`] without the fast path: the whole payload parsed into a `Value` and held to its
/// schema by the generated validators. Every answer of [`convert`] is this function's (the
/// agreement tests check it); it is public for them and for benchmarks.
pub fn convert_slow(payload: &[u8], ctx: &Context) -> Result<Conversion, Problem> {
    check_size(payload, ctx)?;
    let value = parse(payload)?;
    convert_value(
        payload,
        &value,
        |event| (event.schema.validate)(&value),
        ctx,
    )
}

/// The pipeline after parsing: `value` is the payload, whole (the slow path) or as the fast
/// path kept it, and `validate` holds it to an event's schema.
pub(crate) fn convert_value(
    payload: &[u8],
    value: &dyn Payload,
    validate: impl Fn(&EventSpec) -> Vec<FieldError>,
    ctx: &Context,
) -> Result<Conversion, Problem> {
    let (source, event, own_other_event) = match ctx.source {
        Some(source) => {
            let (event, other_event) = source.event_for(value);
            (source, event, other_event)
        }
        None => {
            let (source, event) = detect_value(value)?;
            (source, event, None)
        }
    };

    // A forced source's own non-deletion event is said first, in the words that name every
    // deletion event it has.
    let mut errors: Vec<FieldError> = own_other_event.into_iter().collect();
    if source == Source::CANONICAL {
        if payload.len() > MAX_CANONICAL_BODY_BYTES {
            return Err(too_large(
                payload.len(),
                MAX_CANONICAL_BODY_BYTES,
                "canonical body",
            ));
        }
        let entries = sources::canonical::entries(value);
        if entries > MAX_ENTRIES {
            return Err(too_many_entries(entries));
        }
        if ctx.idempotency_key.is_none() {
            return Err(Problem::at(
                ProblemKind::MissingHeader,
                "A canonical request needs an Idempotency-Key header.",
                IDEMPOTENCY_KEY_POINTER,
                "required",
                "Idempotency-Key is required",
            ));
        }
    }
    for error in validate(event) {
        if !errors.iter().any(|e| e.pointer == error.pointer) {
            errors.push(error);
        }
    }
    // A forced source still never turns another provider's non-deletion event into a deletion.
    // (A detected one cannot meet one: `detect_value` refuses a payload that any source calls
    // another event.)
    let others = if ctx.source.is_some() {
        Source::ALL
    } else {
        &[]
    };
    for other in others.iter().filter(|s| **s != source) {
        if let Detection::OtherEvent(error) = other.detect(value) {
            if !errors.iter().any(|e| e.pointer == error.pointer) {
                errors.push(error);
            }
        }
    }
    if !errors.is_empty() {
        let detail = format!(
            "The payload is not a valid {} deletion ({} error{}).",
            source.name(),
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        return Err(Problem::with_errors(
            ProblemKind::Validation,
            detail,
            errors,
        ));
    }

    let mapped = (event.map)(value, ctx)?;
    // Rendered only when it could be over the limit (see MAX_ENTRY_JSON_BYTES).
    if 64 + mapped.request.entries() * MAX_ENTRY_JSON_BYTES > MAX_CANONICAL_BODY_BYTES {
        let body_len = mapped.request.to_json().len();
        if body_len > MAX_CANONICAL_BODY_BYTES {
            return Err(too_large(
                body_len,
                MAX_CANONICAL_BODY_BYTES,
                "canonical body",
            ));
        }
    }
    let idempotency_key = match (&ctx.idempotency_key, &mapped.event_id) {
        (Some(key), _) => key.clone(),
        (None, Some(id)) => IdempotencyKey::derive(source.name(), event.name, id.as_str()),
        (None, None) => unreachable!("the canonical source requires a key above"),
    };
    let scheduled_for = ctx
        .received_at
        .plus_seconds(ctx.delay_seconds)
        .ok_or_else(|| {
            Problem::at(
                ProblemKind::Validation,
                "The schedule is out of range.",
                "/context/delay_seconds",
                "maximum",
                "received_at plus delay_seconds is past year 9999",
            )
        })?;
    Ok(Conversion {
        source,
        task_id: TaskId::derive(&ctx.organization_id, &idempotency_key),
        organization_id: ctx.organization_id.clone(),
        idempotency_key,
        received_at: ctx.received_at,
        scheduled_for,
        request: mapped.request,
        warnings: mapped.warnings,
    })
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

/// The most bytes one entry of a canonical body renders to, with its comma: three ids of at most
/// 255 characters, each at most 6 bytes once escaped (`\u0001`), and the member names. A body
/// of `n` entries is at most `64 + n ×` this.
const MAX_ENTRY_JSON_BYTES: usize = 4_700;

/// The payload without a UTF-8 byte-order mark.
pub(crate) fn without_bom(payload: &[u8]) -> &[u8] {
    payload.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(payload)
}

fn parse(payload: &[u8]) -> Result<Value, Problem> {
    let payload = without_bom(payload);
    let depth = json::nesting_depth(payload, MAX_DEPTH);
    if depth > MAX_DEPTH {
        // Every contract limit (size, entries, nesting) is answered alike: 413.
        return Err(Problem::at(
            ProblemKind::PayloadTooLarge,
            format!("The payload nests deeper than {MAX_DEPTH} levels."),
            "",
            "maxDepth",
            format!("nesting must be at most {MAX_DEPTH} levels deep"),
        ));
    }
    serde_json::from_slice(payload).map_err(|e| {
        // serde_json's syntax messages name positions, never values.
        Problem::at(
            ProblemKind::InvalidJson,
            "The body is not valid JSON.",
            "",
            "json",
            e.to_string(),
        )
    })
}

fn detect_value(value: &dyn Payload) -> Result<(Source, &'static EventSpec), Problem> {
    let mut other_events = Vec::new();
    let mut found = None;
    for &source in Source::ALL {
        match source.detect(value) {
            Detection::Deletion(event) => {
                found.get_or_insert((source, event));
            }
            Detection::OtherEvent(error) => other_events.push(error),
            Detection::NotThis => {}
        }
    }
    if !other_events.is_empty() {
        return Err(Problem::with_errors(
            ProblemKind::UnknownFormat,
            "The payload is a provider event other than an invoice deletion; it is not converted.",
            other_events,
        ));
    }
    found.ok_or_else(|| {
        Problem::at(
            ProblemKind::UnknownFormat,
            "The payload is none of the known formats.",
            "",
            "format",
            known_formats(),
        )
    })
}

/// "expected a Mercoa invoice.deleted, …, or a canonical request …", from the sources.
fn known_formats() -> String {
    let providers: Vec<String> = Source::ALL
        .iter()
        .filter(|s| s.is_provider())
        .map(|s| {
            let events = sources::or_list(s.events().iter().map(|e| e.name));
            format!("a {} {events}", s.display_name())
        })
        .collect();
    format!(
        "expected {} payload, or a canonical request with invoices or invoice_lines",
        providers.join(", ")
    )
}

/// The `payload-too-large` problem of a body of `len` bytes over `limit` (`what` names it).
pub fn too_large(len: usize, limit: usize, what: &str) -> Problem {
    Problem::at(
        ProblemKind::PayloadTooLarge,
        format!("The {what} is {len} bytes; the limit is {limit} bytes."),
        "",
        "maxLength",
        format!("{what} must be at most {limit} bytes"),
    )
}

fn too_many_entries(entries: usize) -> Problem {
    Problem::at(
        ProblemKind::PayloadTooLarge,
        format!("The request has {entries} entries; the limit is {MAX_ENTRIES}."),
        "",
        "maxItems",
        format!("invoices and invoice_lines together must hold at most {MAX_ENTRIES} entries"),
    )
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

    #[test]
    fn an_entry_renders_within_its_bound() {
        let worst = EntityId::new(&"\u{1}".repeat(EntityId::MAX_LEN)).unwrap();
        let request = DeletionRequest {
            invoices: vec![
                InvoiceDeletion {
                    invoice_id: worst.clone(),
                    clinic_id: worst.clone(),
                    client_id: Some(worst.clone()),
                };
                2
            ],
            invoice_lines: vec![
                InvoiceLineDeletion {
                    invoice_line_id: worst.clone(),
                    invoice_id: worst.clone(),
                    clinic_id: worst,
                };
                2
            ],
        };
        assert!(request.to_json().len() <= 64 + request.entries() * MAX_ENTRY_JSON_BYTES);
        // And the bound is tight enough to mean something.
        assert!(request.to_json().len() > request.entries() * (MAX_ENTRY_JSON_BYTES - 100));
    }
}
