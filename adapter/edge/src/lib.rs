//! The tombstone ingestion service (SPEC §5) as request handling with no I/O of its own: a
//! [`Request`], a [`KeyValue`] store, the [`Config`] and the time in; a [`Response`] out.
//!
//! The Spin component (`adapter/spin`) is a thin shell that copies the HTTP request in, opens
//! Spin's default key-value store and reads Spin variables; tests run the same code over a
//! [`MemoryStore`]. Routes:
//!
//! | route | what |
//! |---|---|
//! | `POST /api/v1/invoice-deletions` | the canonical contract (202) |
//! | `POST /api/v1/webhooks/{source}/{organization_id}[?clinic_id=]` | a provider webhook, converted then scheduled (Mercoa 200, WillSuite 202, HighLevel 200) |
//! | `POST /api/v1/convert[?organization_id=&clinic_id=&idempotency_key=&source=&received_at=&delay_seconds=]` | dry run: the conversion, nothing stored |
//! | `GET /api/v1/tasks/{task_id}` | a stored task (admin) |
//! | `GET /api/v1/dead-letters` | deliveries kept after a server-side failure (admin) |
//! | `GET /healthz` | liveness, including a key-value read |
//! | `GET /schemas/{name}.json` | the JSON Schemas |

pub mod auth;
pub mod config;
pub mod http;
pub mod ingest;
pub mod store;

pub use config::{Config, ConfigError};
pub use http::{Request, Response};
pub use store::{KeyValue, MemoryStore, StoreError};

use tombstone_core::{Problem, ProblemKind, RawContext, Source, Timestamp};

/// The canonical route.
pub const CANONICAL_PATH: &str = "/api/v1/invoice-deletions";
/// Prefix of the webhook routes.
pub const WEBHOOK_PREFIX: &str = "/api/v1/webhooks/";

/// Handles one request. `config` is `Err` when a variable is set but unusable: the routes that
/// need it answer 503 and keep what they received as a dead letter.
pub fn handle(
    req: &Request<'_>,
    kv: &dyn KeyValue,
    config: &Result<Config, ConfigError>,
    now: Timestamp,
) -> Response {
    let path = req.path;
    let route = |allowed: &'static str, f: &dyn Fn() -> Response| {
        if req.method.eq_ignore_ascii_case(allowed) {
            f()
        } else {
            let problem = Problem::at(
                ProblemKind::MethodNotAllowed,
                format!("This route accepts {allowed} only."),
                "",
                "method",
                "is not allowed on this route",
            );
            Response::problem(&problem).with_header("allow", allowed)
        }
    };
    if path == CANONICAL_PATH {
        return route("POST", &|| ingest::canonical(req, kv, config, now));
    }
    if let Some(rest) = path.strip_prefix(WEBHOOK_PREFIX) {
        return route("POST", &|| ingest::webhook(req, rest, kv, config, now));
    }
    match path {
        "/api/v1/convert" => route("POST", &|| convert(req, config, now)),
        "/api/v1/dead-letters" => route("GET", &|| ingest::dead_letters(req, kv, config)),
        "/healthz" => route("GET", &|| healthz(kv)),
        _ => {
            if let Some(id) = path.strip_prefix("/api/v1/tasks/") {
                return route("GET", &|| ingest::task(req, id, kv, config));
            }
            if let Some(name) = path
                .strip_prefix("/schemas/")
                .and_then(|n| n.strip_suffix(".json"))
            {
                return route("GET", &|| match tombstone_core::schema(name) {
                    Some(text) => Response::bytes(200, "application/schema+json", text.into()),
                    None => not_found("There is no schema of this name."),
                });
            }
            not_found("There is no route at this path.")
        }
    }
}

/// A 404 problem.
pub fn not_found(detail: &str) -> Response {
    Response::problem(&Problem::at(
        ProblemKind::NotFound,
        detail,
        "",
        "route",
        "does not exist",
    ))
}

fn healthz(kv: &dyn KeyValue) -> Response {
    match kv.get("healthz") {
        Ok(_) => Response::json(200, &serde_json::json!({"status": "ok"})),
        Err(e) => Response::problem(&Problem::new(
            ProblemKind::Unavailable,
            format!("The {e} is not available."),
        )),
    }
}

/// `POST /api/v1/convert`: what the body becomes, with nothing stored. The delivery context comes
/// from the query (`organization_id`, `clinic_id`, `idempotency_key`, `source`, and, to replay a
/// delivery exactly, `received_at` and `delay_seconds`), or from `X-Organization-Id` and
/// `Idempotency-Key`; `received_at` defaults to now and the delay to the configured one.
fn convert(req: &Request<'_>, config: &Result<Config, ConfigError>, now: Timestamp) -> Response {
    if let Err(p) = ingest::check_content_type(req) {
        return Response::problem(&p);
    }
    let delay_seconds = match req.query_param("delay_seconds") {
        None => u64::from(config.as_ref().map_or(0, |c| c.delay_seconds)),
        Some(v) => match v.parse() {
            Ok(n) => n,
            Err(_) => {
                return Response::problem(&Problem::at(
                    ProblemKind::Validation,
                    "The delivery context is invalid.",
                    "/context/delay_seconds",
                    "type",
                    "delay_seconds must be a whole number of seconds",
                ))
            }
        },
    };
    let raw = RawContext {
        organization_id: req
            .query_param("organization_id")
            .or_else(|| req.header("X-Organization-Id").map(str::to_owned)),
        clinic_id: req.query_param("clinic_id"),
        idempotency_key: req
            .query_param("idempotency_key")
            .or_else(|| req.header("Idempotency-Key").map(str::to_owned)),
        source: req.query_param("source"),
        received_at: Some(
            req.query_param("received_at")
                .unwrap_or_else(|| now.to_string()),
        ),
        delay_seconds: Some(delay_seconds),
    };
    match raw
        .parse()
        .and_then(|ctx| tombstone_core::convert(req.body, &ctx))
    {
        Ok(conversion) => Response::bytes(200, "application/json", conversion.to_json().into()),
        Err(p) => Response::problem(&p),
    }
}

/// The success status a provider documents for its webhook (SPEC §5).
pub fn success_status(source: Source) -> u16 {
    match source {
        Source::Mercoa | Source::HighLevel => 200,
        Source::WillSuite | Source::Canonical => 202,
    }
}
