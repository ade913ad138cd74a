//! Every key the service writes, each bound to the type of its value (the pattern of Svix's
//! `kv_backend`): a key type knows its place in the store and what it holds, so no other module
//! formats a key or decodes a value by hand.
//!
//! | key | holds |
//! |---|---|
//! | `task/<task_id>` | [`StoredTask`]: the idempotency record and the scheduled task |
//! | `task/<task_id>/<generation>` | [`StoredTask`]: an expired generation, archived before its key was reused |
//! | `claim/<task_id>/<generation>/<minute>` | counter: the claims taken in that minute |
//! | `delivery/<task_id>` | [`Delivery`]: a deletion relay mode took over (queued, delivered or dead) |
//! | `deliveries/last-seq` | counter: the last number of the queue's index handed out |
//! | `deliveries/seq/<n>` | [`IndexEntry`]: the queue's index, in the order deliveries were queued |
//! | `deliveries/head` | [`Head`]: no delivery below it is still queued |
//! | `deliveries/cursor` | number: where the next dispatch continues its scan |
//! | `deliveries/next-due` | time: the earliest next attempt (a hint; dispatch is idle before it) |
//! | `deliveries/lease/<task_id>/<attempt>/<minute>` | counter: the dispatcher making that attempt |
//! | `deliveries/drain/<second>` | counter: the dispatch running in that second |
//! | `upstream/circuit` | [`CircuitState`]: the upstream's health, shared by every instance |
//! | `upstream/circuit/probe/<until>` | counter: the attempt probing a half-open circuit |
//! | `healthz` | never written: `/healthz` reads it to see that the store answers |
//!
//! Each key type also parses its own keys back, for the maintenance route, the only code that
//! lists keys.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tombstone_core::TaskId;

use super::{decode_counter, KeyValue, StoreError};
use crate::model::circuit::CircuitState;
use crate::model::delivery::{Delivery, Head, IndexEntry};
use crate::model::task::StoredTask;
use tombstone_core::Timestamp;

/// A key whose value is JSON of one type.
pub trait JsonKey: fmt::Display {
    /// What the key holds.
    type Value: Serialize + DeserializeOwned;
    /// Its name in error messages.
    const WHAT: &'static str;
}

/// A key holding an integer counter, changed only by atomic increments.
pub trait CounterKey: fmt::Display {}

/// The task (and idempotency record) of a task id.
pub struct TaskKey<'a>(pub &'a TaskId);

impl fmt::Display for TaskKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task/{}", self.0)
    }
}

impl TaskKey<'_> {
    /// The task id of a `task/<id>` key.
    pub fn parse(key: &str) -> Option<TaskId> {
        TaskId::parse(key.strip_prefix("task/")?)
    }
}

impl JsonKey for TaskKey<'_> {
    type Value = StoredTask;
    const WHAT: &'static str = "task";
}

/// An expired generation of a task, kept when its key was reused.
pub struct ArchivedTaskKey<'a> {
    /// The task id.
    pub task: &'a TaskId,
    /// The generation that expired.
    pub generation: u64,
}

impl fmt::Display for ArchivedTaskKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task/{}/{}", self.task, self.generation)
    }
}

impl ArchivedTaskKey<'_> {
    /// The task id and generation of a `task/<id>/<generation>` key.
    pub fn parse(key: &str) -> Option<(TaskId, u64)> {
        let (id, generation) = key.strip_prefix("task/")?.split_once('/')?;
        Some((TaskId::parse(id)?, canonical_number(generation)?))
    }
}

impl JsonKey for ArchivedTaskKey<'_> {
    type Value = StoredTask;
    const WHAT: &'static str = "archived task";
}

/// The claims of one generation of a task id, in one minute (see
/// `tombstone_core::idempotency`).
pub struct ClaimKey<'a> {
    /// The task id.
    pub task: &'a TaskId,
    /// The generation being claimed.
    pub generation: u64,
    /// The minute (`tombstone_core::idempotency::claim_minute`).
    pub minute: i64,
}

