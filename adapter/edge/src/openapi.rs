//! The service's OpenAPI 3.1 document, generated from what the code serves: the routes
//! ([`crate::routes::ROUTES`]), the sources and their schemas, success statuses and proofs
//! ([`tombstone_core::Source::ALL`]), the problem kinds ([`ProblemKind::ALL`]) and the limits.
//! `GET /openapi.json` serves it, `tombstone openapi` prints it, and `openapi.json` in the
//! repository is a copy a test keeps equal to it.

use serde_json::{json, Map, Value};
use tombstone_core::limits::{MAX_CANONICAL_BODY_BYTES, MAX_DELAY_SECONDS, MAX_SOURCE_BODY_BYTES};
use tombstone_core::sources::{Proof, SchemaSpec};
use tombstone_core::{ProblemKind, Source};

use crate::config::Config;
use crate::model::delivery::{AttemptOutcome, DeadReason, DeliveryState};
use crate::routes::Route;

/// Which proofs a document says its routes require. The committed `openapi.json` and
/// `tombstone openapi` describe a deployment with every check on ([`Checks::All`]); the running
/// service serves the document of its own configuration ([`Checks::Configured`]): a check whose
/// variable is unset is not required, and the document says so (`security: []`).
#[derive(Debug, Clone, Copy)]
pub enum Checks<'a> {
    /// Every check on: the contract of a production deployment.
    All,
    /// The checks this configuration turns on.
    Configured(&'a Config),
}

impl Checks<'_> {
    /// The requirement of the admin routes: always `admin_api_keys` (unset, they are closed).
    fn admin() -> Value {
        json!([{"AdminApiKey": []}])
    }

    /// The requirement of the routes behind `api_keys`.
    fn api_key(self) -> Value {
        match self {
            Checks::Configured(c) if c.api_keys.is_empty() => json!([]),
            _ => json!([{"ApiKey": []}]),
        }
    }

    /// The proofs a source's sender may give (any one of them suffices).
    fn source(self, source: Source) -> Value {
        if source.proof() == Proof::ApiKey {
            return self.api_key();
        }
        let (secrets, keys) = match self {
            Checks::All => (true, (true, true)),
            Checks::Configured(c) => (
                c.signs(source),
                c.signing_keys(source)
                    .map_or((false, false), |k| (k.ed25519.is_some(), k.rsa.is_some())),
            ),
        };
        let mut proofs = Vec::new();
        if secrets {
            proofs.push(json!({"StandardWebhooks": []}));
        }
        if let Proof::HighLevel { .. } = source.proof() {
            if keys.0 {
                proofs.push(json!({"HighLevelSignature": []}));
            }
            if keys.1 {
                proofs.push(json!({"HighLevelLegacySignature": []}));
            }
        }
        Value::Array(proofs)
    }
}

/// The version of the HTTP API the document describes.
pub const API_VERSION: &str = "0.3.0";

/// `{"$ref": "#/components/<kind>/<name>"}`.
fn reference(kind: &str, name: &str) -> Value {
    json!({"$ref": format!("#/components/{kind}/{name}")})
}

/// A JSON Schema of `schemas/` as an OpenAPI component: the document's own dialect, so its
/// `$schema` and `$id` go.
fn component(schema: &SchemaSpec) -> Value {
    let mut value: Value = serde_json::from_str(schema.text).expect("embedded schemas are JSON");
    if let Some(map) = value.as_object_mut() {
        map.remove("$schema");
        map.remove("$id");
    }
    value
}

/// A problem+json response.
fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": reference("schemas", "Problem")}},
    })
}

