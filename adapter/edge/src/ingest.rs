//! The ingestion pipeline: check the caller, convert, then schedule exactly once per
//! organization + key, keeping anything that fails on our side as a dead letter.
//!
//! Key-value operations per delivery: a new deletion costs two writes — one atomic increment (its
//! claim) and one `set` (the task, which is also its idempotency record) — and three reads; a
//! duplicate costs one `get` and no write. A
//! server-side failure after the body arrived costs one more `set`: the dead letter.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tombstone_core::canonical::DeletionStatus;
use tombstone_core::idempotency::IdempotencyRecord;
use tombstone_core::idempotency::{decide, record_key, ClaimKeys, Decision, Fingerprint};
use tombstone_core::limits::{MAX_CANONICAL_BODY_BYTES, MAX_SOURCE_BODY_BYTES};
use tombstone_core::signature;
use tombstone_core::{Conversion, Problem, ProblemKind, RawContext, Source, TaskId, Timestamp};

use crate::auth::check_api_key;
use crate::config::{Config, ConfigError};
use crate::http::{percent_decode, Request, Response};
use crate::store::KeyValue;
use crate::{not_found, success_status};

/// Key prefix of dead letters.
pub const DEAD_LETTER_PREFIX: &str = "dead-letter/";

/// What is stored per task id: the idempotency record and the task itself (one write).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTask {
    /// The idempotency record (fingerprint, first response, generation, expiry).
    #[serde(flatten)]
    pub record: IdempotencyRecord,
    /// The conversion that was scheduled: source, the canonical request to send (method, path,
    /// headers, body), ids, times and warnings.
    pub conversion: serde_json::Value,
}

/// A delivery kept because the service failed to process it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When it was received.
    pub received_at: Timestamp,
    /// `POST <path>?<query>` it arrived on.
    pub route: String,
    /// What failed (no payload values).
    pub reason: String,
    /// The headers needed to replay it (content type, keys, signatures; never an API key).
    pub headers: Vec<(String, String)>,
    /// The body, when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body in base64, when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
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

/// 415 unless the body is declared JSON (`application/json` or any `+json` type).
pub fn check_content_type(req: &Request<'_>) -> Result<(), Problem> {
    let essence = req.header("content-type").map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match essence.as_deref() {
        Some("application/json") => Ok(()),
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => Ok(()),
        _ => Err(Problem::at(
            ProblemKind::UnsupportedMediaType,
            "The body must be sent as application/json.",
            "/header/Content-Type",
            "enum",
            "must be application/json",
        )),
    }
}

fn check_size(req: &Request<'_>, limit: usize, what: &str) -> Result<(), Problem> {
    if req.body.len() > limit {
        Err(tombstone_core::too_large(req.body.len(), limit, what))
    } else {
        Ok(())
    }
}

/// `POST /api/v1/invoice-deletions`.
pub fn canonical(
    req: &Request<'_>,
    kv: &dyn KeyValue,
    config: &Result<Config, ConfigError>,
    now: Timestamp,
) -> Response {
    let config = match config {
        Ok(c) => c,
        Err(e) => return failed(req, kv, now, &e.to_string()),
    };
    let checked = check_api_key(req, &config.api_keys)
        .and_then(|()| check_content_type(req))
        .and_then(|()| check_size(req, MAX_CANONICAL_BODY_BYTES, "canonical body"));
    if let Err(p) = checked {
        return Response::problem(&p);
    }
    let raw = RawContext {
        organization_id: req.header("X-Organization-Id").map(str::to_owned),
        idempotency_key: req.header("Idempotency-Key").map(str::to_owned),
        source: Some("canonical".into()),
        ..context(config, now)
    };
    convert_and_schedule(req, kv, config, now, &raw)
}

fn convert_and_schedule(
    req: &Request<'_>,
    kv: &dyn KeyValue,
    config: &Config,
    now: Timestamp,
    raw: &RawContext,
) -> Response {
    match raw
        .parse()
        .and_then(|ctx| tombstone_core::convert(req.body, &ctx))
    {
        Ok(conversion) => schedule(req, kv, config, now, &conversion),
        Err(p) => Response::problem(&p),
    }
}

