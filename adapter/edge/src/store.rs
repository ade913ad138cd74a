//! The key-value operations the service needs: single-key only (Spin 4.0's Redis backend breaks
//! batch `get-many`), plus one atomic increment (`wasi:keyvalue/atomics`).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A storage failure, with a message fit for logs and dead letters (never a stored value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key-value store: {}", self.0)
    }
}

/// The key-value store the service keeps its state in (Spin's default store in production).
pub trait KeyValue {
    /// The value of a key, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets a key.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Adds `delta` to the integer counter at `key` (absent counts as 0) atomically and returns
    /// the new value.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
    /// Every key (for the admin listing of dead letters).
    fn keys(&self) -> Result<Vec<String>, StoreError>;
}

/// An in-memory store, for tests and embedders; counters live beside values, as in Spin.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<BTreeMap<String, Vec<u8>>>,
    counters: Mutex<BTreeMap<String, i64>>,
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

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let mut counters = self.counters.lock().expect("not poisoned");
        let value = counters.entry(key.to_owned()).or_insert(0);
        *value += delta;
        Ok(*value)
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        let values = self.values.lock().expect("not poisoned");
        let counters = self.counters.lock().expect("not poisoned");
        Ok(values.keys().chain(counters.keys()).cloned().collect())
    }
}
