//! # tombstone-web
//!
//! tombstone's adapter for the browser: the same four operations as the WIT plugin
//! (`adapter/plugin`) — convert, detect, task id, schemas — exported with wasm-bindgen over
//! `tombstone-core`, for the playground in `www/`. This crate only translates types; every rule
//! lives in the core, so the page answers exactly as the native core does.
//!
//! Built by `scripts/web.sh` for `wasm32-unknown-unknown` (`--profile wasm-web`: the `wasm`
//! profile with symbols kept for wasm-bindgen), then
//! `wasm-bindgen --target web` and `wasm-opt`. The JavaScript shapes:
//!
//! - `convert(payload: Uint8Array, context: object)` → `{conversion: {…}}` or `{problem: {…}}`:
//!   exactly a conformance case's `expect` — the conversion document (`source`, `request`,
//!   `task_id`, `scheduled_for`, …, keys in wire order) or the problem+json document. `context`
//!   holds the `RawContext` fields in snake case (`organization_id`, `clinic_id`,
//!   `idempotency_key`, `source`, `received_at`, `delay_seconds`), each optional; a missing or
//!   malformed value comes back as a problem, like everywhere else. Only a `context` that is not
//!   such an object at all (an unknown field, a number where a string belongs) throws an `Error`:
//!   that is the caller's bug, which the WIT plugin's types rule out at compile time.
//! - `convertJson(payload, context)` → the same document as its exact JSON text, the bytes every
//!   other runtime prints.
//! - `detect(payload: Uint8Array)` → `"mercoa" | "willsuite" | "highlevel" | "canonical"` or
//!   `undefined`.
//! - `taskId(organizationId: string, idempotencyKey: string)` → `{task_id: "…"}` or
//!   `{problem: {…}}`.
//! - `schema(name: string)` → the JSON Schema as an object, or `undefined`; `schemaNames()` → the
//!   names; `schemaFor(payload, source?)` → the name of the schema a payload is validated
//!   against (its detected event's, or the forced source's), or `undefined`.
//! - `sources()` → `[{name, displayName}]`, every source in detection order.

use serde::Serialize as _;
use tombstone_core as core;
use wasm_bindgen::prelude::*;

/// Converts one delivery: `{conversion: …}` or `{problem: …}` (see the crate docs).
#[wasm_bindgen]
pub fn convert(payload: &[u8], context: JsValue) -> Result<JsValue, JsError> {
    convert_json(payload, context).map(|json| to_js(&json))
}

/// Converts one delivery, as the exact JSON text of `{conversion: …}` or `{problem: …}`.
#[wasm_bindgen(js_name = convertJson)]
pub fn convert_json(payload: &[u8], context: JsValue) -> Result<String, JsError> {
    // Through JSON text, so the context is read exactly as the conformance table's is (unknown
    // fields refused, `undefined` and `null` alike absent), not field by field.
    let text = js_sys::JSON::stringify(&context)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| JsError::new("tombstone: the context is not a JSON object"))?;
    let raw: core::RawContext = serde_json::from_str(&text)
        .map_err(|e| JsError::new(&format!("tombstone: bad context object: {e}")))?;
    Ok(core::convert_to_json(payload, &raw))
}

/// The source a payload looks like, or `undefined`.
#[wasm_bindgen]
pub fn detect(payload: &[u8]) -> Option<String> {
    core::detect(payload).map(|s| s.name().to_owned())
}

/// The task id of an organization and a raw `Idempotency-Key` value: `{task_id}` or `{problem}`.
#[wasm_bindgen(js_name = taskId)]
pub fn task_id(organization_id: &str, idempotency_key: &str) -> JsValue {
    let json = match core::task_id(organization_id, idempotency_key) {
        Ok(id) => serde_json::json!({ "task_id": id.to_string() }).to_string(),
        Err(problem) => format!("{{\"problem\":{}}}", problem.to_json()),
    };
    to_js(&json)
}

/// The JSON Schema called `name` as an object, or `undefined`.
#[wasm_bindgen]
pub fn schema(name: &str) -> JsValue {
    core::schema(name).map_or(JsValue::UNDEFINED, to_js)
}

/// The names of the embedded JSON Schemas.
#[wasm_bindgen(js_name = schemaNames)]
pub fn schema_names() -> Vec<String> {
    core::schemas::names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Every source, in detection order: `[{name, displayName}]` (for the page's menus).
#[wasm_bindgen]
pub fn sources() -> JsValue {
    let list: Vec<serde_json::Value> = core::Source::ALL
        .iter()
        .map(|s| serde_json::json!({"name": s.name(), "displayName": s.display_name()}))
        .collect();
    to_js(&serde_json::Value::Array(list).to_string())
}

/// The name of the schema a payload is held to — its detected event's, or the forced
/// `source`'s — or `undefined`.
#[wasm_bindgen(js_name = schemaFor)]
pub fn schema_for(payload: &[u8], source: Option<String>) -> Option<String> {
    let forced = match source.as_deref() {
        None | Some("auto") => None,
        Some(name) => Some(core::Source::from_name(name)?),
    };
    core::schema_for(payload, forced).map(str::to_owned)
}

/// JSON text (produced by the core, so always valid) → a plain JS value, keys in text order.
fn to_js(json: &str) -> JsValue {
    // Maps become plain objects, not `Map`s; objects keep the order of the text, so the page shows
    // documents in the order every other runtime prints them.
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_transcode::Transcoder::new(&mut deserializer)
        .serialize(&serializer)
        .expect("the core's JSON always converts to a JS value")
}
