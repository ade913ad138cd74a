//! Relay mode: send an accepted deletion to the canonical deletion API (the upstream) and let
//! its answer decide. The request and the judgement of the answer are pure ([`request`],
//! [`judge`]); only [`Upstream::send`](crate::upstream::Upstream::send) does I/O.
//!
//! Relay mode keeps no idempotency state of its own: the upstream's idempotency is the truth,
//! and the deterministic `Idempotency-Key` (the delivery's own, or derived from the deleted id)
//! makes every retry of a deletion the same request upstream. What it keeps is the deliveries
//! it takes over from their senders ([`crate::delivery`]).
//!
//! | upstream answer | [`Judgement`] |
//! |---|---|
//! | 2xx with a valid canonical response for our `task_id` | confirmed: the sender gets the source's success status and that response |
//! | 400, 413, 415, 422 | a verdict on this delivery: relayed to the sender as it came; final |
//! | 410 | gone: the upstream says stop; the delivery is a dead letter |
//! | 409, 429, any other 4xx (a verdict on the relay, not the delivery), 3xx, 5xx, a 2xx that is not a valid canonical response, a timeout, a refused connection | transient: the delivery is queued and attempted again |
//!
//! Nothing the upstream did not confirm is ever answered `scheduled` or `duplicate`.

use tombstone_core::canonical::DeletionResponse;
use tombstone_core::{IdempotencyKey, TaskId, Timestamp};

use crate::config::UpstreamConfig;
use crate::delivery::policy::parse_retry_after;
use crate::http::Response;
use crate::model::delivery::AttemptOutcome;
use crate::upstream::{UpstreamError, UpstreamRequest, UpstreamResponse};

/// Why an attempt did not deliver for now (never a value of the delivery).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayFailure {
    /// No answer.
    #[error(transparent)]
    NoAnswer(#[from] UpstreamError),
    /// A 5xx.
    #[error("the upstream failed with status {0}")]
    ServerError(u16),
    /// 409: another delivery of the same key is still being processed upstream.
    #[error("the upstream is still processing this key (409)")]
    Conflict,
    /// 429.
    #[error("the upstream asked to slow down (429)")]
    RateLimited,
    /// A 3xx, which a relay never follows.
    #[error("the upstream redirected with status {0}, which is a failure")]
    Redirect(u16),
    /// A 4xx about the relay itself (its credentials, its URL), not the delivery.
    #[error("the upstream answered status {0}, which is no verdict on this delivery")]
    NoVerdict(u16),
    /// A 2xx whose body is not the canonical response to this delivery.
    #[error("the upstream answered status {status} without a valid canonical response: {why}")]
    InvalidResponse {
        /// The 2xx status.
        status: u16,
        /// What is wrong with the body (no values).
        why: ResponseDefect,
    },
}

impl RelayFailure {
    /// The outcome an attempt records.
    pub fn outcome(&self) -> AttemptOutcome {
        match self {
            RelayFailure::NoAnswer(UpstreamError::Timeout(_)) => AttemptOutcome::Timeout,
            RelayFailure::NoAnswer(UpstreamError::Unreachable(_)) => AttemptOutcome::Unreachable,
            RelayFailure::NoAnswer(UpstreamError::Denied) => AttemptOutcome::Denied,
            RelayFailure::NoAnswer(UpstreamError::TooLarge) => AttemptOutcome::TooLarge,
            RelayFailure::NoAnswer(UpstreamError::Failed(_)) => AttemptOutcome::Failed,
            RelayFailure::ServerError(_) => AttemptOutcome::ServerError,
            RelayFailure::Conflict => AttemptOutcome::Conflict,
            RelayFailure::RateLimited => AttemptOutcome::RateLimited,
            RelayFailure::Redirect(_) => AttemptOutcome::Redirect,
            RelayFailure::NoVerdict(_) => AttemptOutcome::NoVerdict,
            RelayFailure::InvalidResponse { .. } => AttemptOutcome::InvalidResponse,
        }
    }

    /// The upstream's status, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            RelayFailure::NoAnswer(_) => None,
            RelayFailure::Conflict => Some(409),
            RelayFailure::RateLimited => Some(429),
            RelayFailure::ServerError(s)
            | RelayFailure::Redirect(s)
            | RelayFailure::NoVerdict(s) => Some(*s),
            RelayFailure::InvalidResponse { status, .. } => Some(*status),
        }
    }

    /// Whether it says the upstream is unwell (and counts towards opening the circuit): all
    /// but a 409, which is about one key.
    pub fn counts_against_upstream(&self) -> bool {
        !matches!(self, RelayFailure::Conflict)
    }
}

/// What makes a 2xx body not the canonical response to a delivery (never a value of it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseDefect {
    /// Not JSON.
    #[error("the body is not JSON")]
    NotJson,
    /// Fails `canonical-response.schema.json`: its first error.
    #[error("{message} at {pointer:?}")]
    Schema {
        /// The schema error's message (names places and limits, never values).
        message: String,
        /// Where.
        pointer: String,
    },
    /// Valid by the schema, but a time or an id does not parse.
    #[error("a time or id in the body is malformed")]
    Malformed,
    /// The response of another delivery.
    #[error("its task_id is not this delivery's")]
    OtherTask,
}

