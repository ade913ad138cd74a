//! Redis, as Spin 4.0.2's `key-value-redis` uses it: keys as given (no prefix per store label),
//! values as raw bytes, `GET`/`SET`/`DEL`/`EXISTS`, `KEYS *` to list, `INCRBY` for the atomic
//! increment (so a counter reads back as decimal text), and compare-and-swap as
//! `WATCH`/`GET`/`MULTI`/`SET`/`EXEC` on a connection of its own. One difference, on purpose:
//! an aborted `EXEC` is reported as a failed swap (Spin 4.0.2 reports every swap as failed).
//!
//! One multiplexed connection, managed by redis-rs's `ConnectionManager`, which reconnects in
//! the background after Redis restarts. Every command has a deadline, so a Redis that is down or
//! stalled is an error within seconds — the component answers 503 with `Retry-After` and the
//! provider retries — never a hung request and never a lost acknowledgement.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, Cmd, FromRedisValue};

use super::KvError;

/// The longest one command may take, reconnection included.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(2);

/// A Redis store.
#[derive(Clone)]
pub struct Redis {
    client: Client,
    manager: ConnectionManager,
}

type KvResult<T> = Result<T, KvError>;

impl Redis {
    /// A store at `url` (`redis://host:port[/db]`, `rediss://…`, `unix://…`). Connects lazily:
    /// a Redis that is down at start only fails requests until it is up.
    pub fn connect(url: &str) -> anyhow::Result<Redis> {
        let client = Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Redis { client, manager })
    }

    async fn run<T: FromRedisValue>(&self, cmd: Cmd) -> KvResult<T> {
        let mut connection = self.manager.clone();
        match tokio::time::timeout(COMMAND_DEADLINE, cmd.query_async(&mut connection)).await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(KvError::Timeout(COMMAND_DEADLINE)),
        }
    }

    /// `GET`.
    pub async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.run(redis::cmd("GET").arg(key).clone()).await
    }

    /// `SET`.
    pub async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.run(redis::cmd("SET").arg(key).arg(value).clone())
            .await
    }

    /// `DEL`.
    pub async fn delete(&self, key: &str) -> KvResult<()> {
        self.run::<i64>(redis::cmd("DEL").arg(key).clone())
            .await
            .map(drop)
    }

    /// `EXISTS`.
    pub async fn exists(&self, key: &str) -> KvResult<bool> {
        self.run(redis::cmd("EXISTS").arg(key).clone()).await
    }

    /// `KEYS *` (as Spin's `get-keys` does).
    pub async fn keys(&self) -> KvResult<Vec<String>> {
        self.run(redis::cmd("KEYS").arg("*").clone()).await
    }

    /// `INCRBY`.
    pub async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        self.run(redis::cmd("INCRBY").arg(key).arg(delta).clone())
            .await
    }

    /// Sets `key` to `new` if it still holds `old` (`None`: absent), with `WATCH` on a
    /// connection of its own; whether it did.
    pub async fn compare_and_swap(
        &self,
        key: &str,
        old: Option<&[u8]>,
        new: &[u8],
    ) -> KvResult<bool> {
        let swap = async {
            let mut connection = self.client.get_multiplexed_async_connection().await?;
            redis::cmd("WATCH")
                .arg(key)
                .exec_async(&mut connection)
                .await?;
            let current: Option<Vec<u8>> = connection.get(key).await?;
            if current.as_deref() != old {
                redis::cmd("UNWATCH").exec_async(&mut connection).await?;
                return Ok(false);
            }
            // `EXEC` answers nil when a watched key changed: the swap did not happen.
            let done: Option<()> = redis::pipe()
                .atomic()
                .set(key, new)
                .ignore()
                .query_async(&mut connection)
                .await?;
            Ok::<bool, redis::RedisError>(done.is_some())
        };
        match tokio::time::timeout(COMMAND_DEADLINE, swap).await {
            Ok(done) => Ok(done?),
            Err(_) => Err(KvError::Timeout(COMMAND_DEADLINE)),
        }
    }
}
