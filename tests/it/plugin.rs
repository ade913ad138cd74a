//! The conformance table through the WebAssembly component in wasmtime: byte-identical to native.
//!
//! The component is built once before the tests (`cargo run --release -p xtask -- plugin`, which
//! `scripts/test.sh` runs); a missing component fails these tests rather than skipping them.

use std::sync::OnceLock;

use tombstone_harness::{find_component, outcome_json, Plugin};
use tombstone_tests::{load_cases, run_native};

fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let path = find_component().unwrap_or_else(|e| panic!("{e:#}"));
        Plugin::load(&path).unwrap_or_else(|e| panic!("{e:#}"))
    })
}

fn wrap(outcome: &tombstone_harness::Outcome) -> String {
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
                let warnings: Vec<serde_json::Value> = c
                    .warnings
                    .iter()
                    .map(|w| {
                        serde_json::json!({"pointer": w.pointer, "code": w.code, "message": w.message})
                    })
                    .collect();
                assert_eq!(
                    doc["warnings"],
                    serde_json::json!(warnings),
                    "{}",
                    case.name
                );
            }
            Err(p) => {
                let doc: serde_json::Value = serde_json::from_str(&p.json).unwrap();
                assert_eq!(doc["status"], p.status, "{}", case.name);
                assert_eq!(doc["detail"], p.detail.as_str());
                let errors: Vec<serde_json::Value> = p
                    .errors
                    .iter()
                    .map(|e| {
                        serde_json::json!({"pointer": e.pointer, "keyword": e.keyword, "message": e.message})
                    })
                    .collect();
                assert_eq!(doc["errors"], serde_json::json!(errors), "{}", case.name);
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
fn the_docs_wit_listing_names_every_problem_kind_of_the_core() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/embedding.md"))
            .unwrap();
    let listing = readme
        .split("enum problem-kind {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("docs/embedding.md shows the plugin's WIT");
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

/// `value` with the value at `pointer` replaced by containers nested so that the whole document
/// is `depth` deep: `shape` says which container each level is (`true`: an object).
fn nested_at(
    value: &serde_json::Value,
    pointer: &str,
    depth: usize,
    shape: fn(usize) -> bool,
) -> serde_json::Value {
    use serde_json::{json, Value};
    // Containers above the place: the root, and one per token but the last (the place).
    let above = pointer.split('/').count() - 1;
    let mut nest = Value::Null;
    for level in 0..depth.saturating_sub(above) {
        nest = if shape(level) {
            json!({ "k": nest })
        } else {
            json!([nest])
        };
    }
    let mut out = value.clone();
    *out.pointer_mut(pointer).expect("the place exists") = nest;
    out
}

#[test]
fn payloads_nested_to_the_limit_anywhere_fit_the_guest_stack() {
    // The guest has a 128 KiB stack (.cargo/config.toml). The deepest payload the core parses
    // (tombstone_core::limits::MAX_DEPTH) is nested at an unknown member, at a member the
    // mapping reads (the fast path keeps it whole, then the slow path parses and validates it),
    // at a member the schema checks, and at the root's first member: the plugin answers exactly
    // as the native core in every case, rather than trapping on a stack overflow.
    let depth = tombstone_core::limits::MAX_DEPTH;
    let places = [
        ("mercoa/00-doc-example-verbatim.json", "/unknown"),
        ("mercoa/00-doc-example-verbatim.json", "/invoice/id"),
        ("mercoa/00-doc-example-verbatim.json", "/invoice/approvers"),
        ("mercoa/00-doc-example-verbatim.json", "/eventType"),
        (
            "willsuite/01-doc-example-verbatim.json",
            "/invoice_item_data/id",
        ),
        (
            "highlevel/01-webhook-doc-example-verbatim.json",
            "/contactDetails",
        ),
    ];
    let context = tombstone_core::RawContext {
        organization_id: Some("acme-vet".into()),
        clinic_id: Some("clinic-1".into()),
        received_at: Some("2026-01-01T00:00:00Z".into()),
        ..Default::default()
    };
    let mut instance = plugin().instance().unwrap();
    for (file, pointer) in places {
        let path = tombstone_tests::conformance_dir()
            .join("payloads")
            .join(file);
        let mut sample: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if pointer == "/unknown" {
            sample["unknown"] = serde_json::Value::Null;
        }
        let shapes: [fn(usize) -> bool; 3] = [|_| false, |_| true, |level| level % 2 == 1];
        for (depth, shape) in [depth, depth + 1]
            .into_iter()
            .flat_map(|d| shapes.map(|s| (d, s)))
        {
            let payload = serde_json::to_vec(&nested_at(&sample, pointer, depth, shape)).unwrap();
            assert_eq!(
                tombstone_core::json::nesting_depth(&payload, usize::MAX),
                depth,
                "{file} {pointer}"
            );
            let native = tombstone_core::convert_to_json(&payload, &context);
            // The deepest payload is parsed (and the stack holds); one level more is refused.
            assert_eq!(
                native.contains(r#""keyword":"maxDepth""#),
                depth > tombstone_core::limits::MAX_DEPTH,
                "{file} {pointer} depth {depth}: {native}"
            );
            let fresh = plugin()
                .convert(&payload, &context)
                .unwrap_or_else(|e| panic!("{file} {pointer} depth {depth}: {e:#}"));
            let warm = instance
                .convert(&payload, &context)
                .unwrap_or_else(|e| panic!("{file} {pointer} depth {depth}: {e:#}"));
            assert_eq!(wrap(&fresh), native, "{file} {pointer} depth {depth}");
            assert_eq!(wrap(&warm), native, "{file} {pointer} depth {depth}");
        }
    }
}
