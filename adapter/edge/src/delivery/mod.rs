//! Relay mode's durable delivery: every accepted deletion reaches the canonical deletion API
//! without a human and without the sender's retries.
//!
//! - **While the sender waits**, one attempt within `upstream_timeout_ms` (`deliver`). A
//!   confirmation or a verdict is answered as it is. Anything else — a 5xx, a timeout, a refused
//!   connection, a 429, a 3xx, a 2xx that is not a canonical response — queues the delivery in
//!   the key-value store (`outbox`) and answers the source's success status with `"status":
//!   "queued"`. A sender's retry while it is queued gets the same answer and writes nothing.
//!   Only when nothing durable can be written does the sender get its source's "not now"
//!   status (`tombstone_core::sources::RetryContract`).
//! - **While the upstream is known to be down** (the circuit: [`crate::model::circuit::CircuitState`]), a
//!   delivery is queued without an attempt, so an outage costs no sender a timeout.
//! - **The dispatcher** (`dispatch`) attempts queued deliveries on the retry schedule
//!   (`retry_schedule_seconds`, jittered, at least the upstream's `Retry-After`), one
//!   dispatcher per attempt (a lease on the claims' atomic increment). A confirmation delivers;
//!   410, a verdict, an exhausted schedule or a key the upstream would no longer honour make a
//!   dead letter, kept `dead_letter_retention_seconds`. `tombstone serve` runs it every second;
//!   on Spin the component runs it after answering a request ([`crate::after_response`]); a cron
//!   may call `POST /api/v1/deliveries/dispatch`.
//! - **An operator** reads, lists, replays and forgets deliveries (`admin`).

pub(crate) mod admin;
pub(crate) mod dispatch;
pub(crate) mod outbox;
pub mod policy;

use tombstone_core::canonical::DeletionStatus;
use tombstone_core::idempotency::{decide, Decision, Fingerprint, IdempotencyRecord};
use tombstone_core::{Conversion, Timestamp};

use self::policy::Next;
use crate::config::{Config, UpstreamConfig};
use crate::ctx::Ctx;
use crate::http::Response;
use crate::model::circuit::{Admission, CircuitConfig, CircuitState};
use crate::model::delivery::{Attempt, DeadReason, Delivery, DeliveryState};
use crate::model::event::Event;
use crate::relay::{self, Judgement};
use crate::store::keys::{CircuitKey, ProbeKey};
use crate::store::StoreError;

