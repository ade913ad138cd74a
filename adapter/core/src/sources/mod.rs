//! The formats tombstone accepts: the canonical request itself and one module per provider.
//!
//! Each source module owns everything about its source in one [`SourceSpec`] — its name, its
//! deletion event(s) with their JSON Schema and mapping, how it is detected, the status its
//! webhooks expect on success, and how a sender proves itself — and every list elsewhere (the
//! webhook routes, the variables, the command line's `--source`, the playground's menu) is derived
//! from [`Source::ALL`]. A new source is one module, its schema(s) and its conformance cases,
//! plus one line in [`Source::ALL`]; a new event of a source is one [`EventSpec`] in its module.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::json::{Field, Payload};

use crate::canonical::DeletionRequest;
use crate::context::{Context, CLINIC_POINTER};
use crate::conversion::Warning;
use crate::error::{FieldError, Problem, ProblemKind};
use crate::ids::EntityId;

pub mod canonical;
pub mod highlevel;
pub mod mercoa;
pub mod willsuite;

/// Everything about one source.
#[derive(Debug)]
pub struct SourceSpec {
    /// Lowercase name, as used in routes, flags, variables and derived keys.
    pub name: &'static str,
    /// The name people know it by.
    pub display_name: &'static str,
    /// The status its webhooks expect on success (what the provider documents).
    pub success_status: u16,
    /// How it treats a delivery that was not accepted: what it retries, and what to answer it
    /// when a delivery cannot be accepted right now.
    pub retry: RetryContract,
    /// How a sender proves itself.
    pub proof: Proof,
    /// Its deletion events; the first is the one a payload forced to this source is held to
    /// when it names no known event.
    pub events: &'static [EventSpec],
    /// Whether a payload is this source's, and which event it is.
    pub detect: fn(&dyn Payload) -> Detection,
    /// The JSON Pointers `detect` reads (the fast path keeps only what is read; see
    /// [`crate::fast`]).
    pub detected_by: &'static [&'static str],
}

/// Which answers a sender retries, as it documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Every answer that is not a 2xx (Svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    AnyFailure,
    /// Only these statuses; every other answer is final (HighLevel retries only 429).
    Only(&'static [u16]),
    /// The sender publishes no retry policy: assume the HTTP convention (a 409, 429 or 5xx
    /// with `Retry-After` is retried), and never count on it.
    Unpublished,
}

/// How a source treats failure: the statuses it retries, and the one tombstone answers when it
/// cannot accept a delivery right now (its store is down, another delivery of the same
/// deletion holds the claim, nothing durable could be written). A verdict on the payload
/// itself (400, 401, 413, 415, 422) is final for every source and never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryContract {
    /// What the sender retries.
    pub retried: Retried,
    /// The status of a transient refusal when the refusal's own status (409, 503) is one the
    /// sender would not retry. Always sent with `Retry-After`.
    pub not_now_status: u16,
}

impl RetryContract {
    /// Whether the sender retries an answer of this status.
    pub fn retries(&self, status: u16) -> bool {
        match self.retried {
            Retried::AnyFailure => !(200..300).contains(&status),
            Retried::Only(statuses) => statuses.contains(&status),
            Retried::Unpublished => matches!(status, 409 | 429 | 500..=599),
        }
    }

    /// The status to answer a transient refusal whose own status is `status` (409 `conflict`,
    /// 503 `unavailable`): itself when the sender retries it, else [`Self::not_now_status`].
    pub fn transient_status(&self, status: u16) -> u16 {
        if self.retries(status) {
            status
        } else {
            self.not_now_status
        }
    }
}

/// How a sender proves itself to the ingestion service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// An API key (`api_keys`): the canonical contract.
    ApiKey,
    /// A Standard Webhooks / Svix signature once the variable (`whsec_…` secrets) is set.
    StandardWebhooks {
        /// The variable holding the secrets.
        secret_variable: &'static str,
    },
    /// A Standard Webhooks signature, or HighLevel's own Ed25519 (`x-ghl-signature`) or legacy
    /// RSA (`x-wh-signature`) signature, each once its variable is set.
    HighLevel {
        /// The variable holding Standard Webhooks secrets.
        secret_variable: &'static str,
        /// The variable holding the Ed25519 public key.
        ed25519_variable: &'static str,
        /// The variable holding the RSA public key.
        rsa_variable: &'static str,
    },
}

/// One deletion event of a source.
#[derive(Debug)]
pub struct EventSpec {
    /// The event's name, as the provider sends it (and as it enters derived keys).
    pub name: &'static str,
    /// The JSON Schema its payloads are validated against.
    pub schema: SchemaSpec,
    /// Its mapping, run on a payload that passed the schema.
    pub map: fn(&dyn Payload, &Context) -> Result<Mapped, Problem>,
    /// Every JSON Pointer `map` reads, `*` standing for each index of an array; a pointer's
    /// value is kept whole. The fast path keeps only these (and `detected_by`) of a payload and
    /// runs `map` on what it kept: a pointer missing here makes the paths disagree, which the agreement
    /// tests catch.
    pub reads: &'static [&'static str],
}

/// A JSON Schema of `schemas/`, compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct SchemaSpec {
    /// Its name (`/schemas/<name>.json`).
    pub name: &'static str,
    /// Its text.
    pub text: &'static str,
    /// Its validator, generated at compile time.
    pub validate: fn(&Value) -> Vec<FieldError>,
    /// Its tables for the fast path, compiled at build time.
    pub compiled: crate::fast::Sub,
}

