//! Who may call the canonical and admin routes: API keys, each for every organization or bound
//! to some. (Provider routes are proven by the signatures each source's spec names, verified by
//! `tombstone_core::signature`, with the secrets of the route's organization:
//! [`crate::config::OrgSecrets`].)
//!
//! | variable | guards | unset |
//! |---|---|---|
//! | `api_keys` | the canonical route (and a canonical body sent to `auto`) | open: anyone on the network may post deletions |
//! | `admin_api_keys` | tasks, deliveries, dispatch, maintenance | closed: 403, with how to open them |
//!
//! Both are comma-separated entries: a key alone serves every organization; a key followed by
//! organization ids (separated by spaces) serves only those: `k-all, k-acme acme-vet acme-north`.

use sha2::{Digest, Sha256};
use tombstone_core::{Problem, ProblemKind};

use crate::http::{Request, Response};

/// The header carrying an API key.
pub const API_KEY_HEADER: &str = "X-API-Key";

/// One key: its SHA-256 (the key itself is not kept), and the organizations it serves (`None`:
/// all).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiKey {
    digest: [u8; 32],
    organizations: Option<Vec<String>>,
}

/// A set of API keys; empty means the check is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys(Vec<ApiKey>);

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No key, or one that matches none (401).
    Unauthorized,
    /// A valid key, not for this organization (403).
    Forbidden,
}

impl ApiKeys {
    /// Parses `key [organization …], …`.
    pub fn parse(text: &str) -> ApiKeys {
        ApiKeys(
            text.split(',')
                .filter_map(|entry| {
                    let mut words = entry.split_whitespace();
                    let key = words.next()?;
                    let organizations: Vec<String> = words.map(str::to_owned).collect();
                    Some(ApiKey {
                        digest: Sha256::digest(key.as_bytes()).into(),
                        organizations: (!organizations.is_empty()).then_some(organizations),
                    })
                })
                .collect(),
        )
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `given` is one of the keys, for `organization` when one is named (`None`: a
    /// route of no organization). Compares SHA-256 digests of every key, so the time taken
    /// depends neither on how much of a key matched nor on which key it was.
    fn admits(&self, given: &str, organization: Option<&str>) -> Result<(), Refusal> {
        let given: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
        let mut matched: Option<&ApiKey> = None;
        for key in &self.0 {
            if constant_time_eq(&key.digest, &given) {
                matched = Some(key);
            }
        }
        let key = matched.ok_or(Refusal::Unauthorized)?;
        match (&key.organizations, organization) {
            (None, _) => Ok(()),
            (Some(allowed), Some(org)) if allowed.iter().any(|a| a == org) => Ok(()),
            (Some(_), _) => Err(Refusal::Forbidden),
        }
    }

    /// Checks `X-API-Key` for `organization` (none configured: open).
    pub fn check(&self, req: &Request<'_>, organization: Option<&str>) -> Result<(), Denied> {
        if self.is_empty() {
            return Ok(());
        }
        let Some(given) = req.header(API_KEY_HEADER) else {
            return Err(Denied::Unauthorized(Problem::at(
                ProblemKind::Unauthorized,
                "This route needs an API key.",
                "/header/X-API-Key",
                "required",
                "X-API-Key is required",
            )));
        };
        match self.admits(given, organization) {
            Ok(()) => Ok(()),
            Err(Refusal::Unauthorized) => Err(Denied::Unauthorized(Problem::at(
                ProblemKind::Unauthorized,
                "The API key is not valid.",
                "/header/X-API-Key",
                "api-key",
                "does not match a configured key",
            ))),
            Err(Refusal::Forbidden) => Err(Denied::Forbidden(Problem::at(
                ProblemKind::Unauthorized,
                "This API key may not post deletions for this organization.",
                "/header/X-Organization-Id",
                "organization",
                "is not one of the organizations this API key serves",
            ))),
        }
    }
}

/// A caller turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No proof, or a wrong one: 401.
    Unauthorized(Problem),
    /// A known caller (or a closed route) that may not do this: 403. Its problem's `type` stays
    /// `unauthorized`; the status says it is no matter of a missing credential.
    Forbidden(Problem),
}

impl Denied {
    /// The answer.
    pub fn response(&self) -> Response {
        match self {
            Denied::Unauthorized(problem) => Response::problem(problem),
            Denied::Forbidden(problem) => Response::problem(problem).with_status(403),
        }
    }
}

impl From<Problem> for Denied {
    fn from(problem: Problem) -> Denied {
        Denied::Unauthorized(problem)
    }
}

/// The admin routes: open to `admin_api_keys`, closed (403) while it is unset.
pub fn check_admin(req: &Request<'_>, keys: &ApiKeys) -> Result<(), Denied> {
    if keys.is_empty() {
        return Err(Denied::Forbidden(Problem::at(
            ProblemKind::Unauthorized,
            "The admin routes are closed: set the variable admin_api_keys to open them to \
             callers holding one of its keys (X-API-Key).",
            "/header/X-API-Key",
            "admin",
            "admin routes are closed until admin_api_keys is set",
        )));
    }
    keys.check(req, None)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_serve_every_organization_or_the_ones_they_name() {
        let keys = ApiKeys::parse(" k-all , k-acme acme-vet  acme-north,, k-other other");
        assert_eq!(keys.len(), 3);
        assert_eq!(keys.admits("k-all", Some("anyone")), Ok(()));
        assert_eq!(keys.admits("k-all", None), Ok(()));
        assert_eq!(keys.admits(" k-acme ", Some("acme-north")), Ok(()));
        assert_eq!(
            keys.admits("k-acme", Some("other")),
            Err(Refusal::Forbidden)
        );
        assert_eq!(keys.admits("k-acme", None), Err(Refusal::Forbidden));
        assert_eq!(
            keys.admits("k-acm", Some("acme-vet")),
            Err(Refusal::Unauthorized)
        );
        assert_eq!(keys.admits("", None), Err(Refusal::Unauthorized));
        assert!(ApiKeys::parse(" , ").is_empty());
    }
}