/// A problem+json response that says when to retry.
fn problem_with_retry(description: &str) -> Value {
    let mut value = problem(description);
    value["headers"] = json!({"Retry-After": reference("headers", "Retry-After")});
    value
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// The canonical response of an accepted deletion, with the route's success status.
fn accepted(description: &str) -> Value {
    json!({
        "description": description,
        "headers": {"Location": reference("headers", "Location")},
        "content": json_content(reference("schemas", "canonical-response")),
    })
}

/// What every ingestion route can answer besides its success; `transient` are the statuses its
/// sources answer a transient refusal with (409 and 503 for most; HighLevel: 429 only).
fn ingestion_responses(success_status: u16, success: Value, transient: &[u16]) -> Value {
    let mut responses = json!({
        success_status.to_string(): success,
        "400": reference("responses", "BadRequest"),
        "401": reference("responses", "Unauthorized"),
        "403": reference("responses", "Forbidden"),
        "404": reference("responses", "NotFound"),
        "408": reference("responses", "RequestTimeout"),
        "413": reference("responses", "PayloadTooLarge"),
        "415": reference("responses", "UnsupportedMediaType"),
        "422": reference("responses", "Unprocessable"),
    });
    for status in transient {
        responses[status.to_string()] = match status {
            409 => reference("responses", "Conflict"),
            503 => reference("responses", "Unavailable"),
            _ => reference("responses", "NotNow"),
        };
    }
    responses
}

/// The statuses `sources` answer transient refusals (409 `conflict`, 503 `unavailable`) with.
fn transient_statuses(sources: &[Source]) -> Vec<u16> {
    let mut statuses: Vec<u16> = sources
        .iter()
        .flat_map(|s| [409, 503].map(|status| s.retry().transient_status(status)))
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

/// The body schema of a source: its event's schema, or one of its events'.
fn source_body(source: Source) -> Value {
    let events: Vec<Value> = source
        .events()
        .iter()
        .map(|e| reference("schemas", e.schema.name))
        .collect();
    match events.as_slice() {
        [one] => one.clone(),
        _ => json!({"oneOf": events}),
    }
}

/// The body of a route that detects its source: a JSON object, which one source's schemas must
/// accept once detected. (Said in words, not as an `anyOf` of every schema: the detection
/// decides which schema applies, and a union of all of them documents nothing more while
/// defeating generators.)
fn any_source_body() -> Value {
    let schemas: Vec<String> = Source::ALL
        .iter()
        .flat_map(|s| s.events())
        .map(|e| format!("`#/components/schemas/{}`", e.schema.name))
        .collect();
    json!({
        "type": "object",
        "description": format!(
            "Any source's payload. The source is detected from the payload's shape (`/api/v1/convert` may force it with `source`), then the payload is validated against its event's schema: {}. A payload of no known shape is `unknown-format` (422).",
            schemas.join(", ")
        ),
    })
}

fn task_id_parameter() -> Value {
    path_parameter(
        "task_id",
        json!({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
        "Lowercase hex SHA-256 of organization, 0x00 and key.",
    )
}

fn path_parameter(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": schema, "description": description})
}

fn header(name: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "header", "required": required, "schema": schema, "description": description})
}

fn query(name: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema, "description": description})
}

fn organization_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]{1,128}$"})
}

