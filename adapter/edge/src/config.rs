//! Configuration from Spin variables (`spin.toml` `[variables]`, or `tombstone serve --var`).
//! Every check is off until its variable is set, so the defaults run on a private network.

use std::borrow::Cow;

use tombstone_core::idempotency::DEFAULT_RETENTION_SECONDS;
use tombstone_core::limits::MAX_DELAY_SECONDS;
use tombstone_core::signature::highlevel::{Ed25519Key, HighLevelKeys, RsaKey};
use tombstone_core::signature::WebhookSecret;
use tombstone_core::sources::Proof;
use tombstone_core::Source;

pub use crate::auth::ApiKeys;
use crate::delivery::policy::RetrySchedule;
use crate::model::circuit::CircuitConfig;

/// A Spin variable the service reads. `spin.toml` declares each one with this default (a test
/// checks), and `tombstone serve` starts from the same defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The name (`spin.toml` `[variables]`, `SPIN_VARIABLE_<NAME>`, `--var NAME=VALUE`).
    pub name: &'static str,
    /// The default value.
    pub default: &'static str,
    /// Whether Spin should treat it as a secret.
    pub secret: bool,
    /// What it does.
    pub description: Cow<'static, str>,
}

impl Variable {
    const fn fixed(
        name: &'static str,
        default: &'static str,
        secret: bool,
        description: &'static str,
    ) -> Variable {
        Variable {
            name,
            default,
            secret,
            description: Cow::Borrowed(description),
        }
    }
}

/// The placeholder `upstream_origin` holds until it is set: it parses as an allowed outbound
/// host (so `spin up` starts), and names a host that never resolves (`.invalid`, RFC 2606).
pub const UNSET_UPSTREAM_ORIGIN: &str = "https://upstream.invalid";

/// The variables the service reads that are no source's.
const SERVICE_VARIABLES: [Variable; 15] = [
    Variable::fixed(
        "schedule_delay_seconds",
        "0",
        false,
        "seconds between receiving a deletion and its scheduled_for (default 0, at most 30 days)",
    ),
    Variable::fixed(
        "idempotency_retention_seconds",
        "86400",
        false,
        "how long an organization + key is remembered (default 86400 = 24 h; at least 1)",
    ),
    Variable::fixed(
        "task_retention_seconds",
        "",
        false,
        "empty: tasks are kept forever; else POST /api/v1/maintenance/expire removes tasks received longer ago (at least idempotency_retention_seconds)",
    ),
    Variable::fixed(
        "api_keys",
        "",
        true,
        "comma-separated keys, each optionally followed by the organization ids it serves (space-separated); when set, the canonical route needs a matching X-API-Key",
    ),
    Variable::fixed(
        "admin_api_keys",
        "",
        true,
        "comma-separated keys; the admin routes (tasks, deliveries, dispatch, maintenance) need one as X-API-Key, and are closed (403) while this is unset",
    ),
    Variable::fixed(
        "highlevel_timestamp_tolerance_seconds",
        "300",
        false,
        "how far the timestamp in a HighLevel-signed payload may be from the time it arrived (default 300: 5 minutes)",
    ),
    Variable::fixed(
        "body_timeout_ms",
        "10000",
        false,
        "how long a request body may take to arrive before the answer is 408 (default 10000, at most 600000)",
    ),
    Variable::fixed(
        "upstream_url",
        "",
        false,
        "the canonical deletion API (e.g. https://webhooks.example/api/v1/invoice-deletions); when set, every accepted deletion is relayed there (relay mode) instead of stored (store mode)",
    ),
    Variable::fixed(
        "upstream_origin",
        UNSET_UPSTREAM_ORIGIN,
        false,
        "scheme://host[:port] of upstream_url: spin.toml's allowed_outbound_hosts, so Spin lets the component reach it",
    ),
    Variable::fixed(
        "upstream_authorization",
        "",
        true,
        "sent as the Authorization header of every relayed request, when set",
    ),
    Variable::fixed(
        "upstream_timeout_ms",
        "10000",
        false,
        "how long one relayed request may take, connect to last byte (default 10000, at most 60000)",
    ),
    Variable::fixed(
        "retry_schedule_seconds",
        RetrySchedule::STANDARD,
        false,
        "relay mode: the delays before each attempt of a delivery, comma-separated seconds, jittered by 20 % (default: Standard Webhooks' schedule; the first is the attempt while the sender waits)",
    ),
    Variable::fixed(
        "dead_letter_retention_seconds",
        "1209600",
        false,
        "relay mode: how long a dead letter (a delivery given up) is kept before maintenance removes it (default 14 days)",
    ),
    Variable::fixed(
        "circuit_failure_threshold",
        "5",
        false,
        "relay mode: failed attempts in a row after which deliveries are queued without an attempt (default 5)",
    ),
    Variable::fixed(
        "circuit_open_seconds",
        "10",
        false,
        "relay mode: how long the circuit stays open before one attempt probes the upstream (default 10)",
    ),
];

