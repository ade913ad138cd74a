//! Store mode: schedule a conversion exactly once per organization + key in the key-value store,
//! following `tombstone_core::idempotency` (the decision is pure; this module does its I/O).
//!
//! Key-value operations per delivery: a new deletion costs two writes — one atomic increment (its
//! claim) and one `set` (the task, which is also its idempotency record) — and three reads; a
//! duplicate costs one read and no write.

use serde::{Deserialize, Serialize};
use tombstone_core::canonical::DeletionStatus;
use tombstone_core::idempotency::{
    claim_count, claim_minute, decide, Decision, Fingerprint, IdempotencyRecord,
};
use tombstone_core::{Conversion, Problem, TaskId, Timestamp};

use crate::config::Config;
use crate::events::Event;
use crate::http::Response;
use crate::store::keys::{ArchivedTaskKey, ClaimKey, Store, TaskKey};
use crate::store::StoreError;
use crate::Ctx;

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

/// Schedules a conversion once per organization + key; answers with `status` (the route's
/// success status) on success. `Err` is a storage failure after which nothing was scheduled.
pub(crate) fn schedule(
    ctx: &Ctx<'_>,
    config: &Config,
    now: Timestamp,
    conversion: &Conversion,
    status: u16,
) -> Result<Response, StoreError> {
    let store = ctx.store;
    let task_id = &conversion.task_id;
    let fingerprint = Fingerprint::of(&conversion.request);
    let now_s = now.unix_seconds();
    let stored = store.get(&TaskKey(task_id))?;
    let record = stored.as_ref().map(|s| &s.record);
    let generation = match decide(&fingerprint, record, now_s, None) {
        Decision::Claim { generation } => generation,
        other => return Ok(answer(other, status, task_id)),
    };
    let claim = ClaimKey {
        task: task_id,
        generation,
        minute: claim_minute(now_s),
    };
    let count = claim_count_of(ctx, &claim)?;
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
            // The expired record of an earlier generation is a task that was accepted: keep it
            // before its key is reused.
            let archived = match &stored {
                Some(old) => store.put(
                    &ArchivedTaskKey {
                        task: task_id,
                        generation: old.record.generation,
                    },
                    old,
                ),
                None => Ok(()),
            };
            match archived.and_then(|()| store.put(&TaskKey(task_id), &task)) {
                Ok(()) => Ok(Response::json(status, &response)
                    .with_header("location", format!("/api/v1/tasks/{task_id}"))),
                Err(e) => {
                    // Give the claim back so the provider's retry can schedule it.
                    give_back(ctx, &claim);
                    Err(e)
                }
            }
        }
        Decision::Conflict(problem) => {
            give_back(ctx, &claim);
            // The first delivery may have finished meanwhile: then this one is its duplicate.
            Ok(match store.get(&TaskKey(task_id)) {
                Ok(Some(done)) => match decide(&fingerprint, Some(&done.record), now_s, None) {
                    Decision::Claim { .. } => conflict(problem),
                    other => answer(other, status, task_id),
                },
                _ => conflict(problem),
            })
        }
        other => Ok(answer(other, status, task_id)),
    }
}

/// Takes this minute's claim and, when that alone was free, reads the neighbouring minutes'
/// (plain reads: an absent counter is 0, and reading writes nothing). On an error the claim is
/// not held.
fn claim_count_of(ctx: &Ctx<'_>, claim: &ClaimKey<'_>) -> Result<i64, StoreError> {
    let store = ctx.store;
    let own = store.increment(claim, 1)?;
    if own != 1 {
        return Ok(own);
    }
    let before = store.counter(&claim.at_minute(claim.minute - 1));
    let after = store.counter(&claim.at_minute(claim.minute + 1));
    match (before, after) {
        (Ok(before), Ok(after)) => Ok(claim_count(own, [before, after])),
        (Err(e), _) | (_, Err(e)) => {
            give_back(ctx, claim);
            Err(e)
        }
    }
}

/// Gives a claim back. A failed give-back leaves the key answering 409 until the claim's
/// minutes have passed (at most two): it is reported, not hidden.
fn give_back(ctx: &Ctx<'_>, claim: &ClaimKey<'_>) {
    if let Err(error) = ctx.store.increment(claim, -1) {
        ctx.note(Event::RollbackFailed {
            key: claim.to_string(),
            error: error.to_string(),
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
