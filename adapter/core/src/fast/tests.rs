use std::borrow::Cow;

use super::candidates::{events, SOURCE_ROOTS};
use super::reads::ReadPosition;
use super::scanner::string_stop;
use super::tables::{key_hash, key_hash_bytes, same_name, CompiledSchema, Keywords};
use super::*;
use crate::json::{Field, Payload};
use crate::limits::MAX_DEPTH;

use serde_json::Value;

/// A kept value as a `Value`, to compare with what `serde_json` reads.
fn to_value(kept: &KeptValue<'_>) -> Value {
    match kept {
        KeptValue::Null => Value::Null,
        KeptValue::Bool(b) => Value::Bool(*b),
        KeptValue::Number(n) => Value::Number(n.clone()),
        KeptValue::String(s) => Value::String(s.to_string()),
        KeptValue::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        // Collected into a map, a repeated name keeps its last value.
        KeptValue::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, value)| (name.to_string(), to_value(value)))
                .collect(),
        ),
    }
}

/// A `Value` kept whole.
fn to_kept(value: &Value) -> KeptValue<'_> {
    match value {
        Value::Null => KeptValue::Null,
        Value::Bool(b) => KeptValue::Bool(*b),
        Value::Number(n) => KeptValue::Number(n.clone()),
        Value::String(s) => KeptValue::String(Cow::Borrowed(s)),
        Value::Array(items) => KeptValue::Array(items.iter().map(to_kept).collect()),
        Value::Object(map) => KeptValue::Object(
            map.iter()
                .map(|(name, value)| (Cow::Borrowed(name.as_str()), to_kept(value)))
                .collect(),
        ),
    }
}

#[test]
fn what_is_kept_answers_pointers_as_the_whole_value_does() {
    use crate::json::{POINTER_TESTS, POINTER_TEST_DOCUMENT};
    let doc: Value = serde_json::from_str(POINTER_TEST_DOCUMENT).unwrap();
    let kept = to_kept(&doc);
    for pointer in POINTER_TESTS {
        assert_eq!(
            kept.at(pointer),
            doc.pointer(pointer).map(Field::of),
            "{pointer}"
        );
    }
    // A repeated name: its last value counts, as in serde_json's `Value`.
    let payload = br#"{"webhook_type": {"x": 1}, "webhook_type": "case_invoice.deleted"}"#;
    let walked = walk(payload).unwrap();
    assert_eq!(
        walked.value.at("/webhook_type"),
        Some(Field::String("case_invoice.deleted"))
    );
    let payload = br#"{"webhook_type": "case_invoice.deleted", "webhook_type": [1, 2]}"#;
    assert_eq!(
        walk(payload).unwrap().value.at("/webhook_type"),
        Some(Field::Array(2))
    );
}

