//! What `tombstone serve` tells an operator: one log line per request on stderr (JSON by default,
//! or text), through `tracing` and `tracing-subscriber`, and the metrics of [`super::metrics`].
//!
//! A request's line holds the time, the method, the route's template (never the raw path, which
//! can hold an organization id), the status, the duration in milliseconds, the outcome, the
//! problem kind of a refusal and the task id of a deletion — never a header value, a body byte
//! or an id from the payload:
//!
//! ```json
//! {"timestamp":"2026-11-30T10:00:00.123456Z","level":"INFO","target":"tombstone::request","method":"POST","route":"/api/v1/webhooks/{source}/{organization_id}","status":200,"duration_ms":3.1,"outcome":"scheduled","task_id":"af21…"}
//! ```
//!
//! The component reports what it did as `tombstone-event` lines on its stderr (as it does on
//! Spin, where they land in the component's log); the host reads them after each request and
//! turns them into these lines and into metrics.

use std::time::Duration;

use tombstone_edge::Event;
use tracing_subscriber::EnvFilter;

use super::metrics::Metrics;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

/// Installs the log writer for the process (stderr; `RUST_LOG` filters, default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

/// The events in a component's stderr; every other line is passed on to the log.
pub fn guest_events(stderr: &[u8]) -> Vec<Event> {
    let text = String::from_utf8_lossy(stderr);
    let mut events = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match Event::from_line(line) {
            Some(event) => events.push(event),
            None => tracing::info!(target: "tombstone::component", "{line}"),
        }
    }
    events
}

/// Logs and counts one answered request and the events it yielded.
pub fn answered(
    metrics: Option<&Metrics>,
    method: &str,
    status: u16,
    events: Vec<Event>,
    took: Duration,
) {
    let mut summary = None;
    for event in events {
        match event {
            Event::Answered {
                route,
                outcome,
                task_id,
                ..
            } => summary = Some((route, outcome, task_id)),
            other => noted(metrics, other),
        }
    }
    let (route, outcome, task_id) = summary.unwrap_or_else(|| ("-".into(), "ok".into(), None));
    if let Some(m) = metrics {
        m.request(&route, status, &outcome, took);
    }
    let duration_ms = (took.as_secs_f64() * 1e6).round() / 1e3;
    let problem = (status >= 400).then_some(outcome.as_str());
    tracing::info!(
        target: "tombstone::request",
        method,
        route,
        status,
        duration_ms,
        outcome,
        problem,
        task_id,
    );
}

/// Logs and counts what the component did beyond answering: after a request's response (relay
/// mode's dispatcher), or on the host's own dispatch tick.
pub fn noted_all(metrics: Option<&Metrics>, events: Vec<Event>) {
    for event in events {
        if !matches!(event, Event::Answered { .. }) {
            noted(metrics, event);
        }
    }
}

/// One event other than a request's summary: a log line, and its metrics.
fn noted(metrics: Option<&Metrics>, event: Event) {
    match event {
        Event::Answered { .. } => {}
        Event::DeliveryQueued {
            task_id,
            next_attempt_at,
        } => {
            let next_attempt_at = next_attempt_at.to_string();
            tracing::info!(target: "tombstone::delivery", task_id, next_attempt_at, "queued a delivery");
        }
        Event::DeliveryAttempted {
            task_id,
            attempt,
            outcome,
            status,
            state,
            next_attempt_at,
        } => {
            if let Some(m) = metrics {
                m.attempt(outcome);
            }
            let outcome = outcome.name();
            let state = state.map(|s| s.name());
            let next_attempt_at = next_attempt_at.map(|t| t.to_string());
            tracing::info!(target: "tombstone::delivery", task_id, attempt, outcome, status, state, next_attempt_at, "attempted a delivery");
        }
        Event::DeliveryDead { task_id, reason } => {
            if let Some(m) = metrics {
                m.dead_letter(reason);
            }
            let reason = reason.name();
            tracing::warn!(target: "tombstone::delivery", task_id, reason, "gave a delivery up: a dead letter");
        }
        Event::NotAccepted {
            source,
            status,
            reason,
        } => {
            if let Some(m) = metrics {
                m.not_accepted(&source, status);
            }
            tracing::error!(target: "tombstone::delivery", source, status, reason, "could not take a delivery now: only its sender still has it");
        }
        Event::CircuitChanged { phase, failures } => {
            if let Some(m) = metrics {
                m.circuit(phase);
            }
            let phase = format!("{phase:?}").to_lowercase();
            tracing::warn!(target: "tombstone::delivery", phase, failures, "the upstream's circuit changed");
        }
        Event::QueueObserved {
            queued,
            oldest_received_at,
            circuit,
        } => {
            if let Some(m) = metrics {
                let age = oldest_received_at.map_or(Duration::ZERO, |at| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_secs();
                    Duration::from_secs(now.saturating_sub(at.unix_seconds().max(0) as u64))
                });
                m.queue(queued, age);
                m.circuit(circuit);
            }
        }
        Event::LeaseLost { task_id } => {
            if let Some(m) = metrics {
                m.lease_lost();
            }
            tracing::debug!(target: "tombstone::delivery", task_id, "another dispatcher holds this delivery's lease");
        }
        Event::Unreadable { key, error } => {
            tracing::error!(target: "tombstone::store", key, error, "a stored value could not be read");
        }
        Event::RollbackFailed { key, error } => {
            if let Some(m) = metrics {
                m.rollback_failed();
            }
            tracing::warn!(target: "tombstone::store", key, error, "could not give a claim or lease back");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_rollback_is_counted_once() {
        let metrics = Metrics::new();
        let count = |m: &Metrics| {
            m.render()
                .lines()
                .find_map(|l| l.strip_prefix("tombstone_rollbacks_failed_total "))
                .map(str::to_owned)
        };
        assert_eq!(count(&metrics).as_deref(), Some("0"));
        let events = vec![
            Event::RollbackFailed {
                key: "claim/af21/0/29500000".into(),
                error: "key-value store: gone".into(),
            },
            Event::Answered {
                route: "/api/v1/invoice-deletions".into(),
                status: 503,
                outcome: "unavailable".into(),
                task_id: None,
            },
        ];
        answered(
            Some(&metrics),
            "POST",
            503,
            events,
            Duration::from_millis(1),
        );
        assert_eq!(count(&metrics).as_deref(), Some("1"));
    }
}
