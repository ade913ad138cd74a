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

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let mut values = self.values.lock().expect("not poisoned");
        let old = match values.get(key).map(|v| <[u8; 8]>::try_from(v.as_slice())) {
            None => 0,
            Some(Ok(bytes)) => i64::from_le_bytes(bytes),
            Some(Err(_)) => return Err(StoreError("the value is not a counter".into())),
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
}
