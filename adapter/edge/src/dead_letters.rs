//! Dead letters: deliveries that passed the caller's checks but could not be processed on our
//! side (a store failure, a misconfigured variable, an upstream that did not confirm). Each is
//! kept with what is needed to run it again, and an operator can list, read, replay and delete
//! them (admin routes, behind `api_keys`):
//!
//! | route | what |
//! |---|---|
//! | `GET /api/v1/dead-letters[?limit=&before=]` | newest first, without bodies; `next` pages on |
//! | `GET /api/v1/dead-letters/{id}` | one letter, with its body |
//! | `POST /api/v1/dead-letters/{id}/replay` | runs it through the same pipeline, with its original `received_at` |
//! | `DELETE /api/v1/dead-letters/{id}` | forgets it |
//!
//! Ids come from an atomic increment of one counter, so they are unique across instances and the
//! newest letters are found by counting down from the last id, without listing the store.

use std::fmt;

use base64::Engine;
use serde::{Deserialize, Serialize};
use tombstone_core::{FieldError, Problem, ProblemKind, Timestamp};

use crate::auth::API_KEY_HEADER;
use crate::config::{Config, ConfigError};
use crate::events::Event;
use crate::http::{Request, Response};
use crate::ingest::{self, Failure};
use crate::routes::Route;
use crate::store::keys::{DeadLetterKey, LastDeadLetterId};
use crate::Ctx;

/// A dead letter's id: 1, 2, 3, … in the order they were kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeadLetterId(u64);

impl DeadLetterId {
    /// The id `n`.
    pub fn new(n: u64) -> DeadLetterId {
        DeadLetterId(n)
    }

    /// Its number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// Parses an id as it appears in a path: a positive decimal number without leading zeros.
    pub fn parse(text: &str) -> Option<DeadLetterId> {
        let n: u64 = text.parse().ok()?;
        (n > 0 && n.to_string() == text).then_some(DeadLetterId(n))
    }
}

impl fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A delivery kept because the service failed to process it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Its id.
    pub id: DeadLetterId,
    /// When the delivery was received; a replay runs with this time, so its ids and
    /// `scheduled_for` are the original ones.
    pub received_at: Timestamp,
    /// The method it arrived with.
    pub method: String,
    /// The path it arrived on.
    pub path: String,
    /// Its query string (without `?`), if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// What failed first (no payload values).
    pub reason: String,
    /// The headers needed to replay it: content type, keys, signatures (never an API key).
    pub headers: Vec<(String, String)>,
    /// The body, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body in base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// How many replays were tried.
    #[serde(default)]
    pub attempts: u32,
    /// When the last replay was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<Timestamp>,
    /// What the last replay got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reason: Option<String>,
    /// Kept before its sender could be checked (a variable was unusable, so the API keys and
    /// the secrets could not be read): a replay then proves the sender with the letter's own
    /// headers only — its signature, never the operator's API key — so a request nobody
    /// authenticated cannot be scheduled by replaying it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sender_unchecked: bool,
}

impl DeadLetter {
    /// The body bytes, exactly as received.
    pub fn body_bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_base64) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }

    /// The letter without its headers and body, for listings.
    fn summary(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a dead letter always serializes");
        if let Some(map) = value.as_object_mut() {
            for field in ["headers", "body", "body_base64"] {
                map.remove(field);
            }
        }
        value
    }
}

/// The headers a dead letter keeps.
const REPLAY_HEADERS: [&str; 11] = [
    "content-type",
    "idempotency-key",
    "x-organization-id",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "x-ghl-signature",
    "x-wh-signature",
];

