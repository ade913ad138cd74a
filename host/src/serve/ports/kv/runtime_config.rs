//! Spin's runtime-config file, the part that places key-value stores (`spin up
//! --runtime-config-file`), read as Spin 4.0.2 reads it (`crates/factor-key-value`,
//! `crates/key-value-spin`, `crates/key-value-redis`), so one file configures both hosts:
//!
//! ```toml
//! [key_value_store.default]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"   # or rediss://, verified against the system's roots
//! prefix = "tombstone:"            # tombstone serve only (Spin ignores it): every key under it
//!
//! [key_value_store.default]    # or: SQLite, in Spin's table layout
//! type = "spin"
//! path = "data/kv.sqlite"      # relative to this file; no path: in memory
//! ```
//!
//! As in Spin, fields a store type does not know are ignored, and an unknown store type is an
//! error. Other top-level tables (variables providers, TLS, …) configure what `tombstone serve`
//! does not provide: they are reported and ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::Deserialize;

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// SQLite at this file.
    SqliteFile(PathBuf),
    /// SQLite in memory.
    SqliteMemory,
    /// Redis at this URL, its keys under this prefix (empty: as given).
    Redis {
        /// `redis://…` or `rediss://…`.
        url: String,
        /// Put before every key.
        prefix: String,
    },
}

#[derive(Deserialize)]
struct RuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, StoreConfig>,
    #[serde(flatten)]
    other: toml::Table,
}

#[derive(Deserialize)]
struct StoreConfig {
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    config: toml::Table,
}

#[derive(Deserialize)]
struct SpinStore {
    path: Option<PathBuf>,
}

#[derive(Deserialize)]
struct RedisStore {
    url: String,
    /// `tombstone serve` only: Spin 4.0.2 ignores it (as it ignores every field it does not
    /// know), so give Spin a database of its own instead (`redis://host:6379/3`).
    #[serde(default)]
    prefix: String,
}

/// The stores a runtime-config file places, by label, and the top-level tables it holds that
/// `tombstone serve` ignores.
pub fn read(file: &Path) -> anyhow::Result<(BTreeMap<String, StoreLocation>, Vec<String>)> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the runtime config {}", file.display()))?;
    parse(&text, file.parent().unwrap_or(Path::new("")))
        .with_context(|| format!("runtime config {}", file.display()))
}

/// Parses a runtime config whose relative paths are relative to `dir`.
pub fn parse(
    text: &str,
    dir: &Path,
) -> anyhow::Result<(BTreeMap<String, StoreLocation>, Vec<String>)> {
    let config: RuntimeConfig = toml::from_str(text)?;
    let mut stores = BTreeMap::new();
    for (label, store) in config.key_value_store {
        let what = || format!("could not configure key-value store with label '{label}'");
        let location = match store.kind.as_str() {
            "spin" => {
                let spin: SpinStore = store.config.try_into().with_context(what)?;
                match spin.path {
                    Some(path) if path.is_absolute() => StoreLocation::SqliteFile(path),
                    Some(path) => StoreLocation::SqliteFile(dir.join(path)),
                    None => StoreLocation::SqliteMemory,
                }
            }
            "redis" => {
                let redis: RedisStore = store.config.try_into().with_context(what)?;
                StoreLocation::Redis {
                    url: redis.url,
                    prefix: redis.prefix,
                }
            }
            other => bail!(
                "the store type '{other}' (label '{label}') is not one tombstone serve provides \
                 (spin, redis)"
            ),
        };
        stores.insert(label, location);
    }
    Ok((stores, config.other.keys().cloned().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_and_spin_stores_as_spin_reads_them() {
        let (stores, ignored) = parse(
            r#"
            [key_value_store.default]
            type = "redis"
            url = "redis://127.0.0.1:6379"
            some_future_option = true

            [key_value_store.local]
            type = "spin"
            path = "data/kv.sqlite"

            [key_value_store.scratch]
            type = "spin"

            [[client_tls]]
            component_ids = ["x"]
            "#,
            Path::new("/etc/app"),
        )
        .unwrap();
        assert_eq!(
            stores["default"],
            StoreLocation::Redis {
                url: "redis://127.0.0.1:6379".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            stores["local"],
            StoreLocation::SqliteFile("/etc/app/data/kv.sqlite".into())
        );
        assert_eq!(stores["scratch"], StoreLocation::SqliteMemory);
        assert_eq!(ignored, ["client_tls"]);
    }

    #[test]
    fn unknown_types_and_missing_fields_are_errors() {
        let e = parse(
            "[key_value_store.default]\ntype = \"azure_cosmos\"\n",
            Path::new(""),
        )
        .unwrap_err();
        assert!(e.to_string().contains("azure_cosmos"), "{e}");
        let e = parse(
            "[key_value_store.default]\ntype = \"redis\"\n",
            Path::new(""),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("missing field `url`"), "{e:#}");
    }

    #[test]
    fn the_projects_own_runtime_config_parses() {
        let file = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../runtime-config.toml"
        ));
        let (stores, ignored) = read(file).unwrap();
        assert!(matches!(stores["default"], StoreLocation::Redis { .. }));
        assert!(ignored.is_empty());
    }
}
