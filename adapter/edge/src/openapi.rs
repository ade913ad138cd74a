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
use crate::routes::ROUTES;

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
                c.webhook_secrets(source).is_some(),
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
pub const API_VERSION: &str = "0.2.0";

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

/// What every ingestion route can answer besides its success.
fn ingestion_responses(success_status: u16, success: Value) -> Value {
    json!({
        success_status.to_string(): success,
        "400": reference("responses", "BadRequest"),
        "401": reference("responses", "Unauthorized"),
        "404": reference("responses", "NotFound"),
        "408": reference("responses", "RequestTimeout"),
        "409": reference("responses", "Conflict"),
        "413": reference("responses", "PayloadTooLarge"),
        "415": reference("responses", "UnsupportedMediaType"),
        "422": reference("responses", "Unprocessable"),
        "503": reference("responses", "Unavailable"),
    })
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
    let mut responses = ingestion_responses(statuses[0], accepted("Scheduled, or a duplicate of the first delivery (the provider's documented success status)."));
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
                "Validates {} against its JSON Schema, converts it into the canonical request and delivers it (store mode: scheduled once in the key-value store; relay mode: sent to the canonical deletion API). A failure on our side is kept as a dead letter and answered 503.",
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
    for (template, _) in ROUTES {
        match template {
            "/api/v1/invoice-deletions" => {
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
                        "responses": ingestion_responses(202, accepted("Scheduled, or a duplicate of the first delivery.")),
                    }
                }));
            }
            "/api/v1/webhooks/{source}/{organization_id}" => {
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
            "/api/v1/convert" => {
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
            "/api/v1/tasks/{task_id}" => {
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "task",
                        "summary": "A scheduled task (store mode)",
                        "tags": ["admin"],
                        "security": checks.api_key(),
                        "parameters": [path_parameter("task_id", json!({"type": "string", "pattern": "^[0-9a-f]{64}$"}), "Lowercase hex SHA-256 of organization, 0x00 and key.")],
                        "responses": {
                            "200": {"description": "The task: the conversion that was scheduled.", "content": json_content(reference("schemas", "Task"))},
                            "401": reference("responses", "Unauthorized"),
                            "404": reference("responses", "NotFound"),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            "/api/v1/dead-letters" => {
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "dead_letters",
                        "summary": "Deliveries kept after a failure on our side, newest first, without bodies",
                        "tags": ["admin"],
                        "security": checks.api_key(),
                        "parameters": [
                            query("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 200, "default": 50}), "Letters per page."),
                            query("before", false, json!({"type": "integer", "minimum": 1}), "Only letters with a smaller id (the `next` link's cursor)."),
                        ],
                        "responses": {
                            "200": {"description": "A page of letters.", "content": json_content(reference("schemas", "DeadLetterPage"))},
                            "401": reference("responses", "Unauthorized"),
                            "422": reference("responses", "Unprocessable"),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            "/api/v1/dead-letters/{id}" => {
                let id = path_parameter(
                    "id",
                    json!({"type": "integer", "minimum": 1}),
                    "The letter's id.",
                );
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "dead_letter",
                        "summary": "One dead letter, with its headers and body",
                        "tags": ["admin"],
                        "security": checks.api_key(),
                        "parameters": [id],
                        "responses": {
                            "200": {"description": "The letter.", "content": json_content(reference("schemas", "DeadLetter"))},
                            "401": reference("responses", "Unauthorized"),
                            "404": reference("responses", "NotFound"),
                            "503": reference("responses", "Unavailable"),
                        },
                    },
                    "delete": {
                        "operationId": "delete_dead_letter",
                        "summary": "Forget a dead letter",
                        "tags": ["admin"],
                        "security": checks.api_key(),
                        "parameters": [id],
                        "responses": {
                            "204": {"description": "Forgotten."},
                            "401": reference("responses", "Unauthorized"),
                            "404": reference("responses", "NotFound"),
                            "503": reference("responses", "Unavailable"),
                        },
                    },
                }));
            }
            "/api/v1/dead-letters/{id}/replay" => {
                let mut responses = ingestion_responses(
                    202,
                    accepted("The replay was accepted; the letter is gone."),
                );
                responses["200"] = accepted(
                    "The replay was accepted (a provider route's 200); the letter is gone.",
                );
                paths.insert(template.into(), json!({
                    "post": {
                        "operationId": "replay_dead_letter",
                        "summary": "Run a dead letter through the pipeline again, with its original received_at",
                        "description": "The answer is the pipeline's. A 2xx removes the letter; any other answer leaves it, with one more attempt and the last reason.",
                        "tags": ["admin"],
                        "security": checks.api_key(),
                        "parameters": [path_parameter("id", json!({"type": "integer", "minimum": 1}), "The letter's id.")],
                        "responses": responses,
                    }
                }));
            }
            "/api/v1/maintenance/expire" => {
                paths.insert(template.into(), json!({
                    "post": {
                        "operationId": "expire",
                        "summary": "Remove the claims of instances that died holding them, and tasks past task_retention_seconds",
                        "tags": ["admin"],
                        "security": checks.api_key(),
                        "responses": {
                            "200": {"description": "What was removed.", "content": json_content(reference("schemas", "Expired"))},
                            "401": reference("responses", "Unauthorized"),
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            "/healthz" => {
                paths.insert(template.into(), json!({
                    "get": {
                        "operationId": "health",
                        "summary": "Liveness, including a key-value read",
                        "tags": ["operations"],
                        "security": [],
                        "responses": {
                            "200": {"description": "Up.", "content": json_content(json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}))},
                            "503": reference("responses", "Unavailable"),
                        },
                    }
                }));
            }
            "/schemas/{name}.json" => {
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
            "/openapi.json" => {
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
            other => unreachable!("the document describes every route; add {other}"),
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
    let letter_fields = json!({
        "id": {"type": "integer", "minimum": 1},
        "received_at": {"type": "string", "format": "date-time"},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "query": {"type": "string"},
        "reason": {"type": "string"},
        "attempts": {"type": "integer", "minimum": 0},
        "last_attempt_at": {"type": "string", "format": "date-time"},
        "last_reason": {"type": "string"},
        "sender_unchecked": {"type": "boolean", "description": "Kept before its sender could be checked (a variable was unusable): a replay proves the sender with the letter's own headers only, never with the operator's API key."},
    });
    schemas.insert(
        "DeadLetterSummary".into(),
        json!({
            "type": "object",
            "required": ["id", "received_at", "method", "path", "reason", "attempts"],
            "properties": letter_fields,
        }),
    );
    let mut letter = letter_fields.clone();
    letter["headers"] = json!({"type": "array", "items": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}], "items": false}});
    letter["body"] = json!({"type": "string", "description": "The body, when it is UTF-8."});
    letter["body_base64"] =
        json!({"type": "string", "description": "The body in base64, when it is not UTF-8."});
    schemas.insert(
        "DeadLetter".into(),
        json!({
            "type": "object",
            "required": ["id", "received_at", "method", "path", "reason", "headers", "attempts"],
            "properties": letter,
        }),
    );
    schemas.insert("DeadLetterPage".into(), json!({
        "type": "object",
        "required": ["dead_letters", "next"],
        "properties": {
            "dead_letters": {"type": "array", "items": reference("schemas", "DeadLetterSummary")},
            "next": {"type": ["string", "null"], "description": "The next page's path, or null."},
        },
    }));
    schemas.insert(
        "Expired".into(),
        json!({
            "type": "object",
            "required": ["keys_scanned", "claims_removed", "tasks_removed"],
            "properties": {
                "keys_scanned": {"type": "integer", "minimum": 0},
                "claims_removed": {"type": "integer", "minimum": 0},
                "tasks_removed": {"type": "integer", "minimum": 0},
            },
        }),
    );

    let responses = json!({
        "BadRequest": problem("invalid-json, missing-header or invalid-header."),
        "Unauthorized": problem("unauthorized: a missing or wrong API key or signature."),
        "NotFound": problem("not-found."),
        "RequestTimeout": problem("request-timeout: the body did not arrive within body_timeout_ms."),
        "Conflict": problem_with_retry("conflict: the same key is still being processed; retry after Retry-After."),
        "PayloadTooLarge": problem(&format!("payload-too-large: a body over its route's limit ({MAX_SOURCE_BODY_BYTES} bytes; the canonical route {MAX_CANONICAL_BODY_BYTES}), more than 5,000 entries, or nesting deeper than 64.")),
        "UnsupportedMediaType": problem("unsupported-media-type: the body must be application/json."),
        "Unprocessable": problem("unknown-format, validation, unmappable or idempotency-key-reuse."),
        "Unavailable": problem_with_retry("unavailable: a failure on our side (the delivery was kept as a dead letter); retry after Retry-After."),
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
            {"name": "admin", "description": "Tasks, dead letters and maintenance (behind api_keys)."},
            {"name": "operations", "description": "Health, schemas and this document."},
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
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of `api_keys`, when set."},
                "StandardWebhooks": {"type": "apiKey", "in": "header", "name": "webhook-signature", "description": "Standard Webhooks / Svix: `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` with the source's `whsec_` secret (svix-* headers too), within ±300 s; when the source's secret is set."},
                "HighLevelSignature": {"type": "apiKey", "in": "header", "name": "x-ghl-signature", "description": "HighLevel's Ed25519 signature (base64) of the raw body, when its key is set."},
                "HighLevelLegacySignature": {"type": "apiKey", "in": "header", "name": "x-wh-signature", "description": "HighLevel's legacy RSA-SHA256 signature (base64) of the raw body, when its key is set."},
            },
        },
    })
}
