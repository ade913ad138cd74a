//! `cargo test --workspace` runs the example program over the whole conformance table. Being an
//! integration test also makes that one invocation build `target/debug/tombstone-example-rust`
//! with the workspace's own features, so no second wasmtime is compiled for it.

use std::path::Path;
use std::process::Command;

#[test]
fn the_example_passes_the_whole_table() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/cases");
    let count = std::fs::read_dir(cases)
        .expect("tests/conformance/cases")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    let run = Command::new(env!("CARGO_BIN_EXE_tombstone-example-rust"))
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{count} passed, 0 failed").as_str()),
        "{stdout}"
    );
}