impl ClaimKey<'_> {
    /// The task id, generation and minute of a `claim/<id>/<generation>/<minute>` key.
    pub fn parse(key: &str) -> Option<(TaskId, u64, i64)> {
        let mut parts = key.strip_prefix("claim/")?.split('/');
        let (id, generation, minute) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let minute_ok = minute
            .parse::<i64>()
            .ok()
            .filter(|m| m.to_string() == minute)?;
        Some((TaskId::parse(id)?, canonical_number(generation)?, minute_ok))
    }

    /// The same claim in another minute.
    pub fn at_minute(&self, minute: i64) -> ClaimKey<'_> {
        ClaimKey {
            task: self.task,
            generation: self.generation,
            minute,
        }
    }
}

impl fmt::Display for ClaimKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "claim/{}/{}/{}", self.task, self.generation, self.minute)
    }
}

impl CounterKey for ClaimKey<'_> {}

/// A delivery relay mode took over.
pub struct DeliveryKey<'a>(pub &'a TaskId);

impl fmt::Display for DeliveryKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delivery/{}", self.0)
    }
}

impl DeliveryKey<'_> {
    /// The task id of a `delivery/<id>` key.
    pub fn parse(key: &str) -> Option<TaskId> {
        TaskId::parse(key.strip_prefix("delivery/")?)
    }
}

impl JsonKey for DeliveryKey<'_> {
    type Value = Delivery;
    const WHAT: &'static str = "delivery";
}

/// The last number of the queue's index handed out.
pub struct LastSeq;

impl fmt::Display for LastSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deliveries/last-seq")
    }
}

impl CounterKey for LastSeq {}

/// Entry `n` of the queue's index.
pub struct IndexKey(pub u64);

impl fmt::Display for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deliveries/seq/{}", self.0)
    }
}

impl IndexKey {
    /// The number of a `deliveries/seq/<n>` key.
    pub fn parse(key: &str) -> Option<u64> {
        canonical_number(key.strip_prefix("deliveries/seq/")?)
    }
}

impl JsonKey for IndexKey {
    type Value = IndexEntry;
    const WHAT: &'static str = "queue index entry";
}

/// The lowest number of the index whose delivery may still be queued.
pub struct HeadKey;

impl fmt::Display for HeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deliveries/head")
    }
}

impl JsonKey for HeadKey {
    type Value = Head;
    const WHAT: &'static str = "queue head";
}

/// Where the next dispatch continues its scan of the index.
pub struct CursorKey;

impl fmt::Display for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deliveries/cursor")
    }
}

impl JsonKey for CursorKey {
    type Value = u64;
    const WHAT: &'static str = "queue cursor";
}

/// The earliest time a queued delivery is due (a hint that lets a dispatch stay idle).
pub struct NextDueKey;

impl fmt::Display for NextDueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deliveries/next-due")
    }
}

impl JsonKey for NextDueKey {
    type Value = Timestamp;
    const WHAT: &'static str = "next due time";
}

/// The lease of one attempt of a delivery, in one minute: the dispatcher that increments it to 1
/// (and finds no lease of the minute before) makes the attempt; the claims' protocol
/// (`tombstone_core::idempotency`), per attempt.
pub struct LeaseKey<'a> {
    /// The delivery.
    pub task: &'a TaskId,
    /// The attempt's number (the delivery's `attempt_count` before it).
    pub attempt: u32,
    /// The minute (`tombstone_core::idempotency::claim_minute`).
    pub minute: i64,
}

impl LeaseKey<'_> {
    /// The same lease in another minute.
    pub fn at_minute(&self, minute: i64) -> LeaseKey<'_> {
        LeaseKey {
            task: self.task,
            attempt: self.attempt,
            minute,
        }
    }

    /// The minute of a `deliveries/lease/<id>/<attempt>/<minute>` key.
    pub fn parse_minute(key: &str) -> Option<i64> {
        let mut parts = key.strip_prefix("deliveries/lease/")?.split('/');
        let (id, attempt, minute) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || TaskId::parse(id).is_none() {
            return None;
        }
        canonical_number(attempt)?;
        minute
            .parse::<i64>()
            .ok()
            .filter(|m| m.to_string() == minute)
    }
}

