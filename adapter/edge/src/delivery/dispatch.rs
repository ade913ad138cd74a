//! The dispatcher: attempts the queued deliveries that are due, on the retry schedule, with no
//! request from anyone.
//!
//! A dispatch reads the next-due hint and stays idle before it (one read). Otherwise the one
//! dispatcher that wins the second's lease scans the queue's index from where the last scan
//! stopped, within its limits (entries read, attempts made, time), and attempts each due
//! delivery whose lease it wins (the claims' protocol, per attempt: an atomic increment, and no
//! lease of the minute before). After the scan it moves the head past the deliveries that are
//! done, and leaves the hint at the earliest next attempt it saw.

use serde::Serialize;
use std::collections::BTreeSet;

use tombstone_core::idempotency::claim_minute;
use tombstone_core::Timestamp;

use super::outbox::{self, Slot};
use super::policy::{self, Next};
use super::{apply, attempt_of, key_expires_at, note_attempt, note_upstream};
use crate::config::{Config, UpstreamConfig};
use crate::ctx::Ctx;
use crate::model::circuit::{Admission, CircuitPhase, CircuitState};
use crate::model::delivery::{DeliveryState, Head};
use crate::model::event::Event;
use crate::relay::{self, Judgement};
use crate::store::keys::{
    CircuitKey, CursorKey, DrainKey, HeadKey, IndexKey, LastSeq, LeaseKey, NextDueKey, ProbeKey,
};
use crate::store::StoreError;

/// How long a dispatch stays idle when nothing is queued: a delivery whose hint was lost
/// (two instances lowering it at once) waits at most this long past its time.
pub const MAX_IDLE_SECONDS: u32 = 30;

/// What one dispatch may do.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Index entries read.
    pub max_scanned: u32,
    /// Attempts made.
    pub max_attempts: u32,
    /// Milliseconds; no attempt starts after it (one may end up to `upstream_timeout_ms`
    /// later).
    pub budget_ms: u64,
    /// Whether the next-due hint may keep it idle (a cron's explicit call scans anyway).
    pub respect_hint: bool,
}

impl Limits {
    /// After a request, on Spin and under `tombstone serve`: a little, often.
    pub const AFTER_RESPONSE: Limits = Limits {
        max_scanned: 200,
        max_attempts: 20,
        budget_ms: 2_000,
        respect_hint: true,
    };

    /// `POST /api/v1/deliveries/dispatch`.
    pub const ON_DEMAND: Limits = Limits {
        max_scanned: 1_000,
        max_attempts: 100,
        budget_ms: 5_000,
        respect_hint: false,
    };
}

/// What a dispatch did and saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Why it did nothing, when it did nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<&'static str>,
    /// Index entries read.
    pub scanned: u32,
    /// Attempts made.
    pub attempted: u32,
    /// Deliveries the upstream confirmed.
    pub delivered: u32,
    /// Deliveries that failed for now and wait for their next attempt.
    pub retrying: u32,
    /// Deliveries given up (dead letters).
    pub dead: u32,
    /// Due deliveries another dispatcher was attempting.
    pub leases_lost: u32,
    /// Whether the scan covered every queued delivery (then `queued` and
    /// `oldest_queued_at` are the whole queue's).
    pub complete: bool,
    /// Queued deliveries seen.
    pub queued: u32,
    /// When the longest-waiting of them was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_received_at: Option<Timestamp>,
    /// The circuit at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit: Option<CircuitPhase>,
}