/// Seconds a sender is asked to wait after a 503.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// Keeps a delivery that failed on our side and answers 503 `unavailable` with `Retry-After`,
/// so the sender retries too.
pub(crate) fn keep(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    received_at: Timestamp,
    failure: &Failure,
) -> Response {
    let reason = failure.to_string();
    let utf8 = std::str::from_utf8(req.body).ok();
    let kept = ctx.store.increment(&LastDeadLetterId, 1).and_then(|n| {
        let id = DeadLetterId(u64::try_from(n).unwrap_or(0));
        let letter = DeadLetter {
            id,
            received_at,
            method: req.method.to_owned(),
            path: req.path.to_owned(),
            query: req.query.to_owned(),
            reason: reason.clone(),
            headers: req
                .headers
                .iter()
                .filter(|(n, _)| REPLAY_HEADERS.contains(&n.to_ascii_lowercase().as_str()))
                .cloned()
                .collect(),
            body: utf8.map(str::to_owned),
            body_base64: utf8
                .is_none()
                .then(|| base64::engine::general_purpose::STANDARD.encode(req.body)),
            attempts: 0,
            last_attempt_at: None,
            last_reason: None,
            sender_unchecked: matches!(failure, Failure::Config(_)),
        };
        ctx.store.put(&DeadLetterKey(id), &letter).map(|()| id)
    });
    let problem = match kept {
        Ok(id) => {
            ctx.note(Event::DeadLetterKept { id, reason });
            Problem::with_errors(
                ProblemKind::Unavailable,
                "The delivery could not be processed and was kept for an operator; retry later.",
                vec![FieldError::new(
                    "",
                    "dead-letter",
                    format!("kept as dead letter {id} (GET /api/v1/dead-letters/{id})"),
                )],
            )
        }
        Err(error) => {
            // Nothing else can hold it: the 503 makes the sender keep it and retry.
            ctx.note(Event::DeadLetterLost {
                reason,
                error: error.to_string(),
            });
            Problem::new(
                ProblemKind::Unavailable,
                "The delivery could not be processed or kept; retry later.",
            )
        }
    };
    Response::problem(&problem).with_header("retry-after", RETRY_AFTER_SECONDS)
}

/// Most letters one listing page holds, and the default.
const MAX_PAGE: u64 = 200;
const DEFAULT_PAGE: u64 = 50;
/// Most ids one listing probes (deleted letters leave gaps), so a page costs a bounded number
/// of reads; `next` continues where it stopped.
const MAX_PROBES: u64 = 1_000;

fn bad_query(name: &str, message: &str) -> Response {
    Response::problem(&Problem::at(
        ProblemKind::Validation,
        "A query parameter is invalid.",
        format!("/query/{name}"),
        "type",
        message,
    ))
}

fn unavailable(error: &impl ToString) -> Response {
    Response::problem(&Problem::new(ProblemKind::Unavailable, error.to_string()))
        .with_header("retry-after", RETRY_AFTER_SECONDS)
}

/// `GET /api/v1/dead-letters[?limit=N&before=ID]`: newest first, without bodies.
pub(crate) fn list(ctx: &Ctx<'_>, req: &Request<'_>) -> Response {
    let limit = match req.query_param("limit") {
        None => DEFAULT_PAGE,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return bad_query(
                    "limit",
                    &format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                )
            }
        },
    };
    let before = match req.query_param("before") {
        None => None,
        Some(v) => match DeadLetterId::parse(&v) {
            Some(id) => Some(id.get()),
            None => return bad_query("before", "before must be a dead letter id"),
        },
    };
    let last = match ctx.store.counter(&LastDeadLetterId) {
        Ok(n) => u64::try_from(n).unwrap_or(0),
        Err(e) => return unavailable(&e),
    };
    let mut next = before.map_or(last, |b| b.saturating_sub(1).min(last));
    let mut letters = Vec::new();
    let mut probes = 0;
    while next > 0 && (letters.len() as u64) < limit && probes < MAX_PROBES {
        match ctx.store.get(&DeadLetterKey(DeadLetterId(next))) {
            Ok(Some(letter)) => letters.push(letter.summary()),
            Ok(None) => {}
            Err(e) => return unavailable(&e),
        }
        next -= 1;
        probes += 1;
    }
    let next =
        (next > 0).then(|| format!("/api/v1/dead-letters?limit={limit}&before={}", next + 1));
    Response::json(
        200,
        &serde_json::json!({"dead_letters": letters, "next": next}),
    )
}

fn parse_id(id: &str) -> Result<DeadLetterId, Response> {
    DeadLetterId::parse(id)
        .ok_or_else(|| crate::not_found("A dead letter id is a positive whole number."))
}

fn load(ctx: &Ctx<'_>, id: &str) -> Result<DeadLetter, Response> {
    let id = parse_id(id)?;
    match ctx.store.get(&DeadLetterKey(id)) {
        Ok(Some(letter)) => Ok(letter),
        Ok(None) => Err(crate::not_found("There is no dead letter with this id.")),
        Err(e) => Err(unavailable(&e)),
    }
}

