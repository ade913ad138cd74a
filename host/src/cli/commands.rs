//! What each command does.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use tombstone_core::{convert, schemas, task_id, RawContext, Timestamp};
use tombstone_harness::Plugin;

use super::args::{Command, ConvertArgs, Engine, LogFormatArg, ServeArgs};
use crate::serve;
use crate::serve::ports::kv::runtime_config::StoreLocation;

/// What the program prints, and how it exits.
pub enum Outcome {
    /// Printed; exit 0.
    Output(String),
    /// Printed; exit 1 (rejected input).
    Rejected(String),
}

/// Runs one command: what to print and how to exit, or a usage error.
pub fn run(command: Command) -> Result<Outcome, String> {
    match command {
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

fn run_serve(args: ServeArgs) -> Result<Outcome, String> {
    let component = match args.component {
        Some(path) => path,
        None => {
            let paths = tombstone_harness::beside_the_binary(serve::SPIN_COMPONENT_FILE);
            paths.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
                format!(
                    "the Spin component ({}) was not found; build it with \
                     `cargo run --release -p xtask -- spin`, or pass --component PATH",
                    serve::SPIN_COMPONENT_FILE
                )
            })?
        }
    };
    serve::ports::telemetry::init(match args.log_format {
        LogFormatArg::Json => serve::ports::telemetry::LogFormat::Json,
        LogFormatArg::Text => serve::ports::telemetry::LogFormat::Text,
    });
    let www = args
        .www
        .or_else(|| Some(std::path::PathBuf::from("www")).filter(|p| p.is_dir()));
    let kv = match (&args.runtime_config, args.kv_memory) {
        (Some(file), _) => {
            let (mut stores, ignored) =
                serve::ports::kv::runtime_config::read(file).map_err(|e| format!("{e:#}"))?;
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
                None => tombstone_harness::find_component().map_err(|e| format!("{e:#}"))?,
            };
            let plugin = Plugin::load(&path).map_err(|e| format!("{e:#}"))?;
            let outcome = plugin
                .convert(&payload, &context)
                .map_err(|e| format!("the plugin failed: {e:#}"))?;
            (
                outcome.is_ok(),
                tombstone_harness::outcome_json(&outcome).to_owned(),
            )
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
