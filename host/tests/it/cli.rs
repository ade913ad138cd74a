//! The `tombstone` binary, end to end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tombstone_tests::{check, conformance_dir, load_cases, run_native};

fn tombstone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tombstone"))
        .args(args)
        .output()
        .expect("run tombstone")
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn payloads(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(conformance_dir().join("payloads").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no payloads in {dir}");
    files
}

fn convert(file: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "convert",
        "--engine",
        "native",
        "--org",
        "acme-vet",
        "--received-at",
        "2026-03-01T09:00:00Z",
    ];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    tombstone(&args)
}

#[test]
fn every_provider_sample_converts_to_the_canonical_request() {
    for source in ["mercoa", "willsuite", "highlevel"] {
        for file in payloads(source) {
            let out = convert(&file, &["--clinic", "clinic-from-context"]);
            assert_eq!(out.status.code(), Some(0), "{}", file.display());
            let v = stdout_json(&out);
            assert_eq!(v["source"], source, "{}", file.display());
            assert_eq!(v["request"]["method"], "POST");
            assert_eq!(v["request"]["path"], "/api/v1/invoice-deletions");
            assert_eq!(v["request"]["headers"]["X-Organization-Id"], "acme-vet");
            let key = v["request"]["headers"]["Idempotency-Key"].as_str().unwrap();
            assert_eq!(key.len(), 36, "derived UUIDv5 key");
            assert_eq!(v["task_id"].as_str().unwrap().len(), 64);
            assert_eq!(v["received_at"], "2026-03-01T09:00:00Z");
            assert_eq!(v["scheduled_for"], "2026-03-01T09:00:00Z");
            let entries =
                v["invoices_count"].as_u64().unwrap() + v["invoice_lines_count"].as_u64().unwrap();
            assert_eq!(entries, 1, "{}", file.display());
        }
    }
}

