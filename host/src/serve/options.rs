//! What `tombstone serve` is told: where to listen, which component, which store, the
//! variables, and its limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::ports::kv::runtime_config::StoreLocation;
use super::ports::kv::sqlite::Durability;

/// File name of the Spin component (`cargo run --release -p xtask -- spin` writes it to
/// `target/wasm/`).
pub const SPIN_COMPONENT_FILE: &str = "tombstone_spin.wasm";

/// Largest request body the host passes to the component; the component itself reads bodies as
/// streams and stops one byte past its route's limit (the contract's (docs/contract.md) 1 MiB) with a 413 problem, so
/// this only bounds a component that would not.
pub const MAX_REQUEST_BYTES: u64 = 8 << 20;

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port; the chosen address is printed).
    pub listen: SocketAddr,
    /// The Spin component.
    pub component: PathBuf,
    /// The `default` key-value store.
    pub kv: StoreLocation,
    /// `--var NAME=VALUE` overrides.
    pub variables: Vec<(String, String)>,
    /// The playground's folder, served at `/playground/`, if present.
    pub www: Option<PathBuf>,
    /// Fault injection for tests: writes to keys with this prefix fail.
    pub fail_writes_to: Option<String>,
    /// Where `GET /metrics` is served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// How often relay mode's dispatcher runs with no request arriving; `None`: never.
    pub dispatch_every: Option<Duration>,
    /// What a SQLite commit survives.
    pub durability: Durability,
    /// Open connections at most; past it a new one is closed at once.
    pub max_connections: usize,
    /// How long requests in flight may take to finish after SIGTERM or SIGINT.
    pub grace: Duration,
}
