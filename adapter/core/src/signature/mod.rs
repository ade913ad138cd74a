//! Standard Webhooks (and Svix) signature verification: headers, raw body, secrets and the
//! caller's clock in; a verdict out. Pure computation, so every gateway that embeds the core
//! verifies alike.
//!
//! A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (or the same headers with the `svix-` prefix). The signature header holds space-separated
//! `v1,<base64>` entries, each an HMAC-SHA256 of `"<id>.<timestamp>.<raw body>"`: several entries
//! appear while a sender rotates its secret. The timestamp must be within ±300 s of now.

#[cfg(feature = "provider-signatures")]
pub mod highlevel;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Problem, ProblemKind};

/// Largest accepted distance between `webhook-timestamp` and now, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;

/// A signing secret: `whsec_<base64>` (or the bare base64), decoded once.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Why a secret was refused (a configuration error, not a delivery's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret must be whsec_ followed by non-empty base64")]
pub struct SecretError;

impl WebhookSecret {
    /// Parses `whsec_<base64>` or bare base64.
    pub fn parse(secret: &str) -> Result<WebhookSecret, SecretError> {
        let b64 = secret.trim();
        let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
        match STANDARD.decode(b64) {
            Ok(key) if !key.is_empty() => Ok(WebhookSecret(key)),
            _ => Err(SecretError),
        }
    }

    /// Parses a list of secrets separated by commas or white space (for rotation).
    pub fn parse_list(secrets: &str) -> Result<Vec<WebhookSecret>, SecretError> {
        secrets
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(WebhookSecret::parse)
            .collect()
    }

