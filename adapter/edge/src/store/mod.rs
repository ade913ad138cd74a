//! The key-value port: the operations the service needs from a store. Single-key only (Spin
//! 4.0's Redis backend breaks batch `get-many`), plus one atomic increment
//! (`wasi:keyvalue/atomics`). Every key the service writes, and the type of its value, is in
//! [`keys`]; the service reads and writes through its typed [`keys::Store`].

pub mod keys;

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A storage failure. Its message (what a client may see) is stable and names no internals; the
/// store's own words are kept for the operator's log ([`StoreError::log_text`]). Never a stored
/// value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be opened or reached, or refused the operation.
    #[error("the key-value store is not available")]
    Unavailable {
        /// What the store said (for logs only: it may name hosts, files or driver internals).
        cause: String,
    },
    /// A stored value is not what its key holds (not JSON of its type, not a counter).
    #[error("key-value store: the value at {key} is not a readable {what}")]
    Corrupt {
        /// The key.
        key: String,
        /// What the key should hold.
        what: &'static str,
    },
}

impl StoreError {
    /// The store could not do it; `cause` is what it said.
    pub fn unavailable(cause: impl Into<String>) -> StoreError {
        StoreError::Unavailable {
            cause: cause.into(),
        }
    }

    /// The failure with the store's own words, for the operator's log.
    pub fn log_text(&self) -> String {
        match self {
            StoreError::Unavailable { cause } => format!("{self}: {cause}"),
            corrupt => corrupt.to_string(),
        }
    }
}

/// The key-value store the service keeps its state in (Spin's default store in production).
pub trait KeyValue {
    /// The value of a key, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets a key.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes a key (absent already: not an error).
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Adds `delta` to the integer counter at `key` (absent counts as 0) atomically and returns
    /// the new value.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
    /// Every key (Spin's `get-keys`). Only the maintenance route lists keys: on a large store
    /// it is a heavy operation.
    fn keys(&self) -> Result<Vec<String>, StoreError>;

    /// One page of the store's keys from `cursor` (`None`: the start), and the cursor of the
    /// next page (`None` after the last): `wasi:keyvalue/store.list-keys`. The cursor is the
    /// store's own (a key, or Redis's `SCAN` cursor). By default, one page of every key.
    fn keys_page(&self, cursor: Option<&str>) -> Result<KeyPage, StoreError> {
        let _ = cursor;
        Ok(KeyPage {
            keys: self.keys()?,
            next: None,
        })
    }
}

/// A page of keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPage {
    /// The keys.
    pub keys: Vec<String>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<String>,
}

/// A counter's value as `get` returns it: 8 little-endian bytes (Spin's SQLite store, ours) or
/// decimal text (Spin's Redis store, which runs `INCRBY`). `None` for anything else.
pub fn decode_counter(bytes: &[u8]) -> Option<i64> {
    let decimal = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        .and_then(|t| t.parse().ok());
    decimal.or_else(|| <[u8; 8]>::try_from(bytes).ok().map(i64::from_le_bytes))
}

/// An in-memory store, for tests and embedders. Counters are values of 8 little-endian bytes,
/// as in Spin's SQLite store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl KeyValue for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.values.lock().expect("not poisoned").get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.values
            .lock()
            .expect("not poisoned")
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.values.lock().expect("not poisoned").remove(key);
        Ok(())
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let mut values = self.values.lock().expect("not poisoned");
        let old = match values.get(key).map(|v| <[u8; 8]>::try_from(v.as_slice())) {
            None => 0,
            Some(Ok(bytes)) => i64::from_le_bytes(bytes),
            Some(Err(_)) => {
                return Err(StoreError::Corrupt {
                    key: key.to_owned(),
                    what: "counter",
                })
            }
        };
        let new = old + delta;
        values.insert(key.to_owned(), new.to_le_bytes().to_vec());
        Ok(new)
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .values
            .lock()
            .expect("not poisoned")
            .keys()
            .cloned()
            .collect())
    }

    fn keys_page(&self, cursor: Option<&str>) -> Result<KeyPage, StoreError> {
        let values = self.values.lock().expect("not poisoned");
        let after = |k: &&String| cursor.is_none_or(|c| k.as_str() > c);
        let keys: Vec<String> = values
            .keys()
            .filter(after)
            .take(MemoryStore::PAGE)
            .cloned()
            .collect();
        let next = (keys.len() == MemoryStore::PAGE)
            .then(|| keys.last().cloned())
            .flatten();
        Ok(KeyPage { keys, next })
    }
}

impl MemoryStore {
    /// Keys in one page of [`KeyValue::keys_page`].
    pub const PAGE: usize = 1_000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_decode_from_either_stores_layout() {
        assert_eq!(decode_counter(&7i64.to_le_bytes()), Some(7));
        assert_eq!(decode_counter(&(-1i64).to_le_bytes()), Some(-1));
        assert_eq!(decode_counter(b"12"), Some(12));
        assert_eq!(decode_counter(b"-3"), Some(-3));
        assert_eq!(decode_counter(b"x"), None);
        assert_eq!(decode_counter(b""), None);
    }

    #[test]
    fn the_memory_store_counts_and_deletes() {
        let kv = MemoryStore::default();
        assert_eq!(kv.increment("n", 1), Ok(1));
        assert_eq!(kv.increment("n", 4), Ok(5));
        kv.set("v", b"text").unwrap();
        assert!(matches!(
            kv.increment("v", 1),
            Err(StoreError::Corrupt {
                what: "counter",
                ..
            })
        ));
        kv.delete("n").unwrap();
        kv.delete("absent").unwrap();
        assert_eq!(kv.keys().unwrap(), ["v"]);
    }
}
