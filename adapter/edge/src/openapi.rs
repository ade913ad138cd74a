//! The service's OpenAPI 3.1 document, generated from what the code serves: the route table
//! ([`crate::routes::ROUTES`]: every operation, its parameters, body, answers and access), the
//! sources and their schemas, success statuses and proofs
//! ([`tombstone_core::Source::ALL`]), the problem kinds ([`ProblemKind::ALL`]) and the limits.
//! `GET /openapi.json` serves it, `tombstone openapi` prints it, and `openapi.json` in the
//! repository is a copy a test keeps equal to it.

use serde_json::{json, Map, Value};
use tombstone_core::limits::{MAX_CANONICAL_BODY_BYTES, MAX_DELAY_SECONDS, MAX_SOURCE_BODY_BYTES};
use tombstone_core::sources::{Proof, SchemaSpec};
use tombstone_core::{ProblemKind, Source};

use crate::config::Config;
use crate::model::delivery::{AttemptOutcome, DeadReason, DeliveryState};
use crate::routes::{
    Access, Answer, Body, Operation, Param, ParamSchema, Place, Responses, ROUTES,
};

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

fn organization_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]{1,128}$"})
}

fn key_schema() -> Value {
    // Bare (1-36 printable ASCII characters, no spaces, not starting with a quote) or an
    // RFC 8941 sf-string whose content is such a key (`\"` and `\\` escaped).
    json!({"type": "string", "minLength": 1, "maxLength": 74,
           "pattern": r#"^([!#-~][!-~]{0,35}|"([!#-\[\]-~]|\\["\\]){1,36}")$"#})
}

/// A parameter object.
fn parameter(name: &str, place: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": place, "required": required, "schema": schema, "description": description})
}

fn header(name: &str, required: bool, schema: Value, description: &str) -> Value {
    parameter(name, "header", required, schema, description)
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

/// A parameter's schema.
fn parameter_schema(schema: ParamSchema) -> Value {
    match schema {
        ParamSchema::Organization => organization_schema(),
        ParamSchema::IdempotencyKey => key_schema(),
        ParamSchema::TaskId => json!({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
        ParamSchema::ClinicId => {
            json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"})
        }
        ParamSchema::SourceOrAuto => {
            let names: Vec<&str> = std::iter::once("auto")
                .chain(Source::ALL.iter().map(|s| s.name()))
                .collect();
            json!({"type": "string", "enum": names})
        }
        ParamSchema::DateTime => json!({"type": "string", "format": "date-time"}),
        ParamSchema::DelaySeconds => {
            json!({"type": "integer", "minimum": 0, "maximum": MAX_DELAY_SECONDS})
        }
        ParamSchema::DeliveryState => {
            let states: Vec<&str> = [
                DeliveryState::Queued,
                DeliveryState::Delivered,
                DeliveryState::Dead,
            ]
            .iter()
            .map(|s| s.name())
            .collect();
            json!({"type": "string", "enum": states})
        }
        ParamSchema::PageLimit => {
            json!({"type": "integer", "minimum": 1, "maximum": 200, "default": 50})
        }
        ParamSchema::Before => json!({"type": "integer", "minimum": 1}),
        ParamSchema::Text => json!({"type": "string"}),
        ParamSchema::SchemaName => {
            json!({"type": "string", "enum": tombstone_core::schemas::names()})
        }
    }
}

/// An operation's parameter objects.
fn parameters(params: &[Param]) -> Vec<Value> {
    let mut out = Vec::new();
    for param in params {
        match *param {
            Param::One {
                name,
                place,
                required,
                schema,
                description,
            } => {
                let place = match place {
                    Place::Path => "path",
                    Place::Query => "query",
                    Place::Header => "header",
                };
                out.push(parameter(
                    name,
                    place,
                    required,
                    parameter_schema(schema),
                    description,
                ));
            }
            Param::SignatureHeaders => out.extend(standard_webhooks_headers()),
        }
    }
    out
}

/// An answer's response object.
fn answer(answer: Answer) -> Value {
    let status_object = |status: &str| json!({"type": "object", "required": ["status"], "properties": {"status": {"const": status}}});
    match answer {
        Answer::Json {
            description,
            schema,
        } => {
            json!({"description": description, "content": json_content(reference("schemas", schema))})
        }
        Answer::Status {
            description,
            status,
            headers,
        } => {
            let mut answer =
                json!({"description": description, "content": json_content(status_object(status))});
            for name in headers {
                answer["headers"][*name] = reference("headers", name);
            }
            answer
        }
        Answer::Empty(description) => json!({"description": description}),
        Answer::Problem(name) => reference("responses", name),
        Answer::ProblemAs(description) => problem(description),
        Answer::JsonSchema => json!({
            "description": "The schema (draft 2020-12).",
            "content": {"application/schema+json": {"schema": {"type": "object"}}},
        }),
        Answer::Document => {
            json!({"description": "OpenAPI 3.1.", "content": json_content(json!({"type": "object"}))})
        }
    }
}

/// The sources an operation takes deliveries of: the canonical source for a canonical body,
/// else the route's own (`Some`), or every one (`auto`).
fn sources_of(op: &Operation, source: Option<Source>) -> Vec<Source> {
    match (op.body, source) {
        (Body::Canonical, _) => vec![Source::CANONICAL],
        (_, Some(source)) => vec![source],
        (_, None) => Source::ALL.to_vec(),
    }
}

/// What an operation answers; an ingestion operation's statuses are its `sources`'.
fn responses(responses: &Responses, sources: &[Source]) -> Value {
    match responses {
        Responses::Fixed(answers) => {
            let mut out = Map::new();
            for (status, a) in answers.iter() {
                out.insert(status.to_string(), answer(*a));
            }
            Value::Object(out)
        }
        Responses::Ingestion { accepted: text } => {
            let mut statuses: Vec<u16> = sources.iter().map(|s| s.success_status()).collect();
            statuses.sort_unstable();
            statuses.dedup();
            let mut out =
                ingestion_responses(statuses[0], accepted(text), &transient_statuses(sources));
            for status in &statuses[1..] {
                out[status.to_string()] =
                    accepted("Scheduled, or a duplicate (the detected source's success status).");
            }
            out
        }
    }
}

/// The proofs the route of `source` (`None`: `auto`) asks of its sender: any source's, and none
/// when any source is open.
fn source_security(checks: Checks<'_>, source: Option<Source>) -> Value {
    if let Some(source) = source {
        return checks.source(source);
    }
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
    Value::Array(unique)
}

/// The route's text with its placeholders filled: the source's name (`{source}`), its display
/// name (`{display}`), its events (`{events}`) and the canonical body's limit.
fn fill(text: &str, source: Option<Source>) -> String {
    let (name, display, events) = match source {
        Some(s) => {
            let events: Vec<String> = s.events().iter().map(|e| format!("`{}`", e.name)).collect();
            (s.name().to_owned(), s.display_name(), events.join(" or "))
        }
        None => (
            "auto".to_owned(),
            "any source",
            "any source's deletion event, detected".to_owned(),
        ),
    };
    text.replace("{source}", &name.replace('-', "_"))
        .replace("{display}", display)
        .replace("{events}", &events)
        .replace(
            "{max_canonical_body_bytes}",
            &MAX_CANONICAL_BODY_BYTES.to_string(),
        )
}

/// One operation's object, on the route of `source` (`None`: `auto`, or a route of no source).
fn operation(op: &Operation, checks: Checks<'_>, source: Option<Source>) -> Value {
    let security = match op.access {
        Access::Public => json!([]),
        Access::ApiKey => checks.api_key(),
        Access::SourceProof => source_security(checks, source),
        Access::Admin => Checks::admin(),
    };
    let mut object = json!({
        "operationId": fill(op.id, source),
        "summary": fill(op.summary, source),
        "tags": [op.tag],
        "security": security,
        "responses": responses(&op.responses, &sources_of(op, source)),
    });
    if let Some(description) = op.description {
        object["description"] = json!(fill(description, source));
    }
    if !op.parameters.is_empty() {
        object["parameters"] = Value::Array(parameters(op.parameters));
    }
    let body = match op.body {
        Body::None => None,
        Body::Canonical => Some(reference("schemas", "canonical-request")),
        Body::SourcePayload => Some(source.map_or_else(any_source_body, source_body)),
        Body::AnySource => Some(any_source_body()),
    };
    if let Some(body) = body {
        object["requestBody"] = json!({"required": true, "content": json_content(body)});
    }
    object
}

/// Every path of the table: a route with `{source}` is one path per provider and one for
/// `auto`, each with its own body and success status.
fn paths(checks: Checks<'_>) -> Map<String, Value> {
    let mut paths = Map::new();
    for spec in &ROUTES {
        let sources: Vec<Option<Source>> = if spec.template.contains("{source}") {
            Source::ALL
                .iter()
                .filter(|s| s.is_provider())
                .map(|s| Some(*s))
                .chain([None])
                .collect()
        } else {
            vec![None]
        };
        for source in sources {
            let path = spec
                .template
                .replace("{source}", source.map_or("auto", |s| s.name()));
            let mut item = Map::new();
            for op in spec.operations {
                item.insert(
                    op.method.to_ascii_lowercase(),
                    operation(op, checks, source),
                );
            }
            paths.insert(path, Value::Object(item));
        }
    }
    paths
}

/// The document of a deployment with every check on.
pub fn document() -> Value {
    document_for(Checks::All)
}

/// The document, with the security requirements `checks` turns on.
pub fn document_for(checks: Checks<'_>) -> Value {
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
        "paths": paths(checks),
        "components": {
            "schemas": schemas(),
            "responses": problem_responses(),
            "headers": {
                "Retry-After": {"required": true, "description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
                "Location": {"required": false, "description": "The task (store mode).", "schema": {"type": "string", "format": "uri-reference"}},
                "Tombstone-Build": {"required": true, "description": "The build of the component: the edge crate's version and a hash of the sources it was compiled from (`tombstone serve` refuses to start a component of another build than its own).", "schema": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+\\+[0-9a-f]{16}$"}},
            },
            "securitySchemes": security_schemes(),
        },
    })
}

/// The document's schema components: the embedded JSON Schemas, the problem, the conversion
/// and the task, and relay mode's and maintenance's documents.
fn schemas() -> Map<String, Value> {
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
    delivery_schemas(&mut schemas, &source_names);
    report_schemas(&mut schemas);
    schemas
}

/// A delivery (whole, and as listed), its attempts, and a page of them.
fn delivery_schemas(schemas: &mut Map<String, Value>, source_names: &[&str]) {
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
}

/// What a dispatch and a maintenance call report.
fn report_schemas(schemas: &mut Map<String, Value>) {
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
}

/// The problem responses the operations refer to.
fn problem_responses() -> Value {
    json!({
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
    })
}

/// How a caller proves itself.
fn security_schemes() -> Value {
    json!({
        "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of `api_keys`, when set: a key serves every organization, or the ones named after it (403 for another)."},
        "AdminApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of `admin_api_keys`. Unset, the admin routes are closed: 403."},
        "StandardWebhooks": {"type": "apiKey", "in": "header", "name": "webhook-signature", "description": "Standard Webhooks / Svix: `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` with the source's `whsec_` secret (svix-* headers too), within ±300 s; when the source's secret is set."},
        "HighLevelSignature": {"type": "apiKey", "in": "header", "name": "x-ghl-signature", "description": "HighLevel's Ed25519 signature (base64) of the raw body, when its key is set."},
        "HighLevelLegacySignature": {"type": "apiKey", "in": "header", "name": "x-wh-signature", "description": "HighLevel's legacy RSA-SHA256 signature (base64) of the raw body, when its key is set."},
    })
}
