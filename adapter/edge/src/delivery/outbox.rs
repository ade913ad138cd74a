//! The outbox's key-value I/O: delivery records by task id, and the index that lists them in
//! the order they were queued, so that the dispatcher and the admin listing find them by
//! counting, never by listing the store's keys.
//!
//! Queueing a delivery costs three writes: the increment that hands out its number, the index
//! entry, and the record (and a fourth, rarely, to move the next-due hint earlier). The index
//! entry is written before the record: a scan that finds an entry whose record is missing or
//! older treats it as still being written for a minute ([`FRESH_SECONDS`]), then as abandoned.

use tombstone_core::{TaskId, Timestamp};

use crate::model::delivery::{Delivery, IndexEntry};
use crate::store::keys::{DeliveryKey, IndexKey, LastSeq, NextDueKey, Store};
use crate::store::StoreError;

/// How long an index entry whose record is not (yet) there counts as being written.
pub const FRESH_SECONDS: i64 = 60;

/// The delivery of a task, if any.
pub fn load(store: Store<'_>, task: &TaskId) -> Result<Option<Delivery>, StoreError> {
    store.get(&DeliveryKey(task))
}

/// Stores a delivery under a new number of the index (its `seq`): for a delivery queued or
/// given up for the first time, and for one queued again.
pub fn insert(store: Store<'_>, delivery: &mut Delivery, now: Timestamp) -> Result<(), StoreError> {
    let n = u64::try_from(store.increment(&LastSeq, 1)?).unwrap_or(0);
    store.put(
        &IndexKey(n),
        &IndexEntry {
            task_id: delivery.task_id.clone(),
            at: now,
        },
    )?;
    delivery.seq = n;
    store.put(&DeliveryKey(&delivery.task_id), delivery)?;
    if let Some(next) = delivery.next_attempt_at {
        // A hint: a lost update only delays the attempt to the dispatcher's next idle check.
        let _ = lower_next_due(store, next);
    }
    Ok(())
}

/// Stores a delivery under the number it has.
pub fn save(store: Store<'_>, delivery: &Delivery) -> Result<(), StoreError> {
    store.put(&DeliveryKey(&delivery.task_id), delivery)
}

/// Moves the next-due hint to `at` when that is earlier (one read; a write only then).
pub fn lower_next_due(store: Store<'_>, at: Timestamp) -> Result<(), StoreError> {
    match store.get(&NextDueKey)? {
        Some(due) if due <= at => Ok(()),
        _ => store.put(&NextDueKey, &at),
    }
}

/// What entry `n` of the index stands for.
#[derive(Debug)]
pub enum Slot {
    /// Nothing to do there any more: delivered, dead, forgotten, queued again under a later
    /// number, or abandoned while it was written.
    Done,
    /// Being written: its record is not there yet.
    Writing,
    /// A queued delivery (due or not).
    Queued(Box<Delivery>),
    /// No entry at `n`: its writer has not written it (yet).
    Missing,
}

/// Reads entry `n` of the index and its record, as of `now`. A record that cannot be read (not
/// JSON of its type) is done: it is named by the error the caller notes, and it must not stop
/// the queue behind it.
pub fn slot(
    store: Store<'_>,
    n: u64,
    now: Timestamp,
) -> Result<(Slot, Option<StoreError>), StoreError> {
    let entry = match store.get(&IndexKey(n)) {
        Ok(Some(entry)) => entry,
        Ok(None) => return Ok((Slot::Missing, None)),
        Err(corrupt @ StoreError::Corrupt { .. }) => return Ok((Slot::Done, Some(corrupt))),
        Err(e) => return Err(e),
    };
    let fresh = now.unix_seconds() - entry.at.unix_seconds() < FRESH_SECONDS;
    let record = match load(store, &entry.task_id) {
        Ok(record) => record,
        Err(corrupt @ StoreError::Corrupt { .. }) => return Ok((Slot::Done, Some(corrupt))),
        Err(e) => return Err(e),
    };
    let slot = match record {
        Some(d) if d.seq == n => match d.state {
            crate::model::delivery::DeliveryState::Queued => Slot::Queued(Box::new(d)),
            _ => Slot::Done,
        },
        Some(d) if d.seq > n => Slot::Done,
        _ if fresh => Slot::Writing,
        _ => Slot::Done,
    };
    Ok((slot, None))
}
