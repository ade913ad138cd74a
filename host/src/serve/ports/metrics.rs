//! What `tombstone serve` counts, in Prometheus' text format at `GET /metrics` on its own address
//! (`--metrics-listen`, off by default), with the `prometheus-client` crate:
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `tombstone_requests_total` | `route`, `status` | requests answered, by route template |
//! | `tombstone_request_duration_seconds` | `route` | how long they took (histogram) |
//! | `tombstone_outcomes_total` | `outcome` | `scheduled`, `duplicate`, `queued`, each problem kind (`conflict`, `validation`, …), `ok` |
//! | `tombstone_not_accepted_total` | `source`, `status` | deliveries refused for now (nothing durable could be written, a variable unusable): only the sender still has them |
//! | `tombstone_delivery_attempts_total` | `outcome` | relay mode's attempts: `scheduled`, `duplicate`, `server-error`, `timeout`, … |
//! | `tombstone_dead_letters_total` | `reason` | deliveries given up: `gone`, `verdict`, `exhausted`, `key-expired` |
//! | `tombstone_deliveries_queued` | | queued deliveries, as the last complete dispatch saw them |
//! | `tombstone_oldest_queued_delivery_age_seconds` | | how long ago the longest-waiting of them was received |
//! | `tombstone_upstream_circuit_state` | | 0 closed, 1 open, 2 half-open |
//! | `tombstone_delivery_leases_lost_total` | | due deliveries left to another dispatcher (two at once: rare) |
//! | `tombstone_rollbacks_failed_total` | | claims or leases that could not be given back |
//! | `tombstone_kv_operation_duration_seconds` | `operation`, `result` | key-value operations (histogram) |

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tombstone_edge::model::circuit::CircuitPhase;
use tombstone_edge::model::delivery::{AttemptOutcome, DeadReason};

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
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    source: String,
    status: u16,
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
    not_accepted: Family<RefusalLabels, Counter>,
    attempts: Family<AttemptLabels, Counter>,
    dead_letters: Family<ReasonLabels, Counter>,
    queued: Gauge,
    oldest_queued_age: Gauge,
    circuit: Gauge,
    leases_lost: Counter,
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
        let not_accepted = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "not_accepted",
            "Deliveries refused for now (nothing durable could be written, or a variable is unusable): only their sender still has them",
            not_accepted.clone(),
        );
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Relay mode's attempts to deliver upstream, by outcome",
            attempts.clone(),
        );
        let dead_letters = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "dead_letters",
            "Deliveries given up (dead letters), by reason",
            dead_letters.clone(),
        );
        // Every label exists from the start, so a dashboard or an alert sees a zero, not nothing.
        for reason in DeadReason::ALL {
            drop(dead_letters.get_or_create(&ReasonLabels {
                reason: reason.name(),
            }));
        }
        for outcome in AttemptOutcome::ALL {
            drop(attempts.get_or_create(&AttemptLabels {
                outcome: outcome.name(),
            }));
        }
        let queued = Gauge::default();
        registry.register(
            "deliveries_queued",
            "Queued deliveries, as the last dispatch that saw the whole queue counted them",
            queued.clone(),
        );
        let oldest_queued_age = Gauge::default();
        registry.register(
            "oldest_queued_delivery_age_seconds",
            "How long ago the longest-waiting queued delivery was received (0: none queued)",
            oldest_queued_age.clone(),
        );
        let circuit = Gauge::default();
        registry.register(
            "upstream_circuit_state",
            "The upstream's circuit: 0 closed, 1 open (deliveries queued without an attempt), 2 half-open",
            circuit.clone(),
        );
        let leases_lost = Counter::default();
        registry.register(
            "delivery_leases_lost",
            "Due deliveries left to another dispatcher that held their lease",
            leases_lost.clone(),
        );
        let rollbacks_failed = Counter::default();
        registry.register(
            "rollbacks_failed",
            "Claims or leases that could not be given back (a claim's key answers 409 until its minutes pass)",
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
            not_accepted,
            attempts,
            dead_letters,
            queued,
            oldest_queued_age,
            circuit,
            leases_lost,
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

    /// A delivery refused for now.
    pub fn not_accepted(&self, source: &str, status: u16) {
        self.not_accepted
            .get_or_create(&RefusalLabels {
                source: source.to_owned(),
                status,
            })
            .inc();
    }

    /// One attempt to deliver upstream.
    pub fn attempt(&self, outcome: AttemptOutcome) {
        self.attempts
            .get_or_create(&AttemptLabels {
                outcome: outcome.name(),
            })
            .inc();
    }

    /// A delivery given up.
    pub fn dead_letter(&self, reason: DeadReason) {
        self.dead_letters
            .get_or_create(&ReasonLabels {
                reason: reason.name(),
            })
            .inc();
    }

    /// The queue as a complete dispatch saw it.
    pub fn queue(&self, queued: u32, oldest_age: Duration) {
        self.queued.set(i64::from(queued));
        self.oldest_queued_age
            .set(i64::try_from(oldest_age.as_secs()).unwrap_or(i64::MAX));
    }

    /// The circuit's phase.
    pub fn circuit(&self, phase: CircuitPhase) {
        self.circuit.set(match phase {
            CircuitPhase::Closed => 0,
            CircuitPhase::Open => 1,
            CircuitPhase::HalfOpen => 2,
        });
    }

    /// A due delivery left to another dispatcher.
    pub fn lease_lost(&self) {
        self.leases_lost.inc();
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
