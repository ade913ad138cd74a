//! Relay mode: send an accepted deletion to the canonical deletion API (the upstream) and let
//! its answer decide. The request and the judgement of the answer are pure ([`request`],
//! [`judge`]); only [`Upstream::send`](crate::upstream::Upstream::send) does I/O.
//!
//! Relay mode keeps no idempotency state: the upstream's idempotency is the truth, and the
//! deterministic `Idempotency-Key` (the delivery's own, or derived from the deleted id) makes
//! every retry of a deletion the same request upstream.
//!
//! | upstream answer | the sender gets |
//! |---|---|
//! | 2xx with a valid canonical response for our `task_id` | the source's success status (Mercoa 200, WillSuite 202, HighLevel 200, canonical 202) and that response |
//! | 409 | 409 and the upstream's problem, with `Retry-After` (the upstream's, else 1 s) |
//! | 400, 413, 415, 422: a verdict on this delivery | the same status and body, as they came |
//! | any other 4xx (401, 403, 404, 429, …: a verdict on the relay, not the delivery), 3xx, 5xx, a 2xx that is not a valid canonical response, a timeout, a refused connection | 503 `unavailable` with `Retry-After`; the delivery is kept as a dead letter |
//!
//! Nothing the upstream did not confirm is ever answered as accepted.

use tombstone_core::canonical::DeletionResponse;
use tombstone_core::Conversion;

use crate::config::UpstreamConfig;
use crate::http::Response;
use crate::upstream::{UpstreamError, UpstreamRequest, UpstreamResponse};
use crate::Ctx;

/// Why an upstream answer is not trusted: the delivery is kept as a dead letter and the sender
/// gets a 503.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayFailure {
    /// No answer.
    #[error(transparent)]
    NoAnswer(#[from] UpstreamError),
    /// A 5xx.
    #[error("the upstream failed with status {0}")]
    ServerError(u16),
    /// A status that says nothing about this delivery (a redirect, or a 4xx about the relay
    /// itself: its credentials, its URL, its rate).
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

/// 4xx statuses that are the upstream's verdict on the delivery itself, relayed as they came.
const VERDICTS: [u16; 4] = [400, 413, 415, 422];

/// The canonical request for a conversion: `POST`, JSON (with its length), `Idempotency-Key`,
/// `X-Organization-Id`, and the canonical body — byte for byte the `request.body` that
/// `/api/v1/convert` shows.
pub fn request(upstream: &UpstreamConfig, conversion: &Conversion) -> UpstreamRequest {
    let body = conversion.request.to_json().into_bytes();
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-length".to_owned(), body.len().to_string()),
        (
            "idempotency-key".to_owned(),
            // Quoted when bare it would read as another key (it starts with a quote).
            conversion.idempotency_key.header_value().into_owned(),
        ),
        (
            "x-organization-id".to_owned(),
            conversion.organization_id.to_string(),
        ),
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

/// Judges the upstream's answer to [`request`]`(conversion)`; `status` is the route's success
/// status.
pub fn judge(
    conversion: &Conversion,
    status: u16,
    answer: Result<UpstreamResponse, UpstreamError>,
) -> Result<Response, RelayFailure> {
    let answer = answer?;
    match answer.status {
        200..=299 => {
            check_response(conversion, &answer.body).map_err(|why| {
                RelayFailure::InvalidResponse {
                    status: answer.status,
                    why,
                }
            })?;
            Ok(Response::bytes(status, "application/json", answer.body))
        }
        409 => {
            let retry_after = answer.header("retry-after").unwrap_or("1").to_owned();
            Ok(relayed(answer).with_header("retry-after", retry_after))
        }
        s if VERDICTS.contains(&s) => Ok(relayed(answer)),
        s @ 500..=599 => Err(RelayFailure::ServerError(s)),
        s => Err(RelayFailure::NoVerdict(s)),
    }
}

/// The upstream's answer as it came: status, content type and body.
fn relayed(answer: UpstreamResponse) -> Response {
    let content_type = answer
        .header("content-type")
        .unwrap_or("application/problem+json")
        .to_owned();
    Response::bytes(answer.status, &content_type, answer.body)
}

/// Whether `body` is a canonical response (its JSON Schema, typed values) for this conversion's
/// task.
fn check_response(conversion: &Conversion, body: &[u8]) -> Result<(), ResponseDefect> {
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
    if response.task_id != conversion.task_id {
        return Err(ResponseDefect::OtherTask);
    }
    Ok(())
}

/// Relays a conversion through the upstream port.
pub(crate) fn relay(
    ctx: &Ctx<'_>,
    upstream: &UpstreamConfig,
    conversion: &Conversion,
    status: u16,
) -> Result<Response, RelayFailure> {
    let answer = ctx.upstream.send(&request(upstream, conversion));
    judge(conversion, status, answer)
}