/// Runs one dispatch.
pub(crate) fn dispatch(
    ctx: &Ctx<'_>,
    config: &Config,
    upstream: &UpstreamConfig,
    limits: Limits,
) -> Result<Report, StoreError> {
    let store = ctx.store;
    let started = ctx.clock.now();
    if limits.respect_hint {
        if let Some(due) = store.get(&NextDueKey)? {
            if due > started {
                return Ok(Report {
                    idle: Some("nothing is due"),
                    ..Report::default()
                });
            }
        }
    }
    // Nothing ever queued (a healthy relay): nothing to scan, and nothing written.
    if store.counter(&LastSeq)? == 0 {
        return Ok(Report {
            idle: Some("nothing was ever queued"),
            complete: true,
            ..Report::default()
        });
    }
    let lease = DrainKey(started.unix_seconds());
    if store.increment(&lease, 1)? != 1 {
        return Ok(Report {
            idle: Some("another dispatch holds this second"),
            ..Report::default()
        });
    }
    let report = Scan::new(ctx, config, upstream, limits, started).run();
    if let Err(error) = store.remove_counter(&lease) {
        ctx.note(Event::RollbackFailed {
            key: lease.to_string(),
            error: error.log_text(),
        });
    }
    let report = report?;
    if report.complete {
        ctx.note(Event::QueueObserved {
            queued: report.queued,
            oldest_received_at: report.oldest_received_at,
            circuit: report.circuit.unwrap_or(CircuitPhase::Closed),
        });
    }
    Ok(report)
}

/// One scan of the index.
struct Scan<'c, 'a> {
    ctx: &'c Ctx<'a>,
    config: &'c Config,
    upstream: &'c UpstreamConfig,
    limits: Limits,
    deadline: Timestamp,
    circuit: CircuitState,
    probed: bool,
    report: Report,
    /// The earliest next attempt seen.
    next_due: Option<Timestamp>,
}

/// Why a scan stopped before the end of the index.
enum Stop {
    /// Out of entries, attempts or time: go on at once from here.
    Limit,
    /// The circuit is open until then.
    Circuit(Timestamp),
}

impl<'c, 'a> Scan<'c, 'a> {
    fn new(
        ctx: &'c Ctx<'a>,
        config: &'c Config,
        upstream: &'c UpstreamConfig,
        limits: Limits,
        started: Timestamp,
    ) -> Scan<'c, 'a> {
        Scan {
            ctx,
            config,
            upstream,
            limits,
            deadline: started.plus_millis(limits.budget_ms).unwrap_or(started),
            circuit: CircuitState::default(),
            probed: false,
            report: Report::default(),
            next_due: None,
        }
    }

    fn run(mut self) -> Result<Report, StoreError> {
        let store = self.ctx.store;
        let now = self.ctx.clock.now();
        let last = u64::try_from(store.counter(&LastSeq)?).unwrap_or(0);
        let mut head = store.get(&HeadKey)?.unwrap_or_default();
        head.seq = head.seq.max(1);
        self.circuit = store.get(&CircuitKey)?.unwrap_or_default();
        let cursor = store
            .get(&CursorKey)?
            .filter(|c| (head.seq..=last).contains(c))
            .unwrap_or(head.seq);
        // From the cursor to the end, then from the head to the cursor.
        let mut done = BTreeSet::new();
        let mut stopped: Option<(u64, Stop)> = None;
        for n in (cursor..=last).chain(head.seq..cursor) {
            if self.report.scanned >= self.limits.max_scanned {
                stopped = Some((n, Stop::Limit));
                break;
            }
            self.report.scanned += 1;
            let (slot, unreadable) = outbox::slot(store, n, now)?;
            if let Some(error) = unreadable {
                self.ctx.note(Event::Unreadable {
                    key: IndexKey(n).to_string(),
                    error: error.log_text(),
                });
            }
            let is_done = match slot {
                Slot::Done => true,
                // An entry whose writer died between taking its number and writing it: passed
                // once it has been missing at the head for a minute.
                Slot::Missing => {
                    n == head.seq
                        && head.missing_since.is_some_and(|since| {
                            now.unix_seconds() - since.unix_seconds() >= outbox::FRESH_SECONDS
                        })
                }
                Slot::Writing => false,
                Slot::Queued(delivery) => match self.visit(n, *delivery)? {
                    Ok(is_done) => is_done,
                    Err(stop) => {
                        stopped = Some((n, stop));
                        break;
                    }
                },
            };
            if is_done {
                done.insert(n);
            }
        }
        let mut done_below = head.seq;
        while done.contains(&done_below) {
            done_below += 1;
        }
        self.report.complete = stopped.is_none();
        self.finish(head, done_below, last, stopped, now)?;
        self.report.circuit = Some(self.circuit.phase(now));
        Ok(self.report)
    }

