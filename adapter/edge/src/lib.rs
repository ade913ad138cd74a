//! The tombstone ingestion service (docs/contract.md §5) as request handling with no I/O of its own: a
//! [`Request`], the ports of an [`Env`] (a [`KeyValue`] store, an [`Upstream`]), the [`Config`]
//! and the time in; a [`Response`] out.
//!
//! The Spin component (`adapter/spin`) is a thin shell that copies the HTTP request in, opens
//! Spin's default key-value store, sends outbound HTTP and reads Spin variables; tests run the
//! same code over a [`MemoryStore`] and an upstream of their own. The routes, their operations
//! and who may call them are one table, [`routes::ROUTES`], which the router below reads and
//! [`openapi`] renders (`docs/api.md` explains each).
//!
//! Two modes: **store mode** (`upstream_url` unset) schedules each deletion exactly once in the
//! key-value store ([`schedule`]); **relay mode** sends it to the canonical deletion API and lets
//! that answer ([`relay`]), and delivers in the background what the upstream could not take
//! while the sender waited ([`delivery`]). A shell calls [`after_response`] once it has answered
//! a request: relay mode's dispatcher runs there.

pub mod auth;
pub mod config;
pub mod ctx;
pub mod delivery;
pub mod http;
pub mod ingest;
pub mod maintenance;
pub mod model;
pub mod openapi;
pub mod relay;
pub mod routes;
pub mod schedule;
pub mod store;
pub mod upstream;

pub use config::{Config, ConfigError};
pub use ctx::{Clock, Env};
pub use http::{Request, Response, RETRY_AFTER_SECONDS};
pub use model::event::Event;
pub use store::{KeyPage, KeyValue, MemoryStore, StoreError};
pub use upstream::{NoUpstream, Upstream, UpstreamError, UpstreamRequest, UpstreamResponse};

use auth::check_admin;
use ctx::Ctx;
use routes::Route;
use tombstone_core::limits::{MAX_CANONICAL_BODY_BYTES, MAX_SOURCE_BODY_BYTES};
use tombstone_core::{Problem, ProblemKind, RawContext, TaskId, Timestamp};

/// This build of the crate: its version and a hash of the sources it was compiled from (its own,
/// the core's and the schemas; see `build.rs`). The Spin component and `tombstone serve` both
/// link this crate; `GET /healthz` says the component's in its `tombstone-build` header, and
/// `serve` refuses to start a component whose build is not its own.
pub const BUILD: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("TOMBSTONE_EDGE_SOURCE_HASH")
);

/// The header of `GET /healthz` that names the component's [`BUILD`].
pub const BUILD_HEADER: &str = "tombstone-build";

/// Handles one request, received now (by `env.clock`). `config` is `Err` when a variable is set
/// but unusable: the routes that need it answer that their service is unavailable for now (the
/// "not now" status of the route's source).
pub fn handle(req: &Request<'_>, env: Env<'_>, config: &Result<Config, ConfigError>) -> Response {
    let ctx = Ctx::new(env);
    let now = env.clock.now();
    let mut response = match Route::parse(req.path) {
        None => Response::not_found("There is no route at this path."),
        Some(route) => {
            let methods: Vec<&str> = route.spec().methods().collect();
            if methods.iter().any(|m| req.method.eq_ignore_ascii_case(m)) {
                dispatch(&ctx, req, route, config, now)
            } else {
                method_not_allowed(&methods)
            }
        }
    };
    response.events.extend(ctx.take_events());
    summarize(req.path, &mut response);
    response
}

/// What a shell calls once it has answered a request (its response complete): in relay mode,
/// a dispatch of the queued deliveries that are due, within `delivery::dispatch::Limits::AFTER_RESPONSE`
/// (one read when nothing is due). Its events, for the shell to write out like a request's.
pub fn after_response(env: Env<'_>, config: &Result<Config, ConfigError>) -> Vec<Event> {
    let Ok(config) = config else {
        return Vec::new();
    };
    let Some(upstream) = &config.upstream else {
        return Vec::new();
    };
    let ctx = Ctx::new(env);
    if let Err(error) = delivery::dispatch::dispatch(
        &ctx,
        config,
        upstream,
        delivery::dispatch::Limits::AFTER_RESPONSE,
    ) {
        ctx.note(Event::Unreadable {
            key: "deliveries/*".into(),
            error: error.log_text(),
        });
    }
    ctx.take_events()
}

