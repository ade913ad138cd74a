//! What `tombstone serve` counts, in Prometheus' text format at `GET /metrics` on its own address
//! (`--metrics-listen`, off by default), with the `prometheus-client` crate:
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `tombstone_requests_total` | `route`, `status` | requests answered, by route template |
//! | `tombstone_request_duration_seconds` | `route` | how long they took (histogram) |
//! | `tombstone_outcomes_total` | `outcome` | `scheduled`, `duplicate`, each problem kind (`conflict`, `validation`, …), `ok` |
//! | `tombstone_dead_letters_total` | `result` | deliveries kept (`kept`), or that could not be kept either (`lost`) |
//! | `tombstone_rollbacks_failed_total` | | claims that could not be given back |
//! | `tombstone_kv_operation_duration_seconds` | `operation`, `result` | key-value operations (histogram) |

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]: Prometheus' text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KvLabels {
    operation: &'static str,
    result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric, registered once; cheap to share.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily<RouteLabels>,
    outcomes: Family<OutcomeLabels, Counter>,
    dead_letters: Family<ResultLabels, Counter>,
    rollbacks_failed: Counter,
    kv: HistogramFamily<KvLabels>,
}

fn request_buckets() -> Histogram {
    // 1 ms to 10 s.
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ])
}

fn kv_buckets() -> Histogram {
    // 50 µs to 2 s (the Redis deadline).
    Histogram::new([
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 2.0,
    ])
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("tombstone");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by route template and status",
            requests.clone(),
        );
        let durations: HistogramFamily<RouteLabels> = Family::new_with_constructor(request_buckets);
        registry.register(
            "request_duration_seconds",
            "Time from the request's head to the answer's head, by route template",
            durations.clone(),
        );
        let outcomes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "outcomes",
            "What each request came to: scheduled, duplicate, a problem kind, or ok",
            outcomes.clone(),
        );
        let dead_letters = Family::<ResultLabels, Counter>::default();
        registry.register(
            "dead_letters",
            "Deliveries that failed on our side: kept as dead letters, or lost (not kept either)",
            dead_letters.clone(),
        );
        // Both results exist from the start, so a dashboard or an alert sees a zero, not nothing.
        for result in ["kept", "lost"] {
            drop(dead_letters.get_or_create(&ResultLabels { result }));
        }
        let rollbacks_failed = Counter::default();
        registry.register(
            "rollbacks_failed",
            "Claims that could not be given back (their key answers 409 until its minutes pass)",
            rollbacks_failed.clone(),
        );
        let kv: HistogramFamily<KvLabels> = Family::new_with_constructor(kv_buckets);
        registry.register(
            "kv_operation_duration_seconds",
            "Key-value operations, by operation and result",
            kv.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            durations,
            outcomes,
            dead_letters,
            rollbacks_failed,
            kv,
        })
    }

    /// One answered request.
    pub fn request(&self, route: &str, status: u16, outcome: &str, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
        self.outcomes
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// A dead letter kept (`true`) or lost.
    pub fn dead_letter(&self, kept: bool) {
        let result = if kept { "kept" } else { "lost" };
        self.dead_letters
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// A claim that could not be given back.
    pub fn rollback_failed(&self) {
        self.rollbacks_failed.inc();
    }

    /// One key-value operation.
    pub fn kv_operation(&self, operation: &'static str, ok: bool, took: Duration) {
        let result = if ok { "ok" } else { "error" };
        self.kv
            .get_or_create(&KvLabels { operation, result })
            .observe(took.as_secs_f64());
    }

    /// Everything, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}
