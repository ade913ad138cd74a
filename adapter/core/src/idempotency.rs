//! The idempotency decision (docs/contract.md §5) as pure computation: a delivery's body fingerprint, the
//! stored record of its organization + key (if any), the caller's clock and its claim count (if it
//! claimed) in; what to answer out. The shell (`tombstone-edge`, which also owns every key
//! format) does only key-value I/O, in this order:
//!
//! 1. Read the task record. A live record (younger than the retention) answers `duplicate` or
//!    `idempotency-key-reuse` with no write at all.
//! 2. Otherwise claim, with the generation of [`Decision::Claim`] (0 for a key never seen, one
//!    more than an expired record's): an atomic increment of the claim counter of the current
//!    minute ([`claim_minute`]). A delivery that gets more than 1 has lost: it reads the record
//!    again and answers `duplicate` (the first delivery finished) or 409 `conflict`.
//! 3. The delivery that got 1 holds the claim. It reads the counters of the minutes before and
//!    after; [`claim_count`] more than 1 means a delivery in a neighbouring minute holds one,
//!    and it has lost too. Alone, it stores the record and the task in one write.
//! 4. A holder that stored its task leaves its counter; one that did not (it lost, or the store
//!    failed) removes it. The others never touch it. Only the edge's maintenance route removes a
//!    stored task's counter, once its minute and the next have passed.
//!
//! Why at most one delivery stores a task (for one generation): a counter a task was stored
//! under is never removed while it can matter, so a later delivery of its minute gets more than 1
//! and loses, and one of a neighbouring minute sees it and loses. Of two overlapping holders in
//! neighbouring minutes, each increments its own counter before reading the other's, so at least
//! one sees the other. A holder that stored in an earlier minute did so before the next minute's
//! deliveries read the record in step 1. This assumes instances' clocks agree, and a holder
//! finishes, within about a minute: claims more than a minute apart do not see each other.
//!
//! Why minutes: an instance that dies while it holds a claim leaves the counter behind. A claim
//! counts only for its own minute and the two next to it, so such a key answers 409 for at most
//! two minutes, then the provider's retry claims a later minute (the counter itself is removed by
//! the edge's maintenance route).
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canonical::{DeletionRequest, DeletionResponse, DeletionStatus};
use crate::context::IDEMPOTENCY_KEY_POINTER;
use crate::error::{Problem, ProblemKind};

/// How long an idempotency record is honoured by default: 24 hours.
pub const DEFAULT_RETENTION_SECONDS: u32 = 24 * 60 * 60;

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

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is kept per organization + key once the first delivery was scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Fingerprint of the first delivery's canonical body.
    pub fingerprint: Fingerprint,
    /// The first delivery's response (status `scheduled`).
    pub response: DeletionResponse,
    /// Which claim this record won: 0 the first time, one more each time the key is reused
    /// after its record expired.
    pub generation: u64,
    /// Unix seconds after which the record is no longer honoured: retention after the delivery
    /// was scheduled (its `received_at`; for a replayed dead letter, the replay).
    pub expires_at: i64,
}

impl IdempotencyRecord {
    /// Whether the record is still honoured at `now` (Unix seconds).
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No live record: claim the key with an atomic increment of this generation's claim
    /// counter, then decide again with the count.
    Claim {
        /// The generation to claim.
        generation: u64,
    },
    /// This delivery won the claim: store the record (and task) of this generation.
    Schedule {
        /// The generation won.
        generation: u64,
    },
    /// Same organization, key and body as the first delivery: its response, as `duplicate`.
    Duplicate(DeletionResponse),
    /// Same organization and key, another body: 422 `idempotency-key-reuse`.
    Reuse(Problem),
    /// The first delivery with this key is still being processed: 409 `conflict`.
    Conflict(Problem),
}

/// Decides what a delivery gets; see the module documentation for the calling order. `now` is
/// the caller's clock in Unix seconds; `claim` the count the increment returned, if it claimed.
pub fn decide(
    fingerprint: &Fingerprint,
    stored: Option<&IdempotencyRecord>,
    now: i64,
    claim: Option<i64>,
) -> Decision {
    let generation = match stored {
        Some(record) if record.is_live(now) => {
            return if record.fingerprint == *fingerprint {
                let mut response = record.response.clone();
                response.status = DeletionStatus::Duplicate;
                Decision::Duplicate(response)
            } else {
                Decision::Reuse(Problem::at(
                    ProblemKind::IdempotencyKeyReuse,
                    "This Idempotency-Key was used before with a different body.",
                    IDEMPOTENCY_KEY_POINTER,
                    "idempotency",
                    "was used before by this organization with a different body; use a new key",
                ))
            };
        }
        Some(expired) => expired.generation + 1,
        None => 0,
    };
    match claim {
        None => Decision::Claim { generation },
        Some(1) => Decision::Schedule { generation },
        Some(_) => Decision::Conflict(conflict()),
    }
}