/// Adds the request's summary ([`Event::Answered`]) to a response: its route's template, its
/// status, its outcome and its task id. [`handle`] does it; a shell does it for an answer it
/// gives itself (a body too large or too slow). Only a route that takes a deletion (ingestion)
/// answers `scheduled`, `duplicate` or `queued` with a task id; reading a stored task or a
/// delivery is `ok`, although the document it shows has a status.
pub fn summarize(path: &str, response: &mut Response) {
    let route = Route::parse(path);
    let takes_deletions = matches!(route, Some(Route::Canonical | Route::Webhook { .. }));
    let (outcome, task_id) = match response.outcome() {
        (_, Some(_)) if !takes_deletions => ("ok".to_owned(), None),
        answer => answer,
    };
    response.events.push(Event::Answered {
        route: route.map_or("-", |r| r.template()).to_owned(),
        status: response.status,
        outcome,
        task_id,
    });
}

/// Runs the route's handler. The admin routes ([`routes::Access::Admin`] in the table) run only
/// for a caller with an admin key.
fn dispatch(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    route: Route<'_>,
    config: &Result<Config, ConfigError>,
    now: Timestamp,
) -> Response {
    let as_admin = |handler: &dyn Fn(&Config) -> Response| match admin(req, config) {
        Ok(checked) => handler(checked),
        Err(refused) => refused,
    };
    match route {
        Route::Canonical | Route::Webhook { .. } => ingest::ingest(ctx, req, &route, config, now),
        Route::Convert => convert(req, config, now),
        Route::Health => healthz(),
        Route::Ready => readyz(ctx, config),
        Route::Schema { name } => match tombstone_core::schema(name) {
            Some(text) => Response::bytes(200, "application/schema+json", text.into()),
            None => Response::not_found("There is no schema of this name."),
        },
        Route::OpenApi => {
            let checks = match config {
                Ok(config) => openapi::Checks::Configured(config),
                Err(_) => openapi::Checks::All,
            };
            Response::json(200, &openapi::document_for(checks))
        }
        Route::Task { id } => as_admin(&|_| task(ctx, id)),
        Route::Deliveries => as_admin(&|_| delivery::admin::list(ctx, req)),
        Route::Delivery { id } if req.method.eq_ignore_ascii_case("DELETE") => {
            as_admin(&|_| delivery::admin::delete(ctx, id))
        }
        Route::Delivery { id } => as_admin(&|_| delivery::admin::get(ctx, id)),
        Route::ReplayDelivery { id } => {
            as_admin(&|checked| delivery::admin::replay(ctx, checked, id))
        }
        Route::Dispatch => as_admin(&|checked| delivery::admin::dispatch_now(ctx, checked)),
        Route::Expire => as_admin(&|checked| {
            maintenance::expire(ctx, checked, now, req.query_param("cursor").as_deref())
        }),
    }
}

fn method_not_allowed(methods: &[&str]) -> Response {
    let allowed = methods.join(", ");
    let problem = Problem::at(
        ProblemKind::MethodNotAllowed,
        format!("This route accepts {allowed} only."),
        "",
        "method",
        "is not allowed on this route",
    );
    Response::problem(&problem).with_header("allow", allowed)
}

/// The admin routes need one of `admin_api_keys`, and are closed (403) while it is unset.
fn admin<'c>(
    req: &Request<'_>,
    config: &'c Result<Config, ConfigError>,
) -> Result<&'c Config, Response> {
    match config {
        Ok(c) => check_admin(req, &c.admin_api_keys)
            .map(|()| c)
            .map_err(|denied| denied.response()),
        Err(e) => Err(Response::problem(&Problem::new(
            ProblemKind::Unavailable,
            format!("The service is misconfigured: {e}."),
        ))
        .with_header("retry-after", RETRY_AFTER_SECONDS)),
    }
}

/// `GET /healthz`: liveness only — the component answers, and names its [`BUILD`]. It touches
/// no store and reads no variable, so a Kubernetes liveness probe never restarts a pod for
/// Redis's outage.
fn healthz() -> Response {
    Response::json(200, &serde_json::json!({"status": "ok"})).with_header(BUILD_HEADER, BUILD)
}

