//! # tombstone-plugin
//!
//! tombstone's adapter as a WebAssembly component: the WIT world `tombstone:adapter/adapter`
//! (`adapter/wit/adapter.wit`) exported over `tombstone-core`. This crate only translates types;
//! every rule lives in the core, so the component answers exactly as the native core does.
//!
//! Built for `wasm32-unknown-unknown` and wrapped into a component by
//! `cargo run --release -p xtask -- plugin`: the result imports nothing (no clock, no random, no
//! filesystem, no WASI).

// The only unsafe code here is the canonical-ABI glue that wit-bindgen generates; the workspace
// denies unsafe code everywhere else.
#![allow(unsafe_code)]

// The bindings are generated code; their items are documented in the WIT file.
#[allow(missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "adapter",
    });
}

use bindings::{Context, Conversion, FieldError, Problem, ProblemKind, Warning};
use tombstone_core as core;

/// The component's export.
struct Plugin;

impl bindings::Guest for Plugin {
    fn convert(payload: Vec<u8>, context: Context) -> Result<Conversion, Problem> {
        let raw = core::RawContext {
            organization_id: context.organization_id,
            clinic_id: context.clinic_id,
            idempotency_key: context.idempotency_key,
            source: context.source,
            received_at: context.received_at,
            delay_seconds: context.delay_seconds,
        };
        raw.parse()
            .and_then(|ctx| core::convert(&payload, &ctx))
            .map(conversion)
            .map_err(|p| problem(&p))
    }

    fn detect(payload: Vec<u8>) -> Option<String> {
        core::detect(&payload).map(|s| s.name().to_owned())
    }

    fn task_id(organization_id: String, idempotency_key: String) -> Result<String, Problem> {
        core::task_id(&organization_id, &idempotency_key)
            .map(|id| id.to_string())
            .map_err(|p| problem(&p))
    }

    fn schema(name: String) -> Option<String> {
        core::schema(&name).map(str::to_owned)
    }
}

bindings::export!(Plugin with_types_in bindings);

fn count(n: usize) -> u32 {
    // The core caps a request at 5,000 entries.
    u32::try_from(n).expect("entry counts are at most 5,000")
}

fn conversion(c: core::Conversion) -> Conversion {
    let (body, json) = c.body_and_json();
    Conversion {
        source: c.source.name().to_owned(),
        body,
        idempotency_key: c.idempotency_key.to_string(),
        organization_id: c.organization_id.to_string(),
        task_id: c.task_id.to_string(),
        scheduled_for: c.scheduled_for.to_string(),
        received_at: c.received_at.to_string(),
        invoices_count: count(c.invoices_count()),
        invoice_lines_count: count(c.invoice_lines_count()),
        json,
        warnings: c
            .warnings
            .into_iter()
            .map(|w| Warning {
                pointer: w.pointer,
                code: w.code,
                message: w.message,
            })
            .collect(),
    }
}

fn problem(p: &core::Problem) -> Problem {
    Problem {
        kind: match p.kind {
            core::ProblemKind::InvalidJson => ProblemKind::InvalidJson,
            core::ProblemKind::MissingHeader => ProblemKind::MissingHeader,
            core::ProblemKind::InvalidHeader => ProblemKind::InvalidHeader,
            core::ProblemKind::UnsupportedMediaType => ProblemKind::UnsupportedMediaType,
            core::ProblemKind::PayloadTooLarge => ProblemKind::PayloadTooLarge,
            core::ProblemKind::UnknownFormat => ProblemKind::UnknownFormat,
            core::ProblemKind::Validation => ProblemKind::Validation,
            core::ProblemKind::Unmappable => ProblemKind::Unmappable,
            core::ProblemKind::IdempotencyKeyReuse => ProblemKind::IdempotencyKeyReuse,
            core::ProblemKind::Conflict => ProblemKind::Conflict,
            core::ProblemKind::Unauthorized => ProblemKind::Unauthorized,
            core::ProblemKind::NotFound => ProblemKind::NotFound,
            core::ProblemKind::MethodNotAllowed => ProblemKind::MethodNotAllowed,
            core::ProblemKind::Unavailable => ProblemKind::Unavailable,
            core::ProblemKind::RequestTimeout => ProblemKind::RequestTimeout,
        },
        status: p.status(),
        title: p.kind.title().to_owned(),
        detail: p.detail.clone(),
        json: p.to_json(),
        errors: p
            .errors
            .iter()
            .map(|e| FieldError {
                pointer: e.pointer.clone(),
                keyword: e.keyword.clone(),
                message: e.message.clone(),
            })
            .collect(),
    }
}