impl fmt::Display for LeaseKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "deliveries/lease/{}/{}/{}",
            self.task, self.attempt, self.minute
        )
    }
}

impl CounterKey for LeaseKey<'_> {}

/// The dispatch of one second: only the dispatcher that increments it to 1 scans the queue, so
/// that a burst of requests does not start a dispatch each.
pub struct DrainKey(pub i64);

impl fmt::Display for DrainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deliveries/drain/{}", self.0)
    }
}

impl DrainKey {
    /// The second of a `deliveries/drain/<second>` key.
    pub fn parse(key: &str) -> Option<i64> {
        let text = key.strip_prefix("deliveries/drain/")?;
        text.parse::<i64>().ok().filter(|s| s.to_string() == text)
    }
}

impl CounterKey for DrainKey {}

/// The upstream's health, shared by every instance.
pub struct CircuitKey;

impl fmt::Display for CircuitKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("upstream/circuit")
    }
}

impl JsonKey for CircuitKey {
    type Value = CircuitState;
    const WHAT: &'static str = "circuit";
}

/// The probe of a half-open circuit: the attempt that increments it to 1 makes it.
pub struct ProbeKey(pub Timestamp);

impl fmt::Display for ProbeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "upstream/circuit/probe/{}{:03}",
            self.0.unix_seconds(),
            self.0.nanos() / 1_000_000
        )
    }
}

impl ProbeKey {
    /// The Unix second of an `upstream/circuit/probe/<milliseconds>` key.
    pub fn parse_second(key: &str) -> Option<i64> {
        let text = key.strip_prefix("upstream/circuit/probe/")?;
        let millis = text.parse::<i64>().ok().filter(|m| m.to_string() == text)?;
        Some(millis.div_euclid(1000))
    }
}

impl CounterKey for ProbeKey {}

/// A whole number written without leading zeros.
fn canonical_number(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| n.to_string() == text)
}

/// The key `/healthz` reads.
const HEALTH_KEY: &str = "healthz";

/// The service's typed view of a [`KeyValue`] store.
#[derive(Clone, Copy)]
pub struct Store<'a> {
    kv: &'a dyn KeyValue,
}