    /// One queued delivery: attempted when due and allowed. `Ok(done)`, or where to stop.
    fn visit(
        &mut self,
        n: u64,
        delivery: crate::model::delivery::Delivery,
    ) -> Result<Result<bool, Stop>, StoreError> {
        let now = self.ctx.clock.now();
        let due = delivery.next_attempt_at.is_none_or(|at| at <= now);
        if !due {
            self.saw_queued(&delivery);
            return Ok(Ok(false));
        }
        if self.report.attempted >= self.limits.max_attempts || now >= self.deadline {
            self.saw_queued(&delivery);
            return Ok(Err(Stop::Limit));
        }
        match self.circuit.admit(now) {
            Admission::Attempt => {}
            Admission::Probe { opened_until } => {
                if self.probed || self.ctx.store.increment(&ProbeKey(opened_until), 1)? != 1 {
                    self.saw_queued(&delivery);
                    let until = opened_until
                        .plus_seconds(self.upstream.circuit.open_seconds)
                        .unwrap_or(opened_until);
                    return Ok(Err(Stop::Circuit(until)));
                }
                self.probed = true;
            }
            Admission::Wait { until } => {
                self.saw_queued(&delivery);
                return Ok(Err(Stop::Circuit(until)));
            }
        }
        let done = self.attempt(n, delivery)?;
        Ok(Ok(done))
    }

    /// Counts a delivery that stays queued.
    fn saw_queued(&mut self, delivery: &crate::model::delivery::Delivery) {
        self.report.queued += 1;
        let received = delivery.answer.received_at;
        if self.report.oldest_received_at.is_none_or(|o| received < o) {
            self.report.oldest_received_at = Some(received);
        }
        if let Some(at) = delivery.next_attempt_at {
            if self.next_due.is_none_or(|d| at < d) {
                self.next_due = Some(at);
            }
        }
    }