/// The context every delivery starts from: received now, the configured delay.
fn context(config: &Config, now: Timestamp) -> RawContext {
    RawContext {
        received_at: Some(now.to_string()),
        delay_seconds: Some(config.delay_seconds.into()),
        ..RawContext::default()
    }
}

/// `POST /api/v1/webhooks/{source}/{organization_id}[?clinic_id=…]`; `rest` is the path after
/// `/api/v1/webhooks/`.
pub fn webhook(
    req: &Request<'_>,
    rest: &str,
    kv: &dyn KeyValue,
    config: &Result<Config, ConfigError>,
    now: Timestamp,
) -> Response {
    let Some((source_name, organization)) = rest.split_once('/') else {
        return not_found("Webhook routes are /api/v1/webhooks/{source}/{organization_id}.");
    };
    let forced = match source_name {
        "auto" => None,
        "mercoa" | "willsuite" | "highlevel" => Source::from_name(source_name),
        _ => return not_found("The source must be mercoa, willsuite, highlevel or auto."),
    };
    let organization = match percent_decode(organization) {
        Some(o) if !o.is_empty() && !o.contains('/') => o,
        _ => return not_found("Webhook routes are /api/v1/webhooks/{source}/{organization_id}."),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => return failed(req, kv, now, &e.to_string()),
    };
    if let Err(p) =
        check_content_type(req).and_then(|()| check_size(req, MAX_SOURCE_BODY_BYTES, "body"))
    {
        return Response::problem(&p);
    }
    // The proof a delivery needs depends on its source, so `auto` detects first. A body no
    // source recognises needs none: it is refused as unknown-format below, and nothing is kept.
    let source = forced.or_else(|| tombstone_core::detect(req.body));
    if let Some(source) = source {
        if let Err(p) = verify_sender(req, source, config, now) {
            return Response::problem(&p);
        }
    }
    let raw = RawContext {
        organization_id: Some(organization),
        clinic_id: req.query_param("clinic_id"),
        idempotency_key: req.header("Idempotency-Key").map(str::to_owned),
        source: forced.map(|s| s.name().to_owned()),
        ..context(config, now)
    };
    convert_and_schedule(req, kv, config, now, &raw)
}

/// The proof a source's route needs: none unless configured; a canonical body found by `auto`
/// needs the API key, as on the canonical route.
fn verify_sender(
    req: &Request<'_>,
    source: Source,
    config: &Config,
    now: Timestamp,
) -> Result<(), Problem> {
    if source == Source::Canonical {
        return check_api_key(req, &config.api_keys);
    }
    let secrets = config.webhook_secrets(source);
    let highlevel = source == Source::HighLevel && config.highlevel.any();
    if secrets.is_none() && !highlevel {
        return Ok(());
    }
    let standard = secrets.map(|s| {
        signature::verify(
            |name| req.header(name).map(str::to_owned),
            req.body,
            s,
            now.unix_seconds(),
        )
    });
    match standard {
        Some(Ok(())) => Ok(()),
        Some(Err(p)) if !highlevel => Err(p),
        // HighLevel: its own signature is the other accepted proof.
        _ => config.highlevel.verify(req),
    }
}

