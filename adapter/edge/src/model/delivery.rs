//! The delivery record: one per deletion that relay mode took over from its sender, keyed by
//! task id. Queued deliveries and dead letters are this one record in two of its states; a
//! replay puts a dead one back in the queue.

use serde::{Deserialize, Serialize};
use tombstone_core::canonical::DeletionResponse;
use tombstone_core::idempotency::Fingerprint;
use tombstone_core::{IdempotencyKey, TaskId, Timestamp};

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Queued,
    /// The upstream confirmed it.
    Delivered,
    /// It will not be attempted again without an operator (a dead letter).
    Dead,
}

impl DeliveryState {
    /// Its name, as in the API.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    /// The state called `name`.
    pub fn from_name(name: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Queued,
            DeliveryState::Delivered,
            DeliveryState::Dead,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// Why a delivery became a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadReason {
    /// The upstream answered 410 Gone: stop sending.
    Gone,
    /// The upstream refused the delivery itself (400, 413, 415, 422).
    Verdict,
    /// Every attempt of the schedule failed.
    Exhausted,
    /// The next attempt would come after the upstream stops honouring the key: sent then, it
    /// could schedule the deletion a second time.
    KeyExpired,
}

impl DeadReason {
    /// Every reason, for metrics.
    pub const ALL: [DeadReason; 4] = [
        DeadReason::Gone,
        DeadReason::Verdict,
        DeadReason::Exhausted,
        DeadReason::KeyExpired,
    ];

    /// Its name, as in the API and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            DeadReason::Gone => "gone",
            DeadReason::Verdict => "verdict",
            DeadReason::Exhausted => "exhausted",
            DeadReason::KeyExpired => "key-expired",
        }
    }
}

/// What one attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptOutcome {
    /// A canonical response with status `scheduled`.
    Scheduled,
    /// A canonical response with status `duplicate`: an earlier attempt (or another sender) had
    /// delivered it.
    Duplicate,
    /// A canonical response with another status (an upstream that queues too).
    Accepted,
    /// 400, 413, 415 or 422: the upstream refused the delivery itself.
    Verdict,
    /// 410: the upstream says stop.
    Gone,
    /// 409: the upstream is still processing the same key.
    Conflict,
    /// 429: the upstream asks to slow down.
    RateLimited,
    /// A 5xx.
    ServerError,
    /// A 3xx: a failure (Standard Webhooks), never followed.
    Redirect,
    /// Another 4xx (401, 403, 404, …): a verdict on the relay (its credentials, its URL), not on
    /// the delivery.
    NoVerdict,
    /// A 2xx without a valid canonical response for this task.
    InvalidResponse,
    /// No whole answer within `upstream_timeout_ms`.
    Timeout,
    /// The connection could not be made.
    Unreachable,
    /// The host refused the outbound request (not an allowed outbound host).
    Denied,
    /// The answer was too long.
    TooLarge,
    /// Any other failure of the exchange.
    Failed,
}

impl AttemptOutcome {
    /// Every outcome, for metrics.
    pub const ALL: [AttemptOutcome; 16] = [
        AttemptOutcome::Scheduled,
        AttemptOutcome::Duplicate,
        AttemptOutcome::Accepted,
        AttemptOutcome::Verdict,
        AttemptOutcome::Gone,
        AttemptOutcome::Conflict,
        AttemptOutcome::RateLimited,
        AttemptOutcome::ServerError,
        AttemptOutcome::Redirect,
        AttemptOutcome::NoVerdict,
        AttemptOutcome::InvalidResponse,
        AttemptOutcome::Timeout,
        AttemptOutcome::Unreachable,
        AttemptOutcome::Denied,
        AttemptOutcome::TooLarge,
        AttemptOutcome::Failed,
    ];

    /// Its name, as in the API, the logs and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            AttemptOutcome::Scheduled => "scheduled",
            AttemptOutcome::Duplicate => "duplicate",
            AttemptOutcome::Accepted => "accepted",
            AttemptOutcome::Verdict => "verdict",
            AttemptOutcome::Gone => "gone",
            AttemptOutcome::Conflict => "conflict",
            AttemptOutcome::RateLimited => "rate-limited",
            AttemptOutcome::ServerError => "server-error",
            AttemptOutcome::Redirect => "redirect",
            AttemptOutcome::NoVerdict => "no-verdict",
            AttemptOutcome::InvalidResponse => "invalid-response",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::Unreachable => "unreachable",
            AttemptOutcome::Denied => "denied",
            AttemptOutcome::TooLarge => "too-large",
            AttemptOutcome::Failed => "failed",
        }
    }
}

