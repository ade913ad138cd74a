//! The key-value stores behind `tombstone serve`, as Spin 4 provides them to a component: SQLite
//! in Spin's own layout ([`sqlite`]) or Redis as Spin's Redis store uses it ([`redis`]), chosen
//! by Spin's runtime-config file ([`runtime_config`]).

pub mod error;
pub mod redis;
pub mod runtime_config;
pub mod sqlite;

use std::sync::Arc;

pub use self::error::{KvError, KvResult};
pub use self::redis::Redis;
pub use self::sqlite::Sqlite;

use super::metrics::Metrics;

/// Keys in one page of `wasi:keyvalue/store.list-keys`.
pub const KEYS_PAGE: usize = 1_000;

#[derive(Clone)]
enum Backend {
    Sqlite(Sqlite),
    Redis(Box<Redis>),
}

/// The store every request's component instance uses. Cheap to clone.
#[derive(Clone)]
pub struct Kv {
    backend: Backend,
    description: Arc<str>,
    fail_writes_to: Option<Arc<str>>,
    metrics: Option<Arc<Metrics>>,
}

impl Kv {
    /// A SQLite store, described as `description` in the start-up line.
    pub fn sqlite(store: Sqlite, description: &str) -> Kv {
        Kv {
            backend: Backend::Sqlite(store),
            description: description.into(),
            fail_writes_to: None,
            metrics: None,
        }
    }

    /// A Redis store.
    pub fn redis(store: Redis, description: &str) -> Kv {
        Kv {
            backend: Backend::Redis(Box::new(store)),
            description: description.into(),
            fail_writes_to: None,
            metrics: None,
        }
    }

    /// Fault injection for tests: every write to a key starting with `prefix` fails.
    pub fn fail_writes_to(mut self, prefix: Option<String>) -> Kv {
        self.fail_writes_to = prefix.map(Into::into);
        self
    }

    /// Times every operation into `metrics`, when given.
    pub fn observed(mut self, metrics: Option<Arc<Metrics>>) -> Kv {
        self.metrics = metrics;
        self
    }

    /// Times `operation` into the metrics.
    async fn timed<T>(
        &self,
        operation: &'static str,
        run: impl std::future::Future<Output = KvResult<T>>,
    ) -> KvResult<T> {
        let started = std::time::Instant::now();
        let result = run.await;
        if let Some(metrics) = &self.metrics {
            metrics.kv_operation(operation, result.is_ok(), started.elapsed());
        }
        result
    }

    /// What the store is, for the start-up line.
    pub fn description(&self) -> &str {
        &self.description
    }

    fn check_write(&self, key: &str) -> KvResult<()> {
        match &self.fail_writes_to {
            Some(prefix) if key.starts_with(&**prefix) => Err(KvError::Injected),
            _ => Ok(()),
        }
    }

    /// The value of `key` in the store labelled `store`.
    pub async fn get(&self, store: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.timed("get", async {
            match &self.backend {
                Backend::Sqlite(s) => s.get(store, key),
                Backend::Redis(r) => r.get(key).await,
            }
        })
        .await
    }

    /// Sets a key.
    pub async fn set(&self, store: &str, key: &str, value: &[u8]) -> KvResult<()> {
        self.timed("set", async {
            self.check_write(key)?;
            match &self.backend {
                Backend::Sqlite(s) => s.set(store, key, value),
                Backend::Redis(r) => r.set(key, value).await,
            }
        })
        .await
    }

    /// Deletes a key.
    pub async fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        self.timed("delete", async {
            self.check_write(key)?;
            match &self.backend {
                Backend::Sqlite(s) => s.delete(store, key),
                Backend::Redis(r) => r.delete(key).await,
            }
        })
        .await
    }

    /// Whether a key exists.
    pub async fn exists(&self, store: &str, key: &str) -> KvResult<bool> {
        self.timed("exists", async {
            match &self.backend {
                Backend::Sqlite(s) => s.get(store, key).map(|v| v.is_some()),
                Backend::Redis(r) => r.exists(key).await,
            }
        })
        .await
    }

    /// Every key of a store.
    pub async fn keys(&self, store: &str) -> KvResult<Vec<String>> {
        self.timed("keys", async {
            match &self.backend {
                Backend::Sqlite(s) => s.keys(store),
                Backend::Redis(r) => r.keys().await,
            }
        })
        .await
    }

    /// One page of a store's keys from `cursor` (`None`: the start), and the next page's cursor
    /// (`None` after the last): at most [`KEYS_PAGE`] keys (SQLite: in key order, the cursor a
    /// key; Redis: one `SCAN` step, the cursor `SCAN`'s).
    pub async fn keys_page(
        &self,
        store: &str,
        cursor: Option<&str>,
    ) -> KvResult<(Vec<String>, Option<String>)> {
        self.timed("keys_page", async {
            match &self.backend {
                Backend::Sqlite(s) => s.keys_page(store, cursor, KEYS_PAGE),
                Backend::Redis(r) => r.keys_page(cursor, KEYS_PAGE).await,
            }
        })
        .await
    }

    /// Adds `delta` to the counter at `key` atomically; the new value.
    pub async fn increment(&self, store: &str, key: &str, delta: i64) -> KvResult<i64> {
        self.timed("increment", async {
            self.check_write(key)?;
            match &self.backend {
                Backend::Sqlite(s) => s.increment(store, key, delta),
                Backend::Redis(r) => r.increment(key, delta).await,
            }
        })
        .await
    }

    /// Sets `key` to `new` only if it still holds `old` (`None`: absent); whether it did.
    pub async fn compare_and_swap(
        &self,
        store: &str,
        key: &str,
        old: Option<&[u8]>,
        new: &[u8],
    ) -> KvResult<bool> {
        self.timed("compare_and_swap", async {
            self.check_write(key)?;
            match &self.backend {
                Backend::Sqlite(s) => s.compare_and_swap(store, key, old, new),
                Backend::Redis(r) => r.compare_and_swap(key, old, new).await,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn injected_failures_hit_only_their_prefix() {
        let kv =
            Kv::sqlite(Sqlite::in_memory().unwrap(), "memory").fail_writes_to(Some("task/".into()));
        assert!(matches!(
            kv.set("default", "task/1", b"x").await,
            Err(KvError::Injected)
        ));
        assert!(kv.set("default", "dead-letter/1", b"x").await.is_ok());
        assert!(kv.get("default", "task/1").await.unwrap().is_none());
    }
}
