//! What can go wrong in a key-value store.

use std::time::Duration;

/// A storage failure. Its text reaches the component as `error::other` (Spin's `Other(String)`).
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Redis failed or is unreachable.
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// An increment of a value that is not an 8-byte counter, or past `i64`.
    #[error("the value at {0} is not a 64-bit counter, or would overflow")]
    NotACounter(String),
    /// A thread panicked while it held the SQLite connection.
    #[error("the store's lock was poisoned")]
    Poisoned,
    /// `--fail-writes-to` (tests only).
    #[error("injected write failure (--fail-writes-to)")]
    Injected,
}

/// What a store operation gives.
pub type KvResult<T> = Result<T, KvError>;