fn key_schema() -> Value {
    // Bare (1-36 printable ASCII characters, no spaces, not starting with a quote) or an
    // RFC 8941 sf-string whose content is such a key (`\"` and `\\` escaped).
    json!({"type": "string", "minLength": 1, "maxLength": 74,
           "pattern": r#"^([!#-~][!-~]{0,35}|"([!#-\[\]-~]|\\["\\]){1,36}")$"#})
}

fn standard_webhooks_headers() -> Vec<Value> {
    let standard = ["webhook-id", "webhook-timestamp"].into_iter().map(|name| {
        header(
            name,
            false,
            json!({"type": "string"}),
            "Standard Webhooks (or svix-*): needed with the signature when the source's secret is set.",
        )
    });
    // Svix sends the same three headers under its own prefix; each is read when its webhook-*
    // name is absent.
    let svix = ["svix-id", "svix-timestamp", "svix-signature"]
        .into_iter()
        .map(|name| {
            header(
                name,
                false,
                json!({"type": "string"}),
                "Svix's name for the webhook-* header of the same suffix, read when that one is absent.",
            )
        });
    standard.chain(svix).collect()
}

/// The webhook route of `source` (`auto` when `None`).
fn webhook_operation(source: Option<Source>, checks: Checks<'_>) -> Value {
    let (name, display, body, statuses, security) = match source {
        Some(s) => (
            s.name().to_owned(),
            s.display_name().to_owned(),
            source_body(s),
            vec![s.success_status()],
            checks.source(s),
        ),
        None => {
            let mut statuses: Vec<u16> = Source::ALL.iter().map(|s| s.success_status()).collect();
            statuses.sort_unstable();
            statuses.dedup();
            // The detected source's proofs: any source's; none when any source is open.
            let per_source: Vec<Value> = Source::ALL.iter().map(|s| checks.source(*s)).collect();
            let mut unique: Vec<Value> = Vec::new();
            if per_source
                .iter()
                .all(|p| p.as_array().is_some_and(|a| !a.is_empty()))
            {
                for proof in per_source
                    .iter()
                    .flat_map(|p| p.as_array().cloned().unwrap_or_default())
                {
                    if !unique.contains(&proof) {
                        unique.push(proof);
                    }
                }
            }
            (
                "auto".to_owned(),
                "any source".to_owned(),
                any_source_body(),
                statuses,
                Value::Array(unique),
            )
        }
    };
    let events: Vec<String> = match source {
        Some(s) => s.events().iter().map(|e| format!("`{}`", e.name)).collect(),
        None => vec!["any source's deletion event, detected".into()],
    };
    let sources: Vec<Source> = match source {
        Some(s) => vec![s],
        None => Source::ALL.to_vec(),
    };
    let mut responses = ingestion_responses(
        statuses[0],
        accepted("Scheduled, a duplicate of the first delivery, or queued (relay mode): the provider's documented success status."),
        &transient_statuses(&sources),
    );
    for status in &statuses[1..] {
        responses[status.to_string()] =
            accepted("Scheduled, or a duplicate (the detected source's success status).");
    }
    let mut parameters = vec![
        path_parameter(
            "organization_id",
            organization_schema(),
            "The organization (tenant) the deletion belongs to: X-Organization-Id of the canonical request.",
        ),
        query(
            "clinic_id",
            false,
            json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"}),
            "The clinic to use when the payload names none.",
        ),
        header(
            "Idempotency-Key",
            false,
            key_schema(),
            "The delivery's own key; derived from the payload (UUIDv5) when absent.",
        ),
    ];
    parameters.extend(standard_webhooks_headers());
    json!({
        "post": {
            "operationId": format!("webhook_{}", name.replace('-', "_")),
            "summary": format!("A {display} invoice-deletion webhook"),
            "description": format!(
                "Validates {} against its JSON Schema, converts it into the canonical request and delivers it (store mode: scheduled once in the key-value store; relay mode: sent to the canonical deletion API, or queued and delivered in the background when it cannot take it now). A delivery that cannot be taken right now is answered in the status the provider retries, with Retry-After.",
                events.join(" or ")
            ),
            "tags": ["webhooks"],
            "security": security,
            "parameters": parameters,
            "requestBody": {"required": true, "content": json_content(body)},
            "responses": responses,
        }
    })
}

/// The document of a deployment with every check on.
pub fn document() -> Value {
    document_for(Checks::All)
}

/// The document, with the security requirements `checks` turns on.
pub fn document_for(checks: Checks<'_>) -> Value {
    let mut paths = Map::new();
    // Every route, matched by its variant: a route added without its document does not compile.
    for route in Route::ALL {
        let template = route.template();
        match route {
            Route::Canonical => {
                paths.insert(template.into(), json!({
                    "post": {
                        "operationId": "invoice_deletions",
                        "summary": "The canonical deletion request",
                        "description": format!("Strict: unknown properties are an error; at most {MAX_CANONICAL_BODY_BYTES} bytes and 5,000 entries. Scheduled exactly once per organization and Idempotency-Key (relay mode: sent upstream)."),
                        "tags": ["deletions"],
                        "security": checks.api_key(),
                        "parameters": [
                            header("Idempotency-Key", true, key_schema(), "1-36 printable ASCII characters, bare or RFC 8941-quoted."),
                            header("X-Organization-Id", true, organization_schema(), "1-128 printable ASCII characters, no spaces."),
                        ],
                        "requestBody": {"required": true, "content": json_content(reference("schemas", "canonical-request"))},
                        "responses": ingestion_responses(202, accepted("Scheduled, a duplicate of the first delivery, or queued (relay mode: stored here and delivered in the background)."), &transient_statuses(&[Source::CANONICAL])),
                    }
                }));
            }
            Route::Webhook { .. } => {
                // One concrete path per source: each has its own body and success status.
                for &source in Source::ALL.iter().filter(|s| s.is_provider()) {
                    paths.insert(
                        format!("/api/v1/webhooks/{}/{{organization_id}}", source.name()),
                        webhook_operation(Some(source), checks),
                    );
                }
                paths.insert(
                    "/api/v1/webhooks/auto/{organization_id}".into(),
                    webhook_operation(None, checks),
                );
            }
            Route::Convert => {
                let names: Vec<&str> = std::iter::once("auto")
                    .chain(Source::ALL.iter().map(|s| s.name()))
                    .collect();
                paths.insert(template.into(), json!({
                    "post": {
                        "operationId": "convert",
                        "summary": "Dry run: what a payload becomes",
                        "description": "The conversion (canonical request, headers, ids, warnings) or the problem; nothing is stored or sent. The delivery context comes from the query. (A request copied from a canonical delivery may carry `X-Organization-Id` and `Idempotency-Key` as headers instead of `organization_id` and `idempotency_key`.)",
                        "tags": ["deletions"],
                        "security": [],
                        "parameters": [
                            query("organization_id", true, organization_schema(), "X-Organization-Id of the canonical request."),
                            query("clinic_id", false, json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"}), "The clinic to use when the payload names none."),
                            query("idempotency_key", false, key_schema(), "The delivery's key; derived when absent."),
                            query("source", false, json!({"type": "string", "enum": names}), "Detect (auto) or force a source."),
                            query("received_at", false, json!({"type": "string", "format": "date-time"}), "When the delivery was received (default: now)."),
                            query("delay_seconds", false, json!({"type": "integer", "minimum": 0, "maximum": MAX_DELAY_SECONDS}), "scheduled_for - received_at (default: the configured delay)."),
                        ],
                        "requestBody": {"required": true, "content": json_content(any_source_body())},
                        "responses": {
                            "200": {"description": "The conversion.", "content": json_content(reference("schemas", "Conversion"))},
                            "400": reference("responses", "BadRequest"),
                            "408": reference("responses", "RequestTimeout"),
                            "413": reference("responses", "PayloadTooLarge"),
                            "415": reference("responses", "UnsupportedMediaType"),
                            "422": reference("responses", "Unprocessable"),
                        },
                    }
                }));
            }
            Route::Task { .. } => {
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "task",
                        "summary": "A scheduled task (store mode)",
                        "tags": ["admin"],
                        "security": Checks::admin(),
                        "parameters": [path_parameter("task_id", json!({"type": "string", "pattern": "^[0-9a-f]{64}$"}), "Lowercase hex SHA-256 of organization, 0x00 and key.")],
                        "responses": {
                            "200": {"description": "The task: the conversion that was scheduled.", "content": json_content(reference("schemas", "Task"))},
                            "401": reference("responses", "Unauthorized"),
                            "403": reference("responses", "Forbidden"),
                            "404": reference("responses", "NotFound"),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            Route::Deliveries => {
                let states: Vec<&str> = [
                    DeliveryState::Queued,
                    DeliveryState::Delivered,
                    DeliveryState::Dead,
                ]
                .iter()
                .map(|s| s.name())
                .collect();
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "deliveries",
                        "summary": "Relay mode's deliveries, newest first, without bodies",
                        "description": "Counted down the queue's index (no key scan). A dead letter is a delivery in state `dead`.",
                        "tags": ["admin"],
                        "security": Checks::admin(),
                        "parameters": [
                            query("state", false, json!({"type": "string", "enum": states}), "Only deliveries in this state."),
                            query("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 200, "default": 50}), "Deliveries per page."),
                            query("before", false, json!({"type": "integer", "minimum": 1}), "Only deliveries queued before this number (the `next` link's cursor)."),
                        ],
                        "responses": {
                            "200": {"description": "A page of deliveries.", "content": json_content(reference("schemas", "DeliveryPage"))},
                            "401": reference("responses", "Unauthorized"),
                            "403": reference("responses", "Forbidden"),
                            "422": reference("responses", "Unprocessable"),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            Route::Delivery { .. } => {
                let id = task_id_parameter();
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "delivery",
                        "summary": "One delivery: its state, every attempt, the next one, the upstream's response",
                        "tags": ["admin"],
                        "security": Checks::admin(),
                        "parameters": [id],
                        "responses": {
                            "200": {"description": "The delivery.", "content": json_content(reference("schemas", "Delivery"))},
                            "401": reference("responses", "Unauthorized"),
                            "403": reference("responses", "Forbidden"),
                            "404": reference("responses", "NotFound"),
                            "503": reference("responses", "Unavailable"),
                        },
                    },
                    "delete": {
                        "operationId": "delete_delivery",
                        "summary": "Forget a delivered or dead delivery",
                        "tags": ["admin"],
                        "security": Checks::admin(),
                        "parameters": [id],
                        "responses": {
                            "204": {"description": "Forgotten."},
                            "401": reference("responses", "Unauthorized"),
                            "403": reference("responses", "Forbidden"),
                            "404": reference("responses", "NotFound"),
                            "409": problem("conflict: a queued delivery is still being delivered."),
                            "503": reference("responses", "Unavailable"),
                        },
                    },
                }));
            }
            Route::ReplayDelivery { .. } => {
                paths.insert(template.into(), json!({
                    "post": {
                        "operationId": "replay_delivery",
                        "summary": "Put a dead letter back in the queue, due now",
                        "description": "The dispatcher attempts it on the retry schedule from the start. Refused (409) for a delivered one, and for one received longer ago than idempotency_retention_seconds: the upstream no longer honours its key, so a replay could schedule the deletion twice.",
                        "tags": ["admin"],
                        "security": Checks::admin(),
                        "parameters": [task_id_parameter()],
                        "responses": {
                            "200": {"description": "It is queued already.", "content": json_content(reference("schemas", "Delivery"))},
                            "202": {"description": "Queued again.", "content": json_content(reference("schemas", "Delivery"))},
                            "401": reference("responses", "Unauthorized"),
                            "403": reference("responses", "Forbidden"),
                            "404": reference("responses", "NotFound"),
                            "409": problem("conflict: delivered already, or its key is no longer honoured upstream."),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            Route::Dispatch => {
                paths.insert(template.into(), json!({
                    "post": {
                        "operationId": "dispatch",
                        "summary": "Attempt the queued deliveries that are due, now (for a cron)",
                        "description": "`tombstone serve` dispatches every second and Spin after each request; this route lets a scheduler drive it too (a Kubernetes CronJob on SpinKube).",
                        "tags": ["admin"],
                        "security": Checks::admin(),
                        "responses": {
                            "200": {"description": "What the dispatch did and saw.", "content": json_content(reference("schemas", "DispatchReport"))},
                            "401": reference("responses", "Unauthorized"),
                            "403": reference("responses", "Forbidden"),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            Route::Expire => {
                paths.insert(template.into(), json!({
                    "post": {
                        "operationId": "expire",
                        "summary": "One page of maintenance: claims whose minutes have passed, finished deliveries past their retention, tasks past task_retention_seconds",
                        "description": "The store's keys are swept a page at a time: call again with the answer's `next` as `cursor` until it is null.",
                        "tags": ["admin"],
                        "security": Checks::admin(),
                        "parameters": [query("cursor", false, json!({"type": "string"}), "Where the previous call's page ended (its `next`).")],
                        "responses": {
                            "200": {"description": "What was removed.", "content": json_content(reference("schemas", "Expired"))},
                            "401": reference("responses", "Unauthorized"),
                            "403": reference("responses", "Forbidden"),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            Route::Health => {
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "health",
                        "summary": "Liveness: the component answers (it touches no store and reads no variable)",
                        "tags": ["operations"],
                        "security": [],
                        "responses": {
                            "200": {"description": "Up.", "content": json_content(json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}))},
                        },
                    }
                }));
            }
            Route::Ready => {
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "ready",
                        "summary": "Readiness: every variable is usable and the key-value store answers",
                        "tags": ["operations"],
                        "security": [],
                        "responses": {
                            "200": {"description": "Ready.", "content": json_content(json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ready"}}}))},
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            Route::Schema { .. } => {
                let names = tombstone_core::schemas::names();
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "schema",
                        "summary": "A JSON Schema the payloads are validated against",
                        "tags": ["operations"],
                        "security": [],
                        "parameters": [path_parameter("name", json!({"type": "string", "enum": names}), "The schema's name.")],
                        "responses": {
                            "200": {"description": "The schema (draft 2020-12).", "content": {"application/schema+json": {"schema": {"type": "object"}}}},
                            "404": reference("responses", "NotFound"),
                        },
                    }
                }));
            }
            Route::OpenApi => {
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "openapi",
                        "summary": "This document",
                        "tags": ["operations"],
                        "security": [],
                        "responses": {"200": {"description": "OpenAPI 3.1.", "content": json_content(json!({"type": "object"}))}},
                    }
                }));
            }
        }
    }

    let mut schemas = Map::new();
    for schema in tombstone_core::schemas::all() {
        schemas.insert(schema.name.into(), component(schema));
    }
    let kinds: Vec<String> = ProblemKind::ALL.iter().map(|k| k.type_uri()).collect();
    schemas.insert("Problem".into(), json!({
        "type": "object",
        "description": "RFC 9457 problem details. `errors` lists each place that is wrong: an RFC 6901 JSON Pointer into the payload (`/header/<Name>` for a header, `/context/<field>` or `/query/<name>` for the delivery context), the JSON Schema keyword or rule, and a message that never echoes the value.",
        "required": ["type", "title", "status", "detail", "errors"],
        "properties": {
            "type": {"type": "string", "enum": kinds},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {
                "type": "object",
                "required": ["pointer", "keyword", "message"],
                "properties": {"pointer": {"type": "string"}, "keyword": {"type": "string"}, "message": {"type": "string"}},
            }},
        },
    }));
    let source_names: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
    schemas.insert("Conversion".into(), json!({
        "type": "object",
        "description": "What a payload becomes: the canonical request to send, its ids and times, and the warnings.",
        "required": ["source", "request", "task_id", "scheduled_for", "received_at", "invoices_count", "invoice_lines_count", "warnings"],
        "properties": {
            "source": {"type": "string", "enum": source_names},
            "request": {
                "type": "object",
                "required": ["method", "path", "headers", "body"],
                "properties": {
                    "method": {"const": "POST"},
                    "path": {"const": "/api/v1/invoice-deletions"},
                    "headers": {"type": "object", "required": ["Idempotency-Key", "X-Organization-Id"], "properties": {
                        "Idempotency-Key": {"type": "string"}, "X-Organization-Id": {"type": "string"}}},
                    "body": reference("schemas", "canonical-request"),
                },
            },
            "task_id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "scheduled_for": {"type": "string", "format": "date-time"},
            "received_at": {"type": "string", "format": "date-time"},
            "invoices_count": {"type": "integer", "minimum": 0},
            "invoice_lines_count": {"type": "integer", "minimum": 0},
            "warnings": {"type": "array", "items": {"type": "object", "required": ["pointer", "code", "message"], "properties": {
                "pointer": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}},
        },
    }));
    let mut task = schemas["Conversion"].clone();
    task["description"] = json!("A scheduled task: the conversion, its status and when its idempotency record expires (Unix seconds).");
    task["properties"]["status"] = json!({"const": "scheduled"});
    task["properties"]["idempotency_expires_at"] = json!({"type": "integer"});
    schemas.insert("Task".into(), task);
    schemas.insert("Attempt".into(), json!({
        "type": "object",
        "required": ["at", "outcome", "detail"],
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "outcome": {"type": "string", "enum": AttemptOutcome::ALL.iter().map(|o| o.name()).collect::<Vec<_>>()},
            "status": {"type": "integer", "description": "The upstream's status, when it answered."},
            "detail": {"type": "string"},
        },
    }));
    let delivery_fields = json!({
        "task_id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "state": {"type": "string", "enum": ["queued", "delivered", "dead"]},
        "source": {"type": "string", "enum": source_names},
        "organization_id": {"type": "string"},
        "idempotency_key": {"type": "string"},
        "received_at": {"type": "string", "format": "date-time"},
        "queued_at": {"type": "string", "format": "date-time"},
        "answer": reference("schemas", "canonical-response"),
        "attempt_count": {"type": "integer", "minimum": 0},
        "step": {"type": "integer", "minimum": 0, "description": "Attempts since it was (last) queued: its place in the retry schedule."},
        "next_attempt_at": {"type": "string", "format": "date-time"},
        "dead_reason": {"type": "string", "enum": DeadReason::ALL.iter().map(|r| r.name()).collect::<Vec<_>>()},
        "finished_at": {"type": "string", "format": "date-time"},
        "response": {"type": "object", "description": "The upstream's canonical response, once delivered."},
        "replays": {"type": "integer", "minimum": 0},
    });
    let mut full = delivery_fields.clone();
    full["body"] =
        json!({"type": "string", "description": "The canonical body, byte for byte what is sent."});
    full["attempts"] = json!({"type": "array", "items": reference("schemas", "Attempt"), "description": "Every attempt, oldest first (the last 50)."});
    let required = [
        "task_id",
        "state",
        "source",
        "organization_id",
        "idempotency_key",
        "received_at",
        "queued_at",
        "answer",
        "attempt_count",
        "step",
        "replays",
    ];
    schemas.insert("Delivery".into(), json!({
        "type": "object",
        "description": "A deletion relay mode took over from its sender: queued, delivered, or dead (a dead letter).",
        "required": required.iter().chain(["body", "attempts"].iter()).collect::<Vec<_>>(),
        "properties": full,
    }));
    let mut summary = delivery_fields;
    summary["last_attempt"] = reference("schemas", "Attempt");
    schemas.insert(
        "DeliverySummary".into(),
        json!({
            "type": "object",
            "required": required,
            "properties": summary,
        }),
    );
    schemas.insert("DeliveryPage".into(), json!({
        "type": "object",
        "required": ["deliveries", "next"],
        "properties": {
            "deliveries": {"type": "array", "items": reference("schemas", "DeliverySummary")},
            "next": {"type": ["string", "null"], "description": "The next page's path, or null."},
        },
    }));
    let count = json!({"type": "integer", "minimum": 0});
    schemas.insert("DispatchReport".into(), json!({
        "type": "object",
        "required": ["scanned", "attempted", "delivered", "retrying", "dead", "leases_lost", "complete", "queued"],
        "properties": {
            "idle": {"type": "string", "description": "Why it did nothing, when it did nothing."},
            "scanned": count, "attempted": count, "delivered": count, "retrying": count, "dead": count,
            "leases_lost": count, "queued": count,
            "complete": {"type": "boolean", "description": "Whether the scan saw the whole queue (then queued and oldest_received_at are the whole queue's)."},
            "oldest_received_at": {"type": "string", "format": "date-time"},
            "circuit": {"type": "string", "enum": ["closed", "open", "half-open"]},
        },
    }));
    schemas.insert(
        "Expired".into(),
        json!({
            "type": "object",
            "required": ["next", "keys_scanned", "claims_removed", "tasks_removed", "deliveries_removed", "index_entries_removed", "leases_removed"],
            "properties": {
                "next": {"type": ["string", "null"], "description": "The cursor of the next page (?cursor=), null after the last."},
                "keys_scanned": {"type": "integer", "minimum": 0},
                "claims_removed": {"type": "integer", "minimum": 0},
                "tasks_removed": {"type": "integer", "minimum": 0},
                "deliveries_removed": {"type": "integer", "minimum": 0},
                "index_entries_removed": {"type": "integer", "minimum": 0},
                "leases_removed": {"type": "integer", "minimum": 0},
            },
        }),
    );

    let responses = json!({
        "BadRequest": problem("invalid-json, missing-header or invalid-header."),
        "Unauthorized": problem("unauthorized: a missing or wrong API key or signature."),
        "Forbidden": problem("unauthorized, answered 403: the admin routes are closed until admin_api_keys is set, or the API key does not serve this organization."),
        "NotFound": problem("not-found."),
        "RequestTimeout": problem("request-timeout: the body did not arrive within body_timeout_ms."),
        "Conflict": problem_with_retry("conflict: the same key is still being processed; retry after Retry-After."),
        "PayloadTooLarge": problem(&format!("payload-too-large: a body over its route's limit ({MAX_SOURCE_BODY_BYTES} bytes; the canonical route {MAX_CANONICAL_BODY_BYTES}), more than 5,000 entries, or nesting deeper than 64.")),
        "UnsupportedMediaType": problem("unsupported-media-type: the body must be application/json."),
        "Unprocessable": problem("unknown-format, validation, unmappable or idempotency-key-reuse."),
        "Unavailable": problem_with_retry("unavailable: the delivery could not be taken right now (the store failed, a variable is unusable, or nothing durable could be written); retry after Retry-After."),
        "NotNow": problem_with_retry("A transient refusal (a conflict or unavailable problem) in the status this provider retries: HighLevel retries only 429. Retry after Retry-After."),
    });

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "tombstone: invoice-deletion webhooks in, one canonical deletion request out",
            "version": API_VERSION,
            "description": "The ingestion service of tombstone (the Spin app, and `tombstone serve`). Provider webhooks (Mercoa, WillSuite, HighLevel) and canonical requests are validated, converted and delivered exactly once. Every refusal is RFC 9457 application/problem+json. Checks are off until their variables are set: the security requirements apply once `api_keys` or a source's secret or keys are configured.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "deletions", "description": "The canonical contract and its dry run."},
            {"name": "webhooks", "description": "One route per provider, and one that detects."},
            {"name": "admin", "description": "Tasks, deliveries (and dead letters), dispatch and maintenance (behind admin_api_keys; closed while it is unset)."},
            {"name": "operations", "description": "Liveness, readiness, schemas and this document."},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "headers": {
                "Retry-After": {"required": true, "description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
                "Location": {"required": false, "description": "The task (store mode).", "schema": {"type": "string", "format": "uri-reference"}},
            },
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of `api_keys`, when set: a key serves every organization, or the ones named after it (403 for another)."},
                "AdminApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of `admin_api_keys`. Unset, the admin routes are closed: 403."},
                "StandardWebhooks": {"type": "apiKey", "in": "header", "name": "webhook-signature", "description": "Standard Webhooks / Svix: `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` with the source's `whsec_` secret (svix-* headers too), within ±300 s; when the source's secret is set."},
                "HighLevelSignature": {"type": "apiKey", "in": "header", "name": "x-ghl-signature", "description": "HighLevel's Ed25519 signature (base64) of the raw body, when its key is set."},
                "HighLevelLegacySignature": {"type": "apiKey", "in": "header", "name": "x-wh-signature", "description": "HighLevel's legacy RSA-SHA256 signature (base64) of the raw body, when its key is set."},
            },
        },
    })
}
