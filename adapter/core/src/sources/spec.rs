//! What a source is: the types every source module fills in ([`SourceSpec`], [`EventSpec`],
//! [`SchemaSpec`]), the handle the rest of the crate passes around ([`Source`]) and what a source
//! makes of a payload ([`Detection`], [`Mapped`]). It imports no source and nothing that uses
//! one: the list of sources is `sources/mod.rs`'s.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::canonical::DeletionRequest;
use crate::error::{FieldError, Problem};
use crate::fast::tables::CompiledSchema;
use crate::ids::EntityId;
use crate::json::Payload;
use crate::warning::Warning;

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
    /// Its mapping, run on a payload that passed the schema, with the delivery context's clinic
    /// (for a payload that names none): all a mapping may know besides the payload.
    pub map: fn(&dyn Payload, Option<&EntityId>) -> Result<Mapped, Problem>,
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
    pub compiled: CompiledSchema,
}

/// A source: a handle on its [`SourceSpec`].
#[derive(Clone, Copy)]
pub struct Source(pub(crate) &'static SourceSpec);

impl Source {
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

/// A [`SchemaSpec`] for `schemas/<file>` and its compile-time validator type (declared beside
/// it with `#[jsonschema::validator(path = "../../schemas/<file>")]`).
macro_rules! schema {
    ($validator:ident, $name:literal, $file:literal) => {
        $crate::sources::spec::SchemaSpec {
            name: $name,
            text: include_str!(concat!("../../../../schemas/", $file)),
            validate: |instance| $crate::schema_errors::collect($validator::iter_errors(instance)),
            compiled: $crate::fast::tables::compiled($file),
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