/// One attempt: when, what it got, and why (no payload values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it was made.
    pub at: Timestamp,
    /// What it got.
    pub outcome: AttemptOutcome,
    /// The upstream's status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What happened, in words.
    pub detail: String,
}

/// The most attempts a record lists (the oldest are dropped; `attempt_count` still counts them).
pub const MAX_LISTED_ATTEMPTS: usize = 50;

/// A deletion relay mode took over from its sender, until the upstream confirms it or it is
/// given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The task id (the key of the record).
    pub task_id: TaskId,
    /// Where it is.
    pub state: DeliveryState,
    /// Its place in the queue's index: the number handed out when it was last queued.
    pub seq: u64,
    /// The source it came from (`mercoa`, …, `canonical`).
    pub source: String,
    /// `X-Organization-Id` of the canonical request.
    pub organization_id: String,
    /// `Idempotency-Key` of the canonical request.
    pub idempotency_key: IdempotencyKey,
    /// What "the same deletion" means: the canonical body's fingerprint.
    pub fingerprint: Fingerprint,
    /// The canonical body, byte for byte what is sent.
    pub body: String,
    /// What the sender was answered (status `queued`); a sender's retry gets it again.
    pub answer: DeletionResponse,
    /// When it was (last) queued.
    pub queued_at: Timestamp,
    /// Attempts in all, across replays.
    pub attempt_count: u32,
    /// Attempts since it was (last) queued: its step in the retry schedule.
    pub step: u32,
    /// The attempts, oldest first (the last [`MAX_LISTED_ATTEMPTS`]).
    pub attempts: Vec<Attempt>,
    /// When it is attempted next (queued only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    /// Why it is a dead letter (dead only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_reason: Option<DeadReason>,
    /// When it was delivered or given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// The upstream's canonical response, once delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<serde_json::Value>,
    /// How many times an operator replayed it.
    #[serde(default)]
    pub replays: u32,
}

impl Delivery {
    /// Records an attempt.
    pub fn record(&mut self, attempt: Attempt) {
        self.attempt_count += 1;
        self.step += 1;
        self.attempts.push(attempt);
        if self.attempts.len() > MAX_LISTED_ATTEMPTS {
            self.attempts.remove(0);
        }
    }

    /// The last attempt, if any.
    pub fn last_attempt(&self) -> Option<&Attempt> {
        self.attempts.last()
    }

    /// Marks it delivered at `at` with the upstream's response.
    pub fn deliver(&mut self, at: Timestamp, response: serde_json::Value) {
        self.state = DeliveryState::Delivered;
        self.next_attempt_at = None;
        self.dead_reason = None;
        self.finished_at = Some(at);
        self.response = Some(response);
    }

    /// Gives it up at `at`.
    pub fn give_up(&mut self, at: Timestamp, reason: DeadReason) {
        self.state = DeliveryState::Dead;
        self.next_attempt_at = None;
        self.dead_reason = Some(reason);
        self.finished_at = Some(at);
    }

    /// Puts it (back) in the queue, attempted next at `next`, as number `seq` of the index.
    pub fn requeue(&mut self, seq: u64, now: Timestamp, next: Timestamp) {
        self.state = DeliveryState::Queued;
        self.seq = seq;
        self.queued_at = now;
        self.step = 0;
        self.next_attempt_at = Some(next);
        self.dead_reason = None;
        self.finished_at = None;
    }

    /// The record as the API shows it in a listing: without the body.
    pub fn summary(&self) -> serde_json::Value {
        let mut value = self.view();
        if let Some(map) = value.as_object_mut() {
            map.remove("body");
            map.remove("attempts");
            if let Some(last) = self.last_attempt() {
                map.insert(
                    "last_attempt".into(),
                    serde_json::to_value(last).expect("an attempt serializes"),
                );
            }
        }
        value
    }

    /// The record as the API shows it.
    pub fn view(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a delivery always serializes");
        if let Some(map) = value.as_object_mut() {
            // Bookkeeping of the queue's index, not of the delivery.
            map.remove("seq");
            map.remove("fingerprint");
            map.insert(
                "received_at".into(),
                serde_json::json!(self.answer.received_at),
            );
        }
        value
    }
}

/// An entry of the queue's index: number `n` names this task's delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The delivery's task id.
    pub task_id: TaskId,
    /// When the entry was written (an entry whose record never followed is skipped once old).
    pub at: Timestamp,
}

/// The index's head: no delivery below `seq` is still queued. An entry that stays missing (its
/// writer died between taking its number and writing it) is passed after a minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The lowest number that may still be queued.
    pub seq: u64,
    /// Since when the entry at `seq` has been missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_since: Option<Timestamp>,
}
