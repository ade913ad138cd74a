//! The conformance table through the WebAssembly component in wasmtime: byte-identical to native.
//!
//! The component is built once before the tests (`cargo run --release -p xtask -- plugin`, which
//! `scripts/test.sh` runs); a missing component fails these tests rather than skipping them.

use std::sync::OnceLock;

use tombstone_host::plugin::{find_component, outcome_json, Plugin};
use tombstone_tests::{load_cases, run_native};

fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let path = find_component().unwrap_or_else(|e| panic!("{e:#}"));
        Plugin::load(&path).unwrap_or_else(|e| panic!("{e:#}"))
    })
}

fn wrap(outcome: &tombstone_host::plugin::Outcome) -> String {
    let key = if outcome.is_ok() {
        "conversion"
    } else {
        "problem"
    };
    format!("{{\"{key}\":{}}}", outcome_json(outcome))
}

#[test]
fn every_case_gives_byte_identical_output_in_a_fresh_instance() {
    let mut mismatches = Vec::new();
    for case in load_cases() {
        let native = run_native(&case);
        let outcome = plugin()
            .convert(&case.payload_bytes(), &case.context)
            .unwrap_or_else(|e| panic!("{}: {e:#}", case.name));
        let wasm = wrap(&outcome);
        if wasm != native {
            mismatches.push(format!(
                "{}\n  native: {native}\n  wasm:   {wasm}",
                case.name
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn a_reused_instance_gives_the_same_output_as_fresh_ones() {
    let mut instance = plugin().instance().unwrap();
    for case in load_cases() {
        let reused = wrap(
            &instance
                .convert(&case.payload_bytes(), &case.context)
                .unwrap(),
        );
        assert_eq!(reused, run_native(&case), "{}", case.name);
    }
}

#[test]
fn the_records_agree_with_the_json() {
    for case in load_cases() {
        match plugin()
            .convert(&case.payload_bytes(), &case.context)
            .unwrap()
        {
            Ok(c) => {
                let doc: serde_json::Value = serde_json::from_str(&c.json).unwrap();
                assert_eq!(doc["task_id"], c.task_id.as_str(), "{}", case.name);
                assert_eq!(
                    doc["request"]["body"],
                    serde_json::from_str::<serde_json::Value>(&c.body).unwrap()
                );
                assert_eq!(
                    doc["request"]["headers"]["Idempotency-Key"],
                    c.idempotency_key.as_str()
                );
                assert_eq!(doc["invoices_count"], c.invoices_count);
                assert_eq!(doc["invoice_lines_count"], c.invoice_lines_count);
                assert_eq!(doc["warnings"].as_array().unwrap().len(), c.warnings.len());
            }
            Err(p) => {
                let doc: serde_json::Value = serde_json::from_str(&p.json).unwrap();
                assert_eq!(doc["status"], p.status, "{}", case.name);
                assert_eq!(doc["detail"], p.detail.as_str());
                assert_eq!(doc["errors"].as_array().unwrap().len(), p.errors.len());
            }
        }
    }
}

#[test]
fn detect_task_id_and_schema_match_the_core() {
    let mut instance = plugin().instance().unwrap();
    for case in load_cases() {
        let bytes = case.payload_bytes();
        let native = tombstone_core::detect(&bytes).map(tombstone_core::Source::name);
        assert_eq!(
            instance.detect(&bytes).unwrap().as_deref(),
            native,
            "{}",
            case.name
        );
    }
    assert_eq!(
        instance
            .task_id("org_123", "5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59")
            .unwrap()
            .unwrap(),
        "af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60"
    );
    let problem = instance.task_id("org 123", "k").unwrap().unwrap_err();
    assert_eq!(problem.status, 400);
    for name in tombstone_core::schemas::names() {
        assert_eq!(
            instance.schema(name).unwrap().as_deref(),
            tombstone_core::schema(name),
            "{name}"
        );
    }
    assert_eq!(instance.schema("nope").unwrap(), None);
}

#[test]
fn the_readmes_wit_listing_names_every_problem_kind_of_the_core() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let listing = readme
        .split("enum problem-kind {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("the README shows the plugin's WIT");
    let listed: Vec<&str> = listing
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let core: Vec<&str> = tombstone_core::ProblemKind::ALL
        .iter()
        .map(|k| k.slug())
        .collect();
    assert_eq!(listed, core);
}
