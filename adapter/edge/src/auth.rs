//! Who may call: API keys for the canonical and admin routes, Standard Webhooks signatures for
//! provider routes (verified by `tombstone_core::signature`), and HighLevel's own signatures —
//! `x-ghl-signature` (Ed25519) and the legacy `x-wh-signature` (RSASSA-PKCS1-v1_5 with SHA-256),
//! both base64 over the raw body.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use sha2::{Digest, Sha256};
use tombstone_core::{Problem, ProblemKind};

use crate::http::Request;

/// The header carrying an API key.
pub const API_KEY_HEADER: &str = "X-API-Key";

/// Checks `X-API-Key` against the configured keys (none configured: open). Compares SHA-256
/// digests, so the time taken does not depend on how much of a key matched.
pub fn check_api_key(req: &Request<'_>, keys: &[String]) -> Result<(), Problem> {
    if keys.is_empty() {
        return Ok(());
    }
    let Some(given) = req.header(API_KEY_HEADER) else {
        return Err(Problem::at(
            ProblemKind::Unauthorized,
            "This route needs an API key.",
            "/header/X-API-Key",
            "required",
            "X-API-Key is required",
        ));
    };
    let given = Sha256::digest(given.trim().as_bytes());
    let matches = keys
        .iter()
        .map(|k| constant_time_eq(&Sha256::digest(k.as_bytes()), &given))
        .fold(false, |any, m| any | m);
    if matches {
        Ok(())
    } else {
        Err(Problem::at(
            ProblemKind::Unauthorized,
            "The API key is not valid.",
            "/header/X-API-Key",
            "api-key",
            "does not match a configured key",
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An RSA public key for `x-wh-signature`.
#[derive(Debug, Clone)]
pub struct RsaKey(rsa::pkcs1v15::VerifyingKey<Sha256>);

impl RsaKey {
    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<RsaKey, String> {
        rsa::RsaPublicKey::from_public_key_der(der)
            .map(|k| RsaKey(rsa::pkcs1v15::VerifyingKey::new(k)))
            .map_err(|_| "is not an RSA public key (PEM or base64 SubjectPublicKeyInfo)".into())
    }

    fn verify(&self, body: &[u8], signature: &[u8]) -> bool {
        rsa::pkcs1v15::Signature::try_from(signature)
            .map(|s| self.0.verify(body, &s).is_ok())
            .unwrap_or(false)
    }
}

/// Parses a DER SubjectPublicKeyInfo holding an Ed25519 key.
pub fn parse_ed25519(der: &[u8]) -> Result<ed25519_dalek::VerifyingKey, String> {
    ed25519_dalek::VerifyingKey::from_public_key_der(der)
        .map_err(|_| "is not an Ed25519 public key (PEM or base64 SubjectPublicKeyInfo)".into())
}

/// HighLevel's signing keys; each one set is an accepted proof.
#[derive(Debug, Clone, Default)]
pub struct HighLevelKeys {
    /// For `x-ghl-signature`.
    pub ed25519: Option<ed25519_dalek::VerifyingKey>,
    /// For the legacy `x-wh-signature`.
    pub rsa: Option<RsaKey>,
}

impl HighLevelKeys {
    /// Whether any key is configured.
    pub fn any(&self) -> bool {
        self.ed25519.is_some() || self.rsa.is_some()
    }

    /// Verifies a HighLevel delivery: `x-ghl-signature` first (as HighLevel's SDK does), then
    /// `x-wh-signature`. `Ok` when a configured key verifies its header.
    pub fn verify(&self, req: &Request<'_>) -> Result<(), Problem> {
        let decode = |name: &str| {
            req.header(name)
                .and_then(|v| STANDARD.decode(v.trim()).ok())
        };
        if let (Some(key), Some(sig)) = (&self.ed25519, decode("x-ghl-signature")) {
            if let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig) {
                if key.verify_strict(req.body, &sig).is_ok() {
                    return Ok(());
                }
            }
        }
        if let (Some(key), Some(sig)) = (&self.rsa, decode("x-wh-signature")) {
            if key.verify(req.body, &sig) {
                return Ok(());
            }
        }
        let header = if self.ed25519.is_some() {
            "x-ghl-signature"
        } else {
            "x-wh-signature"
        };
        let present =
            req.header("x-ghl-signature").is_some() || req.header("x-wh-signature").is_some();
        Err(Problem::at(
            ProblemKind::Unauthorized,
            "The webhook signature could not be verified.",
            format!("/header/{header}"),
            "signature",
            if present {
                "no signature matches a configured HighLevel key"
            } else {
                "is missing"
            },
        ))
    }
}