/// A source: a handle on its [`SourceSpec`].
#[derive(Clone, Copy)]
pub struct Source(&'static SourceSpec);

impl Source {
    /// Every source, in detection order: the one list a new source is added to.
    pub const ALL: &'static [Source] = &[
        Source(&mercoa::SOURCE),
        Source(&willsuite::SOURCE),
        Source(&highlevel::SOURCE),
        Source(&canonical::SOURCE),
    ];

    /// The canonical request (the target format itself).
    pub const CANONICAL: Source = Source(&canonical::SOURCE);

    /// The source called `name`.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Its spec.
    pub const fn spec(self) -> &'static SourceSpec {
        self.0
    }

    /// Lowercase name, as used in routes, flags and derived keys.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The name people know it by.
    pub fn display_name(self) -> &'static str {
        self.0.display_name
    }

    /// The status its webhooks expect on success.
    pub fn success_status(self) -> u16 {
        self.0.success_status
    }

    /// How it treats failure.
    pub fn retry(self) -> RetryContract {
        self.0.retry
    }

    /// How a sender proves itself.
    pub fn proof(self) -> Proof {
        self.0.proof
    }

    /// Its deletion events.
    pub fn events(self) -> &'static [EventSpec] {
        self.0.events
    }

    /// Whether it is a provider (every source but the canonical request).
    pub fn is_provider(self) -> bool {
        self != Source::CANONICAL
    }

    /// The event a payload is held to when forced to this source.
    pub(crate) fn event_for(
        self,
        payload: &dyn Payload,
    ) -> (&'static EventSpec, Option<FieldError>) {
        match (self.0.detect)(payload) {
            Detection::Deletion(event) => (event, None),
            Detection::OtherEvent(error) => (&self.0.events[0], Some(error)),
            Detection::NotThis => (&self.0.events[0], None),
        }
    }

    pub(crate) fn detect(self, payload: &dyn Payload) -> Detection {
        (self.0.detect)(payload)
    }
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        // Names are unique (a test checks).
        self.name() == other.name()
    }
}

impl Eq for Source {}

impl std::hash::Hash for Source {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({})", self.name())
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Every JSON Schema the sources are validated against, in source order.
pub fn schemas() -> impl Iterator<Item = &'static SchemaSpec> {
    Source::ALL
        .iter()
        .flat_map(|source| source.events().iter().map(|event| &event.schema))
}

/// A [`SchemaSpec`] for `schemas/<file>` and its compile-time validator type (declared beside
/// it with `#[jsonschema::validator(path = "../../schemas/<file>")]`).
macro_rules! schema {
    ($validator:ident, $name:literal, $file:literal) => {
        $crate::sources::SchemaSpec {
            name: $name,
            text: include_str!(concat!("../../../../schemas/", $file)),
            validate: |instance| $crate::schemas::collect($validator::iter_errors(instance)),
            compiled: $crate::fast::compiled($file),
        }
    };
}
pub(crate) use schema;

/// What a source makes of a payload's shape.
#[derive(Debug, Clone)]
pub enum Detection {
    /// One of this source's deletion events.
    Deletion(&'static EventSpec),
    /// This source's shape, but an event other than a deletion: never to be converted.
    OtherEvent(FieldError),
    /// Not this source.
    NotThis,
}

/// Detection for sources that name their event in one top-level string field (at `pointer`).
pub(crate) fn detect_by_event_field(
    payload: &dyn Payload,
    pointer: &'static str,
    events: &'static [EventSpec],
) -> Detection {
    match payload.str_at(pointer) {
        Some(name) => match events.iter().find(|e| e.name == name) {
            Some(event) => Detection::Deletion(event),
            None => Detection::OtherEvent(not_a_deletion(pointer, events)),
        },
        None => Detection::NotThis,
    }
}

/// The error of an event field (at `pointer`) that names no deletion event of `events`.
pub(crate) fn not_a_deletion(pointer: &'static str, events: &[EventSpec]) -> FieldError {
    FieldError::new(
        pointer,
        "const",
        format!(
            "names an event other than {}; only deletions are converted",
            or_list(events.iter().map(|e| e.name))
        ),
    )
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn or_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// What a source's mapping produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The canonical request.
    pub request: DeletionRequest,
    /// The id that, with the source and event, names this deletion (for derived keys); `None`
    /// for the canonical source, whose key must come from the delivery.
    pub event_id: Option<EntityId>,
    /// Inconsistencies that did not block the mapping.
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
pub(crate) fn optional_id(
    payload: &dyn Payload,
    pointer: &str,
) -> Result<Option<EntityId>, Problem> {
    match payload.at(pointer) {
        None | Some(Field::Null) => Ok(None),
        Some(Field::String(s)) => EntityId::new(s)
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
pub(crate) fn required_id(payload: &dyn Payload, pointer: &str) -> Result<EntityId, Problem> {
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
    payload: &dyn Payload,
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
    payload: &dyn Payload,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_has_a_unique_name_and_events_with_schemas() {
        let mut names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Source::ALL.len());
        for &source in Source::ALL {
            assert_eq!(Source::from_name(source.name()), Some(source));
            assert!(!source.events().is_empty(), "{}", source.name());
            for event in source.events() {
                let schema: Value = serde_json::from_str(event.schema.text).unwrap();
                assert_eq!(
                    schema["$id"],
                    format!("urn:tombstone:schema:{}", event.schema.name),
                    "{}",
                    event.name
                );
            }
        }
        let mut schema_names: Vec<&str> = schemas().map(|s| s.name).collect();
        schema_names.sort_unstable();
        schema_names.dedup();
        assert_eq!(
            schema_names.len(),
            schemas().count(),
            "schema names are unique"
        );
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(or_list(["a"].into_iter()), "a");
        assert_eq!(or_list(["a", "b"].into_iter()), "a or b");
        assert_eq!(or_list(["a", "b", "c"].into_iter()), "a, b or c");
    }
}
