//! The upstream's circuit: what every instance knows of its health ([`CircuitState`], one record
//! in the shared store), its settings, and the pure rules of its phases. Nothing here reads a
//! clock or a store: times come in, states go out.

use serde::{Deserialize, Serialize};
use tombstone_core::Timestamp;

/// The circuit's settings: how many failures in a row open it, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitConfig {
    /// Consecutive failed attempts that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit stays open before one attempt probes the upstream again.
    pub open_seconds: u32,
}

impl Default for CircuitConfig {
    fn default() -> CircuitConfig {
        CircuitConfig {
            failure_threshold: 5,
            open_seconds: 10,
        }
    }
}

/// What every instance knows of the upstream's health (one record in the shared store, so an
/// outage one instance saw spares the others its timeouts too). Updated without a lock: two
/// instances failing at once may count one failure, which only delays the opening by one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitState {
    /// Attempts that failed in a row.
    pub failures: u32,
    /// While set, the circuit is open until then; after it, half-open: one attempt probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_until: Option<Timestamp>,
}

/// The circuit as an operator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CircuitPhase {
    /// Attempts go to the upstream.
    Closed,
    /// The upstream is known to be down: deliveries are queued without an attempt.
    Open,
    /// The open time is over: the next attempt probes the upstream.
    HalfOpen,
}

/// Whether an attempt may be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Closed: attempt.
    Attempt,
    /// Half-open: one attempt may probe; the one that wins the probe's lease (an atomic
    /// increment of the key named by `opened_until`) makes it.
    Probe {
        /// The end of the open time this probe follows (names its lease).
        opened_until: Timestamp,
    },
    /// Open: no attempt until then.
    Wait {
        /// When the circuit becomes half-open.
        until: Timestamp,
    },
}

impl CircuitState {
    /// Its phase at `now`.
    pub fn phase(&self, now: Timestamp) -> CircuitPhase {
        match self.open_until {
            None => CircuitPhase::Closed,
            Some(until) if now < until => CircuitPhase::Open,
            Some(_) => CircuitPhase::HalfOpen,
        }
    }

    /// Whether an attempt may be made at `now`.
    pub fn admit(&self, now: Timestamp) -> Admission {
        match self.open_until {
            None => Admission::Attempt,
            Some(until) if now < until => Admission::Wait { until },
            Some(until) => Admission::Probe {
                opened_until: until,
            },
        }
    }

    /// The state after an attempt that failed at `now`: one more failure, and open (again) for
    /// `open_seconds` once the failures reach the threshold (a failed probe reopens it at
    /// once).
    pub fn after_failure(&self, config: &CircuitConfig, now: Timestamp) -> CircuitState {
        let failures = self.failures.saturating_add(1);
        let open = failures >= config.failure_threshold || self.open_until.is_some();
        CircuitState {
            failures,
            open_until: if open {
                now.plus_seconds(config.open_seconds)
            } else {
                None
            },
        }
    }

    /// Whether an answer from the upstream changes this state (it closes the circuit and clears
    /// the failures): `false` for a circuit that is closed with no failures, so that a healthy
    /// upstream costs no write.
    pub fn needs_reset(&self) -> bool {
        *self != CircuitState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn the_circuit_opens_after_the_threshold_probes_once_open_time_is_over_and_closes() {
        let config = CircuitConfig {
            failure_threshold: 3,
            open_seconds: 10,
        };
        let t0 = at("2026-03-01T12:00:00Z");
        let mut state = CircuitState::default();
        assert!(!state.needs_reset());
        for _ in 0..2 {
            state = state.after_failure(&config, t0);
            assert_eq!(state.admit(t0), Admission::Attempt);
            assert_eq!(state.phase(t0), CircuitPhase::Closed);
        }
        state = state.after_failure(&config, t0);
        let until = at("2026-03-01T12:00:10Z");
        assert_eq!(state.admit(t0), Admission::Wait { until });
        assert_eq!(state.phase(t0), CircuitPhase::Open);
        assert_eq!(
            state.admit(until),
            Admission::Probe {
                opened_until: until
            }
        );
        assert_eq!(state.phase(until), CircuitPhase::HalfOpen);
        // A failed probe opens it again at once.
        let reopened = state.after_failure(&config, until);
        assert_eq!(reopened.phase(until), CircuitPhase::Open);
        assert!(reopened.needs_reset());
    }
}
