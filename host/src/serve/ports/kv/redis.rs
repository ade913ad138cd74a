//! Redis, as Spin 4.0.2's `key-value-redis` uses it: keys as given (no prefix per store label),
//! values as raw bytes, `GET`/`SET`/`DEL`/`EXISTS`, `INCRBY` for the atomic increment (so a
//! counter reads back as decimal text), and compare-and-swap as `WATCH`/`GET`/`MULTI`/`SET`/`EXEC`
//! on a connection of its own. Differences, on purpose:
//!
//! - an aborted `EXEC` is reported as a failed swap (Spin 4.0.2 reports every swap as failed);
//! - keys are listed with `SCAN` in steps (`list-keys` is one step a page), never `KEYS *`,
//!   which blocks a Redis of a million keys;
//! - an optional `prefix` (the runtime config's, which Spin ignores) puts every key under it, so
//!   the service need not own the database;
//! - `rediss://` is verified against the system's roots and `SSL_CERT_FILE`, as outbound HTTPS.
//!
//! One multiplexed connection, managed by redis-rs's `ConnectionManager`, which reconnects in
//! the background after Redis restarts. Every command has a deadline, so a Redis that is down or
//! stalled is an error within seconds — the component answers 503 with `Retry-After` and the
//! provider retries — never a hung request and never a lost acknowledgement.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, Cmd, FromRedisValue};

use super::error::KvError;

/// The longest one command may take, reconnection included.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(2);

/// A Redis store.
#[derive(Clone)]
pub struct Redis {
    client: Client,
    manager: ConnectionManager,
    /// Put before every key (empty: keys as given).
    prefix: std::sync::Arc<str>,
}

/// The URL with its password replaced by `***`: what messages and logs may show.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            let shown = if user_info.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{scheme}://{shown}@{host}")
        }
        None => url.to_owned(),
    }
}

/// `SCAN`'s `MATCH` pattern for keys starting with `prefix` (its glob characters escaped).
fn pattern(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('*');
    out
}

type KvResult<T> = Result<T, KvError>;

impl Redis {
    /// A store at `url` (`redis://host:port[/db]`, `rediss://…`, `unix://…`), its keys under
    /// `prefix`. Connects lazily: a Redis that is down at start only fails requests until it is
    /// up. An error names the URL without its password.
    pub fn connect(url: &str, prefix: &str) -> anyhow::Result<Redis> {
        let client = Client::open(url).map_err(|e| {
            anyhow::anyhow!("{} is not a usable Redis URL ({:?})", redact(url), e.kind())
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Redis {
            client,
            manager,
            prefix: prefix.into(),
        })
    }

    /// The key as stored.
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
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
        self.run(redis::cmd("GET").arg(self.key(key)).clone()).await
    }

    /// `SET`.
    pub async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.run(redis::cmd("SET").arg(self.key(key)).arg(value).clone())
            .await
    }

    /// `DEL`.
    pub async fn delete(&self, key: &str) -> KvResult<()> {
        self.run::<i64>(redis::cmd("DEL").arg(self.key(key)).clone())
            .await
            .map(drop)
    }

    /// `EXISTS`.
    pub async fn exists(&self, key: &str) -> KvResult<bool> {
        self.run(redis::cmd("EXISTS").arg(self.key(key)).clone())
            .await
    }

    /// Every key (Spin's `get-keys`): `SCAN` to its end.
    pub async fn keys(&self) -> KvResult<Vec<String>> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.keys_page(cursor.as_deref(), 1_000).await?;
            keys.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// One `SCAN` step from `cursor` (`None`: the start) of about `count` keys under the prefix
    /// (the prefix taken off); `SCAN`'s next cursor, `None` at the end.
    pub async fn keys_page(
        &self,
        cursor: Option<&str>,
        count: usize,
    ) -> KvResult<(Vec<String>, Option<String>)> {
        let (next, keys): (String, Vec<String>) = self
            .run(
                redis::cmd("SCAN")
                    .arg(cursor.unwrap_or("0"))
                    .arg("MATCH")
                    .arg(pattern(&self.prefix))
                    .arg("COUNT")
                    .arg(count)
                    .clone(),
            )
            .await?;
        let keys = keys
            .into_iter()
            .filter_map(|k| k.strip_prefix(&*self.prefix).map(str::to_owned))
            .collect();
        Ok((keys, (next != "0").then_some(next)))
    }

    /// `INCRBY`.
    pub async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        self.run(redis::cmd("INCRBY").arg(self.key(key)).arg(delta).clone())
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
        let key = self.key(key);
        let key = key.as_str();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_shows_no_password() {
        assert_eq!(
            redact("rediss://default:s3cret@redis.example:6380/2"),
            "rediss://default:***@redis.example:6380/2"
        );
        assert_eq!(
            redact("redis://:s3cret@127.0.0.1:6379"),
            "redis://:***@127.0.0.1:6379"
        );
        assert_eq!(redact("redis://s3cret@host"), "redis://***@host");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        let e = Redis::connect("redis://:s3cret@[not a host", "")
            .err()
            .unwrap();
        assert!(!format!("{e:#}").contains("s3cret"), "{e:#}");
    }

    #[test]
    fn a_prefix_is_matched_literally() {
        assert_eq!(pattern("tomb*stone:"), "tomb\\*stone:*");
        assert_eq!(pattern(""), "*");
    }
}
