//! The delivery context as it arrives: strings from headers, paths, flags or JSON
//! ([`RawContext`]), and their parsing into a [`Context`], which reports every bad value at once,
//! each with a pointer (`/header/X-Organization-Id`, `/header/Idempotency-Key`,
//! `/context/<field>`).

use serde::Deserialize;

use crate::context::{Context, CLINIC_POINTER, IDEMPOTENCY_KEY_POINTER, ORGANIZATION_POINTER};
use crate::error::{FieldError, Problem, ProblemKind};
use crate::ids::{EntityId, IdError, IdempotencyKey, OrganizationId};
use crate::limits::MAX_DELAY_SECONDS;
use crate::sources::Source;
use crate::time::Timestamp;

/// An unchecked delivery context, as strings (the JSON form used by the conformance table, the
/// WIT plugin and the browser).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContext {
    /// `X-Organization-Id` (or the organization in a webhook route).
    pub organization_id: Option<String>,
    /// Clinic to use when the payload names none.
    #[serde(default)]
    pub clinic_id: Option<String>,
    /// The delivery's `Idempotency-Key` header, bare or RFC 8941-quoted.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// `auto` (or absent) to detect; otherwise a source name.
    #[serde(default)]
    pub source: Option<String>,
    /// RFC 3339 time the delivery was received.
    pub received_at: Option<String>,
    /// Schedule delay in seconds (default 0).
    #[serde(default)]
    pub delay_seconds: Option<u64>,
}

fn id_error(pointer: &str, what: &str, error: IdError) -> FieldError {
    FieldError::new(pointer, error.keyword(), format!("{what} {error}"))
}

/// What parsing found wrong, by kind: every value is checked, and all of it is reported together.
#[derive(Default)]
struct Found {
    /// Required headers that are absent.
    missing: Vec<FieldError>,
    /// Headers with an unusable value.
    invalid_header: Vec<FieldError>,
    /// Other values of the context that are unusable.
    invalid: Vec<FieldError>,
}

impl Found {
    /// The problem, if anything was found: header problems first (400s), as an HTTP front door
    /// checks headers before the body.
    fn problem(mut self) -> Result<(), Problem> {
        if !self.missing.is_empty() {
            self.missing.extend(self.invalid_header);
            return Err(Problem::with_errors(
                ProblemKind::MissingHeader,
                "A required header is missing.",
                self.missing,
            ));
        }
        if !self.invalid_header.is_empty() {
            return Err(Problem::with_errors(
                ProblemKind::InvalidHeader,
                "A header has an invalid value.",
                self.invalid_header,
            ));
        }
        if !self.invalid.is_empty() {
            return Err(Problem::with_errors(
                ProblemKind::Validation,
                "The delivery context is invalid.",
                self.invalid,
            ));
        }
        Ok(())
    }
}

impl RawContext {
    /// Checks every value; all problems are reported together.
    pub fn parse(&self) -> Result<Context, Problem> {
        let mut found = Found::default();
        let organization_id = self.organization(&mut found);
        let idempotency_key = self.key(&mut found);
        let clinic_id = self.clinic(&mut found);
        let source = self.forced_source(&mut found);
        let received_at = self.received(&mut found);
        let delay_seconds = self.delay(&mut found);
        found.problem()?;
        match (organization_id, received_at) {
            (Some(organization_id), Some(received_at)) => Ok(Context {
                organization_id,
                clinic_id,
                idempotency_key,
                source,
                received_at,
                delay_seconds,
            }),
            _ => unreachable!("a missing or invalid value was reported above"),
        }
    }

    fn organization(&self, found: &mut Found) -> Option<OrganizationId> {
        let Some(raw) = self.organization_id.as_deref() else {
            found.missing.push(FieldError::new(
                ORGANIZATION_POINTER,
                "required",
                "X-Organization-Id is required",
            ));
            return None;
        };
        OrganizationId::new(raw)
            .map_err(|e| {
                found
                    .invalid_header
                    .push(id_error(ORGANIZATION_POINTER, "X-Organization-Id", e))
            })
            .ok()
    }

    fn key(&self, found: &mut Found) -> Option<IdempotencyKey> {
        IdempotencyKey::parse_header(self.idempotency_key.as_deref()?)
            .map_err(|e| {
                found
                    .invalid_header
                    .push(id_error(IDEMPOTENCY_KEY_POINTER, "Idempotency-Key", e))
            })
            .ok()
    }

    fn clinic(&self, found: &mut Found) -> Option<EntityId> {
        EntityId::new(self.clinic_id.as_deref()?)
            .map_err(|e| found.invalid.push(id_error(CLINIC_POINTER, "clinic_id", e)))
            .ok()
    }

    fn forced_source(&self, found: &mut Found) -> Option<Source> {
        let name = self.source.as_deref().filter(|name| *name != "auto")?;
        let source = Source::from_name(name);
        if source.is_none() {
            let names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
            found.invalid.push(FieldError::new(
                "/context/source",
                "enum",
                format!("source must be one of auto, {}", names.join(", ")),
            ));
        }
        source
    }

    fn received(&self, found: &mut Found) -> Option<Timestamp> {
        let Some(raw) = self.received_at.as_deref() else {
            found.invalid.push(FieldError::new(
                "/context/received_at",
                "required",
                "received_at is required",
            ));
            return None;
        };
        Timestamp::parse(raw)
            .map_err(|e| {
                found.invalid.push(FieldError::new(
                    "/context/received_at",
                    "format",
                    format!("received_at {e}"),
                ))
            })
            .ok()
    }

    fn delay(&self, found: &mut Found) -> u32 {
        match self.delay_seconds {
            None => 0,
            Some(d) if d <= u64::from(MAX_DELAY_SECONDS) => d as u32,
            Some(_) => {
                found.invalid.push(FieldError::new(
                    "/context/delay_seconds",
                    "maximum",
                    format!("delay_seconds must be at most {MAX_DELAY_SECONDS} (30 days)"),
                ));
                0
            }
        }
    }
}
