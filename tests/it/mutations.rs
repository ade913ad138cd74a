//! Structure-aware inputs: the shared sample payloads, mutated the way real payloads go wrong.

use proptest::prelude::*;
use serde_json::{json, Value};
use tombstone_core::Source;

/// The shared sample payloads (each provider's and canonical), parsed.
pub fn samples() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for dir in Source::ALL.iter().map(|s| s.name()) {
        let path = tombstone_tests::conformance_dir()
            .join("payloads")
            .join(dir);
        let mut files: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            out.push((
                file.file_name().unwrap().to_string_lossy().into_owned(),
                value,
            ));
        }
    }
    out
}

/// The JSON Pointers of every node of a document, root first.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            pointers(
                x,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        _ => {}
    }
}

/// A replacement value: null, another type, blank or padded strings, a long string, nesting.
fn replacement(kind: u8, seed: u32) -> Value {
    match kind % 12 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(seed),
        3 => json!(-1.5),
        4 => json!(""),
        5 => json!("   "),
        6 => json!(format!("  id-{seed}  ")),
        7 => json!("x".repeat(200 + (seed % 100) as usize)),
        8 => json!([]),
        9 => json!({}),
        10 => json!([format!("id-{seed}")]),
        _ => json!({"id": format!("id-{seed}"), "nested": {"deeper": [seed]}}),
    }
}

/// Applies one mutation at the node `target` (by index among the document's pointers).
fn mutate(doc: &mut Value, target: usize, op: u8, kind: u8, seed: u32) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let pointer = all[target % all.len()].clone();
    match op % 4 {
        // Remove the node from its parent (the root is replaced instead).
        0 => match pointer.rsplit_once('/') {
            Some((parent, token)) => match doc.pointer_mut(parent) {
                Some(Value::Object(o)) => {
                    o.remove(&token.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = token.parse::<usize>() {
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                }
                _ => {}
            },
            None => *doc = replacement(kind, seed),
        },
        // Replace it.
        1 | 2 => {
            if let Some(node) = doc.pointer_mut(&pointer) {
                *node = replacement(kind, seed);
            }
        }
        // Add an unknown field to it (or wrap it in an array).
        _ => {
            if let Some(node) = doc.pointer_mut(&pointer) {
                match node {
                    Value::Object(o) => {
                        o.insert(format!("unknown_{seed}"), replacement(kind, seed));
                    }
                    other => *other = Value::Array(vec![other.take()]),
                }
            }
        }
    }
}

/// A sample with 1–4 mutations.
pub fn mutated_sample() -> impl Strategy<Value = (String, Value)> {
    let all = samples();
    (
        0..all.len(),
        proptest::collection::vec(
            (any::<usize>(), any::<u8>(), any::<u8>(), any::<u32>()),
            1..5,
        ),
    )
        .prop_map(move |(i, mutations)| {
            let (name, mut doc) = all[i].clone();
            for (target, op, kind, seed) in mutations {
                mutate(&mut doc, target, op, kind, seed);
            }
            (name, doc)
        })
}