/// Every variable the service reads: its own, then each source's proof (secrets, keys), from
/// the sources' specs. `spin.toml` declares exactly these (a test checks).
pub fn variables() -> Vec<Variable> {
    let mut all: Vec<Variable> = SERVICE_VARIABLES.to_vec();
    for &source in Source::ALL {
        let name = source.display_name();
        let secret = |variable: &'static str, also: &str| {
            Variable {
            name: variable,
            default: "",
            secret: true,
            description: Cow::Owned(format!(
                "whsec_ secret(s); when set, the {name} route needs a Standard Webhooks signature{also}"
            )),
        }
        };
        match source.proof() {
            Proof::ApiKey => {}
            Proof::StandardWebhooks { secret_variable } => all.push(secret(secret_variable, "")),
            Proof::HighLevel {
                secret_variable,
                ed25519_variable,
                rsa_variable,
            } => {
                all.push(secret(secret_variable, " (or one of its own below)"));
                all.push(Variable {
                    name: ed25519_variable,
                    default: "",
                    secret: false,
                    description: Cow::Owned(format!(
                        "{name}'s Ed25519 key (PEM or base64 SPKI); when set, x-ghl-signature is an accepted proof"
                    )),
                });
                all.push(Variable {
                    name: rsa_variable,
                    default: "",
                    secret: false,
                    description: Cow::Owned(format!(
                        "{name}'s RSA key (PEM or base64 SPKI); when set, the legacy x-wh-signature is an accepted proof"
                    )),
                });
            }
        }
    }
    all
}

/// A variable that is set but unusable. Names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variable {variable}: {message}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// The checked configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `scheduled_for` − `received_at`, in seconds.
    pub delay_seconds: u32,
    /// How long idempotency records are honoured, in seconds.
    pub retention_seconds: u32,
    /// How long tasks are kept, in seconds; `None`: forever.
    pub task_retention_seconds: Option<u32>,
    /// Accepted `X-API-Key` values on the canonical route; empty = no key needed.
    pub api_keys: ApiKeys,
    /// Accepted `X-API-Key` values on the admin routes; empty = the admin routes are closed.
    pub admin_api_keys: ApiKeys,
    /// Standard Webhooks secrets per provider, for every organization or per organization;
    /// absent = no signature needed.
    pub webhook_secrets: Vec<(Source, OrgSecrets)>,
    /// How far a HighLevel-signed payload's own `timestamp` may be from its arrival, in seconds.
    pub highlevel_timestamp_tolerance_seconds: u32,
    /// Providers' own signing keys (HighLevel's), per provider.
    pub signing_keys: Vec<(Source, HighLevelKeys)>,
    /// How long a request body may take to arrive, in milliseconds.
    pub body_timeout_ms: u32,
    /// Where accepted deletions are relayed; `None`: store mode.
    pub upstream: Option<UpstreamConfig>,
    /// How long a dead letter is kept, in seconds.
    pub dead_letter_retention_seconds: u32,
}

/// `dead_letter_retention_seconds` when unset: 14 days.
pub const DEFAULT_DEAD_LETTER_RETENTION_SECONDS: u32 = 14 * 24 * 60 * 60;

/// `body_timeout_ms` when unset or unusable.
pub const DEFAULT_BODY_TIMEOUT_MS: u32 = 10_000;

