//! Configuration from Spin variables (`spin.toml` `[variables]`, or `tombstone serve --var`).
//! Every check is off until its variable is set, so the defaults run on a private network.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tombstone_core::idempotency::DEFAULT_RETENTION_SECONDS;
use tombstone_core::limits::MAX_DELAY_SECONDS;
use tombstone_core::signature::WebhookSecret;
use tombstone_core::Source;

use crate::auth::{HighLevelKeys, RsaKey};

/// Every variable the service reads: name and meaning. `spin.toml` declares each one.
pub const VARIABLES: [(&str, &str); 8] = [
    (
        "schedule_delay_seconds",
        "seconds between receiving a deletion and its scheduled_for (default 0, at most 30 days)",
    ),
    (
        "idempotency_retention_seconds",
        "how long an organization + key is remembered (default 86400 = 24 h)",
    ),
    (
        "api_keys",
        "comma-separated keys; when set, the canonical and admin routes need a matching X-API-Key",
    ),
    (
        "mercoa_webhook_secret",
        "whsec_ secret(s); when set, the Mercoa route needs a Standard Webhooks signature",
    ),
    (
        "willsuite_webhook_secret",
        "whsec_ secret(s); when set, the WillSuite route needs a Standard Webhooks signature",
    ),
    (
        "highlevel_webhook_secret",
        "whsec_ secret(s); when set, a Standard Webhooks signature is one accepted proof for the HighLevel route",
    ),
    (
        "highlevel_ed25519_public_key",
        "HighLevel's Ed25519 key (PEM or base64 SPKI); when set, x-ghl-signature is an accepted proof",
    ),
    (
        "highlevel_rsa_public_key",
        "HighLevel's RSA key (PEM or base64 SPKI); when set, the legacy x-wh-signature is an accepted proof",
    ),
];

/// A variable that is set but unusable. Names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "variable {}: {}", self.variable, self.message)
    }
}

/// The checked configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `scheduled_for` − `received_at`, in seconds.
    pub delay_seconds: u32,
    /// How long idempotency records are honoured, in seconds.
    pub retention_seconds: u32,
    /// Accepted `X-API-Key` values; empty = no key needed.
    pub api_keys: Vec<String>,
    /// Standard Webhooks secrets per provider; empty = no signature needed.
    pub webhook_secrets: Vec<(Source, Vec<WebhookSecret>)>,
    /// HighLevel's own signing keys.
    pub highlevel: HighLevelKeys,
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
                        message: format!("must be a whole number of seconds from 0 to {max}"),
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
                .map(|v| {
                    v.split(',')
                        .map(|k| k.trim().to_owned())
                        .filter(|k| !k.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            ..Config::default()
        };
        for (source, name) in [
            (Source::Mercoa, "mercoa_webhook_secret"),
            (Source::WillSuite, "willsuite_webhook_secret"),
            (Source::HighLevel, "highlevel_webhook_secret"),
        ] {
            if let Some(v) = var(name) {
                let secrets = WebhookSecret::parse_list(&v).map_err(|e| ConfigError {
                    variable: name,
                    message: e.to_string(),
                })?;
                config.webhook_secrets.push((source, secrets));
            }
        }
        if let Some(v) = var("highlevel_ed25519_public_key") {
            config.highlevel.ed25519 = Some(crate::auth::parse_ed25519(&spki_der(&v)).map_err(
                |message| ConfigError {
                    variable: "highlevel_ed25519_public_key",
                    message,
                },
            )?);
        }
        if let Some(v) = var("highlevel_rsa_public_key") {
            config.highlevel.rsa = Some(RsaKey::from_spki_der(&spki_der(&v)).map_err(
                |message| ConfigError {
                    variable: "highlevel_rsa_public_key",
                    message,
                },
            )?);
        }
        Ok(config)
    }

    /// The Standard Webhooks secrets of a source, if its check is on.
    pub fn webhook_secrets(&self, source: Source) -> Option<&[WebhookSecret]> {
        self.webhook_secrets
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, secrets)| secrets.as_slice())
    }
}

/// The DER bytes of a public key given as PEM (`-----BEGIN PUBLIC KEY-----` …, with real or
/// `\n`-escaped line breaks, as environment variables often carry it) or as bare base64.
fn spki_der(text: &str) -> Vec<u8> {
    let b64: String = text
        .replace("\\n", "\n")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).unwrap_or_default()
}

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
        assert!(c.highlevel.ed25519.is_none() && c.highlevel.rsa.is_none());
    }

    #[test]
    fn bad_values_name_the_variable_and_never_echo_it() {
        let e = Config::from_variables(vars(&[("mercoa_webhook_secret", "whsec_%%secret%%")]))
            .unwrap_err();
        assert_eq!(e.variable, "mercoa_webhook_secret");
        assert!(!e.to_string().contains("secret%%"));
        let e = Config::from_variables(vars(&[("schedule_delay_seconds", "2592001")])).unwrap_err();
        assert_eq!(e.variable, "schedule_delay_seconds");
        let e = Config::from_variables(vars(&[("highlevel_rsa_public_key", "bm90IGEga2V5")]))
            .unwrap_err();
        assert_eq!(e.variable, "highlevel_rsa_public_key");
    }

    #[test]
    fn highlevel_keys_parse_from_pem_with_escaped_newlines() {
        let pem = "-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\\n-----END PUBLIC KEY-----";
        let c = Config::from_variables(vars(&[
            ("highlevel_ed25519_public_key", pem),
            ("api_keys", "k1, k2"),
        ]))
        .unwrap();
        assert!(c.highlevel.ed25519.is_some());
        assert_eq!(c.api_keys, ["k1", "k2"]);
    }
}