/// What the walk keeps of `{"webhook_type": X}` (a read of detection: kept whole).
fn kept(x: &str) -> Option<Value> {
    let payload = format!(r#"{{"webhook_type": {x}}}"#);
    walk(payload.as_bytes()).map(|walked| to_value(&walked.value)["webhook_type"].clone())
}

#[test]
fn the_walk_reads_values_as_serde_json_does() {
    let values = [
        "0",
        "7",
        "-0",
        "-7",
        "1.0",
        "1e5",
        "1E+2",
        "-1.5e-3",
        "0.1",
        "9999999999999999999",
        "12345678901234567890",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1e308",
        "2.2250738585072014e-308",
        "0.30000000000000004",
        r#""plain""#,
        r#""esc\"aped\\""#,
        r#""\u00e9\u20ac\ud83d\ude00""#,
        r#""\/\b\f\n\r\t""#,
        "\"caf\u{e9} \u{1f600}\"",
        r#""""#,
        "true",
        "false",
        "null",
        "[]",
        "{}",
        "[1, [2, {}], \"x\"]",
        r#"{"a": {"b": [1.5, null]}, "c\u0041": true}"#,
        r#"{"a": 1, "a": 2}"#,
        " \t\r\n 5 \n",
    ];
    for x in values {
        let expected: Value = serde_json::from_str(x).unwrap();
        let got = kept(x);
        assert_eq!(got, Some(expected.clone()), "{x}");
        // The same number type: `-0` and `1.0` are floats, `-7` signed, `7` unsigned.
        let got = got.unwrap();
        assert_eq!(
            (got.is_u64(), got.is_i64(), got.is_f64()),
            (expected.is_u64(), expected.is_i64(), expected.is_f64()),
            "{x}"
        );
    }
}

#[test]
fn the_walk_refuses_what_serde_json_refuses() {
    let values = [
        "",
        "01",
        "-01",
        "00",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "1e400",
        "-1e400",
        "0x10",
        "NaN",
        "Infinity",
        "tru",
        "truex",
        "nul",
        "nulll",
        "False",
        r#""\x""#,
        r#""\ud800""#,
        r#""\udc00x""#,
        r#""\u12""#,
        r#""\u12G4""#,
        "\"a\u{1}b\"",
        "\"tab\there\"",
        "\"new\nline\"",
        "\"\\",
        "\"open",
        "[1,]",
        "[,1]",
        "[1 2]",
        r#"{"a":1,}"#,
        "{,}",
        r#"{"a" 1}"#,
        r#"{"a":}"#,
        "{1:2}",
        "{'a':1}",
        "[",
        "]",
        "1 2",
        "\u{a0}1",
        "\u{c}1",
    ];
    for x in values {
        let payload = format!(r#"{{"webhook_type": {x}}}"#);
        assert!(
            serde_json::from_str::<Value>(&payload).is_err(),
            "serde_json takes {x:?}"
        );
        assert!(kept(x).is_none(), "{x:?}");
    }
}

#[test]
fn the_walk_takes_one_value_and_white_space_only() {
    assert!(walk(b" {} \n\t\r").is_some());
    for payload in [
        &b""[..],
        b" ",
        b"{} x",
        b"{}{}",
        b"{} ,",
        b"{}\x00",
        b"\x0c{}",
    ] {
        assert!(walk(payload).is_none(), "{payload:?}");
    }
    // Invalid UTF-8, even in a string nobody reads.
    assert!(walk(b"{\"x\": \"\xff\"}").is_none());
    assert!(walk(b"{\"x\": \"\xc3\xa9\"}").is_some());
}

#[test]
fn indentation_of_any_width_is_white_space() {
    for width in 0..20 {
        for line in ["\n", "\r\n", "\n\t", "\n \t", " \n"] {
            let indent = format!("{line}{}", " ".repeat(width));
            let payload = format!(
                "{{{indent}\"webhook_type\":{indent}[{indent}1{indent},2]{indent}}}{indent}"
            );
            let expected: Value = serde_json::from_str(&payload).unwrap();
            let walked = walk(payload.as_bytes()).map(|w| to_value(&w.value));
            assert_eq!(walked, Some(expected), "{payload:?}");
            // Anything else after the spaces is not white space.
            for stray in ["\u{c}", "\u{0}", "x", "\u{a0}"] {
                let bad = format!("{{{indent}{stray}\"webhook_type\": 1}}");
                assert!(walk(bad.as_bytes()).is_none(), "{bad:?}");
            }
        }
    }
}

#[test]
fn the_walk_counts_nesting_to_the_limit() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(walk(nested(MAX_DEPTH).as_bytes()).is_some());
    assert!(walk(nested(MAX_DEPTH + 1).as_bytes()).is_none());
    // Below a member nobody reads or checks too.
    let skipped = |n: usize| format!(r#"{{"zz": {}}}"#, nested(n));
    assert!(walk(skipped(MAX_DEPTH - 1).as_bytes()).is_some());
    assert!(walk(skipped(MAX_DEPTH).as_bytes()).is_none());
}

#[test]
fn the_string_scan_stops_at_the_first_quote_backslash_or_control() {
    let fillers = [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xc3, 0xff];
    let stops = [b'"', b'\\', 0x00, 0x01, 0x1f];
    for filler in fillers {
        for len in 0..24 {
            let plain = vec![filler; len];
            assert_eq!(string_stop(&plain, 0), len);
            for at in 0..len {
                for stop in stops {
                    for after in stops.iter().chain(&fillers) {
                        let mut bytes = plain.clone();
                        bytes[at] = stop;
                        if at + 1 < len {
                            bytes[at + 1] = *after;
                        }
                        assert_eq!(string_stop(&bytes, 0), at, "{bytes:?}");
                        assert_eq!(string_stop(&bytes, at), at, "{bytes:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_byte_of_a_name_counts_in_its_hash() {
    // Names of one object that differ in one byte must not share a hash only because the
    // hash skipped that byte (the slot tables would then need a larger shift, or fail).
    for len in 0..=24 {
        let name: Vec<u8> = (0..len).map(|i| b'a' + i as u8).collect();
        let hash = key_hash_bytes(&name);
        for at in 0..len {
            let mut other = name.clone();
            other[at] = b'_';
            assert_ne!(key_hash_bytes(&other), hash, "{len} {at}");
        }
        let mut longer = name.clone();
        longer.push(0);
        assert_ne!(key_hash_bytes(&longer), hash, "{len}");
    }
}

#[test]
fn names_are_the_same_only_when_every_byte_is() {
    for len in 0..=40 {
        let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        assert!(same_name(&name, &name.clone()), "{len}");
        for at in 0..len {
            let mut other = name.clone();
            other[at] ^= 0x20;
            assert!(!same_name(&name, &other), "{len} {at}");
            assert!(!same_name(&other, &name), "{len} {at}");
        }
        let mut longer = name.clone();
        longer.push(b'a');
        assert!(!same_name(&name, &longer), "{len}");
    }
}

#[test]
fn a_walk_for_one_source_passes_no_other_sources_events() {
    // Valid for Mercoa's schema and, checked, for none other: a named source's walk must
    // not say it passes events it never checked.
    let payload = include_bytes!(
        "../../../../tests/conformance/payloads/mercoa/00-doc-example-verbatim.json"
    );
    let all = walk(payload).unwrap();
    let mercoa = Source::ALL[0];
    assert_eq!(mercoa.name(), "mercoa");
    let (slots, candidates) = &SOURCE_ROOTS[0];
    let named = walk_against(payload, candidates, *slots).unwrap();
    assert!(all.passes(&mercoa.events()[0]));
    for event in events() {
        let own = mercoa.events().iter().any(|e| std::ptr::eq(e, event));
        assert_eq!(
            named.passes(event),
            own && all.passes(event),
            "{}",
            event.name
        );
    }
    assert!(named.passes(&mercoa.events()[0]));
}

#[test]
fn every_source_schema_compiles_to_checks() {
    // A source schema that compiled to `Unsupported` at its root would never take the fast
    // path: build.rs has to learn its keywords.
    for event in events() {
        assert!(
            matches!(event.schema.compiled, CompiledSchema::Keywords(_)),
            "{}",
            event.schema.name
        );
    }
}

/// Whether two compiled subschemas are the same one.
fn same_sub(a: CompiledSchema, b: CompiledSchema) -> bool {
    match (a, b) {
        (CompiledSchema::Keywords(a), CompiledSchema::Keywords(b)) => std::ptr::eq(a, b),
        (CompiledSchema::Any, CompiledSchema::Any)
        | (CompiledSchema::Never, CompiledSchema::Never) => true,
        (CompiledSchema::Unsupported, CompiledSchema::Unsupported) => true,
        _ => false,
    }
}

#[test]
fn every_property_is_found_in_its_slot_table() {
    // Every check reachable from every event's schema.
    let mut todo: Vec<CompiledSchema> = events().map(|e| e.schema.compiled).collect();
    let mut seen: Vec<*const Keywords> = Vec::new();
    let mut properties = 0;
    while let Some(sub) = todo.pop() {
        let CompiledSchema::Keywords(check) = sub else {
            continue;
        };
        if seen.contains(&std::ptr::from_ref(check)) {
            continue;
        }
        seen.push(check);
        let mut required = 0u64;
        for p in check.properties {
            let (found, bit) = check.member(p.name, p.hash);
            assert!(same_sub(found, p.schema), "{}", p.name);
            assert_eq!(bit, p.required, "{}", p.name);
            // Each required name has a bit of its own.
            assert!(bit.count_ones() <= 1 && required & bit == 0, "{}", p.name);
            required |= bit;
            properties += 1;
            todo.push(p.schema);
        }
        // The bits of the required names are the check's, from the lowest up.
        assert_eq!(required, check.required);
        assert_eq!(required.count_ones(), 64 - required.leading_zeros());
        // Names it does not list (whatever slot their hash falls in) get
        // `additionalProperties`, and no `required` bit.
        for name in ["", "x", "not-a-member", "data ", "ID", "webhook_type_"] {
            let (found, bit) = check.member(name, key_hash(name));
            let listed = check.properties.iter().any(|p| p.name == name);
            assert!(
                listed || (same_sub(found, check.additional) && bit == 0),
                "{name}"
            );
        }
        todo.extend([check.additional, check.items]);
    }
    assert!(
        properties > 20,
        "the schemas name more properties than {properties}"
    );
}

#[test]
fn the_read_tree_holds_every_pointer() {
    for source in Source::ALL {
        let pointers = source
            .spec()
            .detected_by
            .iter()
            .chain(source.events().iter().flat_map(|e| e.reads));
        for pointer in pointers {
            let mut at = Some(ReadPosition::Node(0));
            for token in pointer.split('/').skip(1) {
                at = at.and_then(|r| {
                    if token == "*" {
                        r.element()
                    } else {
                        r.member(token, key_hash(token))
                    }
                });
            }
            let whole = at.and_then(|r| r.member("anything-below", key_hash("anything-below")));
            assert!(matches!(whole, Some(ReadPosition::Whole)), "{pointer}");
        }
    }
    // Names nobody reads are not found, whether or not their bit is among a node's names.
    let root = ReadPosition::Node(0);
    for name in [
        "",
        "case_data",
        "webhook_typ",
        "webhook_type_",
        "Invoice",
        "data",
    ] {
        assert!(root.member(name, key_hash(name)).is_none(), "{name}");
    }
}
