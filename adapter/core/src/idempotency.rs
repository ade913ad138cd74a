//! The idempotency decision (SPEC §5) as pure computation: a delivery's body fingerprint, the
//! stored record of its organization + key (if any) and its claim count (if it claimed) in; what
//! to answer out. The shell does only key-value I/O, in this order:
//!
//! 1. `get(record_key)`; with a record, [`decide`] answers `duplicate` or reuse — no write.
//! 2. Without one, `increment(claim_key)` (atomic), then [`decide`] again with the count:
//!    1 schedules (then `set(task_key)` and `set(record_key)`); more is a 409 conflict while the
//!    first delivery is in flight.
//!
//! Every key is derived from the task id, which already hashes organization and key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canonical::{DeletionRequest, DeletionResponse, DeletionStatus};
use crate::context::IDEMPOTENCY_KEY_POINTER;
use crate::error::{Problem, ProblemKind};
use crate::ids::TaskId;

/// What "the same body" means: lowercase hex SHA-256 of the canonical body's compact JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a canonical request.
    pub fn of(request: &DeletionRequest) -> Fingerprint {
        let digest = Sha256::digest(request.to_json().as_bytes());
        Fingerprint(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// What is kept per organization + key once the first delivery was scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Fingerprint of the first delivery's canonical body.
    pub fingerprint: Fingerprint,
    /// The first delivery's response (status `scheduled`).
    pub response: DeletionResponse,
}

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No record yet: claim the key (atomic increment of [`claim_key`]) and decide again.
    Claim,
    /// This delivery won the claim: schedule the task, then store the record.
    Schedule,
    /// Same organization, key and body as the first delivery: its response, as `duplicate`.
    Duplicate(DeletionResponse),
    /// Same organization and key, another body: 422 `idempotency-key-reuse`.
    Reuse(Problem),
    /// The first delivery with this key is still being processed: 409 `conflict`.
    Conflict(Problem),
}

/// Decides what a delivery gets; see the module documentation for the calling order.
pub fn decide(
    fingerprint: &Fingerprint,
    stored: Option<&IdempotencyRecord>,
    claim: Option<u64>,
) -> Decision {
    match (stored, claim) {
        (Some(record), _) if record.fingerprint == *fingerprint => {
            let mut response = record.response.clone();
            response.status = DeletionStatus::Duplicate;
            Decision::Duplicate(response)
        }
        (Some(_), _) => Decision::Reuse(Problem::at(
            ProblemKind::IdempotencyKeyReuse,
            "This Idempotency-Key was used before with a different body.",
            IDEMPOTENCY_KEY_POINTER,
            "idempotency",
            "was used before by this organization with a different body; use a new key",
        )),
        (None, None) => Decision::Claim,
        (None, Some(1)) => Decision::Schedule,
        (None, Some(_)) => Decision::Conflict(Problem::at(
            ProblemKind::Conflict,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            IDEMPOTENCY_KEY_POINTER,
            "idempotency",
            "is being processed by an earlier delivery",
        )),
    }
}

/// Key-value key of the idempotency record of a task.
pub fn record_key(task_id: &TaskId) -> String {
    format!("idempotency/{task_id}")
}

/// Key-value key of the claim counter of a task.
pub fn claim_key(task_id: &TaskId) -> String {
    format!("claim/{task_id}")
}

/// Key-value key of the scheduled task.
pub fn task_key(task_id: &TaskId) -> String {
    format!("task/{task_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{convert, Context, IdempotencyKey, OrganizationId, Timestamp};

    fn conversion(body: &str) -> crate::Conversion {
        let mut ctx = Context::new(
            OrganizationId::new("acme-vet").unwrap(),
            Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        );
        ctx.idempotency_key = Some(IdempotencyKey::new("k-1").unwrap());
        convert(body.as_bytes(), &ctx).unwrap()
    }

    /// The record the first delivery of `first` leaves behind.
    fn record_of(first: &crate::Conversion) -> IdempotencyRecord {
        IdempotencyRecord {
            fingerprint: Fingerprint::of(&first.request),
            response: first.response(DeletionStatus::Scheduled),
        }
    }

    const A: &str = r#"{"invoices":[{"invoice_id":"i1","clinic_id":"c1"}]}"#;
    const B: &str = r#"{"invoices":[{"invoice_id":"i2","clinic_id":"c1"}]}"#;

    #[test]
    fn first_delivery_claims_then_schedules() {
        let c = conversion(A);
        let fp = Fingerprint::of(&c.request);
        assert_eq!(decide(&fp, None, None), Decision::Claim);
        assert_eq!(decide(&fp, None, Some(1)), Decision::Schedule);
    }

    #[test]
    fn a_concurrent_delivery_before_the_record_is_a_conflict() {
        let fp = Fingerprint::of(&conversion(A).request);
        let Decision::Conflict(p) = decide(&fp, None, Some(2)) else {
            panic!("expected a conflict")
        };
        assert_eq!(p.status(), 409);
    }

    #[test]
    fn same_body_replays_the_first_response_as_duplicate() {
        let first = conversion(A);
        let record = record_of(&first);
        // A retry, reformatted and received later, is the same deletion.
        let retry =
            conversion("{ \"invoices\": [ {\"clinic_id\": \"c1\", \"invoice_id\": \" i1 \"} ] }");
        let Decision::Duplicate(r) = decide(&Fingerprint::of(&retry.request), Some(&record), None)
        else {
            panic!("expected a duplicate")
        };
        assert_eq!(r.status, DeletionStatus::Duplicate);
        assert_eq!(r.task_id, record.response.task_id);
        assert_eq!(r.received_at, record.response.received_at);
        assert_eq!(r.scheduled_for, record.response.scheduled_for);
    }

    #[test]
    fn another_body_with_the_same_key_is_reuse() {
        let first = conversion(A);
        let record = record_of(&first);
        let Decision::Reuse(p) = decide(
            &Fingerprint::of(&conversion(B).request),
            Some(&record),
            Some(1),
        ) else {
            panic!("expected reuse")
        };
        assert_eq!(
            (p.kind, p.status()),
            (ProblemKind::IdempotencyKeyReuse, 422)
        );
    }

    #[test]
    fn records_round_trip_through_json() {
        let first = conversion(A);
        let record = record_of(&first);
        let text = serde_json::to_string(&record).unwrap();
        let back: IdempotencyRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, record);
        let response: serde_json::Value = serde_json::to_value(&record.response).unwrap();
        let errors = crate::schemas::validate("canonical-response", &response).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn keys_are_namespaced_by_task_id() {
        let id = conversion(A).task_id;
        assert_eq!(record_key(&id), format!("idempotency/{id}"));
        assert_ne!(claim_key(&id), task_key(&id));
    }
}
