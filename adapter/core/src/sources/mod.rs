//! The formats tombstone accepts: the canonical request itself and one module per provider.
//!
//! Every source module has the same shape — `NAME`, `EVENT`, `SCHEMA`, `detect` and `map` — so a
//! fourth provider is one copied file, one schema, and one line in each `match` below.

use serde::Serialize;
use serde_json::Value;

use crate::canonical::DeletionRequest;
use crate::context::{Context, CLINIC_POINTER};
use crate::conversion::Warning;
use crate::error::{FieldError, Problem, ProblemKind};
use crate::ids::EntityId;

pub mod canonical;
pub mod highlevel;
pub mod mercoa;
pub mod willsuite;

/// Where a payload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Already a canonical deletion request.
    Canonical,
    /// Mercoa `invoice.deleted`.
    Mercoa,
    /// WillSuite `case_invoice_item.deleted`.
    WillSuite,
    /// HighLevel `InvoiceDelete` webhook or `DELETE /invoices/{id}` response.
    HighLevel,
}

impl Source {
    /// Every source, in detection order.
    pub const ALL: [Source; 4] = [
        Source::Mercoa,
        Source::WillSuite,
        Source::HighLevel,
        Source::Canonical,
    ];

    /// Lowercase name, as used in routes, flags and derived keys.
    pub fn name(self) -> &'static str {
        match self {
            Source::Canonical => canonical::NAME,
            Source::Mercoa => mercoa::NAME,
            Source::WillSuite => willsuite::NAME,
            Source::HighLevel => highlevel::NAME,
        }
    }

    /// The source called `name`.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Name of the JSON Schema this source's payloads are validated against.
    pub fn schema(self) -> &'static str {
        match self {
            Source::Canonical => canonical::SCHEMA,
            Source::Mercoa => mercoa::SCHEMA,
            Source::WillSuite => willsuite::SCHEMA,
            Source::HighLevel => highlevel::SCHEMA,
        }
    }

    /// The deletion event's name, used in derived idempotency keys.
    pub fn event(self) -> &'static str {
        match self {
            Source::Canonical => canonical::EVENT,
            Source::Mercoa => mercoa::EVENT,
            Source::WillSuite => willsuite::EVENT,
            Source::HighLevel => highlevel::EVENT,
        }
    }

    pub(crate) fn detect(self, payload: &Value) -> Detection {
        match self {
            Source::Canonical => canonical::detect(payload),
            Source::Mercoa => mercoa::detect(payload),
            Source::WillSuite => willsuite::detect(payload),
            Source::HighLevel => highlevel::detect(payload),
        }
    }

    pub(crate) fn map(self, payload: &Value, ctx: &Context) -> Result<Mapped, Problem> {
        match self {
            Source::Canonical => canonical::map(payload, ctx),
            Source::Mercoa => mercoa::map(payload, ctx),
            Source::WillSuite => willsuite::map(payload, ctx),
            Source::HighLevel => highlevel::map(payload, ctx),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// What a source makes of a payload's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detection {
    /// This source's deletion event.
    Deletion,
    /// This source's shape, but an event other than deletion: never to be converted.
    OtherEvent(FieldError),
    /// Not this source.
    NotThis,
}

/// Detection for sources that name their event in one top-level string field.
pub(crate) fn detect_by_event_field(payload: &Value, field: &str, event: &str) -> Detection {
    match payload.get(field).and_then(Value::as_str) {
        Some(e) if e == event => Detection::Deletion,
        Some(_) => Detection::OtherEvent(not_a_deletion(field, event)),
        None => Detection::NotThis,
    }
}

pub(crate) fn not_a_deletion(field: &str, event: &str) -> FieldError {
    FieldError::new(
        format!("/{field}"),
        "const",
        format!("names an event other than {event}; only deletions are converted"),
    )
}

/// What a source's mapping produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub request: DeletionRequest,
    /// The id that, with the source and event, names this deletion (for derived keys); `None`
    /// for the canonical source, whose key must come from the delivery.
    pub event_id: Option<EntityId>,
    pub warnings: Vec<Warning>,
}

fn id_problem(pointer: &str, error: crate::ids::IdError) -> Problem {
    Problem::at(
        ProblemKind::Validation,
        "An id the mapping reads is not usable.",
        pointer,
        error.keyword(),
        format!("id {error} after trimming"),
    )
}

/// The id at `pointer`: `None` when absent or null; an error when it is not a usable id.
pub(crate) fn optional_id(payload: &Value, pointer: &str) -> Result<Option<EntityId>, Problem> {
    match payload.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => EntityId::new(s)
            .map(Some)
            .map_err(|e| id_problem(pointer, e)),
        // The schemas type every field the mappings read; this is a defensive answer.
        Some(_) => Err(Problem::at(
            ProblemKind::Validation,
            "An id the mapping reads is not a string.",
            pointer,
            "type",
            "must be a string",
        )),
    }
}

/// The id at `pointer`, which must be there.
pub(crate) fn required_id(payload: &Value, pointer: &str) -> Result<EntityId, Problem> {
    optional_id(payload, pointer)?.ok_or_else(|| {
        Problem::at(
            ProblemKind::Unmappable,
            "A required id is missing.",
            pointer,
            "required",
            "required id is missing",
        )
    })
}

/// The first usable id among `pointers` (blank ones are skipped with a warning); a warning for
/// each later candidate that names a different id.
pub(crate) fn first_id(
    payload: &Value,
    pointers: &[&str],
    warnings: &mut Vec<Warning>,
) -> Result<Option<EntityId>, Problem> {
    let mut found: Option<(EntityId, &str)> = None;
    for &pointer in pointers {
        let candidate = match optional_id(payload, pointer) {
            Ok(candidate) => candidate,
            Err(problem)
                if problem
                    .errors
                    .first()
                    .is_some_and(|e| e.keyword == "minLength") =>
            {
                warnings.push(Warning::new(
                    pointer,
                    "blank-id-ignored",
                    "is blank and was ignored",
                ));
                None
            }
            Err(problem) => return Err(problem),
        };
        match (&found, candidate) {
            (None, Some(id)) => found = Some((id, pointer)),
            (Some((first, used)), Some(other)) if *first != other => warnings.push(Warning::new(
                pointer,
                "id-mismatch",
                format!("differs from {used}, which was used"),
            )),
            _ => {}
        }
    }
    Ok(found.map(|(id, _)| id))
}

/// The clinic: the first usable id among `pointers`, else the context's clinic, else an
/// `unmappable` problem naming every place tried.
pub(crate) fn clinic_id(
    payload: &Value,
    pointers: &[&str],
    ctx: &Context,
    warnings: &mut Vec<Warning>,
) -> Result<EntityId, Problem> {
    if let Some(id) = first_id(payload, pointers, warnings)? {
        return Ok(id);
    }
    if let Some(id) = &ctx.clinic_id {
        return Ok(id.clone());
    }
    let mut errors: Vec<FieldError> = pointers
        .iter()
        .map(|p| FieldError::new(*p, "required", "no clinic id here"))
        .collect();
    errors.push(FieldError::new(
        CLINIC_POINTER,
        "required",
        "no clinic_id in the delivery context",
    ));
    Err(Problem::with_errors(
        ProblemKind::Unmappable,
        "No clinic id: the payload names none and the delivery context has no clinic_id.",
        errors,
    ))
}
