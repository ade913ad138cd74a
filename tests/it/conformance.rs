//! The conformance table on the native core.

use std::collections::BTreeSet;

use tombstone_core::ProblemKind;
use tombstone_tests::{check, conformance_dir, load_cases, run_native, Case};

/// `TOMBSTONE_BLESS=1 cargo test -p tombstone-tests --test it conformance` rewrites every case's
/// `expect` (the last field of a case file) with the current output, for review in the diff.
fn bless(case: &Case, output: &str) {
    let path = conformance_dir()
        .join("cases")
        .join(format!("{}.json", case.name));
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text
        .rfind("\"expect\"")
        .unwrap_or_else(|| panic!("{}: no \"expect\" field", case.name));
    // Pretty, in the output's own order: the file keeps the wire order.
    let pretty = tombstone_tests::reformat(output, true).replace('\n', "\n  ");
    std::fs::write(&path, format!("{}\"expect\": {pretty}\n}}\n", &text[..at])).unwrap();
}

#[test]
fn every_case_passes_natively() {
    let cases = load_cases();
    let blessing = std::env::var_os("TOMBSTONE_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let output = run_native(case);
        if blessing {
            bless(case, &output);
        } else if let Err(diff) = check(case, &output) {
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_and_covers_every_input_problem_kind() {
    let cases = load_cases();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let kinds: BTreeSet<String> = cases
        .iter()
        .filter_map(|c| {
            c.expect
                .pointer("/problem/type")?
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    // conflict, idempotency-key-reuse, unauthorized and unsupported-media-type need state, a
    // secret or HTTP: the Spin end-to-end tests cover them.
    let stateless = [
        ProblemKind::InvalidJson,
        ProblemKind::MissingHeader,
        ProblemKind::InvalidHeader,
        ProblemKind::PayloadTooLarge,
        ProblemKind::UnknownFormat,
        ProblemKind::Validation,
        ProblemKind::Unmappable,
    ];
    for kind in stateless {
        assert!(
            kinds.contains(&kind.type_uri()),
            "no case for {}",
            kind.slug()
        );
    }
    for source in ["canonical", "mercoa", "willsuite", "highlevel"] {
        assert!(
            cases.iter().any(|c| c
                .expect
                .pointer("/conversion/source")
                .and_then(|s| s.as_str())
                == Some(source)),
            "no successful {source} case"
        );
    }
}

#[test]
fn every_payload_file_is_used_by_a_case() {
    let used: BTreeSet<String> = load_cases()
        .into_iter()
        .filter_map(|c| c.payload_file)
        .collect();
    let root = conformance_dir();
    let mut stack = vec![root.join("payloads")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                assert!(used.contains(&rel), "{rel} is used by no case");
            }
        }
    }
}
