//! The ingestion pipeline of the canonical and webhook routes: check the caller, convert, then
//! deliver — schedule exactly once in the store (store mode, [`crate::schedule`]) or relay to
//! the canonical deletion API, queueing what it cannot take now (relay mode,
//! [`crate::delivery`]). A delivery that cannot be taken right now — a [`Failure`], or a claim
//! another delivery holds — is refused with the status its source retries
//! (`tombstone_core::sources::RetryContract`): HighLevel, which retries only 429, never gets a
//! 503 or a 409 for a delivery that could succeed later.

use tombstone_core::limits::{MAX_CANONICAL_BODY_BYTES, MAX_SOURCE_BODY_BYTES};
use tombstone_core::signature;
use tombstone_core::sources::Proof;
use tombstone_core::{Problem, ProblemKind, RawContext, Source, Timestamp};

use crate::auth::Denied;
use crate::config::{Config, ConfigError};
use crate::ctx::Ctx;
use crate::http::{percent_decode_segment, Request, Response};
use crate::model::event::Event;
use crate::routes::Route;
use crate::store::StoreError;

/// A failure on our side after the delivery arrived, before anything durable held it: the
/// sender is told to retry, never that it was accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// A variable is set but unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key-value store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Failure {
    /// The failure for the operator's log (the store's own words, a variable's name).
    fn log_text(&self) -> String {
        match self {
            Failure::Config(e) => e.to_string(),
            Failure::Store(e) => e.log_text(),
        }
    }

    /// The problem the sender gets (the variable's name, never its value; what failed, never
    /// a stored value).
    fn problem(&self) -> Problem {
        let detail = match self {
            Failure::Config(e) => format!("The service is misconfigured ({e}); retry later."),
            Failure::Store(_) => {
                "The deletion could not be stored or delivered right now; retry later.".to_owned()
            }
        };
        Problem::new(ProblemKind::Unavailable, detail)
    }
}

/// A transient refusal (409 `conflict`, 503 `unavailable`) in the status `source` retries, with
/// `Retry-After`; any other answer as it is.
pub(crate) fn for_source(source: Source, mut response: Response) -> Response {
    if !matches!(response.status, 409 | 503) || !response.is_problem() {
        return response;
    }
    let status = source.retry().transient_status(response.status);
    if status != response.status {
        response = response.with_status(status);
    }
    if response.header("retry-after").is_none() {
        response = response.with_header("retry-after", crate::http::RETRY_AFTER_SECONDS);
    }
    response
}

/// 415 unless the body is declared JSON (`application/json` or any `+json` type).
pub fn check_content_type(req: &Request<'_>) -> Result<(), Problem> {
    let essence = req.header("content-type").map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match essence.as_deref() {
        Some("application/json") => Ok(()),
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => Ok(()),
        _ => Err(Problem::at(
            ProblemKind::UnsupportedMediaType,
            "The body must be sent as application/json.",
            "/header/Content-Type",
            "enum",
            "must be application/json",
        )),
    }
}

fn check_size(req: &Request<'_>, limit: usize, what: &str) -> Result<(), Problem> {
    if req.body.len() > limit {
        Err(tombstone_core::too_large(req.body.len(), limit, what))
    } else {
        Ok(())
    }
}

/// Runs one delivery to the canonical or a webhook route (`route`), received at `received_at`.
pub(crate) fn ingest(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    route: &Route<'_>,
    config: &Result<Config, ConfigError>,
    received_at: Timestamp,
) -> Response {
    let (source, outcome) = match *route {
        Route::Canonical => (Source::CANONICAL, canonical(ctx, req, config, received_at)),
        Route::Webhook {
            source,
            organization,
        } => webhook(ctx, req, source, organization, config, received_at),
        _ => return Response::not_found("This is not an ingestion route."),
    };
    let response = outcome.unwrap_or_else(|failure| {
        let response = Response::problem(&failure.problem());
        let response = for_source(source, response);
        ctx.note(Event::NotAccepted {
            source: source.name().to_owned(),
            status: response.status,
            reason: failure.log_text(),
        });
        response
    });
    for_source(source, response)
}

fn canonical(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    config: &Result<Config, ConfigError>,
    received_at: Timestamp,
) -> Result<Response, Failure> {
    let body_checks = || {
        check_content_type(req)
            .and_then(|()| check_size(req, MAX_CANONICAL_BODY_BYTES, "canonical body"))
    };
    let config = match config {
        Ok(config) => config,
        // A request that could never be delivered is refused on its own merits first.
        Err(e) => {
            return body_checks().map_or_else(
                |p| Ok(Response::problem(&p)),
                |()| Err(Failure::Config(e.clone())),
            )
        }
    };
    // The key, for the organization the deletion is posted for (a missing header is the
    // conversion's problem, below).
    let organization = req.header("X-Organization-Id").map(str::trim);
    if let Err(denied) = config.api_keys.check(req, organization) {
        return Ok(denied.response());
    }
    if let Err(p) = body_checks() {
        return Ok(Response::problem(&p));
    }
    let raw = RawContext {
        organization_id: req.header("X-Organization-Id").map(str::to_owned),
        idempotency_key: req.header("Idempotency-Key").map(str::to_owned),
        source: Some("canonical".into()),
        ..context(config, received_at)
    };
    convert_and_deliver(ctx, req, config, &raw)
}

