//! The conformance table: one case per file in `tests/conformance/cases/`, each an input
//! (payload + delivery context) and the exact expected output (a conversion or a problem).
//!
//! Every runtime runs the same table and must print the same JSON: natively here, through the
//! wasm component in wasmtime, through the Spin component over HTTP, and in the browser page.
//!
//! A case file:
//!
//! ```json
//! {
//!   "description": "what this case shows",
//!   "payload_file": "payloads/mercoa/00-doc-example-verbatim.json",
//!   "context": {"organization_id": "acme-vet", "received_at": "2026-01-01T00:00:00Z"},
//!   "expect": {"conversion": {"source": "mercoa", "...": "..."}}
//! }
//! ```
//!
//! The payload is exactly one of `payload_file` (the bytes of a file, relative to
//! `tests/conformance/`), `payload_text` (the UTF-8 bytes of a string), `payload_base64` (any
//! bytes) or `payload` (a JSON value, sent as compact JSON). `context` holds the
//! [`RawContext`] fields. `expect` holds either `conversion` (the output of
//! [`Conversion::to_json`](tombstone_core::Conversion::to_json)) or `problem` (the
//! problem+json document).

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use tombstone_core::{
    convert_to_json, Context, EntityId, IdempotencyKey, OrganizationId, RawContext, Source,
    Timestamp,
};

/// `tests/conformance/`.
pub fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// One row of the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// File name without `.json`.
    #[serde(skip)]
    pub name: String,
    /// What the case shows.
    pub description: String,
    /// Payload: a file relative to `tests/conformance/`.
    #[serde(default)]
    pub payload_file: Option<String>,
    /// Payload: UTF-8 text.
    #[serde(default)]
    pub payload_text: Option<String>,
    /// Payload: base64 bytes.
    #[serde(default)]
    pub payload_base64: Option<String>,
    /// Payload: a JSON value, sent compact.
    #[serde(default)]
    pub payload: Option<Value>,
    /// The delivery context.
    pub context: RawContext,
    /// `{"conversion": …}` or `{"problem": …}`.
    pub expect: Value,
    /// The same as compact JSON in the case file's order: the exact bytes every runtime prints.
    #[serde(skip)]
    pub expect_json: String,
}

/// The `expect` field of a case file, as written.
#[derive(Deserialize)]
struct RawExpect<'a> {
    #[serde(borrow)]
    expect: &'a serde_json::value::RawValue,
}

/// JSON text re-rendered compact (or pretty), keeping its key order.
pub fn reformat(json: &str, pretty: bool) -> String {
    let mut out = Vec::new();
    let mut input = serde_json::Deserializer::from_str(json);
    if pretty {
        let mut output = serde_json::Serializer::pretty(&mut out);
        serde_transcode::transcode(&mut input, &mut output).expect("valid JSON");
    } else {
        let mut output = serde_json::Serializer::new(&mut out);
        serde_transcode::transcode(&mut input, &mut output).expect("valid JSON");
    }
    String::from_utf8(out).expect("JSON is UTF-8")
}

impl Case {
    /// The payload bytes.
    pub fn payload_bytes(&self) -> Vec<u8> {
        let given = [
            self.payload_file.is_some(),
            self.payload_text.is_some(),
            self.payload_base64.is_some(),
            self.payload.is_some(),
        ];
        assert_eq!(
            given.iter().filter(|g| **g).count(),
            1,
            "case {}: exactly one payload field",
            self.name
        );
        if let Some(file) = &self.payload_file {
            let path = conformance_dir().join(file);
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        } else if let Some(text) = &self.payload_text {
            text.as_bytes().to_vec()
        } else if let Some(b64) = &self.payload_base64 {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("payload_base64 is base64")
        } else {
            serde_json::to_vec(self.payload.as_ref().expect("checked above")).expect("json")
        }
    }

    /// `"conversion"` or `"problem"`.
    pub fn expected_outcome(&self) -> &str {
        let keys: Vec<&str> = self
            .expect
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        match keys.as_slice() {
            ["conversion"] => "conversion",
            ["problem"] => "problem",
            _ => panic!(
                "case {}: expect must be {{conversion}} or {{problem}}",
                self.name
            ),
        }
    }
}

/// Every case, sorted by name.
pub fn load_cases() -> Vec<Case> {
    let dir = conformance_dir().join("cases");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("case is UTF-8");
            let mut case: Case =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let raw: RawExpect<'_> = serde_json::from_str(&text).expect("parsed above");
            case.expect_json = reformat(raw.expect.get(), false);
            case.name = path.file_stem().unwrap().to_string_lossy().into_owned();
            case
        })
        .collect()
}