    /// The `v1,<base64>` signature of a delivery (for senders and tests).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(id, &timestamp.to_string(), body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

fn unauthorized(header: &str, message: &str) -> Problem {
    Problem::at(
        ProblemKind::Unauthorized,
        "The webhook signature could not be verified.",
        format!("/header/{header}"),
        "signature",
        message,
    )
}

/// Verifies a delivery against any of `secrets`. `header` looks a header up by its lowercase
/// name; `now` is the caller's clock in Unix seconds.
pub fn verify(
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    secrets: &[WebhookSecret],
    now: i64,
) -> Result<(), Problem> {
    let pick = |name: &str| {
        header(&format!("webhook-{name}"))
            .map(|v| (format!("webhook-{name}"), v))
            .or_else(|| header(&format!("svix-{name}")).map(|v| (format!("svix-{name}"), v)))
    };
    let (_, id) = pick("id").ok_or_else(|| unauthorized("webhook-id", "is missing"))?;
    let (ts_name, timestamp) =
        pick("timestamp").ok_or_else(|| unauthorized("webhook-timestamp", "is missing"))?;
    let (sig_name, signatures) =
        pick("signature").ok_or_else(|| unauthorized("webhook-signature", "is missing"))?;

    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| unauthorized(&ts_name, "must be Unix seconds"))?;
    // abs_diff: `now - sent` overflows for a timestamp near i64::MIN.
    if sent.abs_diff(now) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(unauthorized(
            &ts_name,
            "is more than 300 seconds away from now (a replay, or a clock problem)",
        ));
    }
    for entry in signatures.split_whitespace() {
        let Some(b64) = entry.strip_prefix("v1,") else {
            continue; // another scheme (e.g. v1a), not ours
        };
        let Ok(candidate) = STANDARD.decode(b64) else {
            continue;
        };
        // verify_slice compares in constant time and checks the length first, so a bare `v1,`
        // (an empty signature) never matches.
        if secrets.iter().any(|s| {
            s.mac(&id, timestamp.trim(), body)
                .verify_slice(&candidate)
                .is_ok()
        }) {
            return Ok(());
        }
    }
    Err(unauthorized(&sig_name, "no signature matches"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    // The vector of the Standard Webhooks and Svix libraries' own tests.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn check(
        pairs: &[(&str, &str)],
        body: &[u8],
        secrets: &[&str],
        now: i64,
    ) -> Result<(), Problem> {
        let secrets: Vec<WebhookSecret> = secrets
            .iter()
            .map(|s| WebhookSecret::parse(s).unwrap())
            .collect();
        verify(headers(pairs), body, &secrets, now)
    }

    fn valid(sig: &str) -> Vec<(&'static str, String)> {
        vec![
            ("webhook-id", ID.to_owned()),
            ("webhook-timestamp", TS.to_string()),
            ("webhook-signature", sig.to_owned()),
        ]
    }

    fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(k, s)| (*k, s.as_str())).collect()
    }

    #[test]
    fn signs_the_published_vector() {
        assert_eq!(
            WebhookSecret::parse(SECRET).unwrap().sign(ID, TS, BODY),
            SIG
        );
    }

    #[test]
    fn accepts_the_published_vector_with_either_header_prefix() {
        assert_eq!(check(&refs(&valid(SIG)), BODY, &[SECRET], TS), Ok(()));
        let svix = [
            ("svix-id", ID),
            ("svix-timestamp", "1614265330"),
            ("svix-signature", SIG),
        ];
        assert_eq!(check(&svix, BODY, &[SECRET], TS + 299), Ok(()));
    }

    #[test]
    fn a_bare_v1_signature_fails() {
        let e = check(&refs(&valid("v1,")), BODY, &[SECRET], TS).unwrap_err();
        assert_eq!(e.kind, ProblemKind::Unauthorized);
        assert_eq!(e.errors[0].pointer, "/header/webhook-signature");
    }

    #[test]
    fn an_expired_or_future_timestamp_fails() {
        for now in [TS + 301, TS - 301] {
            let e = check(&refs(&valid(SIG)), BODY, &[SECRET], now).unwrap_err();
            assert_eq!(e.errors[0].pointer, "/header/webhook-timestamp");
        }
        assert!(check(&refs(&valid(SIG)), BODY, &[SECRET], TS + 300).is_ok());
    }

    #[test]
    fn a_rotated_secret_sends_two_signatures_and_either_secret_verifies() {
        let old = WebhookSecret::parse(SECRET).unwrap();
        let new = WebhookSecret::parse("whsec_bmV3LXNlY3JldC1ieXRlcy0wMDAx").unwrap();
        let both = format!("{} {}", new.sign(ID, TS, BODY), old.sign(ID, TS, BODY));
        assert!(check(&refs(&valid(&both)), BODY, &[SECRET], TS).is_ok());
        assert!(check(
            &refs(&valid(&both)),
            BODY,
            &["whsec_bmV3LXNlY3JldC1ieXRlcy0wMDAx"],
            TS
        )
        .is_ok());
        // And a receiver that holds both secrets accepts a delivery signed by either.
        let only_new = new.sign(ID, TS, BODY);
        let secrets =
            WebhookSecret::parse_list(&format!("{SECRET}, whsec_bmV3LXNlY3JldC1ieXRlcy0wMDAx"))
                .unwrap();
        assert!(verify(headers(&refs(&valid(&only_new))), BODY, &secrets, TS).is_ok());
    }

    #[test]
    fn a_timestamp_at_the_ends_of_i64_is_refused_not_overflowed() {
        for sent in [i64::MIN, i64::MAX, i64::MIN + 1] {
            let ts = sent.to_string();
            let headers = [
                ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
                ("webhook-timestamp", ts.as_str()),
                ("webhook-signature", SIG),
            ];
            let problem = check(&headers, BODY, &[SECRET], TS).unwrap_err();
            assert_eq!(
                problem.errors[0].pointer, "/header/webhook-timestamp",
                "{sent}"
            );
        }
    }

    #[test]
    fn a_tampered_body_or_id_fails() {
        assert!(check(
            &refs(&valid(SIG)),
            br#"{"test": 2432232315}"#,
            &[SECRET],
            TS
        )
        .is_err());
        let mut h = valid(SIG);
        h[0].1 = "msg_other".into();
        assert!(check(&refs(&h), BODY, &[SECRET], TS).is_err());
    }

    #[test]
    fn a_wrong_secret_truncated_signature_or_missing_header_fails() {
        assert!(check(&refs(&valid(SIG)), BODY, &["whsec_d3Jvbmc="], TS).is_err());
        assert!(check(&refs(&valid(&SIG[..SIG.len() - 4])), BODY, &[SECRET], TS).is_err());
        for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let h: Vec<_> = valid(SIG)
                .into_iter()
                .filter(|(k, _)| *k != missing)
                .collect();
            let e = check(&refs(&h), BODY, &[SECRET], TS).unwrap_err();
            assert_eq!(e.errors[0].pointer, format!("/header/{missing}"));
            assert_eq!(e.status(), 401);
        }
    }

    #[test]
    fn secrets_must_be_base64_and_are_never_printed() {
        assert_eq!(WebhookSecret::parse("whsec_"), Err(SecretError));
        assert_eq!(WebhookSecret::parse("whsec_not base64!"), Err(SecretError));
        let s = WebhookSecret::parse(SECRET).unwrap();
        assert!(!format!("{s:?}").contains("MfKQ"));
    }
}