/// Delivers a conversion in relay mode; answers with `status` (the route's success status).
/// `Err` when the delivery could neither be confirmed nor queued: nothing holds it but the
/// sender, which must be told to retry.
pub(crate) fn deliver(
    ctx: &Ctx<'_>,
    config: &Config,
    upstream: &UpstreamConfig,
    conversion: &Conversion,
    status: u16,
) -> Result<Response, StoreError> {
    let store = ctx.store;
    let task = &conversion.task_id;
    let fingerprint = Fingerprint::of(&conversion.request);
    // Reads that fail are no reason to refuse: the attempt below needs neither.
    let existing = outbox::load(store, task).unwrap_or(None);
    if let Some(queued) = existing
        .as_ref()
        .filter(|d| d.state == DeliveryState::Queued)
    {
        return Ok(repeat(queued, &fingerprint, status));
    }
    let now = ctx.clock.now();
    let mut circuit = store.get(&CircuitKey).unwrap_or(None).unwrap_or_default();
    let admission = match circuit.admit(now) {
        Admission::Attempt => None,
        Admission::Probe { opened_until } => {
            let won = store.increment(&ProbeKey(opened_until), 1).ok() == Some(1);
            (!won).then_some(opened_until)
        }
        Admission::Wait { until } => Some(until),
    };
    let first_delay = upstream.schedule.delay_ms(0, task).unwrap_or(0);
    if admission.is_some() || !upstream.schedule.tries_at_once() {
        if let Some(delivered) = existing
            .as_ref()
            .filter(|d| d.state == DeliveryState::Delivered)
        {
            return Ok(delivered_again(delivered, status));
        }
        // No attempt now: queued for when the circuit lets one through, or for the schedule's
        // first delay.
        let not_before = admission.unwrap_or(now);
        let next = now.plus_millis(first_delay).unwrap_or(now).max(not_before);
        let mut delivery = existing.unwrap_or_else(|| new_delivery(conversion, fingerprint, now));
        delivery.requeue(0, now, next);
        outbox::insert(store, &mut delivery, now)?;
        ctx.note(Event::DeliveryQueued {
            task_id: task.to_string(),
            next_attempt_at: next,
        });
        return Ok(queued_answer(&delivery, status));
    }
    let body = conversion.request.to_json();
    let request = relay::request(
        upstream,
        conversion.organization_id.as_str(),
        &conversion.idempotency_key,
        &body,
    );
    let judgement = relay::judge(task, ctx.upstream.send(&request), ctx.clock.now());
    let attempt = attempt_of(&judgement, now);
    note_upstream(ctx, &mut circuit, &upstream.circuit, &judgement, now);
    match judgement {
        Judgement::Confirmed { body, .. } => {
            if let Some(mut dead) = existing.filter(|d| d.state == DeliveryState::Dead) {
                // A sender's retry of a dead letter went through: it is delivered now.
                dead.record(attempt.clone());
                dead.deliver(now, serde_json::from_slice(&body).unwrap_or_default());
                let _ = outbox::save(store, &dead);
            }
            note_attempt(ctx, task, &attempt, 1, Some(DeliveryState::Delivered), None);
            Ok(Response::bytes(status, "application/json", body))
        }
        Judgement::Verdict(answer) => {
            // Relayed to the sender, whose delivery it judges: nothing is kept.
            note_attempt(ctx, task, &attempt, 1, None, None);
            Ok(relay::relayed(&answer))
        }
        Judgement::Transient { .. }
            if existing
                .as_ref()
                .is_some_and(|d| d.state == DeliveryState::Delivered) =>
        {
            // The upstream confirmed it before: it has it, whatever it says now.
            let delivered = existing.expect("checked");
            note_attempt(ctx, task, &attempt, 1, Some(DeliveryState::Delivered), None);
            Ok(delivered_again(&delivered, status))
        }
        Judgement::Gone(_) | Judgement::Transient { .. } => {
            let mut delivery =
                existing.unwrap_or_else(|| new_delivery(conversion, fingerprint, now));
            delivery.requeue(0, now, now);
            delivery.record(attempt.clone());
            let next = match &judgement {
                Judgement::Transient {
                    retry_after_seconds,
                    ..
                } => policy::after_failure(
                    &upstream.schedule,
                    0,
                    task,
                    now,
                    *retry_after_seconds,
                    key_expires_at(config, &delivery),
                ),
                _ => Next::Dead(DeadReason::Gone),
            };
            apply(&mut delivery, next, now);
            outbox::insert(store, &mut delivery, now)?;
            note_attempt(
                ctx,
                task,
                &attempt,
                delivery.attempt_count,
                Some(delivery.state),
                delivery.next_attempt_at,
            );
            if let Some(reason) = delivery.dead_reason {
                ctx.note(Event::DeliveryDead {
                    task_id: task.to_string(),
                    reason,
                });
            }
            Ok(queued_answer(&delivery, status))
        }
    }
}

/// A new delivery of a conversion, queued at `now`.
fn new_delivery(conversion: &Conversion, fingerprint: Fingerprint, now: Timestamp) -> Delivery {
    Delivery {
        task_id: conversion.task_id.clone(),
        state: DeliveryState::Queued,
        seq: 0,
        source: conversion.source.name().to_owned(),
        organization_id: conversion.organization_id.to_string(),
        idempotency_key: conversion.idempotency_key.clone(),
        fingerprint,
        body: conversion.request.to_json(),
        answer: conversion.response(DeletionStatus::Queued),
        queued_at: now,
        attempt_count: 0,
        step: 0,
        attempts: Vec::new(),
        next_attempt_at: None,
        dead_reason: None,
        finished_at: None,
        response: None,
        replays: 0,
    }
}

