//! The conversion pipeline, in order: size limit → nesting limit → JSON parse → detect (or
//! forced source) → entry limit → JSON Schema → mapping → canonical body limit → ids. Both
//! paths end here: the slow path with the whole parsed `Value`, the fast path ([`crate::fast`])
//! with what its pass kept.

use serde_json::Value;

use crate::context::{Context, IDEMPOTENCY_KEY_POINTER};
use crate::conversion::Conversion;
use crate::error::{FieldError, Problem, ProblemKind};
use crate::ids::{IdempotencyKey, TaskId};
use crate::json::{self, Payload};
use crate::limits::{MAX_CANONICAL_BODY_BYTES, MAX_DEPTH, MAX_ENTRIES, MAX_SOURCE_BODY_BYTES};
use crate::sources::fields::or_list;
use crate::sources::{self, Detection, EventSpec, Mapped, Source};

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

/// [`crate::convert`] without the fast path: the whole payload parsed into a `Value` and held to its
/// schema by the generated validators. Every answer of [`crate::convert`] is this function's (the
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
    let (source, event, own_other_event) = event_of(value, ctx)?;
    if source == Source::CANONICAL {
        check_canonical(payload, value, ctx)?;
    }
    check_event(source, own_other_event, value, validate(event), ctx)?;
    let mapped = (event.map)(value, ctx.clinic_id.as_ref())?;
    check_body(&mapped)?;
    conversion(source, event, mapped, ctx)
}

/// The source and event a payload is held to: the forced source's (with the error of its own
/// other event, if it names one), or the detected ones.
fn event_of(
    value: &dyn Payload,
    ctx: &Context,
) -> Result<(Source, &'static EventSpec, Option<FieldError>), Problem> {
    Ok(match ctx.source {
        Some(source) => {
            let (event, other_event) = source.event_for(value);
            (source, event, other_event)
        }
        None => {
            let (source, event) = detect_value(value)?;
            (source, event, None)
        }
    })
}

/// The canonical request's own limits, and its required key.
fn check_canonical(payload: &[u8], value: &dyn Payload, ctx: &Context) -> Result<(), Problem> {
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
    Ok(())
}

/// Every reason the payload is not a valid deletion of its event, at once: a forced source's own
/// non-deletion event first (in the words that name every deletion event it has), then the
/// schema's errors (`schema_errors`), then another provider's non-deletion event.
fn check_event(
    source: Source,
    own_other_event: Option<FieldError>,
    value: &dyn Payload,
    schema_errors: Vec<FieldError>,
    ctx: &Context,
) -> Result<(), Problem> {
    let mut errors: Vec<FieldError> = own_other_event.into_iter().collect();
    for error in schema_errors {
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
    if errors.is_empty() {
        return Ok(());
    }
    let detail = format!(
        "The payload is not a valid {} deletion ({} error{}).",
        source.name(),
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    Err(Problem::with_errors(
        ProblemKind::Validation,
        detail,
        errors,
    ))
}

/// The canonical body's limit, on what the mapping made; rendered only when it could be over
/// the limit (see [`MAX_ENTRY_JSON_BYTES`]).
fn check_body(mapped: &Mapped) -> Result<(), Problem> {
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
    Ok(())
}

/// The conversion of a mapped payload: its key (the delivery's, or derived from the source, the
/// event and the payload's id), its task id and its schedule.
fn conversion(
    source: Source,
    event: &'static EventSpec,
    mapped: Mapped,
    ctx: &Context,
) -> Result<Conversion, Problem> {
    let idempotency_key = match (&ctx.idempotency_key, &mapped.event_id) {
        (Some(key), _) => key.clone(),
        (None, Some(id)) => IdempotencyKey::derive(source.name(), event.name, id.as_str()),
        (None, None) => unreachable!("the canonical source requires a key (check_canonical)"),
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

/// The most bytes one entry of a canonical body renders to, with its comma: three ids of at most
/// 255 characters, each at most 6 bytes once escaped (`\u0001`), and the member names. A body
/// of `n` entries is at most `64 + n ×` this.
const MAX_ENTRY_JSON_BYTES: usize = 4_700;

/// The payload without a UTF-8 byte-order mark.
pub(crate) fn without_bom(payload: &[u8]) -> &[u8] {
    payload.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(payload)
}

pub(crate) fn parse(payload: &[u8]) -> Result<Value, Problem> {
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

pub(crate) fn detect_value(value: &dyn Payload) -> Result<(Source, &'static EventSpec), Problem> {
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
            let events = or_list(s.events().iter().map(|e| e.name));
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
    use crate::canonical::{DeletionRequest, InvoiceDeletion, InvoiceLineDeletion};
    use crate::ids::EntityId;

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
