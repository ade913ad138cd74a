//! # tombstone-extism
//!
//! tombstone's adapter as an [Extism](https://extism.org) plugin: the operations of the WIT
//! plugin (`adapter/plugin`, `adapter/wit/adapter.wit`) exported with `extism-pdk` over
//! `tombstone-core`, JSON in and JSON out. This crate only translates JSON; every rule lives in
//! the core, so the plugin answers exactly as the native core does, byte for byte.
//!
//! Built for `wasm32-unknown-unknown` (profile `wasm`) by `cargo run --release -p xtask --
//! extism`, at `target/wasm/tombstone_extism.wasm`. It imports only Extism's own kernel
//! (`extism:host/env`: input, output, errors) and needs no WASI: load it with WASI off.
//!
//! The exports:
//!
//! - `convert`: input `{"context": {…}, "payload": <any JSON>}`, with `"payload_text": "<text>"`
//!   or `"payload_base64": "<base64>"` instead of `payload` (exactly one of the three) — the
//!   fields of a conformance case file (`tests/conformance/cases/`). `context` holds the
//!   `RawContext` fields (`organization_id`, `clinic_id`, `idempotency_key`, `source`,
//!   `received_at`, `delay_seconds`), each optional. A `payload` value is handed to the core as
//!   compact JSON written by `serde_json` (as the conformance table sends it). Output: exactly the
//!   text every runtime prints, `{"conversion":{…}}` or `{"problem":{…}}`; a missing or malformed
//!   context value is a problem, as everywhere else.
//! - `detect`: input the payload's bytes; output `{"source":"mercoa"}` (the source's name) or
//!   `{"source":null}`.
//! - `task_id`: input `{"organization_id": "…", "idempotency_key": "…"}`; output
//!   `{"task_id":"…"}` or `{"problem":{…}}`.
//! - `schema`: input a schema's name as text (`canonical-request`, `mercoa`, …); output the JSON
//!   Schema's text, or `null` when there is no schema of that name.
//!
//! An input that is not of its export's shape (not JSON, an unknown field, a number where a
//! string belongs, no payload or two) is the caller's bug, not a delivery's: the call fails with
//! an Extism error whose message starts `tombstone:`, as the browser module throws (the WIT
//! plugin's types rule it out at compile time).

use base64::Engine as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tombstone_core::{self as core, RawContext};

/// The input of `convert`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvertInput {
    context: RawContext,
    /// Present even when it is `null`: `"payload": null` is the payload `null`.
    #[serde(default, deserialize_with = "present")]
    payload: Option<Value>,
    #[serde(default)]
    payload_text: Option<String>,
    #[serde(default)]
    payload_base64: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The input of `task_id`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskIdInput {
    organization_id: String,
    idempotency_key: String,
}

/// `convert`: the exact text of `{"conversion": …}` or `{"problem": …}`; `Err` says why the input
/// is not `convert`'s.
pub fn convert(input: &[u8]) -> Result<String, String> {
    let input: ConvertInput =
        serde_json::from_slice(input).map_err(|e| format!("tombstone: bad convert input: {e}"))?;
    let payload = match (input.payload, input.payload_text, input.payload_base64) {
        // What the conformance table sends for a `payload` value (tests/src/lib.rs).
        (Some(value), None, None) => serde_json::to_vec(&value).expect("a Value serializes"),
        (None, Some(text), None) => text.into_bytes(),
        (None, None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("tombstone: bad convert input: payload_base64: {e}"))?,
        _ => {
            return Err(
                "tombstone: bad convert input: exactly one of payload, payload_text and \
                        payload_base64 is required"
                    .to_owned(),
            )
        }
    };
    Ok(core::convert_to_json(&payload, &input.context))
}

/// `detect`: `{"source":"<name>"}` or `{"source":null}`.
pub fn detect(payload: &[u8]) -> String {
    serde_json::json!({ "source": core::detect(payload).map(|s| s.name()) }).to_string()
}

/// `task_id`: `{"task_id": …}` or `{"problem": …}`; `Err` says why the input is not `task_id`'s.
pub fn task_id(input: &[u8]) -> Result<String, String> {
    let input: TaskIdInput =
        serde_json::from_slice(input).map_err(|e| format!("tombstone: bad task_id input: {e}"))?;
    Ok(
        match core::task_id(&input.organization_id, &input.idempotency_key) {
            Ok(id) => serde_json::json!({ "task_id": id.to_string() }).to_string(),
            Err(problem) => format!("{{\"problem\":{}}}", problem.to_json()),
        },
    )
}

/// `schema`: the JSON Schema's text, or `null`; `Err` when the name is not UTF-8.
pub fn schema(name: &[u8]) -> Result<String, String> {
    let name = std::str::from_utf8(name)
        .map_err(|e| format!("tombstone: bad schema input: the name is not UTF-8: {e}"))?;
    Ok(core::schema(name).unwrap_or("null").to_owned())
}