/// The context every delivery starts from: when it was received, the configured delay.
fn context(config: &Config, received_at: Timestamp) -> RawContext {
    RawContext {
        received_at: Some(received_at.to_string()),
        delay_seconds: Some(config.delay_seconds.into()),
        ..RawContext::default()
    }
}

/// A webhook route's delivery, with the source whose retry contract its refusals follow (the
/// route's, or the detected one; the canonical request's when none is known).
fn webhook(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    source_name: &str,
    organization: &str,
    config: &Result<Config, ConfigError>,
    received_at: Timestamp,
) -> (Source, Result<Response, Failure>) {
    let forced = match source_name {
        "auto" => None,
        name => match Source::from_name(name).filter(|s| s.is_provider()) {
            Some(source) => Some(source),
            None => {
                let names: Vec<&str> = Source::ALL
                    .iter()
                    .filter(|s| s.is_provider())
                    .map(|s| s.name())
                    .collect();
                return (
                    Source::CANONICAL,
                    Ok(Response::not_found(&format!(
                        "The source must be {} or auto.",
                        names.join(", ")
                    ))),
                );
            }
        },
    };
    // The proof a delivery needs, and how its refusals are answered, depend on its source, so
    // `auto` detects first (detection needs no variable). A body no source recognises needs no
    // proof: it is refused as unknown-format below.
    let source = forced.or_else(|| tombstone_core::detect(req.body));
    let outcome = webhook_of(ctx, req, forced, source, organization, config, received_at);
    (source.unwrap_or(Source::CANONICAL), outcome)
}

fn webhook_of(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    forced: Option<Source>,
    source: Option<Source>,
    organization: &str,
    config: &Result<Config, ConfigError>,
    received_at: Timestamp,
) -> Result<Response, Failure> {
    let organization = match percent_decode_segment(organization) {
        Some(o) if !o.is_empty() && !o.contains('/') => o,
        _ => {
            return Ok(Response::not_found(
                "Webhook routes are /api/v1/webhooks/{source}/{organization_id}.",
            ))
        }
    };
    if let Err(p) = check_content_type(req)
        .and_then(|()| check_size(req, MAX_SOURCE_BODY_BYTES, "webhook body"))
    {
        return Ok(Response::problem(&p));
    }
    let config = config.as_ref().map_err(|e| Failure::Config(e.clone()))?;
    if let Some(source) = source {
        if let Err(denied) = verify_sender(req, source, &organization, config, received_at) {
            return Ok(denied.response());
        }
    }
    let raw = RawContext {
        organization_id: Some(organization),
        clinic_id: req.query_param("clinic_id"),
        idempotency_key: req.header("Idempotency-Key").map(str::to_owned),
        source: forced.map(|s| s.name().to_owned()),
        ..context(config, received_at)
    };
    convert_and_deliver(ctx, req, config, &raw)
}

fn convert_and_deliver(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    config: &Config,
    raw: &RawContext,
) -> Result<Response, Failure> {
    let conversion = match raw
        .parse()
        .and_then(|ctx| tombstone_core::convert(req.body, &ctx))
    {
        Ok(conversion) => conversion,
        Err(p) => return Ok(Response::problem(&p)),
    };
    let status = conversion.source.success_status();
    match &config.upstream {
        None => Ok(crate::schedule::schedule(
            ctx,
            config,
            ctx.clock.now(),
            &conversion,
            status,
        )?),
        Some(upstream) => Ok(crate::delivery::deliver(
            ctx,
            config,
            upstream,
            &conversion,
            status,
        )?),
    }
}

/// The proof a source's route needs, as its spec names it: none unless configured; a canonical
/// body found by `auto` needs an API key serving the route's organization, as on the canonical
/// route. Standard Webhooks secrets are the organization's own when it has some. Signature
/// timestamps are checked against the time the delivery was received, and so is the `timestamp`
/// inside a payload HighLevel signed (`highlevel_timestamp_tolerance_seconds`).
fn verify_sender(
    req: &Request<'_>,
    source: Source,
    organization: &str,
    config: &Config,
    received_at: Timestamp,
) -> Result<(), Denied> {
    if source.proof() == Proof::ApiKey {
        return config.api_keys.check(req, Some(organization));
    }
    let secrets = config.webhook_secrets(source, organization);
    let keys = config.signing_keys(source);
    let standard = || {
        secrets.map(|s| {
            signature::verify(
                |name| req.header(name).map(str::to_owned),
                req.body,
                s,
                received_at.unix_seconds(),
            )
        })
    };
    let providers_own = |keys: &signature::highlevel::HighLevelKeys| {
        keys.verify(|name| req.header(name), req.body)?;
        signature::highlevel::check_freshness(
            req.body,
            received_at.unix_seconds(),
            config.highlevel_timestamp_tolerance_seconds,
        )
    };
    let verdict = match (standard(), keys) {
        (None, None) | (Some(Ok(())), _) => Ok(()),
        (Some(Err(p)), None) => Err(p),
        // The provider's own signature is the other accepted proof.
        (_, Some(keys)) => providers_own(keys),
    };
    verdict.map_err(Denied::from)
}