/// Relay mode's upstream: the canonical deletion API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// The absolute `http`/`https` URL requests are sent to.
    pub url: String,
    /// The `Authorization` header value, if any.
    pub authorization: Option<String>,
    /// The budget of one relayed request, in milliseconds.
    pub timeout_ms: u32,
    /// When a delivery is attempted.
    pub schedule: RetrySchedule,
    /// When deliveries are queued without an attempt.
    pub circuit: CircuitConfig,
}

/// `scheme://host:port` of an `http` or `https` URL, with the scheme's default port filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// The host, lowercase (an IPv6 address keeps its brackets).
    pub host: String,
    /// The port.
    pub port: u16,
}

/// Why a text is not an origin (or a URL with one); the message completes "`name` …".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not a URL at all.
    #[error("is not an absolute http or https URL")]
    NotAUrl,
    /// Another scheme.
    #[error("must start with http:// or https://")]
    Scheme,
    /// No host.
    #[error("has no host")]
    NoHost,
    /// `user:password@`.
    #[error("must not hold credentials; set upstream_authorization instead")]
    Credentials,
    /// A path or query where only an origin may stand.
    #[error("must be scheme://host[:port], without a path")]
    Path,
}

impl Origin {
    /// The origin of an absolute `http`/`https` URL. Refuses user information (credentials go
    /// in `upstream_authorization`, not in a URL that ends up in logs).
    pub fn of_url(text: &str) -> Result<Origin, OriginError> {
        let uri: http::Uri = text.parse().map_err(|_| OriginError::NotAUrl)?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
                s.to_ascii_lowercase()
            }
            _ => return Err(OriginError::Scheme),
        };
        let authority = uri.authority().ok_or(OriginError::NoHost)?;
        if authority.as_str().contains('@') {
            return Err(OriginError::Credentials);
        }
        if authority.host().is_empty() {
            return Err(OriginError::NoHost);
        }
        let port = authority
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        Ok(Origin {
            host: authority.host().to_ascii_lowercase(),
            scheme,
            port,
        })
    }

    /// An origin as `allowed_outbound_hosts` writes it: `scheme://host[:port]`, at most a
    /// trailing `/`, no path.
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let bare = text.trim().strip_suffix('/').unwrap_or(text.trim());
        let origin = Origin::of_url(bare)?;
        if bare.splitn(4, '/').nth(3).is_some() || bare.contains('?') {
            return Err(OriginError::Path);
        }
        Ok(origin)
    }
}