/// When the upstream stops honouring the delivery's key: `idempotency_retention_seconds` after
/// it was received (the upstream's retention; in relay mode this variable names it).
pub(crate) fn key_expires_at(config: &Config, delivery: &Delivery) -> Timestamp {
    let received = delivery.answer.received_at;
    received
        .plus_seconds(config.retention_seconds)
        .unwrap_or(received)
}

/// Applies what follows a failed attempt.
fn apply(delivery: &mut Delivery, next: Next, now: Timestamp) {
    match next {
        Next::RetryAt(at) => {
            delivery.state = DeliveryState::Queued;
            delivery.next_attempt_at = Some(at);
        }
        Next::Dead(reason) => delivery.give_up(now, reason),
    }
}

/// The attempt a judgement records.
fn attempt_of(judgement: &Judgement, at: Timestamp) -> Attempt {
    let (outcome, status) = judgement.outcome();
    Attempt {
        at,
        outcome,
        status,
        detail: judgement.detail(),
    }
}

/// The answer to a sender whose deletion is queued: the source's success status, `queued`.
fn queued_answer(delivery: &Delivery, status: u16) -> Response {
    Response::json(status, &delivery.answer).with_header(
        "location",
        format!("/api/v1/deliveries/{}", delivery.task_id),
    )
}

/// The answer to a sender's retry while its deletion is queued: the first answer, with no
/// write — or 422 when the same key comes with another body (what the upstream would say).
fn repeat(queued: &Delivery, fingerprint: &Fingerprint, status: u16) -> Response {
    let record = IdempotencyRecord {
        fingerprint: queued.fingerprint.clone(),
        response: queued.answer.clone(),
        generation: 0,
        expires_at: i64::MAX,
    };
    match decide(fingerprint, Some(&record), 0, None) {
        Decision::Reuse(problem) => Response::problem(&problem),
        _ => queued_answer(queued, status),
    }
}

/// The answer to a sender's retry of a delivered deletion when the upstream cannot be asked:
/// the upstream's confirmation, as a duplicate.
fn delivered_again(delivered: &Delivery, status: u16) -> Response {
    let mut response = delivered.response.clone().unwrap_or_default();
    if let Some(map) = response.as_object_mut() {
        map.insert("status".into(), serde_json::json!("duplicate"));
    }
    Response::json(status, &response)
}

/// Updates the circuit after an attempt's judgement, writing only when it changes.
pub(crate) fn note_upstream(
    ctx: &Ctx<'_>,
    circuit: &mut CircuitState,
    config: &CircuitConfig,
    judgement: &Judgement,
    now: Timestamp,
) {
    let next = match judgement {
        Judgement::Transient { failure, .. } if failure.counts_against_upstream() => {
            circuit.after_failure(config, now)
        }
        Judgement::Transient { .. } => return,
        _ if circuit.needs_reset() => CircuitState::default(),
        _ => return,
    };
    let (before, after) = (circuit.phase(now), next.phase(now));
    *circuit = next;
    if ctx.store.put(&CircuitKey, circuit).is_ok() && before != after {
        ctx.note(Event::CircuitChanged {
            phase: after,
            failures: circuit.failures,
        });
    }
}

/// Notes one attempt (one log line each, with the task id).
pub(crate) fn note_attempt(
    ctx: &Ctx<'_>,
    task: &tombstone_core::TaskId,
    attempt: &Attempt,
    number: u32,
    state: Option<DeliveryState>,
    next_attempt_at: Option<Timestamp>,
) {
    ctx.note(Event::DeliveryAttempted {
        task_id: task.to_string(),
        attempt: number,
        outcome: attempt.outcome,
        status: attempt.status,
        state,
        next_attempt_at,
    });
}