    /// Attempts a due delivery under its lease; whether it is done (delivered or dead).
    fn attempt(
        &mut self,
        n: u64,
        seen: crate::model::delivery::Delivery,
    ) -> Result<bool, StoreError> {
        let ctx = self.ctx;
        let store = ctx.store;
        let now = ctx.clock.now();
        let minute = claim_minute(now.unix_seconds());
        let lease = LeaseKey {
            task: &seen.task_id,
            attempt: seen.attempt_count,
            minute,
        };
        let won = if store.increment(&lease, 1)? != 1 {
            false
        } else if store.counter(&lease.at_minute(minute - 1))? > 0 {
            // A dispatcher of the minute before holds it: this one lost, and gives its own
            // counter back (only the one that got 1 on a counter ever removes it).
            self.release(&lease);
            false
        } else {
            true
        };
        if !won {
            self.report.leases_lost += 1;
            ctx.note(Event::LeaseLost {
                task_id: seen.task_id.to_string(),
            });
            self.saw_queued(&seen);
            return Ok(false);
        }
        // Read again under the lease: another dispatcher may have attempted it meanwhile.
        let current = outbox::load(store, &seen.task_id)?;
        let Some(mut delivery) = current.filter(|d| {
            d.seq == n && d.state == DeliveryState::Queued && d.attempt_count == seen.attempt_count
        }) else {
            self.release(&lease);
            return Ok(false);
        };
        let key = delivery.idempotency_key.clone();
        let request = relay::request(
            self.upstream,
            &delivery.organization_id,
            &key,
            &delivery.body,
        );
        let judgement = relay::judge(
            &delivery.task_id,
            ctx.upstream.send(&request),
            ctx.clock.now(),
        );
        let finished = ctx.clock.now();
        self.report.attempted += 1;
        let attempt = attempt_of(&judgement, now);
        note_upstream(
            ctx,
            &mut self.circuit,
            &self.upstream.circuit,
            &judgement,
            finished,
        );
        delivery.record(attempt.clone());
        match &judgement {
            Judgement::Confirmed { body, .. } => {
                delivery.deliver(finished, serde_json::from_slice(body).unwrap_or_default());
                self.report.delivered += 1;
            }
            Judgement::Verdict(_) => {
                delivery.give_up(finished, crate::model::delivery::DeadReason::Verdict);
            }
            Judgement::Gone(_) => {
                delivery.give_up(finished, crate::model::delivery::DeadReason::Gone);
            }
            Judgement::Transient {
                retry_after_seconds,
                ..
            } => {
                let next = policy::after_failure(
                    &self.upstream.schedule,
                    delivery.step - 1,
                    &delivery.task_id,
                    finished,
                    *retry_after_seconds,
                    key_expires_at(self.config, &delivery),
                );
                apply(&mut delivery, next, finished);
                if let Next::RetryAt(_) = next {
                    self.report.retrying += 1;
                }
            }
        }
        if let Some(reason) = delivery.dead_reason {
            self.report.dead += 1;
            ctx.note(Event::DeliveryDead {
                task_id: delivery.task_id.to_string(),
                reason,
            });
        }
        note_attempt(
            ctx,
            &delivery.task_id,
            &attempt,
            delivery.attempt_count,
            Some(delivery.state),
            delivery.next_attempt_at,
        );
        // Saved before the lease goes: a dispatcher that wins the lease after it reads the
        // new attempt count and leaves the delivery alone. A save that fails keeps the lease,
        // which then blocks the same attempt for a minute or two; the attempt is made again
        // after that (the upstream answers a duplicate).
        match outbox::save(store, &delivery) {
            Ok(()) => self.release(&lease),
            Err(error) => ctx.note(Event::RollbackFailed {
                key: format!("delivery/{}", delivery.task_id),
                error: error.log_text(),
            }),
        }
        let done = delivery.state != DeliveryState::Queued;
        if !done {
            self.saw_queued(&delivery);
        }
        Ok(done)
    }

    fn release(&self, lease: &LeaseKey<'_>) {
        if let Err(error) = self.ctx.store.remove_counter(lease) {
            self.ctx.note(Event::RollbackFailed {
                key: lease.to_string(),
                error: error.log_text(),
            });
        }
    }

    /// Moves the head and the cursor, and leaves the next-due hint.
    fn finish(
        &mut self,
        mut head: Head,
        done_below: u64,
        last: u64,
        stopped: Option<(u64, Stop)>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let store = self.ctx.store;
        let before = head;
        if done_below > head.seq {
            head = Head {
                seq: done_below,
                missing_since: None,
            };
        }
        // The head's entry is missing: remember since when, to pass it after a minute.
        if head.seq <= last
            && head.missing_since.is_none()
            && store.get(&IndexKey(head.seq))?.is_none()
        {
            head.missing_since = Some(now);
        }
        if head != before {
            store.put(&HeadKey, &head)?;
        }
        let (cursor, next_due) = match stopped {
            None => (
                head.seq,
                self.next_due
                    .unwrap_or(now)
                    .max(now)
                    .min(now.plus_seconds(MAX_IDLE_SECONDS).unwrap_or(now)),
            ),
            Some((n, Stop::Limit)) => (n, now),
            Some((n, Stop::Circuit(until))) => (n, until),
        };
        // With nothing queued the hint goes MAX_IDLE ahead, so that an idle service does not
        // scan after every request.
        let next_due = if self.next_due.is_none() && stopped.is_none() {
            now.plus_seconds(MAX_IDLE_SECONDS).unwrap_or(now)
        } else {
            next_due
        };
        if store.get(&CursorKey)? != Some(cursor) {
            store.put(&CursorKey, &cursor)?;
        }
        store.put(&NextDueKey, &next_due)
    }
}
