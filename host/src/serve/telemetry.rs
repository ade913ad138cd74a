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
    let mut route = String::from("-");
    let mut outcome = String::from("ok");
    let mut task_id = None;
    for event in events {
        match event {
            Event::Answered {
                route: r,
                outcome: o,
                task_id: t,
                ..
            } => {
                route = r;
                outcome = o;
                task_id = t;
            }
            Event::DeadLetterKept { id, reason } => {
                if let Some(m) = metrics {
                    m.dead_letter(true);
                }
                tracing::warn!(target: "tombstone::dead_letter", id = id.get(), reason, "kept a dead letter");
            }
            Event::DeadLetterLost { reason, error } => {
                if let Some(m) = metrics {
                    m.dead_letter(false);
                }
                tracing::error!(target: "tombstone::dead_letter", reason, error, "could not keep a dead letter");
            }
            Event::DeadLetterReplayed {
                id,
                status,
                removed,
            } => {
                tracing::info!(target: "tombstone::dead_letter", id = id.get(), status, removed, "replayed a dead letter");
            }
            Event::DeadLetterNotUpdated { id, error } => {
                tracing::warn!(target: "tombstone::dead_letter", id = id.get(), error, "could not update a dead letter");
            }
            Event::RollbackFailed { key, error } => {
                if let Some(m) = metrics {
                    m.rollback_failed();
                }
                tracing::warn!(target: "tombstone::store", key, error, "could not give a claim back");
            }
        }
    }
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