/// What an upstream answer means for a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// A valid canonical response for this task: delivered.
    Confirmed {
        /// The upstream's status.
        status: u16,
        /// Its body, as it came.
        body: Vec<u8>,
        /// Its body, read.
        response: DeletionResponse,
    },
    /// 400, 413, 415 or 422: the upstream's verdict on the delivery itself.
    Verdict(UpstreamResponse),
    /// 410: stop sending.
    Gone(UpstreamResponse),
    /// Not delivered for now.
    Transient {
        /// Why.
        failure: RelayFailure,
        /// The upstream's `Retry-After`, in seconds, if it gave one.
        retry_after_seconds: Option<u32>,
    },
}

impl Judgement {
    /// The outcome an attempt records, and the upstream's status.
    pub fn outcome(&self) -> (AttemptOutcome, Option<u16>) {
        match self {
            Judgement::Confirmed {
                status, response, ..
            } => {
                let outcome = match response.status {
                    tombstone_core::canonical::DeletionStatus::Scheduled => {
                        AttemptOutcome::Scheduled
                    }
                    tombstone_core::canonical::DeletionStatus::Duplicate => {
                        AttemptOutcome::Duplicate
                    }
                    _ => AttemptOutcome::Accepted,
                };
                (outcome, Some(*status))
            }
            Judgement::Verdict(answer) => (AttemptOutcome::Verdict, Some(answer.status)),
            Judgement::Gone(answer) => (AttemptOutcome::Gone, Some(answer.status)),
            Judgement::Transient { failure, .. } => (failure.outcome(), failure.status()),
        }
    }

    /// What happened, in words (no values).
    pub fn detail(&self) -> String {
        match self {
            Judgement::Confirmed { status, .. } => {
                format!("the upstream confirmed the deletion ({status})")
            }
            Judgement::Verdict(answer) => {
                format!("the upstream refused the delivery ({})", answer.status)
            }
            Judgement::Gone(_) => "the upstream answered 410 Gone: stop sending".to_owned(),
            Judgement::Transient { failure, .. } => failure.to_string(),
        }
    }
}

/// 4xx statuses that are the upstream's verdict on the delivery itself.
const VERDICTS: [u16; 4] = [400, 413, 415, 422];

/// The canonical request of a delivery: `POST`, JSON (with its length), `Idempotency-Key`,
/// `X-Organization-Id`, and the canonical body — byte for byte the `request.body` that
/// `/api/v1/convert` shows.
pub fn request(
    upstream: &UpstreamConfig,
    organization_id: &str,
    idempotency_key: &IdempotencyKey,
    body: &str,
) -> UpstreamRequest {
    let body = body.as_bytes().to_vec();
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-length".to_owned(), body.len().to_string()),
        (
            "idempotency-key".to_owned(),
            // Quoted when bare it would read as another key (it starts with a quote).
            idempotency_key.header_value().into_owned(),
        ),
        ("x-organization-id".to_owned(), organization_id.to_owned()),
    ];
    if let Some(authorization) = &upstream.authorization {
        headers.push(("authorization".to_owned(), authorization.clone()));
    }
    UpstreamRequest {
        url: upstream.url.clone(),
        headers,
        body,
        timeout_ms: upstream.timeout_ms,
    }
}

/// Judges the upstream's answer to the request of `task`, received at `now`.
pub fn judge(
    task: &TaskId,
    answer: Result<UpstreamResponse, UpstreamError>,
    now: Timestamp,
) -> Judgement {
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            return Judgement::Transient {
                failure: RelayFailure::NoAnswer(error),
                retry_after_seconds: None,
            }
        }
    };
    let retry_after_seconds = answer
        .header("retry-after")
        .and_then(|v| parse_retry_after(v, now));
    let transient = |failure| Judgement::Transient {
        failure,
        retry_after_seconds,
    };
    match answer.status {
        200..=299 => match check_response(task, &answer.body) {
            Ok(response) => Judgement::Confirmed {
                status: answer.status,
                body: answer.body,
                response,
            },
            Err(why) => transient(RelayFailure::InvalidResponse {
                status: answer.status,
                why,
            }),
        },
        410 => Judgement::Gone(answer),
        s if VERDICTS.contains(&s) => Judgement::Verdict(answer),
        409 => transient(RelayFailure::Conflict),
        429 => transient(RelayFailure::RateLimited),
        s @ 300..=399 => transient(RelayFailure::Redirect(s)),
        s @ 500..=599 => transient(RelayFailure::ServerError(s)),
        s => transient(RelayFailure::NoVerdict(s)),
    }
}

/// The upstream's verdict as it came: status, content type and body.
pub fn relayed(answer: &UpstreamResponse) -> Response {
    let content_type = answer
        .header("content-type")
        .unwrap_or("application/problem+json")
        .to_owned();
    Response::bytes(answer.status, &content_type, answer.body.clone())
}

/// Whether `body` is a canonical response (its JSON Schema, typed values) for this task.
fn check_response(task: &TaskId, body: &[u8]) -> Result<DeletionResponse, ResponseDefect> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ResponseDefect::NotJson)?;
    let errors = (tombstone_core::schemas::CANONICAL_RESPONSE.validate)(&value);
    if let Some(e) = errors.into_iter().next() {
        return Err(ResponseDefect::Schema {
            message: e.message,
            pointer: e.pointer,
        });
    }
    let response: DeletionResponse =
        serde_json::from_value(value).map_err(|_| ResponseDefect::Malformed)?;
    if response.task_id != *task {
        return Err(ResponseDefect::OtherTask);
    }
    Ok(response)
}