impl Origin {
    /// Whether it names this machine: `localhost`, `127.0.0.0/8` or `[::1]`.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

impl Config {
    /// Reads every variable through `get` (`None` or an empty value means unset).
    pub fn from_variables(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let number = |name: &'static str, default: u32, max: u32| -> Result<u32, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) if n <= max => Ok(n),
                    _ => Err(ConfigError {
                        variable: name,
                        message: format!("must be a whole number from 0 to {max}"),
                    }),
                },
            }
        };
        let mut config = Config {
            delay_seconds: number("schedule_delay_seconds", 0, MAX_DELAY_SECONDS)?,
            retention_seconds: number(
                "idempotency_retention_seconds",
                DEFAULT_RETENTION_SECONDS,
                366 * 24 * 60 * 60,
            )?,
            api_keys: var("api_keys")
                .map(|v| ApiKeys::parse(&v))
                .unwrap_or_default(),
            admin_api_keys: match var("admin_api_keys") {
                None => ApiKeys::default(),
                Some(v) if v.split(',').any(|e| e.split_whitespace().count() > 1) => {
                    return Err(ConfigError {
                        variable: "admin_api_keys",
                        message: "holds keys only: an admin key serves every organization".into(),
                    })
                }
                Some(v) => ApiKeys::parse(&v),
            },
            highlevel_timestamp_tolerance_seconds: number(
                "highlevel_timestamp_tolerance_seconds",
                300,
                24 * 60 * 60,
            )?,
            ..Config::default()
        };
        for &source in Source::ALL {
            let (secret_variable, keys) = match source.proof() {
                Proof::ApiKey => continue,
                Proof::StandardWebhooks { secret_variable } => (secret_variable, None),
                Proof::HighLevel {
                    secret_variable,
                    ed25519_variable,
                    rsa_variable,
                } => (secret_variable, Some((ed25519_variable, rsa_variable))),
            };
            if let Some(v) = var(secret_variable) {
                let secrets = OrgSecrets::parse(&v).map_err(|message| ConfigError {
                    variable: secret_variable,
                    message,
                })?;
                config.webhook_secrets.push((source, secrets));
            }
            if let Some((ed25519_variable, rsa_variable)) = keys {
                let invalid = |variable: &'static str| {
                    move |e: tombstone_core::signature::highlevel::KeyError| ConfigError {
                        variable,
                        message: e.to_string(),
                    }
                };
                let keys = HighLevelKeys {
                    ed25519: var(ed25519_variable)
                        .map(|v| Ed25519Key::parse(&v).map_err(invalid(ed25519_variable)))
                        .transpose()?,
                    rsa: var(rsa_variable)
                        .map(|v| RsaKey::parse(&v).map_err(invalid(rsa_variable)))
                        .transpose()?,
                };
                if keys.any() {
                    config.signing_keys.push((source, keys));
                }
            }
        }
        // A key remembered for no time at all would make every retry a new deletion.
        if config.retention_seconds == 0 {
            return Err(ConfigError {
                variable: "idempotency_retention_seconds",
                message: "must be a whole number of seconds from 1 to 31622400".into(),
            });
        }
        config.body_timeout_ms = number("body_timeout_ms", DEFAULT_BODY_TIMEOUT_MS, 600_000)?;
        if var("task_retention_seconds").is_some() {
            let retention = number("task_retention_seconds", 0, u32::MAX)?;
            if retention < config.retention_seconds {
                return Err(ConfigError {
                    variable: "task_retention_seconds",
                    message: "must be at least idempotency_retention_seconds: a task is the \
                              record that makes a retry a duplicate"
                        .into(),
                });
            }
            config.task_retention_seconds = Some(retention);
        }
        config.upstream = upstream(&var, &number)?;
        config.dead_letter_retention_seconds = number(
            "dead_letter_retention_seconds",
            DEFAULT_DEAD_LETTER_RETENTION_SECONDS,
            366 * 24 * 60 * 60,
        )?;
        Ok(config)
    }

    /// Every check that is off, in words an operator acts on: a provider route that takes
    /// unsigned webhooks, an open canonical route, closed admin routes. (`tombstone serve` logs
    /// each at start; `tombstone check-config` prints them.)
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for &source in Source::ALL.iter().filter(|s| s.is_provider()) {
            let secret_variable = match source.proof() {
                Proof::StandardWebhooks { secret_variable }
                | Proof::HighLevel {
                    secret_variable, ..
                } => secret_variable,
                Proof::ApiKey => continue,
            };
            if !self.signs(source) && self.signing_keys(source).is_none() {
                warnings.push(format!(
                    "the {} route takes unsigned webhooks: set {secret_variable}",
                    source.display_name()
                ));
            }
        }
        if self.api_keys.is_empty() {
            warnings.push(
                "the canonical route is open to anyone who can reach it: set api_keys".into(),
            );
        }
        if self.admin_api_keys.is_empty() {
            warnings.push(
                "the admin routes (tasks, deliveries, dispatch, maintenance) are closed: set admin_api_keys to use them".into(),
            );
        }
        warnings
    }

    /// A provider's own signing keys, if any is set.
    pub fn signing_keys(&self, source: Source) -> Option<&HighLevelKeys> {
        self.signing_keys
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, keys)| keys)
    }

    /// The Standard Webhooks secrets of a source for `organization`, if its check is on: the
    /// organization's own when it has some, else the source's secrets for every organization.
    pub fn webhook_secrets(&self, source: Source, organization: &str) -> Option<&[WebhookSecret]> {
        self.webhook_secrets
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, secrets)| secrets.for_organization(organization))
    }

    /// Whether a source's Standard Webhooks check is on (for some organization at least).
    pub fn signs(&self, source: Source) -> bool {
        self.webhook_secrets.iter().any(|(s, _)| *s == source)
    }
}

/// A source's Standard Webhooks secrets: comma-separated entries, each either secrets for every
/// organization (`whsec_…`, several while rotating) or an organization id followed by its own
/// (`acme-vet whsec_… whsec_…`). An organization with secrets of its own is verified with those
/// only, so a webhook signed for one organization's endpoint never verifies on another's.
#[derive(Debug, Clone, Default)]
pub struct OrgSecrets {
    /// For every organization without secrets of its own.
    pub shared: Vec<WebhookSecret>,
    /// Per organization.
    pub per_organization: Vec<(String, Vec<WebhookSecret>)>,
}

