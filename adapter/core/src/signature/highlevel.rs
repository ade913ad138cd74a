//! HighLevel's own signatures: `x-ghl-signature` (Ed25519) and the legacy `x-wh-signature`
//! (RSASSA-PKCS1-v1_5 with SHA-256), both base64 over the raw body, each verified against a
//! public key the operator configures. Pure computation, like Standard Webhooks in the parent
//! module: headers and raw body in, a verdict out.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use sha2::Sha256;

use crate::error::{Problem, ProblemKind};

/// Why a configured key was refused (names no value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not an Ed25519 SubjectPublicKeyInfo.
    #[error("is not an Ed25519 public key (PEM or base64 SubjectPublicKeyInfo)")]
    NotEd25519,
    /// Not an RSA SubjectPublicKeyInfo.
    #[error("is not an RSA public key (PEM or base64 SubjectPublicKeyInfo)")]
    NotRsa,
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

/// An Ed25519 public key for `x-ghl-signature`.
#[derive(Debug, Clone)]
pub struct Ed25519Key(ed25519_dalek::VerifyingKey);

impl Ed25519Key {
    /// Parses PEM or base64 SubjectPublicKeyInfo.
    pub fn parse(text: &str) -> Result<Ed25519Key, KeyError> {
        ed25519_dalek::VerifyingKey::from_public_key_der(&spki_der(text))
            .map(Ed25519Key)
            .map_err(|_| KeyError::NotEd25519)
    }
}

/// An RSA public key for `x-wh-signature`.
#[derive(Debug, Clone)]
pub struct RsaKey(rsa::pkcs1v15::VerifyingKey<Sha256>);

impl RsaKey {
    /// Parses PEM or base64 SubjectPublicKeyInfo.
    pub fn parse(text: &str) -> Result<RsaKey, KeyError> {
        use rsa::pkcs8::DecodePublicKey as _;
        rsa::RsaPublicKey::from_public_key_der(&spki_der(text))
            .map(|k| RsaKey(rsa::pkcs1v15::VerifyingKey::new(k)))
            .map_err(|_| KeyError::NotRsa)
    }

    fn verify(&self, body: &[u8], signature: &[u8]) -> bool {
        rsa::pkcs1v15::Signature::try_from(signature)
            .map(|s| self.0.verify(body, &s).is_ok())
            .unwrap_or(false)
    }
}

/// HighLevel's signing keys; each one set is an accepted proof.
#[derive(Debug, Clone, Default)]
pub struct HighLevelKeys {
    /// For `x-ghl-signature`.
    pub ed25519: Option<Ed25519Key>,
    /// For the legacy `x-wh-signature`.
    pub rsa: Option<RsaKey>,
}

impl HighLevelKeys {
    /// Whether any key is configured.
    pub fn any(&self) -> bool {
        self.ed25519.is_some() || self.rsa.is_some()
    }

    /// Verifies a HighLevel delivery: `x-ghl-signature` first (as HighLevel's SDK does), then
    /// `x-wh-signature`. `Ok` when a configured key verifies its header. `header` looks a
    /// header up by name (case-insensitively).
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<(), Problem> {
        let decode = |name: &str| header(name).and_then(|v| STANDARD.decode(v.trim()).ok());
        if let (Some(key), Some(sig)) = (&self.ed25519, decode("x-ghl-signature")) {
            if let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig) {
                if key.0.verify_strict(body, &sig).is_ok() {
                    return Ok(());
                }
            }
        }
        if let (Some(key), Some(sig)) = (&self.rsa, decode("x-wh-signature")) {
            if key.verify(body, &sig) {
                return Ok(());
            }
        }
        let missing_header = if self.ed25519.is_some() {
            "x-ghl-signature"
        } else {
            "x-wh-signature"
        };
        let present = header("x-ghl-signature").is_some() || header("x-wh-signature").is_some();
        Err(Problem::at(
            ProblemKind::Unauthorized,
            "The webhook signature could not be verified.",
            format!("/header/{missing_header}"),
            "signature",
            if present {
                "no signature matches a configured HighLevel key"
            } else {
                "is missing"
            },
        ))
    }
}

/// Checks that a HighLevel-signed payload is fresh: its own `timestamp` (HighLevel puts one in
/// every webhook body, beside `webhookId`: an RFC 3339 time, or Unix seconds or milliseconds)
/// within `tolerance_seconds` of `now` (Unix seconds), so that a captured delivery cannot be
/// replayed later. A body without a `timestamp` passes (HighLevel's documented example has
/// none); one whose `timestamp` cannot be read does not.
pub fn check_freshness(body: &[u8], now: i64, tolerance_seconds: u32) -> Result<(), Problem> {
    #[derive(serde::Deserialize)]
    struct Stamped {
        timestamp: Option<serde_json::Value>,
    }
    let stale = |message: &str| {
        Problem::at(
            ProblemKind::Unauthorized,
            "The webhook signature could not be verified.",
            "/timestamp",
            "timestamp",
            message,
        )
    };
    let Ok(Stamped {
        timestamp: Some(stamp),
    }) = serde_json::from_slice::<Stamped>(body)
    else {
        return Ok(());
    };
    let sent = match &stamp {
        serde_json::Value::String(text) => crate::Timestamp::parse(text)
            .map(crate::Timestamp::unix_seconds)
            .ok(),
        serde_json::Value::Number(n) => n.as_i64().map(|n| {
            if n.unsigned_abs() >= 100_000_000_000 {
                n / 1000
            } else {
                n
            }
        }),
        _ => None,
    };
    let Some(sent) = sent else {
        return Err(stale("is not a time"));
    };
    if sent.abs_diff(now) > u64::from(tolerance_seconds) {
        return Err(stale(
            "is outside the tolerance: the delivery is too old or from the future",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_payload_must_be_fresh_when_it_says_when_it_was_sent() {
        let now = 1_767_225_600; // 2026-01-01T00:00:00Z
        let at = |body: &str| check_freshness(body.as_bytes(), now, 300);
        assert!(at(r#"{"timestamp":"2026-01-01T00:04:59Z"}"#).is_ok());
        assert!(at(r#"{"timestamp":"2025-12-31T23:55:00Z"}"#).is_ok());
        assert!(at(r#"{"timestamp":1767225600123}"#).is_ok(), "milliseconds");
        assert!(at(r#"{"timestamp":1767225600}"#).is_ok(), "seconds");
        assert!(
            at(r#"{"_id":"x"}"#).is_ok(),
            "no timestamp: nothing to check"
        );
        for stale in [
            r#"{"timestamp":"2025-12-31T23:54:59Z"}"#,
            r#"{"timestamp":"2026-01-01T00:05:01Z"}"#,
            r#"{"timestamp":"yesterday"}"#,
            r#"{"timestamp":true}"#,
            r#"{"timestamp":-9223372036854775808}"#,
        ] {
            let problem = at(stale).unwrap_err();
            assert_eq!(problem.errors[0].pointer, "/timestamp", "{stale}");
        }
    }

    #[test]
    fn keys_parse_from_pem_with_escaped_newlines_and_bad_ones_name_no_value() {
        let pem = "-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\\n-----END PUBLIC KEY-----";
        assert!(Ed25519Key::parse(pem).is_ok());
        assert_eq!(RsaKey::parse(pem).unwrap_err(), KeyError::NotRsa);
        assert_eq!(
            Ed25519Key::parse("bm90IGEga2V5").unwrap_err(),
            KeyError::NotEd25519
        );
    }
}
