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

impl RawContext {
    /// Checks every value; all problems are reported together.
    pub fn parse(&self) -> Result<Context, Problem> {
        let mut missing = Vec::new();
        let mut invalid_header = Vec::new();
        let mut invalid = Vec::new();

        let organization_id = match self.organization_id.as_deref() {
            None => {
                missing.push(FieldError::new(
                    ORGANIZATION_POINTER,
                    "required",
                    "X-Organization-Id is required",
                ));
                None
            }
            Some(raw) => OrganizationId::new(raw)
                .map_err(|e| {
                    invalid_header.push(id_error(ORGANIZATION_POINTER, "X-Organization-Id", e))
                })
                .ok(),
        };
        let idempotency_key = match self.idempotency_key.as_deref() {
            None => None,
            Some(raw) => IdempotencyKey::parse_header(raw)
                .map_err(|e| {
                    invalid_header.push(id_error(IDEMPOTENCY_KEY_POINTER, "Idempotency-Key", e))
                })
                .ok(),
        };
        let clinic_id = match self.clinic_id.as_deref() {
            None => None,
            Some(raw) => EntityId::new(raw)
                .map_err(|e| invalid.push(id_error(CLINIC_POINTER, "clinic_id", e)))
                .ok(),
        };
        let source = match self.source.as_deref() {
            None | Some("auto") => None,
            Some(name) => match Source::from_name(name) {
                Some(source) => Some(source),
                None => {
                    let names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
                    invalid.push(FieldError::new(
                        "/context/source",
                        "enum",
                        format!("source must be one of auto, {}", names.join(", ")),
                    ));
                    None
                }
            },
        };
        let received_at = match self.received_at.as_deref() {
            None => {
                invalid.push(FieldError::new(
                    "/context/received_at",
                    "required",
                    "received_at is required",
                ));
                None
            }
            Some(raw) => Timestamp::parse(raw)
                .map_err(|e| {
                    invalid.push(FieldError::new(
                        "/context/received_at",
                        "format",
                        format!("received_at {e}"),
                    ))
                })
                .ok(),
        };
        let delay_seconds = match self.delay_seconds {
            None => 0,
            Some(d) if d <= u64::from(MAX_DELAY_SECONDS) => d as u32,
            Some(_) => {
                invalid.push(FieldError::new(
                    "/context/delay_seconds",
                    "maximum",
                    format!("delay_seconds must be at most {MAX_DELAY_SECONDS} (30 days)"),
                ));
                0
            }
        };

        // Header problems first (400s), as an HTTP front door checks headers before the body.
        if !missing.is_empty() {
            missing.extend(invalid_header);
            return Err(Problem::with_errors(
                ProblemKind::MissingHeader,
                "A required header is missing.",
                missing,
            ));
        }
        if !invalid_header.is_empty() {
            return Err(Problem::with_errors(
                ProblemKind::InvalidHeader,
                "A header has an invalid value.",
                invalid_header,
            ));
        }
        if !invalid.is_empty() {
            return Err(Problem::with_errors(
                ProblemKind::Validation,
                "The delivery context is invalid.",
                invalid,
            ));
        }
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
}