impl OrgSecrets {
    /// Parses the variable (the message never holds a value of it).
    pub fn parse(text: &str) -> Result<OrgSecrets, String> {
        let mut secrets = OrgSecrets::default();
        for entry in text.split(',') {
            let mut words = entry.split_whitespace().peekable();
            let Some(first) = words.peek().copied() else {
                continue;
            };
            let parse = |w: &str| WebhookSecret::parse(w).map_err(|e| e.to_string());
            if first.starts_with("whsec_") {
                for word in words {
                    secrets.shared.push(parse(word)?);
                }
            } else {
                let organization = words.next().expect("peeked").to_owned();
                let own: Vec<WebhookSecret> = words.map(parse).collect::<Result<_, _>>()?;
                if own.is_empty() {
                    return Err(
                        "an organization id must be followed by its whsec_ secret(s)".into(),
                    );
                }
                match secrets
                    .per_organization
                    .iter_mut()
                    .find(|(o, _)| *o == organization)
                {
                    Some((_, existing)) => existing.extend(own),
                    None => secrets.per_organization.push((organization, own)),
                }
            }
        }
        Ok(secrets)
    }

    /// The secrets `organization` is verified with.
    pub fn for_organization(&self, organization: &str) -> &[WebhookSecret] {
        self.per_organization
            .iter()
            .find(|(o, _)| o == organization)
            .map_or(self.shared.as_slice(), |(_, own)| own.as_slice())
    }
}

/// Relay mode's settings: `None` when `upstream_url` is unset.
fn upstream(
    var: &dyn Fn(&str) -> Option<String>,
    number: &dyn Fn(&'static str, u32, u32) -> Result<u32, ConfigError>,
) -> Result<Option<UpstreamConfig>, ConfigError> {
    let Some(url) = var("upstream_url") else {
        return Ok(None);
    };
    let url = url.trim().to_owned();
    let origin = Origin::of_url(&url).map_err(|e| ConfigError {
        variable: "upstream_url",
        message: e.to_string(),
    })?;
    let authorization = var("upstream_authorization").map(|a| a.trim().to_owned());
    if authorization.is_some() && origin.scheme == "http" && !origin.is_loopback() {
        return Err(ConfigError {
            variable: "upstream_authorization",
            message: "would be sent in clear text: upstream_url must be https:// (plain http only to a loopback host)".into(),
        });
    }
    let timeout_ms = number("upstream_timeout_ms", 10_000, MAX_UPSTREAM_TIMEOUT_MS)?;
    if timeout_ms == 0 {
        return Err(ConfigError {
            variable: "upstream_timeout_ms",
            message: format!(
                "must be a whole number of milliseconds from 1 to {MAX_UPSTREAM_TIMEOUT_MS}"
            ),
        });
    }
    let schedule = match var("retry_schedule_seconds") {
        None => RetrySchedule::standard(),
        Some(text) => RetrySchedule::parse(&text).map_err(|e| ConfigError {
            variable: "retry_schedule_seconds",
            message: e.to_string(),
        })?,
    };
    let positive = |name: &'static str, default: u32, max: u32| match number(name, default, max)? {
        0 => Err(ConfigError {
            variable: name,
            message: format!("must be a whole number from 1 to {max}"),
        }),
        n => Ok(n),
    };
    let circuit = CircuitConfig {
        failure_threshold: positive("circuit_failure_threshold", 5, 1_000)?,
        open_seconds: positive("circuit_open_seconds", 10, 3_600)?,
    };
    Ok(Some(UpstreamConfig {
        url,
        authorization,
        timeout_ms,
        schedule,
        circuit,
    }))
}

