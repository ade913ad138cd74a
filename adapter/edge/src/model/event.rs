//! What the service wants an operator to know about a request beyond its answer: each is data
//! on the [`Response`](crate::Response), and each shell writes it out (the Spin component as one
//! line on stderr, which Spin keeps in the component's log).

use serde::{Deserialize, Serialize};

use tombstone_core::Timestamp;

use crate::model::circuit::CircuitPhase;
use crate::model::delivery::{AttemptOutcome, DeadReason, DeliveryState};

/// Prefix of an event's line on stderr: `tombstone-event {"event":"…",…}`.
pub const EVENT_LINE_PREFIX: &str = "tombstone-event ";

/// One thing that happened while handling a request. Never holds a payload value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A request was answered: the one summary line per request (never a header value, a body
    /// byte or an id from the payload; the task id is a hash).
    Answered {
        /// The route's template (`/api/v1/webhooks/{source}/{organization_id}`), or `-` for a
        /// path with no route.
        route: String,
        /// The status.
        status: u16,
        /// `scheduled` or `duplicate` for a deletion, the problem's kind for a refusal
        /// (`validation`, `conflict`, …), `ok` for anything else.
        outcome: String,
        /// The task id of a deletion's answer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_id: Option<String>,
    },
    /// A deletion was taken over from its sender (relay mode), to be attempted at
    /// `next_attempt_at`.
    DeliveryQueued {
        /// Its task id.
        task_id: String,
        /// When it is attempted.
        next_attempt_at: Timestamp,
    },
    /// One attempt to deliver a deletion upstream: one line per attempt.
    DeliveryAttempted {
        /// Its task id.
        task_id: String,
        /// Which attempt (1: the first).
        attempt: u32,
        /// What it got.
        outcome: AttemptOutcome,
        /// The upstream's status, when it answered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Where the delivery is now (none: a verdict relayed to its sender, nothing kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<DeliveryState>,
        /// When it is attempted next, if it is queued.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_attempt_at: Option<Timestamp>,
    },
    /// A delivery was given up: a dead letter.
    DeliveryDead {
        /// Its task id.
        task_id: String,
        /// Why.
        reason: DeadReason,
    },
    /// A delivery could not be taken right now (nothing durable could be written, or a variable
    /// is unusable): the sender was told to retry, and only it still has the deletion.
    NotAccepted {
        /// The route's source.
        source: String,
        /// The status the sender got.
        status: u16,
        /// Why (no values).
        reason: String,
    },
    /// The upstream's circuit changed phase.
    CircuitChanged {
        /// Its new phase.
        phase: CircuitPhase,
        /// Failed attempts in a row.
        failures: u32,
    },
    /// A dispatch saw the whole queue.
    QueueObserved {
        /// Queued deliveries.
        queued: u32,
        /// When the longest-waiting one was received.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        oldest_received_at: Option<Timestamp>,
        /// The circuit.
        circuit: CircuitPhase,
    },
    /// A due delivery was being attempted by another dispatcher: this one left it.
    LeaseLost {
        /// Its task id.
        task_id: String,
    },
    /// A stored value could not be read and was passed over.
    Unreadable {
        /// Its key.
        key: String,
        /// Why.
        error: String,
    },
    /// Undoing a step failed (giving a claim back); `key` is what it leaves behind.
    RollbackFailed {
        /// The key that could not be restored.
        key: String,
        /// Why.
        error: String,
    },
}

impl Event {
    /// The event as one log line: [`EVENT_LINE_PREFIX`] then compact JSON.
    pub fn to_line(&self) -> String {
        format!(
            "{EVENT_LINE_PREFIX}{}",
            serde_json::to_string(self).expect("events always serialize")
        )
    }

    /// Parses a line written by [`Event::to_line`].
    pub fn from_line(line: &str) -> Option<Event> {
        serde_json::from_str(line.strip_prefix(EVENT_LINE_PREFIX)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_their_log_line() {
        let event = Event::DeliveryDead {
            task_id: "t-1".into(),
            reason: DeadReason::KeyExpired,
        };
        let line = event.to_line();
        assert_eq!(
            line,
            r#"tombstone-event {"event":"delivery-dead","task_id":"t-1","reason":"key-expired"}"#
        );
        assert_eq!(Event::from_line(&line), Some(event));
        assert_eq!(Event::from_line("something else"), None);
    }
}
