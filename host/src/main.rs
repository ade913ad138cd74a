//! `tombstone`: convert invoice-deleted webhooks from the command line.
//!
//! Exit codes: 0 converted (stdout: the conversion JSON), 1 rejected input (stdout: the
//! RFC 9457 problem JSON), 2 usage error (stderr).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand, ValueEnum};
use tombstone_core::{convert, schemas, task_id, RawContext, Timestamp};
use tombstone_host::plugin::{self, Plugin};
use tombstone_host::serve;
use tombstone_host::serve::kv::runtime_config::StoreLocation;

#[derive(Parser)]
#[command(
    name = "tombstone",
    version,
    about = "Validate and convert invoice-deleted webhooks into canonical deletion requests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: std::net::SocketAddr,
    /// SQLite file of the key-value store (created if absent; same layout as Spin's).
    #[arg(
        long,
        value_name = "FILE.sqlite",
        default_value = ".tombstone/key_value.sqlite"
    )]
    kv: std::path::PathBuf,
    /// Keep the key-value store in memory instead (lost on exit).
    #[arg(long, conflicts_with = "kv")]
    kv_memory: bool,
    /// Spin's runtime-config file: its `[key_value_store.default]` (type "redis" with a url,
    /// or type "spin" with a path) places the store, as `spin up --runtime-config-file` does.
    #[arg(long, value_name = "FILE.toml", conflicts_with_all = ["kv", "kv_memory"])]
    runtime_config: Option<std::path::PathBuf>,
    /// A Spin variable, NAME=VALUE (repeatable; also read from SPIN_VARIABLE_<NAME>).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// The Spin component (default: target/wasm/tombstone_spin.wasm, built by
    /// `cargo run --release -p xtask -- spin`).
    #[arg(long)]
    component: Option<std::path::PathBuf>,
    /// Folder served at /playground/ (default: ./www when it exists).
    #[arg(long)]
    www: Option<std::path::PathBuf>,
    /// Testing only: make key-value writes to keys with this prefix fail.
    #[arg(long, hide = true)]
    fail_writes_to: Option<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics (off unless given).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<std::net::SocketAddr>,
    /// The request log on stderr: one JSON object per line, or text.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Json)]
    log_format: LogFormatArg,
    /// How often relay mode's dispatcher attempts the queued deliveries that are due, with no
    /// request arriving, in milliseconds (0: only after requests, as on Spin).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    dispatch_every_ms: u64,
    /// Sync every SQLite commit before answering, so that every acknowledged write survives a
    /// power loss, as Spin's own SQLite store does (default: every commit survives a killed
    /// process; a power loss may lose the last ones).
    #[arg(long)]
    durable: bool,
    /// Open connections at most; past it a new connection is closed at once.
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// After SIGTERM or SIGINT, how long requests in flight may take to finish, in seconds
    /// (new connections are refused at once; then the process exits 0).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    grace: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Json,
    Text,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))
}

fn run_serve(args: ServeArgs) -> Result<Outcome, String> {
    let component = match args.component {
        Some(path) => path,
        None => {
            let paths = plugin::beside_the_binary(serve::SPIN_COMPONENT_FILE);
            paths.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
                format!(
                    "the Spin component ({}) was not found; build it with \
                     `cargo run --release -p xtask -- spin`, or pass --component PATH",
                    serve::SPIN_COMPONENT_FILE
                )
            })?
        }
    };
    serve::telemetry::init(match args.log_format {
        LogFormatArg::Json => serve::telemetry::LogFormat::Json,
        LogFormatArg::Text => serve::telemetry::LogFormat::Text,
    });
    let www = args
        .www
        .or_else(|| Some(std::path::PathBuf::from("www")).filter(|p| p.is_dir()));
    let kv = match (&args.runtime_config, args.kv_memory) {
        (Some(file), _) => {
            let (mut stores, ignored) =
                serve::kv::runtime_config::read(file).map_err(|e| format!("{e:#}"))?;
            for table in ignored {
                eprintln!(
                    "tombstone: the runtime config's [{table}] is not used by tombstone serve"
                );
            }
            // Without a `default` entry Spin keeps its own default store: so does this host.
            stores
                .remove("default")
                .unwrap_or(StoreLocation::SqliteFile(args.kv))
        }
        (None, true) => StoreLocation::SqliteMemory,
        (None, false) => StoreLocation::SqliteFile(args.kv),
    };
    serve::run(serve::ServeOptions {
        listen: args.listen,
        component,
        kv,
        variables: args.vars,
        www,
        fail_writes_to: args.fail_writes_to,
        metrics_listen: args.metrics_listen,
        dispatch_every: (args.dispatch_every_ms > 0)
            .then(|| std::time::Duration::from_millis(args.dispatch_every_ms)),
        max_connections: args.max_connections,
        grace: std::time::Duration::from_secs(args.grace),
        durability: if args.durable {
            serve::Durability::PowerLoss
        } else {
            serve::Durability::Process
        },
    })
    .map_err(|e| format!("{e:#}"))?;
    Ok(Outcome::Output(String::new()))
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// Which format the payload is in: auto detects it, or a source's name forces it.
    #[arg(long, default_value = "auto", value_parser = source_names())]
    source: String,
    /// Organization id (X-Organization-Id).
    #[arg(long)]
    org: String,
    /// Clinic id to use when the payload names none.
    #[arg(long)]
    clinic: Option<String>,
    /// The delivery's Idempotency-Key (derived from the payload when absent).
    #[arg(long)]
    idempotency_key: Option<String>,
    /// When the delivery was received, RFC 3339 (default: now, UTC).
    #[arg(long)]
    received_at: Option<String>,
    /// Seconds between received_at and scheduled_for.
    #[arg(long, default_value_t = 0)]
    delay: u64,
    /// Which engine runs the adapter.
    #[arg(long, value_enum, default_value_t = Engine::Wasm)]
    engine: Engine,
    /// The plugin component (default: $TOMBSTONE_COMPONENT, next to this binary, or target/wasm/).
    #[arg(long)]
    component: Option<std::path::PathBuf>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
    /// The payload: a file, or - for standard input.
    file: String,
}