/// The longest `upstream_timeout_ms` accepted: a minute, well inside any host's request budget.
pub const MAX_UPSTREAM_TIMEOUT_MS: u32 = 60_000;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_turn_every_check_off() {
        let c = Config::from_variables(vars(&[("api_keys", ""), ("mercoa_webhook_secret", " ")]))
            .unwrap();
        assert_eq!(c.delay_seconds, 0);
        assert_eq!(c.retention_seconds, 86_400);
        assert!(c.api_keys.is_empty());
        assert!(c.webhook_secrets.is_empty());
        assert!(c.signing_keys.is_empty());
    }

    #[test]
    fn a_key_is_remembered_for_at_least_a_second() {
        let e =
            Config::from_variables(vars(&[("idempotency_retention_seconds", "0")])).unwrap_err();
        assert_eq!(e.variable, "idempotency_retention_seconds");
        let c = Config::from_variables(vars(&[("idempotency_retention_seconds", "1")])).unwrap();
        assert_eq!(c.retention_seconds, 1);
    }

    #[test]
    fn bad_values_name_the_variable_and_never_echo_it() {
        let e = Config::from_variables(vars(&[("mercoa_webhook_secret", "whsec_%%secret%%")]))
            .unwrap_err();
        assert_eq!(e.variable, "mercoa_webhook_secret");
        assert!(!e.to_string().contains("secret%%"));
        let e = Config::from_variables(vars(&[("schedule_delay_seconds", "2592001")])).unwrap_err();
        assert_eq!(e.variable, "schedule_delay_seconds");
        assert!(!e.to_string().contains("2592001"), "{e}");
        let e = Config::from_variables(vars(&[("highlevel_rsa_public_key", "bm90IGEga2V5")]))
            .unwrap_err();
        assert_eq!(e.variable, "highlevel_rsa_public_key");
        assert!(!e.to_string().contains("bm90IGEga2V5"), "{e}");
    }

    #[test]
    fn highlevel_keys_parse_from_pem_with_escaped_newlines() {
        let pem = "-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\\n-----END PUBLIC KEY-----";
        let c = Config::from_variables(vars(&[
            ("highlevel_ed25519_public_key", pem),
            ("api_keys", "k1, k2"),
        ]))
        .unwrap();
        let highlevel = Source::from_name("highlevel").unwrap();
        assert!(c.signing_keys(highlevel).unwrap().ed25519.is_some());
        assert_eq!(c.api_keys, ApiKeys::parse("k1,k2"));
    }

    #[test]
    fn secrets_serve_every_organization_or_their_own_and_admin_keys_name_none() {
        let a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let b = "whsec_bmV3LXNlY3JldC1ieXRlcy0wMDAx";
        let secrets = OrgSecrets::parse(&format!("{a}, acme-vet {b} {a},, north {b}")).unwrap();
        assert_eq!(secrets.for_organization("anyone").len(), 1);
        assert_eq!(secrets.for_organization("acme-vet").len(), 2);
        assert_eq!(secrets.for_organization("north").len(), 1);
        let e = OrgSecrets::parse("acme-vet").unwrap_err();
        assert!(e.contains("followed by"), "{e}");
        let e = OrgSecrets::parse("acme-vet whsec_%%secret%%").unwrap_err();
        assert!(!e.contains("secret%%"), "{e}");
        let e = Config::from_variables(vars(&[("admin_api_keys", "k1 acme-vet")])).unwrap_err();
        assert_eq!(e.variable, "admin_api_keys");
        assert!(!e.to_string().contains("k1"), "{e}");
    }

    #[test]
    fn an_authorization_goes_to_an_http_upstream_only_on_this_machine() {
        let with = |url: &str| {
            Config::from_variables(vars(&[
                ("upstream_url", url),
                ("upstream_authorization", "Bearer s3cret"),
            ]))
        };
        let e = with("http://upstream.example/api/v1/invoice-deletions").unwrap_err();
        assert_eq!(e.variable, "upstream_authorization");
        assert!(!e.to_string().contains("s3cret"));
        for ok in [
            "https://upstream.example/api/v1/invoice-deletions",
            "http://127.0.0.1:3001/api/v1/invoice-deletions",
            "http://localhost:3001/x",
            "http://[::1]:3001/x",
        ] {
            assert!(with(ok).is_ok(), "{ok}");
        }
        // Without an authorization, plain http anywhere is the operator's choice.
        assert!(
            Config::from_variables(vars(&[("upstream_url", "http://upstream.example/x")])).is_ok()
        );
    }
}