/// The Extism exports: each reads its input, calls the function above of its name, and sets its
/// output (or, on `Err`, the call's error).
#[cfg(target_arch = "wasm32")]
// `#[plugin_fn]` expands to a `#[no_mangle] extern "C"` export and the unsafe calls into
// Extism's kernel that set an error; this crate's own code has no unsafe.
#[allow(unsafe_code)]
mod exports {
    use extism_pdk::{plugin_fn, Error, FnResult, WithReturnCode};

    fn fail(message: String) -> WithReturnCode<Error> {
        WithReturnCode::new(Error::msg(message), 1)
    }

    #[plugin_fn]
    pub fn convert(input: Vec<u8>) -> FnResult<String> {
        super::convert(&input).map_err(fail)
    }

    #[plugin_fn]
    pub fn detect(input: Vec<u8>) -> FnResult<String> {
        Ok(super::detect(&input))
    }

    #[plugin_fn]
    pub fn task_id(input: Vec<u8>) -> FnResult<String> {
        super::task_id(&input).map_err(fail)
    }

    #[plugin_fn]
    pub fn schema(input: Vec<u8>) -> FnResult<String> {
        super::schema(&input).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case file's fields as `convert`'s input.
    fn input(case: &tombstone_tests::Case) -> Vec<u8> {
        let mut fields = serde_json::Map::new();
        fields.insert(
            "context".into(),
            serde_json::to_value(ContextJson(&case.context)).unwrap(),
        );
        if case.payload_file.is_some() {
            let b64 = base64::engine::general_purpose::STANDARD.encode(case.payload_bytes());
            fields.insert("payload_base64".into(), b64.into());
        } else if let Some(text) = &case.payload_text {
            fields.insert("payload_text".into(), text.clone().into());
        } else if let Some(b64) = &case.payload_base64 {
            fields.insert("payload_base64".into(), b64.clone().into());
        } else {
            fields.insert("payload".into(), case.payload.clone().unwrap());
        }
        serde_json::to_vec(&fields).unwrap()
    }

    /// `RawContext` is only `Deserialize`.
    struct ContextJson<'a>(&'a RawContext);

    impl serde::Serialize for ContextJson<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let c = self.0;
            serde_json::json!({
                "organization_id": c.organization_id,
                "clinic_id": c.clinic_id,
                "idempotency_key": c.idempotency_key,
                "source": c.source,
                "received_at": c.received_at,
                "delay_seconds": c.delay_seconds,
            })
            .serialize(s)
        }
    }

    #[test]
    fn the_conformance_table_as_native() {
        let cases = tombstone_tests::load_cases();
        assert!(cases.len() >= 60);
        for case in &cases {
            let output = convert(&input(case)).unwrap();
            assert_eq!(output, tombstone_tests::run_native(case), "{}", case.name);
            tombstone_tests::check(case, &output).unwrap();
        }
    }

    #[test]
    fn a_null_payload_is_the_payload_null() {
        let ctx = r#""context":{"organization_id":"o","received_at":"2026-01-01T00:00:00Z"}"#;
        let given = convert(format!(r#"{{{ctx},"payload":null}}"#).as_bytes()).unwrap();
        let text = convert(format!(r#"{{{ctx},"payload_text":"null"}}"#).as_bytes()).unwrap();
        assert_eq!(given, text);
        assert!(given.starts_with(r#"{"problem":"#));
    }

    #[test]
    fn inputs_of_the_wrong_shape_are_errors() {
        let ctx = r#""context":{"organization_id":"o","received_at":"2026-01-01T00:00:00Z"}"#;
        for bad in [
            "not json".to_owned(),
            format!("{{{ctx}}}"),
            format!(r#"{{{ctx},"payload":{{}},"payload_text":"{{}}"}}"#),
            format!(r#"{{{ctx},"payload":{{}},"extra":1}}"#),
            format!(r#"{{{ctx},"payload_base64":"not base64!"}}"#),
            r#"{"context":{"organization_id":7},"payload":{}}"#.to_owned(),
            r#"{"payload":{}}"#.to_owned(),
        ] {
            let e = convert(bad.as_bytes()).unwrap_err();
            assert!(e.starts_with("tombstone: bad convert input"), "{bad}: {e}");
        }
        assert!(task_id(br#"{"organization_id":"o"}"#).is_err());
        assert!(schema(b"\xff").is_err());
    }

    #[test]
    fn detect_task_id_and_schema() {
        let mercoa = std::fs::read(
            tombstone_tests::conformance_dir().join("payloads/mercoa/00-doc-example-verbatim.json"),
        )
        .unwrap();
        assert_eq!(detect(&mercoa), r#"{"source":"mercoa"}"#);
        assert_eq!(detect(b"{}"), r#"{"source":null}"#);
        assert_eq!(
            task_id(br#"{"organization_id":"org_123","idempotency_key":"5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59"}"#)
                .unwrap(),
            r#"{"task_id":"af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60"}"#
        );
        let problem = task_id(br#"{"organization_id":"org 123","idempotency_key":"k"}"#).unwrap();
        assert!(problem.starts_with(r#"{"problem":{"#), "{problem}");
        assert_eq!(
            schema(b"canonical-request").unwrap(),
            core::schema("canonical-request").unwrap()
        );
        assert_eq!(schema(b"nope").unwrap(), "null");
    }
}
