//! SQLite (bundled), in the same table layout as Spin's own default store (`crates/key-value-spin`:
//! `spin_key_value(store, key, value)`, counters as 8-byte little-endian integers), on a file so
//! nothing is lost across restarts, or in memory.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use super::error::KvError;

/// What a commit survives.
///
/// | | a killed process | a power loss (or an OS crash) |
/// |---|---|---|
/// | [`Durability::Process`] (WAL, `synchronous=NORMAL`; the default) | every commit | may lose the last commits before the WAL's next sync (never corrupts) |
/// | [`Durability::PowerLoss`] (WAL, `synchronous=FULL`; `serve --durable`) | every commit | every commit: each is synced before it is acknowledged, as Spin's own SQLite store does |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Survives a killed process.
    #[default]
    Process,
    /// Survives a power loss: a full sync per commit.
    PowerLoss,
}

/// One connection shared by every request, behind a mutex: operations run one at a time, each
/// one statement or one transaction, so concurrent requests see each other's writes atomically.
/// (WAL mode does not add concurrency here; it makes each commit cheaper.)
#[derive(Clone)]
pub struct Sqlite {
    connection: Arc<Mutex<Connection>>,
}

type KvResult<T> = Result<T, KvError>;

impl Sqlite {
    /// Opens (creating if needed) the database at `path`, its commits as durable as
    /// [`Durability::Process`].
    pub fn open(path: &Path) -> anyhow::Result<Sqlite> {
        Sqlite::open_with(path, Durability::Process)
    }

    /// Opens (creating if needed) the database at `path`, its commits as durable as `durability`.
    pub fn open_with(path: &Path, durability: Durability) -> anyhow::Result<Sqlite> {
        let connection = Connection::open(path)?;
        // WAL: a commit appends to the log. NORMAL syncs at checkpoints only; FULL syncs every
        // commit before it returns.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        let synchronous = match durability {
            Durability::Process => "NORMAL",
            Durability::PowerLoss => "FULL",
        };
        connection.pragma_update(None, "synchronous", synchronous)?;
        Sqlite::init(connection)
    }

    /// A store that lives as long as the process.
    pub fn in_memory() -> anyhow::Result<Sqlite> {
        Sqlite::init(Connection::open_in_memory()?)
    }

    fn init(connection: Connection) -> anyhow::Result<Sqlite> {
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
            [],
        )?;
        Ok(Sqlite {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> KvResult<T> {
        let mut connection = self.connection.lock().map_err(|_| KvError::Poisoned)?;
        Ok(f(&mut connection)?)
    }

    /// The value of a key.
    pub fn get(&self, store: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.with(|c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()
        })
    }

    /// Sets a key.
    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> KvResult<()> {
        self.with(|c| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])
            .map(drop)
        })
    }

    /// Deletes a key.
    pub fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        self.with(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![store, key])
                .map(drop)
        })
    }

    /// Every key of a store, sorted.
    pub fn keys(&self, store: &str) -> KvResult<Vec<String>> {
        self.with(|c| {
            let mut statement =
                c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
            let keys = statement.query_map(params![store], |row| row.get(0))?;
            keys.collect()
        })
    }

    /// At most `limit` keys after `cursor`, in key order; the last one is the next cursor when
    /// there may be more.
    pub fn keys_page(
        &self,
        store: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> KvResult<(Vec<String>, Option<String>)> {
        let keys: Vec<String> = self.with(|c| {
            let mut statement = c.prepare_cached(
                "SELECT key FROM spin_key_value WHERE store = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
            )?;
            let keys = statement.query_map(
                params![store, cursor.unwrap_or(""), limit as i64],
                |row| row.get(0),
            )?;
            keys.collect()
        })?;
        let next = (keys.len() == limit)
            .then(|| keys.last().cloned())
            .flatten();
        Ok((keys, next))
    }

    /// Adds `delta` to the counter at `key` (absent = 0) in one transaction; the new value.
    pub fn increment(&self, store: &str, key: &str, delta: i64) -> KvResult<i64> {
        let counter = self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let old: Option<Vec<u8>> = tx
                .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()?;
            let old = match old.map(<[u8; 8]>::try_from) {
                None => Some(0),
                Some(Ok(bytes)) => Some(i64::from_le_bytes(bytes)),
                Some(Err(_)) => None,
            };
            let Some(new) = old.and_then(|o| o.checked_add(delta)) else {
                return Ok(None);
            };
            tx.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, new.to_le_bytes().to_vec()])?;
            tx.commit()?;
            Ok(Some(new))
        })?;
        counter.ok_or_else(|| KvError::NotACounter(key.to_owned()))
    }

    /// Sets `key` to `new` only if it still holds `old` (`None`: absent); whether it did.
    pub fn compare_and_swap(
        &self,
        store: &str,
        key: &str,
        old: Option<&[u8]>,
        new: &[u8],
    ) -> KvResult<bool> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let current: Option<Vec<u8>> = tx
                .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()?;
            if current.as_deref() != old {
                return Ok(false);
            }
            tx.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, new])?;
            tx.commit()?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_commits_sync_every_write_and_the_default_syncs_at_checkpoints() {
        let dir = std::env::temp_dir().join(format!("tombstone-durable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (durability, synchronous) in [(Durability::Process, 1), (Durability::PowerLoss, 2)] {
            let kv =
                Sqlite::open_with(&dir.join(format!("{durability:?}.sqlite")), durability).unwrap();
            let (journal, sync): (String, i64) = kv
                .with(|c| {
                    let journal = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                    let sync = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                    Ok((journal, sync))
                })
                .unwrap();
            assert_eq!(
                (journal.as_str(), sync),
                ("wal", synchronous),
                "{durability:?}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn values_counters_and_swaps() {
        let kv = Sqlite::in_memory().unwrap();
        assert_eq!(kv.get("default", "a").unwrap(), None);
        kv.set("default", "a", b"1").unwrap();
        assert_eq!(kv.get("default", "a").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(kv.get("other", "a").unwrap(), None);
        assert_eq!(kv.increment("default", "n", 1).unwrap(), 1);
        assert_eq!(kv.increment("default", "n", 5).unwrap(), 6);
        assert_eq!(kv.increment("default", "n", -6).unwrap(), 0);
        assert!(kv.increment("default", "a", 1).is_err(), "not a counter");
        assert!(!kv.compare_and_swap("default", "a", None, b"2").unwrap());
        assert!(kv
            .compare_and_swap("default", "a", Some(b"1"), b"2")
            .unwrap());
        assert!(kv.compare_and_swap("default", "b", None, b"x").unwrap());
        assert_eq!(kv.keys("default").unwrap(), ["a", "b", "n"]);
        kv.delete("default", "a").unwrap();
        assert_eq!(kv.keys("default").unwrap(), ["b", "n"]);
    }

    #[test]
    fn concurrent_increments_are_atomic() {
        let dir = std::env::temp_dir().join(format!("tombstone-kv-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let kv = Sqlite::open(&dir).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let kv = kv.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| kv.increment("default", "n", 1).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen: Vec<i64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (1..=400).collect::<Vec<_>>(),
            "each count handed out once"
        );
        let _ = std::fs::remove_file(&dir);
    }
}