/// `auto` and every source's name: the values `--source` takes.
fn source_names() -> clap::builder::PossibleValuesParser {
    let names = std::iter::once("auto").chain(tombstone_core::Source::ALL.iter().map(|s| s.name()));
    clap::builder::PossibleValuesParser::new(names)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// tombstone-core, linked into this binary.
    Native,
    /// The WebAssembly component plugin, in wasmtime.
    Wasm,
}

/// What the program prints, and how it exits.
enum Outcome {
    Output(String),
    Rejected(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Output(text)) => print(&text, ExitCode::SUCCESS),
        Ok(Outcome::Rejected(text)) => print(&text, ExitCode::from(1)),
        Err(message) => {
            eprintln!("tombstone: {message}");
            ExitCode::from(2)
        }
    }
}

fn print(text: &str, code: ExitCode) -> ExitCode {
    // `serve` prints nothing when it stops: whoever started it may have closed its stdout.
    if text.is_empty() {
        return code;
    }
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(_) => ExitCode::from(2),
    }
}

fn run(cli: Cli) -> Result<Outcome, String> {
    match cli.command {
        Command::Convert(args) => run_convert(args),
        Command::Serve(args) => run_serve(args),
        Command::CheckConfig { vars } => Ok(match serve::checked_variables(&vars) {
            Ok((_, warnings)) => {
                let mut text = String::from("the configuration is usable");
                for warning in warnings {
                    text.push_str(&format!("\nwarning: {warning}"));
                }
                Outcome::Output(text)
            }
            Err(e) => Outcome::Rejected(format!("{e:#}")),
        }),
        Command::TaskId { org, key } => Ok(match task_id(&org, &key) {
            Ok(id) => Outcome::Output(id.to_string()),
            Err(problem) => Outcome::Rejected(problem.to_json()),
        }),
        Command::Detect { file } => {
            let payload = read_input(&file)?;
            Ok(match tombstone_core::detect(&payload) {
                Some(source) => Outcome::Output(source.name().to_owned()),
                None => Outcome::Rejected("unknown".to_owned()),
            })
        }
        Command::Openapi => Ok(Outcome::Output(
            serde_json::to_string_pretty(&tombstone_edge::openapi::document())
                .expect("the document serializes"),
        )),
        Command::Schema { name: None } => Ok(Outcome::Output(schemas::names().join("\n"))),
        Command::Schema { name: Some(name) } => tombstone_core::schema(&name)
            .map(|text| Outcome::Output(text.trim_end().to_owned()))
            .ok_or_else(|| {
                format!(
                    "no schema called {name:?}; the schemas are: {}",
                    schemas::names().join(", ")
                )
            }),
    }
}

fn run_convert(args: ConvertArgs) -> Result<Outcome, String> {
    let payload = read_input(&args.file)?;
    let context = RawContext {
        organization_id: Some(args.org),
        clinic_id: args.clinic,
        idempotency_key: args.idempotency_key,
        source: Some(args.source),
        received_at: Some(args.received_at.unwrap_or_else(now)),
        delay_seconds: Some(args.delay),
    };
    let (converted, json) = match args.engine {
        Engine::Native => match context.parse().and_then(|ctx| convert(&payload, &ctx)) {
            Ok(conversion) => (true, conversion.to_json()),
            Err(problem) => (false, problem.to_json()),
        },
        Engine::Wasm => {
            let path = match args.component {
                Some(path) => path,
                None => plugin::find_component().map_err(|e| format!("{e:#}"))?,
            };
            let plugin = Plugin::load(&path).map_err(|e| format!("{e:#}"))?;
            let outcome = plugin
                .convert(&payload, &context)
                .map_err(|e| format!("the plugin failed: {e:#}"))?;
            (outcome.is_ok(), plugin::outcome_json(&outcome).to_owned())
        }
    };
    let text = if args.pretty { pretty(&json) } else { json };
    Ok(if converted {
        Outcome::Output(text)
    } else {
        Outcome::Rejected(text)
    })
}

/// Indents JSON text, keeping its key order (the wire order of the adapter's documents).
fn pretty(json: &str) -> String {
    let mut out = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    serde_transcode::transcode(&mut deserializer, &mut serializer)
        .expect("the adapter prints JSON");
    String::from_utf8(out).expect("JSON is UTF-8")
}

fn read_input(file: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
    } else {
        bytes = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    }
    Ok(bytes)
}

/// The current time, UTC, to the millisecond.
fn now() -> String {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    let secs = i64::try_from(elapsed.as_secs()).expect("seconds fit in i64");
    Timestamp::from_unix(secs, elapsed.subsec_nanos(), 3)
        .expect("now is before year 9999")
        .to_string()
}