impl<'a> Store<'a> {
    /// Typed access to `kv`.
    pub fn new(kv: &'a dyn KeyValue) -> Store<'a> {
        Store { kv }
    }

    /// The value at `key`, if any.
    pub fn get<K: JsonKey>(&self, key: &K) -> Result<Option<K::Value>, StoreError> {
        let name = key.to_string();
        match self.kv.get(&name)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|_| StoreError::Corrupt {
                        key: name,
                        what: K::WHAT,
                    })
            }
        }
    }

    /// Stores `value` at `key`.
    pub fn put<K: JsonKey>(&self, key: &K, value: &K::Value) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).expect("stored values always serialize");
        self.kv.set(&key.to_string(), &bytes)
    }

    /// Removes `key`.
    pub fn remove<K: JsonKey>(&self, key: &K) -> Result<(), StoreError> {
        self.kv.delete(&key.to_string())
    }

    /// Adds `delta` to the counter at `key` atomically; the new value.
    pub fn increment<K: CounterKey>(&self, key: &K, delta: i64) -> Result<i64, StoreError> {
        self.kv.increment(&key.to_string(), delta)
    }

    /// Removes the counter at `key`.
    pub fn remove_counter<K: CounterKey>(&self, key: &K) -> Result<(), StoreError> {
        self.kv.delete(&key.to_string())
    }

    /// The counter at `key` (absent: 0), read without writing.
    pub fn counter<K: CounterKey>(&self, key: &K) -> Result<i64, StoreError> {
        let name = key.to_string();
        match self.kv.get(&name)? {
            None => Ok(0),
            Some(bytes) => decode_counter(&bytes).ok_or(StoreError::Corrupt {
                key: name,
                what: "counter",
            }),
        }
    }

    /// One page of the store's keys (only the maintenance route lists keys).
    pub fn keys_page(&self, cursor: Option<&str>) -> Result<super::KeyPage, StoreError> {
        self.kv.keys_page(cursor)
    }

    /// Removes a key found by `Store::keys`.
    pub fn remove_key(&self, key: &str) -> Result<(), StoreError> {
        self.kv.delete(key)
    }

    /// Whether the store answers a read.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.kv.get(HEALTH_KEY).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn keys_are_namespaced_by_task_id_generation_and_minute() {
        let id = tombstone_core::task_id("acme-vet", "k-1").unwrap();
        assert_eq!(TaskKey(&id).to_string(), format!("task/{id}"));
        let archived = ArchivedTaskKey {
            task: &id,
            generation: 2,
        };
        assert_eq!(archived.to_string(), format!("task/{id}/2"));
        let claim = ClaimKey {
            task: &id,
            generation: 0,
            minute: 7,
        };
        assert_eq!(claim.to_string(), format!("claim/{id}/0/7"));
        assert_eq!(claim.at_minute(8).to_string(), format!("claim/{id}/0/8"));
        assert_eq!(DeliveryKey(&id).to_string(), format!("delivery/{id}"));
        assert_eq!(IndexKey(42).to_string(), "deliveries/seq/42");
        assert_eq!(LastSeq.to_string(), "deliveries/last-seq");
        let lease = LeaseKey {
            task: &id,
            attempt: 2,
            minute: 9,
        };
        assert_eq!(lease.to_string(), format!("deliveries/lease/{id}/2/9"));
        assert_eq!(LeaseKey::parse_minute(&lease.to_string()), Some(9));
        assert_eq!(DrainKey(-4).to_string(), "deliveries/drain/-4");
        assert_eq!(DrainKey::parse("deliveries/drain/-4"), Some(-4));
        assert_eq!(IndexKey::parse("deliveries/seq/42"), Some(42));
        assert_eq!(IndexKey::parse("deliveries/seq/042"), None);
    }

    #[test]
    fn keys_parse_back_into_what_they_name() {
        let id = tombstone_core::task_id("acme-vet", "k-1").unwrap();
        assert_eq!(TaskKey::parse(&TaskKey(&id).to_string()), Some(id.clone()));
        let archived = ArchivedTaskKey {
            task: &id,
            generation: 3,
        };
        assert_eq!(
            ArchivedTaskKey::parse(&archived.to_string()),
            Some((id.clone(), 3))
        );
        let claim = ClaimKey {
            task: &id,
            generation: 1,
            minute: -5,
        };
        assert_eq!(
            ClaimKey::parse(&claim.to_string()),
            Some((id.clone(), 1, -5))
        );
        for other in [
            format!("task/{id}/01"),
            format!("claim/{id}/0"),
            format!("claim/{id}/0/1/2"),
            format!("claim/{id}/0/007"),
            "task/not-an-id".to_owned(),
            format!("delivery/{id}"),
        ] {
            assert_eq!(TaskKey::parse(&other), None, "{other}");
            assert_eq!(ArchivedTaskKey::parse(&other), None, "{other}");
            assert_eq!(ClaimKey::parse(&other), None, "{other}");
        }
    }

    #[test]
    fn unreadable_values_name_their_key_and_never_their_value() {
        let kv = MemoryStore::default();
        let id = tombstone_core::task_id("acme-vet", "k-1").unwrap();
        kv.set(&format!("task/{id}"), b"secret-invoice-data")
            .unwrap();
        let store = Store::new(&kv);
        let error = store.get(&TaskKey(&id)).unwrap_err();
        assert_eq!(
            error,
            StoreError::Corrupt {
                key: format!("task/{id}"),
                what: "task"
            }
        );
        assert!(!error.to_string().contains("secret"));
        kv.set("deliveries/last-seq", b"not a counter").unwrap();
        assert!(store.counter(&LastSeq).is_err());
        kv.delete("deliveries/last-seq").unwrap();
        assert_eq!(store.counter(&LastSeq), Ok(0));
        assert_eq!(store.increment(&LastSeq, 1), Ok(1));
        assert_eq!(store.counter(&LastSeq), Ok(1));
    }
}