/// Runs a case on the native core: the output JSON text, as every runtime must print it
/// (`{"conversion": …}` or `{"problem": …}`).
pub fn run_native(case: &Case) -> String {
    convert_to_json(&case.payload_bytes(), &case.context)
}

/// Compares an output to a case's expectation, byte for byte (the case file's order is the wire
/// order); `Err` explains the difference.
pub fn check(case: &Case, output: &str) -> Result<(), String> {
    if output == case.expect_json {
        Ok(())
    } else {
        Err(format!(
            "{} ({})\n  expected: {}\n  actual:   {}",
            case.name, case.description, case.expect_json, output
        ))
    }
}

/// Writes `value` as JSON text spelled one of the many ways that parse back to it: each
/// decision (escape a character as `\uXXXX`, put white space between tokens, write an integer
/// as a float, put a decoy member before a real one — serde_json keeps the last of a repeated
/// name —, start with a byte-order mark) is taken when `choose()` says so. Text-level variety
/// that mutating a parsed value never produces, for the fast-path agreement tests.
pub fn respell(value: &Value, choose: &mut impl FnMut() -> u8) -> Vec<u8> {
    let mut out = String::new();
    if choose() % 16 == 0 {
        out.push('\u{feff}');
    }
    write_respelled(value, choose, &mut out, true);
    out.into_bytes()
}

/// `decoys`: whether an object's members may be preceded by decoys. A decoy's own members get
/// none, so that a cycle of choices cannot nest decoys without end.
fn write_respelled(value: &Value, choose: &mut impl FnMut() -> u8, out: &mut String, decoys: bool) {
    let space = |choose: &mut dyn FnMut() -> u8, out: &mut String| match choose() % 8 {
        0 => out.push(' '),
        1 => out.push_str("\n\t "),
        _ => {}
    };
    match value {
        Value::Null | Value::Bool(_) => out.push_str(&value.to_string()),
        Value::Number(n) => match (n.as_u64(), choose() % 6) {
            (Some(u), 0) => out.push_str(&format!("{u}.0")),
            (Some(u), 1) => out.push_str(&format!("{u}e0")),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(s, choose, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(choose, out);
                write_respelled(item, choose, out, decoys);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let mut first = true;
            for (name, member) in map {
                // A decoy first: the same name with another value, which the real one overrides.
                if decoys && choose() % 10 == 0 {
                    let decoy = match choose() % 4 {
                        0 => Value::Null,
                        1 => Value::from(12),
                        2 => Value::from(""),
                        _ => serde_json::json!({"decoy": [1]}),
                    };
                    if !first {
                        out.push(',');
                    }
                    write_string(name, choose, out);
                    out.push(':');
                    write_respelled(&decoy, choose, out, false);
                    first = false;
                }
                if !first {
                    out.push(',');
                }
                space(choose, out);
                write_string(name, choose, out);
                space(choose, out);
                out.push(':');
                write_respelled(member, choose, out, decoys);
                first = false;
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, choose: &mut impl FnMut() -> u8, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        let must = matches!(c, '"' | '\\') || c < ' ';
        if must || choose() % 12 == 0 {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

/// The context a fuzz input runs under, picked by its last byte (which stays part of the
/// payload, so a seed corpus of real payloads, ending in `}` or a newline, runs in auto): the
/// forced source or auto (one choice per source, so a new source is fuzzed without a change),
/// bit `0x08` gives an `Idempotency-Key`, bit `0x10` a clinic id. Shared by the fuzz targets.
pub fn fuzz_context(data: &[u8]) -> Context {
    let selector = data.last().copied().unwrap_or(0);
    let mut ctx = Context::new(
        OrganizationId::new("fuzz-org").expect("a valid organization id"),
        Timestamp::parse("2026-01-01T00:00:00Z").expect("a valid timestamp"),
    );
    ctx.source = match usize::from(selector) % (Source::ALL.len() + 1) {
        0 => None,
        n => Some(Source::ALL[n - 1]),
    };
    if selector & 0x08 != 0 {
        ctx.idempotency_key = Some(IdempotencyKey::new("fuzz-key").expect("a valid key"));
    }
    if selector & 0x10 != 0 {
        ctx.clinic_id = Some(EntityId::new("fuzz-clinic").expect("a valid clinic id"));
    }
    ctx
}

/// Percent-encodes a value for a URL's query or path (every byte but RFC 3986's unreserved
/// characters), as a client would send an organization id or a key.
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