/// Schedules a conversion once per organization + key; see `tombstone_core::idempotency`.
fn schedule(
    req: &Request<'_>,
    kv: &dyn KeyValue,
    config: &Config,
    now: Timestamp,
    conversion: &Conversion,
) -> Response {
    let status = success_status(conversion.source);
    let task_id = &conversion.task_id;
    let fingerprint = Fingerprint::of(&conversion.request);
    let now_s = now.unix_seconds();
    let stored = match read_task(kv, task_id) {
        Ok(stored) => stored,
        Err(reason) => return failed(req, kv, now, &reason),
    };
    let record = stored.as_ref().map(|s| &s.record);
    let generation = match decide(&fingerprint, record, now_s, None) {
        Decision::Claim { generation } => generation,
        other => return answer(other, status, task_id),
    };
    let keys = ClaimKeys::new(task_id, generation, now_s);
    let claim = keys.own.clone();
    let count = match claim_count(kv, &keys) {
        Ok(n) => n,
        Err(e) => return failed(req, kv, now, &e.to_string()),
    };
    match decide(&fingerprint, record, now_s, Some(count)) {
        Decision::Schedule { generation } => {
            let response = conversion.response(DeletionStatus::Scheduled);
            let task = StoredTask {
                record: IdempotencyRecord {
                    fingerprint,
                    response: response.clone(),
                    generation,
                    expires_at: now_s + i64::from(config.retention_seconds),
                },
                conversion: conversion.to_value(),
            };
            let json = serde_json::to_vec(&task).expect("a task always serializes");
            let archived = match &stored {
                // The expired record of an earlier generation is a task that was accepted:
                // keep it before its key is reused.
                Some(old) => kv.set(
                    &format!("{}/{}", record_key(task_id), old.record.generation),
                    &serde_json::to_vec(old).expect("a task always serializes"),
                ),
                None => Ok(()),
            };
            match archived.and_then(|()| kv.set(&record_key(task_id), &json)) {
                Ok(()) => Response::json(status, &response)
                    .with_header("location", format!("/api/v1/tasks/{task_id}")),
                Err(e) => {
                    // Give the claim back so the provider's retry can schedule it.
                    let _ = kv.increment(&claim, -1);
                    failed(req, kv, now, &e.to_string())
                }
            }
        }
        Decision::Conflict(problem) => {
            let _ = kv.increment(&claim, -1);
            // The first delivery may have finished meanwhile: then this one is its duplicate.
            match read_task(kv, task_id) {
                Ok(Some(done)) => match decide(&fingerprint, Some(&done.record), now_s, None) {
                    Decision::Claim { .. } => conflict(problem),
                    other => answer(other, status, task_id),
                },
                _ => conflict(problem),
            }
        }
        other => answer(other, status, task_id),
    }
}

/// Takes this minute's claim and, when that alone was free, reads the neighbouring minutes'
/// (plain reads: an absent counter is 0, and reading writes nothing). On an error the claim is
/// not held.
fn claim_count(kv: &dyn KeyValue, keys: &ClaimKeys) -> Result<i64, crate::StoreError> {
    let own = kv.increment(&keys.own, 1)?;
    if own != 1 {
        return Ok(own);
    }
    let read = |key: &str| kv.get(key).map(|v| v.as_deref().map_or(0, counter_value));
    match (read(&keys.neighbours[0]), read(&keys.neighbours[1])) {
        (Ok(before), Ok(after)) => Ok(ClaimKeys::count(own, [before, after])),
        (Err(e), _) | (_, Err(e)) => {
            let _ = kv.increment(&keys.own, -1);
            Err(e)
        }
    }
}

/// A counter's value as `get` returns it: 8 little-endian bytes (Spin's SQLite store, ours) or
/// decimal text (Redis `INCR`). Anything else counts as held, the safe side.
fn counter_value(bytes: &[u8]) -> i64 {
    let decimal = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        .and_then(|t| t.parse().ok());
    match (decimal, <[u8; 8]>::try_from(bytes)) {
        (Some(n), _) => n,
        (None, Ok(le)) => i64::from_le_bytes(le),
        (None, Err(_)) => 1,
    }
}

fn conflict(problem: Problem) -> Response {
    Response::problem(&problem).with_header("retry-after", "1")
}

fn answer(decision: Decision, status: u16, task_id: &TaskId) -> Response {
    match decision {
        Decision::Duplicate(response) => Response::json(status, &response)
            .with_header("location", format!("/api/v1/tasks/{task_id}")),
        Decision::Reuse(p) => Response::problem(&p),
        Decision::Conflict(p) => conflict(p),
        Decision::Claim { .. } | Decision::Schedule { .. } => {
            unreachable!("claims are handled by schedule")
        }
    }
}

fn read_task(kv: &dyn KeyValue, task_id: &TaskId) -> Result<Option<StoredTask>, String> {
    match kv.get(&record_key(task_id)) {
        Ok(None) => Ok(None),
        Ok(Some(bytes)) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| format!("stored task {task_id} is not readable")),
        Err(e) => Err(e.to_string()),
    }
}

