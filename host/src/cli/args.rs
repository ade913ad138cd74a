//! The command line's arguments, as clap reads them.

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "tombstone",
    version,
    about = "Validate and convert invoice-deleted webhooks into canonical deletion requests"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Convert one payload (a file, or - for standard input) into the canonical request.
    Convert(ConvertArgs),
    /// Print the task id of an organization and an idempotency key.
    TaskId {
        /// Organization id (X-Organization-Id).
        #[arg(long)]
        org: String,
        /// Idempotency key, bare or RFC 8941-quoted.
        #[arg(long)]
        key: String,
    },
    /// Print the source a payload is detected as (exit 1 if none).
    Detect {
        /// A file, or - for standard input.
        file: String,
    },
    /// Print an embedded JSON Schema (without NAME: list the names).
    Schema {
        /// A schema's name (`tombstone schema` lists them).
        name: Option<String>,
    },
    /// Print the ingestion service's OpenAPI 3.1 document (what GET /openapi.json serves).
    Openapi,
    /// Run the ingestion service: the Spin component in wasmtime, with Spin's key-value store
    /// (SQLite) and variables, and the playground at /playground/.
    Serve(ServeArgs),
    /// Check the service's variables as `serve` does at start, offline (for CI pipelines): the
    /// defaults, SPIN_VARIABLE_<NAME> and --var. Exit 1 naming the first unusable variable
    /// (never its value); else print every check that is off, and exit 0.
    CheckConfig {
        /// A Spin variable, NAME=VALUE (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
        vars: Vec<(String, String)>,
    },
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: std::net::SocketAddr,
    /// SQLite file of the key-value store (created if absent; same layout as Spin's).
    #[arg(
        long,
        value_name = "FILE.sqlite",
        default_value = ".tombstone/key_value.sqlite"
    )]
    pub kv: std::path::PathBuf,
    /// Keep the key-value store in memory instead (lost on exit).
    #[arg(long, conflicts_with = "kv")]
    pub kv_memory: bool,
    /// Spin's runtime-config file: its `[key_value_store.default]` (type "redis" with a url,
    /// or type "spin" with a path) places the store, as `spin up --runtime-config-file` does.
    #[arg(long, value_name = "FILE.toml", conflicts_with_all = ["kv", "kv_memory"])]
    pub runtime_config: Option<std::path::PathBuf>,
    /// A Spin variable, NAME=VALUE (repeatable; also read from SPIN_VARIABLE_<NAME>).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// The Spin component (default: target/wasm/tombstone_spin.wasm, built by
    /// `cargo run --release -p xtask -- spin`).
    #[arg(long)]
    pub component: Option<std::path::PathBuf>,
    /// Folder served at /playground/ (default: ./www when it exists).
    #[arg(long)]
    pub www: Option<std::path::PathBuf>,
    /// Testing only: make key-value writes to keys with this prefix fail.
    #[arg(long, hide = true)]
    pub fail_writes_to: Option<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics (off unless given).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The request log on stderr: one JSON object per line, or text.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Json)]
    pub log_format: LogFormatArg,
    /// How often relay mode's dispatcher attempts the queued deliveries that are due, with no
    /// request arriving, in milliseconds (0: only after requests, as on Spin).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub dispatch_every_ms: u64,
    /// Sync every SQLite commit before answering, so that every acknowledged write survives a
    /// power loss, as Spin's own SQLite store does (default: every commit survives a killed
    /// process; a power loss may lose the last ones).
    #[arg(long)]
    pub durable: bool,
    /// Open connections at most; past it a new connection is closed at once.
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// After SIGTERM or SIGINT, how long requests in flight may take to finish, in seconds
    /// (new connections are refused at once; then the process exits 0).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub grace: u64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Json,
    Text,
}

/// `NAME=VALUE`.
pub fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))
}

#[derive(clap::Args)]
pub struct ConvertArgs {
    /// Which format the payload is in: auto detects it, or a source's name forces it.
    #[arg(long, default_value = "auto", value_parser = source_names())]
    pub source: String,
    /// Organization id (X-Organization-Id).
    #[arg(long)]
    pub org: String,
    /// Clinic id to use when the payload names none.
    #[arg(long)]
    pub clinic: Option<String>,
    /// The delivery's Idempotency-Key (derived from the payload when absent).
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// When the delivery was received, RFC 3339 (default: now, UTC).
    #[arg(long)]
    pub received_at: Option<String>,
    /// Seconds between received_at and scheduled_for.
    #[arg(long, default_value_t = 0)]
    pub delay: u64,
    /// Which engine runs the adapter.
    #[arg(long, value_enum, default_value_t = Engine::Wasm)]
    pub engine: Engine,
    /// The plugin component (default: $TOMBSTONE_COMPONENT, next to this binary, or target/wasm/).
    #[arg(long)]
    pub component: Option<std::path::PathBuf>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// The payload: a file, or - for standard input.
    pub file: String,
}

/// `auto` and every source's name: the values `--source` takes.
pub fn source_names() -> clap::builder::PossibleValuesParser {
    let names = std::iter::once("auto").chain(tombstone_core::Source::ALL.iter().map(|s| s.name()));
    clap::builder::PossibleValuesParser::new(names)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// tombstone-core, linked into this binary.
    Native,
    /// The WebAssembly component plugin, in wasmtime.
    Wasm,
}