#[test]
fn canonical_samples_convert_to_themselves() {
    for file in payloads("canonical") {
        let out = convert(
            &file,
            &["--idempotency-key", "5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", file.display());
        let v = stdout_json(&out);
        let input: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(v["request"]["body"], input);
    }
}

#[test]
fn invalid_samples_are_rejected_with_problem_json_and_exit_1() {
    let mut files = payloads("invalid");
    for sub in ["invalid/mercoa", "invalid/highlevel"] {
        files.extend(payloads(sub));
    }
    assert!(files.len() >= 5);
    for file in files {
        let out = convert(&file, &["--idempotency-key", "k-1"]);
        assert_eq!(out.status.code(), Some(1), "{}", file.display());
        let v = stdout_json(&out);
        assert!(v["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:tombstone:problem:"));
        assert!(v["status"].as_u64().unwrap() >= 400);
        assert!(
            !v["errors"].as_array().unwrap().is_empty(),
            "{}",
            file.display()
        );
    }
}

/// The CLI is a runtime too: every case whose context the flags can express prints exactly the
/// bytes the native core gives, on both engines.
#[test]
fn the_conformance_table_through_the_cli_on_both_engines() {
    for engine in ["native", "wasm"] {
        // All but the few cases whose context the flags cannot express (no organization, no
        // received-at, a source the CLI refuses as a usage error).
        let ran = the_table_through_the_cli(engine);
        assert!(ran >= 190, "{engine}: only {ran} cases ran");
    }
}

/// Runs the table through `tombstone convert --engine <engine>`; how many cases ran.
fn the_table_through_the_cli(engine: &str) -> usize {
    let dir = std::env::temp_dir().join(format!("tombstone-cli-{engine}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ran = 0;
    for case in load_cases() {
        let ctx = &case.context;
        let (Some(org), Some(received_at)) = (&ctx.organization_id, &ctx.received_at) else {
            continue;
        };
        // The CLI refuses an unknown --source itself, as a usage error (tested below).
        let known = ["auto", "canonical", "mercoa", "willsuite", "highlevel"];
        if ctx.source.as_deref().is_some_and(|s| !known.contains(&s)) {
            continue;
        }
        let file = dir.join(&case.name);
        std::fs::write(&file, case.payload_bytes()).unwrap();
        let delay = ctx.delay_seconds.unwrap_or(0).to_string();
        let mut args = vec![
            "convert",
            "--engine",
            engine,
            "--org",
            org,
            "--received-at",
            received_at,
            "--delay",
            &delay,
        ];
        if let Some(source) = &ctx.source {
            args.extend(["--source", source]);
        }
        if let Some(clinic) = &ctx.clinic_id {
            args.extend(["--clinic", clinic]);
        }
        if let Some(key) = &ctx.idempotency_key {
            args.extend(["--idempotency-key", key]);
        }
        args.push(file.to_str().unwrap());
        let out = tombstone(&args);
        let stdout = String::from_utf8(out.stdout).unwrap();
        // One line: the document, then a newline.
        let document = stdout
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("{engine} {}: no final newline", case.name));
        let wrapped = match out.status.code() {
            Some(0) => format!("{{\"conversion\":{document}}}"),
            Some(1) => format!("{{\"problem\":{document}}}"),
            other => panic!(
                "{engine} {}: exit {other:?}: {}",
                case.name,
                String::from_utf8_lossy(&out.stderr)
            ),
        };
        // The exact bytes every runtime prints, then the table's expectation.
        assert_eq!(wrapped, run_native(&case), "{engine} {}", case.name);
        check(&case, &wrapped).unwrap_or_else(|diff| panic!("{engine}: {diff}"));
        ran += 1;
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        ran >= 150,
        "only {ran} cases ran through the CLI ({engine})"
    );
    ran
}

#[test]
fn reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tombstone"))
        .args([
            "convert",
            "--org",
            "o",
            "--received-at",
            "2026-01-01T00:00:00Z",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            br#"{"type":"InvoiceDelete","_id":"6578278e879ad2646715ba9c","locationId":"loc"}"#,
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = stdout_json(&out);
    assert_eq!(
        v["request"]["headers"]["Idempotency-Key"],
        "1a6f642d-893c-5e2b-b138-8ad6b135547b"
    );
}

#[test]
fn received_at_defaults_to_now_in_utc() {
    let file = conformance_dir().join("payloads/highlevel/02-webhook-draft-with-envelope.json");
    let out = tombstone(&[
        "convert",
        "--engine",
        "native",
        "--org",
        "o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = stdout_json(&out);
    let received = v["received_at"].as_str().unwrap();
    let parsed = tombstone_core::Timestamp::parse(received).unwrap();
    assert!(received.ends_with('Z'));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // The moment of the run: not a fixed default (the command ran within the last minute).
    assert!(
        (now - 60..=now).contains(&parsed.unix_seconds()),
        "{received} is not now ({now})"
    );
    assert_eq!(v["scheduled_for"], v["received_at"]);
}

#[test]
fn task_id_prints_the_spec_vectors() {
    let out = tombstone(&[
        "task-id",
        "--org",
        "org_123",
        "--key",
        "5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60"
    );
    let out = tombstone(&["task-id", "--org", "acme-vet", "--key", "\"a\""]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "213a2970896a520fbdc8baef026abc1c51866ccac85b7599cae454f89bc4748a"
    );
    let out = tombstone(&["task-id", "--org", "acme vet", "--key", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout_json(&out)["type"],
        "urn:tombstone:problem:invalid-header"
    );
}

#[test]
fn usage_errors_exit_2_on_stderr() {
    let file = conformance_dir().join("payloads/canonical/01-seed-shape.json");
    let file = file.to_str().unwrap();
    for args in [
        vec!["convert", file],                                     // no --org
        vec!["convert", "--org", "o", "/no/such/file.json"],       // unreadable file
        vec!["convert", "--org", "o", "--source", "stripe", file], // unknown source
        vec!["convert", "--org", "o", "--delay", "-1", file],      // not a number
        vec![
            "convert",
            "--org",
            "o",
            "--component",
            "/no/such/plugin.wasm",
            file,
        ],
        vec!["schema", "nope"],
    ] {
        let out = tombstone(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn schema_and_detect_subcommands() {
    let out = tombstone(&["schema"]);
    let names = String::from_utf8(out.stdout).unwrap();
    assert!(names.lines().any(|l| l == "canonical-request"));
    let out = tombstone(&["schema", "mercoa"]);
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["title"], "Mercoa invoice.deleted webhook");
    let file = conformance_dir().join("payloads/willsuite/01-doc-example-verbatim.json");
    let out = tombstone(&["detect", file.to_str().unwrap()]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "willsuite");
}

#[test]
fn pretty_output_keeps_the_wire_order_and_the_content() {
    let file = conformance_dir().join("payloads/highlevel/02-webhook-draft-with-envelope.json");
    let file = file.to_str().unwrap();
    let base = [
        "convert",
        "--engine",
        "native",
        "--org",
        "o",
        "--received-at",
        "2026-01-01T00:00:00Z",
        file,
    ];
    let compact = tombstone(&base);
    let mut args = base.to_vec();
    args.insert(1, "--pretty");
    let pretty = tombstone(&args);
    assert_eq!(compact.status.code(), Some(0));
    let pretty = String::from_utf8(pretty.stdout).unwrap();
    assert!(pretty.starts_with("{\n  \"source\": \"highlevel\",\n  \"request\""));
    // Without the white space between tokens, the very bytes of the compact document: the
    // same members, in the same order, with the same values.
    assert_eq!(
        without_white_space(&pretty),
        String::from_utf8(compact.stdout).unwrap().trim_end()
    );
}

/// JSON text without the white space between its tokens (strings kept as they are).
fn without_white_space(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in json.chars() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

#[test]
fn the_plugin_is_compiled_once_and_a_broken_compilation_is_replaced() {
    // A copy of the component in a folder of its own, so this test owns its compiled file.
    let dir = std::env::temp_dir().join(format!("tombstone-cwasm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let component = dir.join("tombstone_adapter.wasm");
    std::fs::copy(tombstone_harness::find_component().unwrap(), &component).unwrap();
    let file = conformance_dir().join("payloads/highlevel/02-webhook-draft-with-envelope.json");
    let run = || {
        tombstone(&[
            "convert",
            "--component",
            component.to_str().unwrap(),
            "--org",
            "o",
            "--received-at",
            "2026-01-01T00:00:00Z",
            file.to_str().unwrap(),
        ])
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0));
    let kept: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    // The next run loads it: the compiled file is not written again.
    let modified = || std::fs::metadata(&kept[0]).unwrap().modified().unwrap();
    let compiled_at = modified();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(run().stdout, first.stdout);
    assert_eq!(modified(), compiled_at, "the plugin was compiled again");
    // A damaged compilation is not trusted: the next run compiles again, and answers the same.
    std::fs::write(&kept[0], b"not a compiled component").unwrap();
    let second = run();
    assert_eq!(second.stdout, first.stdout);
    assert_ne!(
        std::fs::read(&kept[0]).unwrap(),
        b"not a compiled component"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The two components `cargo run --release -p xtask -- all` builds.
fn built(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (cargo run --release -p xtask -- all)",
            path.display()
        )
    })
}

#[test]
fn a_kept_compilation_is_loaded_only_when_it_is_this_components() {
    use tombstone_harness::compiled::{compiled_path, component};
    let engine = wasmtime::Engine::default();
    let plugin = built("tombstone_adapter.wasm");
    let spin = built("tombstone_spin.wasm");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cwasm-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plugin.wasm");
    std::fs::write(&path, &plugin).unwrap();
    let kept = compiled_path(&engine, &path, &plugin);
    let exports = |c: &wasmtime::component::Component| -> Vec<String> {
        c.component_type()
            .exports(&engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    };
    let is_the_plugin =
        |c: &wasmtime::component::Component| exports(c).contains(&"convert".to_owned());
    // Where the plugin's compilation belongs: the Spin component's, as a bare wasmtime file (what
    // an older tombstone wrote, or anyone who could write there).
    std::fs::write(&kept, engine.precompile_component(&spin).unwrap()).unwrap();
    let loaded = component(&engine, &path, &plugin).unwrap();
    assert!(
        is_the_plugin(&loaded),
        "loaded another component: {:?}",
        exports(&loaded)
    );
    // It was replaced by the plugin's own, which the next start loads.
    let file = std::fs::read(&kept).unwrap();
    assert!(file.starts_with(b"tombstone-cwasm1"));
    assert!(is_the_plugin(&component(&engine, &path, &plugin).unwrap()));
    // A header that names another component is refused too.
    let mut forged = file.clone();
    forged[16] ^= 0xff;
    std::fs::write(&kept, &forged).unwrap();
    assert!(is_the_plugin(&component(&engine, &path, &plugin).unwrap()));
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        file,
        "compiled again and kept"
    );
    // And a truncated file.
    std::fs::write(&kept, &file[..file.len() / 2]).unwrap();
    assert!(is_the_plugin(&component(&engine, &path, &plugin).unwrap()));
}