/// `GET /api/v1/dead-letters/{id}`: one letter, with its headers and body.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Response {
    match load(ctx, id) {
        Ok(letter) => Response::json(200, &letter),
        Err(r) => r,
    }
}

/// `DELETE /api/v1/dead-letters/{id}`: 204, or 404 when there is no such letter.
pub(crate) fn delete(ctx: &Ctx<'_>, id: &str) -> Response {
    let letter = match load(ctx, id) {
        Ok(letter) => letter,
        Err(r) => return r,
    };
    match ctx.store.remove(&DeadLetterKey(letter.id)) {
        Ok(()) => Response::empty(204),
        Err(e) => unavailable(&e),
    }
}

/// `POST /api/v1/dead-letters/{id}/replay`: the letter runs through the same pipeline as when
/// it arrived, with its original `received_at` (so its ids and `scheduled_for` are the
/// original ones) and the operator's API key. A 2xx removes the letter and is the answer; any
/// other answer is returned too, and the letter stays with one more attempt and the last reason.
pub(crate) fn replay(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    id: &str,
    config: &Result<Config, ConfigError>,
    now: Timestamp,
) -> Response {
    let mut letter = match load(ctx, id) {
        Ok(letter) => letter,
        Err(r) => return r,
    };
    let body = letter.body_bytes();
    let mut headers = letter.headers.clone();
    // The operator's key stands in for the sender's, which no letter keeps, only when the
    // sender was checked before the letter was kept.
    if let Some(key) = req
        .header(API_KEY_HEADER)
        .filter(|_| !letter.sender_unchecked)
    {
        headers.push((API_KEY_HEADER.to_owned(), key.to_owned()));
    }
    let replayed = Request {
        method: &letter.method,
        path: &letter.path,
        query: &letter.query,
        headers,
        body: &body,
    };
    let outcome = match Route::parse(replayed.path) {
        Some(route @ (Route::Canonical | Route::Webhook { .. })) => {
            ingest::ingest(ctx, &replayed, &route, config, letter.received_at, now)
        }
        _ => Ok(crate::not_found(
            "The dead letter's route is not an ingestion route.",
        )),
    };
    let (response, last_reason) = match outcome {
        Ok(response) if (200..300).contains(&response.status) => {
            let removed = ctx.store.remove(&DeadLetterKey(letter.id));
            if let Err(error) = &removed {
                ctx.note(Event::DeadLetterNotUpdated {
                    id: letter.id,
                    error: error.to_string(),
                });
            }
            ctx.note(Event::DeadLetterReplayed {
                id: letter.id,
                status: response.status,
                removed: removed.is_ok(),
            });
            return response;
        }
        Ok(response) => {
            let kind = response.body_json()["type"]
                .as_str()
                .map(|t| t.trim_start_matches("urn:tombstone:problem:").to_owned());
            let reason = match kind {
                Some(kind) => format!("the replay was answered {} {kind}", response.status),
                None => format!("the replay was answered {}", response.status),
            };
            (response, reason)
        }
        Err(failure) => {
            let reason = failure.to_string();
            let problem = Problem::at(
                ProblemKind::Unavailable,
                "The replay failed again; the dead letter stays.",
                "",
                "dead-letter",
                format!("dead letter {} stays: {reason}", letter.id),
            );
            (
                Response::problem(&problem).with_header("retry-after", RETRY_AFTER_SECONDS),
                reason,
            )
        }
    };
    letter.attempts += 1;
    letter.last_attempt_at = Some(now);
    letter.last_reason = Some(last_reason);
    if let Err(error) = ctx.store.put(&DeadLetterKey(letter.id), &letter) {
        ctx.note(Event::DeadLetterNotUpdated {
            id: letter.id,
            error: error.to_string(),
        });
    }
    ctx.note(Event::DeadLetterReplayed {
        id: letter.id,
        status: response.status,
        removed: false,
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_canonical_numbers() {
        assert_eq!(DeadLetterId::parse("17"), Some(DeadLetterId(17)));
        for bad in ["0", "017", "-1", "1.0", "", "x", "18446744073709551616"] {
            assert_eq!(DeadLetterId::parse(bad), None, "{bad}");
        }
    }
}
