//! `POST /api/v1/maintenance/expire` (admin): what the normal flow cannot remove itself.
//!
//! Every claim counter is removed by the delivery that held it, so after a normal run a
//! deletion leaves its task (and archived generations) only. Two things remain for a periodic
//! call (an operator's cron):
//!
//! - the claim of a delivery whose instance died while holding it: removed once its minute and
//!   the next have passed (it no longer blocks anything then);
//! - tasks older than `task_retention_seconds`, when that is set (default: kept forever), and
//!   whose idempotency record has expired;
//! - relay mode's finished deliveries: a dead letter `dead_letter_retention_seconds` after it was
//!   given up, a delivered one `idempotency_retention_seconds` after it was delivered (the
//!   upstream forgets its key then too); the queue's index entries below its head; the leases of
//!   dispatchers that died holding one.
//!
//! It lists the store's keys a page at a time (`wasi:keyvalue/store.list-keys`; Redis's `SCAN`
//! under `tombstone serve`), one page per call: the answer's `next` is the cursor of the next
//! call (`?cursor=`), `null` after the last page, so a store of a million keys is swept in many
//! short calls. Call it rarely (hourly, daily), each time until `next` is null.

use tombstone_core::idempotency::claim_minute;
use tombstone_core::Timestamp;

use crate::config::Config;
use crate::ctx::Ctx;
use crate::http::Response;
use crate::model::delivery::DeliveryState;
use crate::store::keys::{
    ArchivedTaskKey, ClaimKey, DeliveryKey, DrainKey, HeadKey, IndexKey, LeaseKey, ProbeKey,
    TaskKey,
};
use crate::store::StoreError;

/// What one call removed.
#[derive(Debug, Default, serde::Serialize)]
struct Expired {
    /// The cursor of the next page (`?cursor=`), `None` after the last.
    next: Option<String>,
    keys_scanned: usize,
    claims_removed: usize,
    tasks_removed: usize,
    deliveries_removed: usize,
    index_entries_removed: usize,
    leases_removed: usize,
}

/// Runs one page of the maintenance pass at `now`, from `cursor`.
pub(crate) fn expire(
    ctx: &Ctx<'_>,
    config: &Config,
    now: Timestamp,
    cursor: Option<&str>,
) -> Response {
    match run(ctx, config, now, cursor) {
        Ok(expired) => Response::json(200, &expired),
        Err(e) => Response::unavailable(&e),
    }
}

fn run(
    ctx: &Ctx<'_>,
    config: &Config,
    now: Timestamp,
    cursor: Option<&str>,
) -> Result<Expired, StoreError> {
    let store = ctx.store;
    let minute = claim_minute(now.unix_seconds());
    let head = store.get(&HeadKey)?.unwrap_or_default().seq;
    let page = store.keys_page(cursor)?;
    let mut expired = Expired {
        next: page.next,
        ..Expired::default()
    };
    for key in page.keys {
        expired.keys_scanned += 1;
        if let Some(task) = DeliveryKey::parse(&key) {
            if let Some(delivery) = store.get(&DeliveryKey(&task))? {
                let keep = match delivery.state {
                    DeliveryState::Queued => None,
                    DeliveryState::Dead => Some(config.dead_letter_retention_seconds),
                    DeliveryState::Delivered => Some(config.retention_seconds),
                };
                let finished = delivery.finished_at.map(Timestamp::unix_seconds);
                if let (Some(keep), Some(finished)) = (keep, finished) {
                    if finished + i64::from(keep) <= now.unix_seconds() {
                        store.remove_key(&key)?;
                        expired.deliveries_removed += 1;
                    }
                }
            }
            continue;
        }
        if IndexKey::parse(&key).is_some_and(|n| n < head) {
            store.remove_key(&key)?;
            expired.index_entries_removed += 1;
            continue;
        }
        let stale_lease = LeaseKey::parse_minute(&key).is_some_and(|m| m + 1 < minute)
            || DrainKey::parse(&key).is_some_and(|s| s + 120 < now.unix_seconds())
            || ProbeKey::parse_second(&key).is_some_and(|s| s + 3_600 < now.unix_seconds());
        if stale_lease {
            store.remove_key(&key)?;
            expired.leases_removed += 1;
            continue;
        }
        if let Some((_, _, claimed)) = ClaimKey::parse(&key) {
            // A claim blocks its own minute and the next (and the one before, which is past).
            if claimed + 1 < minute {
                store.remove_key(&key)?;
                expired.claims_removed += 1;
            }
            continue;
        }
        let Some(retention) = config.task_retention_seconds else {
            continue;
        };
        let (task, current) = if let Some(id) = TaskKey::parse(&key) {
            (store.get(&TaskKey(&id))?, true)
        } else if let Some((id, generation)) = ArchivedTaskKey::parse(&key) {
            let archived = ArchivedTaskKey {
                task: &id,
                generation,
            };
            (store.get(&archived)?, false)
        } else {
            continue;
        };
        if let Some(task) = task {
            let received = task.record.response.received_at.unix_seconds();
            // A current task holds its key's idempotency record: while that is live (a
            // replayed dead letter's runs from the replay, not from received_at), removing the
            // task would let the next delivery of the same deletion schedule it again.
            let live = current && task.record.is_live(now.unix_seconds());
            if received + i64::from(retention) <= now.unix_seconds() && !live {
                store.remove_key(&key)?;
                expired.tasks_removed += 1;
            }
        }
    }
    Ok(expired)
}