/// The 409 of a delivery whose key an earlier delivery is still processing.
pub fn conflict() -> Problem {
    Problem::at(
        ProblemKind::Conflict,
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        IDEMPOTENCY_KEY_POINTER,
        "idempotency",
        "is being processed by an earlier delivery",
    )
}

/// How long a claim blocks others: claims are counted per minute, and a claim blocks its own
/// minute and the two next to it.
pub const CLAIM_WINDOW_SECONDS: i64 = 60;

/// The claim window (minute number) that `now` (Unix seconds) falls in.
pub fn claim_minute(now: i64) -> i64 {
    now.div_euclid(CLAIM_WINDOW_SECONDS)
}

/// The count to [`decide`] with: the own minute's counter when above 1, otherwise 1 plus the
/// holders of the neighbouring minutes (a negative neighbour counts as 0).
pub fn claim_count(own: i64, neighbours: [i64; 2]) -> i64 {
    if own == 1 {
        1 + neighbours[0].max(0) + neighbours[1].max(0)
    } else {
        own
    }
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
            generation: 0,
            expires_at: first.received_at.unix_seconds() + i64::from(DEFAULT_RETENTION_SECONDS),
        }
    }

    /// One second after the first delivery.
    fn soon(first: &crate::Conversion) -> i64 {
        first.received_at.unix_seconds() + 1
    }

    const A: &str = r#"{"invoices":[{"invoice_id":"i1","clinic_id":"c1"}]}"#;
    const B: &str = r#"{"invoices":[{"invoice_id":"i2","clinic_id":"c1"}]}"#;

    #[test]
    fn first_delivery_claims_then_schedules() {
        let c = conversion(A);
        let fp = Fingerprint::of(&c.request);
        let now = soon(&c);
        assert_eq!(
            decide(&fp, None, now, None),
            Decision::Claim { generation: 0 }
        );
        assert_eq!(
            decide(&fp, None, now, Some(1)),
            Decision::Schedule { generation: 0 }
        );
    }

    #[test]
    fn a_concurrent_delivery_before_the_record_is_a_conflict() {
        let fp = Fingerprint::of(&conversion(A).request);
        let Decision::Conflict(p) = decide(&fp, None, 0, Some(2)) else {
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
        let Decision::Duplicate(r) = decide(
            &Fingerprint::of(&retry.request),
            Some(&record),
            soon(&first),
            None,
        ) else {
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
            soon(&first),
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
    fn claims_are_counted_per_minute() {
        assert_eq!(claim_minute(120), 2);
        assert_eq!(claim_minute(179), 2);
        assert_eq!(claim_minute(180), 3);
        assert_eq!(claim_minute(-1), -1);
    }

    #[test]
    fn a_claim_is_won_alone_in_its_minute_and_both_neighbours() {
        assert_eq!(claim_count(1, [0, 0]), 1);
        assert_eq!(claim_count(1, [1, 0]), 2, "the minute before is held");
        assert_eq!(claim_count(1, [0, 1]), 2, "the minute after is held");
        assert_eq!(
            claim_count(1, [-1, 0]),
            1,
            "a negative neighbour holds nothing"
        );
        assert_eq!(claim_count(3, [0, 0]), 3);
    }

    #[test]
    fn an_expired_record_is_forgotten_and_the_next_generation_is_claimed() {
        let first = conversion(A);
        let record = record_of(&first);
        let fp = Fingerprint::of(&conversion(B).request);
        // Just before expiry, another body is still reuse; at expiry the key is free again,
        // whatever the body.
        let last_second = record.expires_at - 1;
        assert!(matches!(
            decide(&fp, Some(&record), last_second, None),
            Decision::Reuse(_)
        ));
        assert_eq!(
            decide(&fp, Some(&record), record.expires_at, None),
            Decision::Claim { generation: 1 }
        );
        assert_eq!(
            decide(&fp, Some(&record), record.expires_at, Some(1)),
            Decision::Schedule { generation: 1 }
        );
        assert!(matches!(
            decide(&fp, Some(&record), record.expires_at, Some(2)),
            Decision::Conflict(_)
        ));
    }
}
