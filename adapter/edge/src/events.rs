//! What the service wants an operator to know about a request beyond its answer: each is data
//! on the [`Response`](crate::Response), and each shell writes it out (the Spin component as one
//! line on stderr, which Spin keeps in the component's log).

use serde::{Deserialize, Serialize};

use crate::dead_letters::DeadLetterId;

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
    /// A delivery could not be processed and was kept as a dead letter.
    DeadLetterKept {
        /// The letter's id.
        id: DeadLetterId,
        /// What failed.
        reason: String,
    },
    /// A delivery could not be processed, nor kept: only the sender's retry still has it.
    DeadLetterLost {
        /// What failed first.
        reason: String,
        /// Why it could not be kept.
        error: String,
    },
    /// A dead letter was replayed.
    DeadLetterReplayed {
        /// The letter's id.
        id: DeadLetterId,
        /// The status the replay got.
        status: u16,
        /// Whether the letter is gone (delivered) or stays.
        removed: bool,
    },
    /// A replayed dead letter could not be removed or updated (its attempt count, its last
    /// reason): it stays as it was.
    DeadLetterNotUpdated {
        /// The letter's id.
        id: DeadLetterId,
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
        let event = Event::DeadLetterKept {
            id: DeadLetterId::new(7),
            reason: "key-value store: disk full".into(),
        };
        let line = event.to_line();
        assert_eq!(
            line,
            r#"tombstone-event {"event":"dead-letter-kept","id":7,"reason":"key-value store: disk full"}"#
        );
        assert_eq!(Event::from_line(&line), Some(event));
        assert_eq!(Event::from_line("something else"), None);
    }
}