/// A server-side failure: keep the delivery as a dead letter, answer 503 so the sender retries.
fn failed(req: &Request<'_>, kv: &dyn KeyValue, now: Timestamp, reason: &str) -> Response {
    let letter = DeadLetter {
        received_at: now,
        route: if req.query.is_empty() {
            format!("{} {}", req.method, req.path)
        } else {
            format!("{} {}?{}", req.method, req.path, req.query)
        },
        reason: reason.to_owned(),
        headers: req
            .headers
            .iter()
            .filter(|(n, _)| REPLAY_HEADERS.contains(&n.to_ascii_lowercase().as_str()))
            .cloned()
            .collect(),
        body: std::str::from_utf8(req.body).ok().map(str::to_owned),
        body_base64: std::str::from_utf8(req.body).is_err().then(|| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(req.body)
        }),
    };
    let digest = Sha256::digest(req.body);
    let key = format!(
        "{DEAD_LETTER_PREFIX}{:012}{:09}-{}",
        now.unix_seconds(),
        now.nanos(),
        digest[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let kept = kv.set(
        &key,
        &serde_json::to_vec(&letter).expect("a dead letter always serializes"),
    );
    let detail = match kept {
        Ok(()) => "The delivery could not be processed and was kept for an operator; retry later.",
        // Nothing else can hold it: the 503 makes the sender keep it and retry.
        Err(_) => "The delivery could not be processed or kept; retry later.",
    };
    let mut problem = Problem::new(ProblemKind::Unavailable, detail);
    if kept.is_ok() {
        problem.errors.push(tombstone_core::FieldError::new(
            "",
            "dead-letter",
            format!("kept as {key}"),
        ));
    }
    eprintln!("tombstone: {} failed: {reason}", letter.route);
    Response::problem(&problem).with_header("retry-after", "5")
}

fn admin(req: &Request<'_>, config: &Result<Config, ConfigError>) -> Result<(), Response> {
    match config {
        Ok(c) => check_api_key(req, &c.api_keys).map_err(|p| Response::problem(&p)),
        Err(e) => Err(Response::problem(&Problem::new(
            ProblemKind::Unavailable,
            format!("The service is misconfigured: {e}."),
        ))),
    }
}

/// `GET /api/v1/tasks/{task_id}`: the stored task (the canonical request to send, when, and the
/// idempotency record's first response).
pub fn task(
    req: &Request<'_>,
    id: &str,
    kv: &dyn KeyValue,
    config: &Result<Config, ConfigError>,
) -> Response {
    if let Err(r) = admin(req, config) {
        return r;
    }
    let Some(task_id) = TaskId::parse(id) else {
        return not_found("A task id is 64 lowercase hex characters.");
    };
    match read_task(kv, &task_id) {
        Ok(Some(task)) => {
            let mut view = task.conversion;
            if let Some(map) = view.as_object_mut() {
                map.insert("status".into(), serde_json::json!("scheduled"));
                map.insert(
                    "idempotency_expires_at".into(),
                    serde_json::json!(task.record.expires_at),
                );
            }
            Response::json(200, &view)
        }
        Ok(None) => not_found("There is no task with this id."),
        Err(e) => Response::problem(&Problem::new(ProblemKind::Unavailable, e)),
    }
}

/// `GET /api/v1/dead-letters`: every kept delivery, oldest first.
pub fn dead_letters(
    req: &Request<'_>,
    kv: &dyn KeyValue,
    config: &Result<Config, ConfigError>,
) -> Response {
    if let Err(r) = admin(req, config) {
        return r;
    }
    let unavailable = |e: String| Response::problem(&Problem::new(ProblemKind::Unavailable, e));
    let mut keys: Vec<String> = match kv.keys() {
        Ok(keys) => keys
            .into_iter()
            .filter(|k| k.starts_with(DEAD_LETTER_PREFIX))
            .collect(),
        Err(e) => return unavailable(e.to_string()),
    };
    keys.sort();
    let mut letters = Vec::new();
    for key in keys {
        match kv.get(&key) {
            Ok(Some(bytes)) => {
                let letter: serde_json::Value =
                    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                letters.push(serde_json::json!({"key": key, "letter": letter}));
            }
            Ok(None) => {}
            Err(e) => return unavailable(e.to_string()),
        }
    }
    Response::json(200, &serde_json::json!({"dead_letters": letters}))
}
