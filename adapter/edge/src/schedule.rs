//! Store mode: schedule a conversion exactly once per organization + key in the key-value store,
//! following `tombstone_core::idempotency` (the decision is pure; this module does its I/O).
//!
//! Key-value operations per delivery: a new deletion costs two writes — the atomic increment of
//! its claim and the `set` of the task (which is also its idempotency record) — and four reads; a
//! duplicate costs one read and no write; a delivery that loses the claim costs its increment
//! and a read. The claim counter of a stored task stays: only maintenance removes it, once its
//! minutes have passed (a later delivery that claims the same minute, or the next, loses, and
//! finds the task). A holder that did not store its task removes its counter at once, so that
//! the sender's retry is not refused for the claim's minutes.

use tombstone_core::canonical::DeletionStatus;
use tombstone_core::idempotency::{
    self, claim_count, claim_minute, decide, Decision, Fingerprint, IdempotencyRecord,
};
use tombstone_core::{Conversion, Problem, TaskId, Timestamp};

use crate::config::Config;
use crate::ctx::Ctx;
use crate::http::Response;
use crate::model::event::Event;
use crate::model::task::StoredTask;
use crate::store::keys::{ArchivedTaskKey, ClaimKey, Store, TaskKey};
use crate::store::StoreError;

/// Schedules a conversion once per organization + key; answers with `status` (the route's
/// success status) on success. `Err` is a storage failure after which nothing was scheduled.
pub(crate) fn schedule(
    ctx: &Ctx<'_>,
    config: &Config,
    now: Timestamp,
    conversion: &Conversion,
    status: u16,
) -> Result<Response, StoreError> {
    let task_id = &conversion.task_id;
    let fingerprint = Fingerprint::of(&conversion.request);
    let now_s = now.unix_seconds();
    // 1. A live record answers, with no write.
    let stored = ctx.store.get(&TaskKey(task_id))?;
    let generation = match decide(
        &fingerprint,
        stored.as_ref().map(|s| &s.record),
        now_s,
        None,
    ) {
        Decision::Claim { generation } => generation,
        other => return Ok(answer(other, status, task_id)),
    };
    // 2. Claim this minute.
    let claim = ClaimKey {
        task: task_id,
        generation,
        minute: claim_minute(now_s),
    };
    if ctx.store.increment(&claim, 1)? != 1 {
        // Another delivery holds this minute's claim; it removes the counter when it is done.
        return after_losing(ctx, &fingerprint, now_s, status, task_id);
    }
    // This delivery holds the claim. Having stored its task, it leaves the counter (a write
    // saved: maintenance removes it); without, it gives the claim back at once.
    let outcome = holding(
        ctx,
        config,
        now,
        conversion,
        &fingerprint,
        stored.as_ref(),
        &claim,
        status,
    );
    if !matches!(outcome, Ok((_, Stored::Yes))) {
        release(ctx, &claim);
    }
    outcome.map(|(response, _)| response)
}

/// Whether a claim's holder stored its task.
enum Stored {
    Yes,
    No,
}

/// The rest of a delivery that holds its minute's claim; `stored` is what its first read found
/// (an expired generation, or nothing).
#[allow(clippy::too_many_arguments)]
fn holding(
    ctx: &Ctx<'_>,
    config: &Config,
    now: Timestamp,
    conversion: &Conversion,
    fingerprint: &Fingerprint,
    stored: Option<&StoredTask>,
    claim: &ClaimKey<'_>,
    status: u16,
) -> Result<(Response, Stored), StoreError> {
    let store = ctx.store;
    let task_id = &conversion.task_id;
    let now_s = now.unix_seconds();
    let before = store.counter(&claim.at_minute(claim.minute - 1))?;
    let after = store.counter(&claim.at_minute(claim.minute + 1))?;
    if claim_count(1, [before, after]) != 1 {
        return Ok((
            after_losing(ctx, fingerprint, now_s, status, task_id)?,
            Stored::No,
        ));
    }
    // 3. Alone in three minutes: no delivery stored this generation's task in them (one that
    // did would have left its counter), and one in an earlier minute had stored it before this
    // delivery's first read. So the task is stored without reading it again.
    let generation = claim.generation;
    let response = conversion.response(DeletionStatus::Scheduled);
    let task = StoredTask {
        record: IdempotencyRecord {
            fingerprint: fingerprint.clone(),
            response: response.clone(),
            generation,
            expires_at: now_s + i64::from(config.retention_seconds),
        },
        conversion: conversion.to_value(),
    };
    // The expired record of an earlier generation is a task that was accepted: keep it before
    // its key is reused.
    if let Some(old) = stored {
        store.put(
            &ArchivedTaskKey {
                task: task_id,
                generation: old.record.generation,
            },
            old,
        )?;
    }
    store.put(&TaskKey(task_id), &task)?;
    Ok((
        Response::json(status, &response)
            .with_header("location", format!("/api/v1/tasks/{task_id}")),
        Stored::Yes,
    ))
}

/// A delivery that did not win the claim: the first delivery's answer if it has finished,
/// else 409 (retry shortly).
fn after_losing(
    ctx: &Ctx<'_>,
    fingerprint: &Fingerprint,
    now_s: i64,
    status: u16,
    task_id: &TaskId,
) -> Result<Response, StoreError> {
    let done = ctx.store.get(&TaskKey(task_id))?;
    Ok(
        match decide(fingerprint, done.as_ref().map(|s| &s.record), now_s, None) {
            Decision::Claim { .. } => conflict(idempotency::conflict()),
            other => answer(other, status, task_id),
        },
    )
}

/// Removes a claim this delivery held and did not store a task under. A failed removal leaves the
/// key answering 409 until the claim's minutes have passed (at most two), and the counter until
/// `POST /api/v1/maintenance/expire` removes it: it is reported, not hidden.
fn release(ctx: &Ctx<'_>, claim: &ClaimKey<'_>) {
    if let Err(error) = ctx.store.remove_counter(claim) {
        ctx.note(Event::RollbackFailed {
            key: claim.to_string(),
            error: error.log_text(),
        });
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

/// The stored task of a task id, if any.
pub(crate) fn stored_task(
    store: Store<'_>,
    task_id: &TaskId,
) -> Result<Option<StoredTask>, StoreError> {
    store.get(&TaskKey(task_id))
}
