//! The tombstone plugin embedded in a Rust program with wasmtime: loads the component
//! (`target/wasm/tombstone_adapter.wasm`, world `adapter` of `adapter/wit/adapter.wit`), converts
//! one payload, then runs the whole conformance table (`tests/conformance/cases/*.json`) and prints
//! `N passed, 0 failed`; exits non-zero if any case fails.
//!
//! ```text
//! cargo run --release -p xtask -- plugin         # builds target/wasm/tombstone_adapter.wasm
//! cargo run -p tombstone-example-rust [-- REPO]  # REPO: the repository (default: ../.. of here)
//! ```
//!
//! The plugin imports nothing (no WASI, no clock): the linker stays empty, and the caller passes
//! the payload and the delivery's context.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

mod bindings {
    // Rust types and calls for the world. `Context` also deserializes straight from a case's
    // `context`: its fields are the WIT names in snake case, and absent options are `None`.
    wasmtime::component::bindgen!({
        path: "../../adapter/wit",
        world: "adapter",
        additional_derives: [serde::Deserialize],
    });
}
use bindings::{AdapterPre, Context, Conversion, Problem};

/// One case file of the conformance table: exactly one payload field, a context, the expectation.
#[derive(Deserialize)]
struct Case {
    context: Context,
    payload: Option<Box<RawValue>>,
    payload_text: Option<String>,
    payload_base64: Option<String>,
    payload_file: Option<String>,
    expect: Box<RawValue>,
}

fn main() -> Result<ExitCode> {
    let repo = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    let component = repo.join("target/wasm/tombstone_adapter.wasm");
    let conformance = repo.join("tests/conformance");

    // Compile once; each call then gets a fresh instance (nothing leaks between deliveries).
    let engine = Engine::default();
    let bytes = std::fs::read(&component)
        .with_context(|| format!("cannot read {}", component.display()))?;
    let component = Component::new(&engine, bytes)?;
    let pre = AdapterPre::new(Linker::new(&engine).instantiate_pre(&component)?)?;
    let convert = |payload: &[u8], context: &Context| -> Result<Result<Conversion, Problem>> {
        let mut store = Store::new(&engine, ());
        let adapter = pre.instantiate(&mut store)?;
        Ok(adapter.call_convert(&mut store, payload, context)?)
    };

    // One payload: a provider's own example.
    let file = "payloads/mercoa/00-doc-example-verbatim.json";
    let context = Context {
        organization_id: Some("acme-vet".into()),
        clinic_id: None,
        idempotency_key: None,
        source: None,
        received_at: Some("2026-01-01T00:00:00Z".into()),
        delay_seconds: None,
    };
    match convert(&std::fs::read(conformance.join(file))?, &context)? {
        Ok(c) => println!(
            "{file}: {} invoice(s) from {}, task {}",
            c.invoices_count, c.source, c.task_id
        ),
        Err(p) => println!("{file}: problem {}", p.json),
    }

    // The whole table: the output text must equal the case's `expect`, byte for byte.
    let mut names: Vec<PathBuf> = std::fs::read_dir(conformance.join("cases"))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    names.retain(|p| p.extension().is_some_and(|e| e == "json"));
    names.sort();
    let (mut passed, mut failed) = (0, 0);
    for path in &names {
        let text = std::fs::read_to_string(path)?;
        let case: Case = serde_json::from_str(&text).with_context(|| path.display().to_string())?;
        let payload = if let Some(json) = &case.payload {
            compact(json.get()).into_bytes()
        } else if let Some(text) = &case.payload_text {
            text.as_bytes().to_vec()
        } else if let Some(b64) = &case.payload_base64 {
            base64::engine::general_purpose::STANDARD.decode(b64)?
        } else if let Some(file) = &case.payload_file {
            std::fs::read(conformance.join(file))?
        } else {
            anyhow::bail!("{}: no payload", path.display())
        };
        let output = match convert(&payload, &case.context)? {
            Ok(conversion) => format!(r#"{{"conversion":{}}}"#, conversion.json),
            Err(problem) => format!(r#"{{"problem":{}}}"#, problem.json),
        };
        let expected = compact(case.expect.get());
        if output == expected {
            passed += 1;
        } else {
            failed += 1;
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            println!("FAIL {name}: {}", first_difference(&expected, &output));
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// JSON text in compact form, keeping its order: the case file's order is the order every runtime
/// prints (serde_json alone would sort an object's keys).
fn compact(json: &str) -> String {
    let mut out = Vec::new();
    let mut input = serde_json::Deserializer::from_str(json);
    serde_transcode::transcode(&mut input, &mut serde_json::Serializer::new(&mut out))
        .expect("a case file is valid JSON");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Where two texts first differ, with a little of each around it.
fn first_difference(expected: &str, actual: &str) -> String {
    let at = expected
        .chars()
        .zip(actual.chars())
        .take_while(|(e, a)| e == a)
        .count();
    let around = |s: &str| {
        s.chars()
            .skip(at.saturating_sub(30))
            .take(80)
            .collect::<String>()
    };
    format!(
        "first difference at character {at}\n  expected: …{}\n  actual:   …{}",
        around(expected),
        around(actual)
    )
}
