//! The ingestion pipeline of the canonical and webhook routes: check the caller, convert, then
//! deliver — schedule exactly once in the store (store mode, [`crate::schedule`]) or relay to
//! the canonical deletion API (relay mode, [`crate::relay`]). A failure on our side is a
//! [`Failure`]: the caller keeps the delivery as a dead letter (or, for a replay, updates it).

use tombstone_core::limits::{MAX_CANONICAL_BODY_BYTES, MAX_SOURCE_BODY_BYTES};
use tombstone_core::signature;
use tombstone_core::sources::Proof;
use tombstone_core::{Problem, ProblemKind, RawContext, Source, Timestamp};

use crate::auth::check_api_key;
use crate::config::{Config, ConfigError};
use crate::http::{percent_decode_segment, Request, Response};
use crate::relay::RelayFailure;
use crate::routes::Route;
use crate::store::StoreError;
use crate::{not_found, Ctx};

/// A failure on our side after the delivery arrived: it is kept, never answered as accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// A variable is set but unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key-value store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The upstream did not confirm the deletion.
    #[error(transparent)]
    Relay(#[from] RelayFailure),
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

/// Runs one delivery to the canonical or a webhook route (`route`), received at `received_at`
/// (now, or a dead letter's original time); `now` is the clock for the store's bookkeeping.
pub(crate) fn ingest(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    route: &Route<'_>,
    config: &Result<Config, ConfigError>,
    received_at: Timestamp,
    now: Timestamp,
) -> Result<Response, Failure> {
    match *route {
        Route::Canonical => canonical(ctx, req, config, received_at, now),
        Route::Webhook {
            source,
            organization,
        } => webhook(ctx, req, source, organization, config, received_at, now),
        _ => Ok(not_found("This is not an ingestion route.")),
    }
}

fn canonical(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    config: &Result<Config, ConfigError>,
    received_at: Timestamp,
    now: Timestamp,
) -> Result<Response, Failure> {
    let body_checks = || {
        check_content_type(req)
            .and_then(|()| check_size(req, MAX_CANONICAL_BODY_BYTES, "canonical body"))
    };
    let config = match config {
        Ok(config) => config,
        // A request that could never be delivered is refused rather than kept.
        Err(e) => {
            return body_checks().map_or_else(
                |p| Ok(Response::problem(&p)),
                |()| Err(Failure::Config(e.clone())),
            )
        }
    };
    if let Err(p) = check_api_key(req, &config.api_keys).and_then(|()| body_checks()) {
        return Ok(Response::problem(&p));
    }
    let raw = RawContext {
        organization_id: req.header("X-Organization-Id").map(str::to_owned),
        idempotency_key: req.header("Idempotency-Key").map(str::to_owned),
        source: Some("canonical".into()),
        ..context(config, received_at)
    };
    convert_and_deliver(ctx, req, config, now, &raw)
}

/// The context every delivery starts from: when it was received, the configured delay.
fn context(config: &Config, received_at: Timestamp) -> RawContext {
    RawContext {
        received_at: Some(received_at.to_string()),
        delay_seconds: Some(config.delay_seconds.into()),
        ..RawContext::default()
    }
}

fn webhook(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    source_name: &str,
    organization: &str,
    config: &Result<Config, ConfigError>,
    received_at: Timestamp,
    now: Timestamp,
) -> Result<Response, Failure> {
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
                return Ok(not_found(&format!(
                    "The source must be {} or auto.",
                    names.join(", ")
                )));
            }
        },
    };
    let organization = match percent_decode_segment(organization) {
        Some(o) if !o.is_empty() && !o.contains('/') => o,
        _ => {
            return Ok(not_found(
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
    // The proof a delivery needs depends on its source, so `auto` detects first. A body no
    // source recognises needs none: it is refused as unknown-format below, and nothing is kept.
    let source = forced.or_else(|| tombstone_core::detect(req.body));
    if let Some(source) = source {
        if let Err(p) = verify_sender(req, source, config, received_at) {
            return Ok(Response::problem(&p));
        }
    }
    let raw = RawContext {
        organization_id: Some(organization),
        clinic_id: req.query_param("clinic_id"),
        idempotency_key: req.header("Idempotency-Key").map(str::to_owned),
        source: forced.map(|s| s.name().to_owned()),
        ..context(config, received_at)
    };
    convert_and_deliver(ctx, req, config, now, &raw)
}

fn convert_and_deliver(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    config: &Config,
    now: Timestamp,
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
            now,
            &conversion,
            status,
        )?),
        Some(upstream) => Ok(crate::relay::relay(ctx, upstream, &conversion, status)?),
    }
}

/// The proof a source's route needs, as its spec names it: none unless configured; a canonical
/// body found by `auto` needs the API key, as on the canonical route. Signature timestamps are
/// checked against the time the delivery was received.
fn verify_sender(
    req: &Request<'_>,
    source: Source,
    config: &Config,
    received_at: Timestamp,
) -> Result<(), Problem> {
    if source.proof() == Proof::ApiKey {
        return check_api_key(req, &config.api_keys);
    }
    let secrets = config.webhook_secrets(source);
    let keys = config.signing_keys(source);
    if secrets.is_none() && keys.is_none() {
        return Ok(());
    }
    let standard = secrets.map(|s| {
        signature::verify(
            |name| req.header(name).map(str::to_owned),
            req.body,
            s,
            received_at.unix_seconds(),
        )
    });
    match (standard, keys) {
        (Some(Ok(())), _) => Ok(()),
        (Some(Err(p)), None) => Err(p),
        // The provider's own signature is the other accepted proof.
        (_, Some(keys)) => keys.verify(|name| req.header(name), req.body),
        (None, None) => unreachable!("returned above"),
    }
}