/// `GET /readyz`: whether this instance can take deliveries — its variables are usable and its
/// store answers a read. 503 names the variable (never its value), or the store.
fn readyz(ctx: &Ctx<'_>, config: &Result<Config, ConfigError>) -> Response {
    let not_ready = |pointer: String, message: String, detail: &str| {
        Response::problem(&Problem::at(
            ProblemKind::Unavailable,
            detail,
            pointer,
            "ready",
            message,
        ))
        .with_header("retry-after", RETRY_AFTER_SECONDS)
    };
    if let Err(e) = config {
        return not_ready(
            format!("/variables/{}", e.variable),
            e.message.clone(),
            &format!("The variable {} is unusable: {}.", e.variable, e.message),
        );
    }
    match ctx.store.ping() {
        Ok(()) => Response::json(200, &serde_json::json!({"status": "ready"})),
        Err(e) => {
            ctx.note(Event::Unreadable {
                key: "healthz".into(),
                error: e.log_text(),
            });
            not_ready(
                String::new(),
                "the key-value store does not answer".into(),
                "The key-value store is not available.",
            )
        }
    }
}

/// `GET /api/v1/tasks/{task_id}`: the stored task (the canonical request to send, when, and the
/// idempotency record's first response). Relay mode stores no tasks: the upstream has them.
fn task(ctx: &Ctx<'_>, id: &str) -> Response {
    let Some(task_id) = TaskId::parse(id) else {
        return Response::not_found("A task id is 64 lowercase hex characters.");
    };
    match schedule::stored_task(ctx.store, &task_id) {
        Ok(Some(task)) => {
            let mut view = task.conversion;
            if let Some(map) = view.as_object_mut() {
                map.insert("status".into(), serde_json::json!("scheduled"));
                map.insert(
                    "idempotency_expires_at".into(),
                    serde_json::json!(task.record.expires_at),
                );
            }
            Response::json(200, &view)
        }
        Ok(None) => Response::not_found("There is no task with this id."),
        Err(e) => Response::unavailable(&e),
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

/// The largest body a path's route takes (docs/contract.md §1): the canonical route 750 KiB, every other
/// route 1 MiB. A shell reads at most this + 1 bytes of a body, then answers
/// [`body_too_large`].
pub fn body_limit(path: &str) -> usize {
    body_rule(path).0
}

/// The limit of a path's body and the name the problem gives it (the core's names).
fn body_rule(path: &str) -> (usize, &'static str) {
    match Route::parse(path) {
        Some(Route::Canonical) => (MAX_CANONICAL_BODY_BYTES, "canonical body"),
        Some(Route::Webhook { .. } | Route::Convert) => (MAX_SOURCE_BODY_BYTES, "webhook body"),
        _ => (MAX_SOURCE_BODY_BYTES, "body"),
    }
}

/// 413 for a body longer than [`body_limit`]`(path)`. With its declared length (a
/// `Content-Length` the shell refused before reading, or stopped reading past), it is the very
/// document the core gives a payload of that length; a body of unknown length (chunked) is
/// said to be longer than the limit.
pub fn body_too_large(path: &str, declared: Option<u64>) -> Response {
    let (limit, noun) = body_rule(path);
    let problem = match declared.and_then(|n| usize::try_from(n).ok()) {
        Some(len) if len > limit => tombstone_core::too_large(len, limit, noun),
        _ => Problem::at(
            ProblemKind::PayloadTooLarge,
            format!("The {noun} is longer than {limit} bytes, the limit."),
            "",
            "maxLength",
            format!("{noun} must be at most {limit} bytes"),
        ),
    };
    Response::problem(&problem)
}

/// 408 for a body that did not arrive within `body_timeout_ms`.
pub fn body_too_slow(timeout_ms: u32) -> Response {
    Response::problem(&Problem::at(
        ProblemKind::RequestTimeout,
        format!("The body did not arrive within {timeout_ms} ms."),
        "",
        "timeout",
        "body must arrive in time",
    ))
}

/// The answer a shell gives when it could not run a request at all (the component failed or ran
/// out of time): 503 `unavailable` with `Retry-After`, in the status the route's source retries
/// (HighLevel's webhook route: 429).
pub fn not_now(path: &str) -> Response {
    let source = match Route::parse(path) {
        Some(Route::Webhook { source, .. }) => {
            tombstone_core::Source::from_name(source).unwrap_or(tombstone_core::Source::CANONICAL)
        }
        _ => tombstone_core::Source::CANONICAL,
    };
    let response = Response::problem(&Problem::new(
        ProblemKind::Unavailable,
        "The request could not be processed; retry later.",
    ))
    .with_header("retry-after", RETRY_AFTER_SECONDS);
    ingest::for_source(source, response)
}

/// 400 for a body that could not be read to its end (the connection failed).
pub fn body_unreadable() -> Response {
    Response::problem(&Problem::at(
        ProblemKind::InvalidJson,
        "The body could not be read to its end.",
        "",
        "json",
        "the body stream failed",
    ))
}
