//! Who may call the canonical and admin routes: API keys. (Provider routes are proven by the
//! signatures each source's spec names, verified by `tombstone_core::signature`.)

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
