//! The admin routes of deliveries (behind `api_keys`):
//!
//! | route | what |
//! |---|---|
//! | `GET /api/v1/deliveries[?state=&limit=&before=]` | newest first, without bodies; `next` pages on; no key scan |
//! | `GET /api/v1/deliveries/{task_id}` | one delivery: state, attempts, next attempt, the upstream's response |
//! | `DELETE /api/v1/deliveries/{task_id}` | forgets a delivered or dead one |
//! | `POST /api/v1/deliveries/{task_id}/replay` | puts a dead letter back in the queue |
//! | `POST /api/v1/deliveries/dispatch` | runs the dispatcher now (for a cron) |

use tombstone_core::{FieldError, Problem, ProblemKind, TaskId};

use super::dispatch::{self, Limits, Report};
use super::outbox;
use crate::config::Config;
use crate::ctx::Ctx;
use crate::http::{Request, Response};
use crate::model::delivery::{DeliveryState, IndexEntry};
use crate::model::event::Event;
use crate::store::keys::{DeliveryKey, IndexKey, LastSeq};
use crate::store::StoreError;

/// Most deliveries one listing page holds, and the default.
const MAX_PAGE: u64 = 200;
const DEFAULT_PAGE: u64 = 50;
/// Most index entries one listing reads, so a page costs a bounded number of reads; `next`
/// continues where it stopped.
const MAX_PROBES: u64 = 1_000;

fn bad_query(name: &str, message: &str) -> Response {
    Response::problem(&Problem::at(
        ProblemKind::Validation,
        "A query parameter is invalid.",
        format!("/query/{name}"),
        "type",
        message,
    ))
}

/// `GET /api/v1/deliveries[?state=queued|delivered|dead&limit=N&before=SEQ]`: newest first.
pub(crate) fn list(ctx: &Ctx<'_>, req: &Request<'_>) -> Response {
    let state = match req.query_param("state") {
        None => None,
        Some(name) => match DeliveryState::from_name(&name) {
            Some(state) => Some(state),
            None => return bad_query("state", "state must be queued, delivered or dead"),
        },
    };
    let limit = match req.query_param("limit") {
        None => DEFAULT_PAGE,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return bad_query(
                    "limit",
                    &format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                )
            }
        },
    };
    let before = match req.query_param("before") {
        None => None,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 && n.to_string() == v => Some(n),
            _ => return bad_query("before", "before must be a positive whole number"),
        },
    };
    match page(ctx, state, limit, before) {
        Ok((deliveries, next)) => {
            let next = next.map(|n| {
                let state = state.map_or(String::new(), |s| format!("state={}&", s.name()));
                format!("/api/v1/deliveries?{state}limit={limit}&before={n}")
            });
            Response::json(
                200,
                &serde_json::json!({"deliveries": deliveries, "next": next}),
            )
        }
        Err(e) => Response::unavailable(&e),
    }
}

/// A page of deliveries, counting down the index from below `before`; the `before` of the next
/// page, if there is more.
fn page(
    ctx: &Ctx<'_>,
    state: Option<DeliveryState>,
    limit: u64,
    before: Option<u64>,
) -> Result<(Vec<serde_json::Value>, Option<u64>), StoreError> {
    let store = ctx.store;
    let last = u64::try_from(store.counter(&LastSeq)?).unwrap_or(0);
    let mut n = before.map_or(last, |b| b.saturating_sub(1).min(last));
    let mut deliveries = Vec::new();
    let mut probes = 0;
    while n > 0 && (deliveries.len() as u64) < limit && probes < MAX_PROBES {
        let entry: Option<IndexEntry> = store.get(&IndexKey(n))?;
        if let Some(entry) = entry {
            // Listed under its latest number only: a delivery queued again is listed once.
            if let Some(delivery) = outbox::load(store, &entry.task_id)?.filter(|d| d.seq == n) {
                if state.is_none_or(|s| s == delivery.state) {
                    deliveries.push(delivery.summary());
                }
            }
        }
        n -= 1;
        probes += 1;
    }
    Ok((deliveries, (n > 0).then_some(n + 1)))
}

fn parse_task(id: &str) -> Result<TaskId, Response> {
    TaskId::parse(id)
        .ok_or_else(|| Response::not_found("A task id is 64 lowercase hex characters."))
}

fn load(ctx: &Ctx<'_>, id: &str) -> Result<crate::model::delivery::Delivery, Response> {
    let task = parse_task(id)?;
    match outbox::load(ctx.store, &task) {
        Ok(Some(delivery)) => Ok(delivery),
        Ok(None) => Err(Response::not_found(
            "There is no delivery for this task id.",
        )),
        Err(e) => Err(Response::unavailable(&e)),
    }
}

/// `GET /api/v1/deliveries/{task_id}`.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Response {
    match load(ctx, id) {
        Ok(delivery) => Response::json(200, &delivery.view()),
        Err(r) => r,
    }
}

/// 409 for an operation the delivery's state does not allow.
fn wrong_state(detail: &str, message: &str) -> Response {
    Response::problem(&Problem::with_errors(
        ProblemKind::Conflict,
        detail,
        vec![FieldError::new("/state", "state", message)],
    ))
}

/// `DELETE /api/v1/deliveries/{task_id}`: 204; a queued delivery is not forgotten (409).
pub(crate) fn delete(ctx: &Ctx<'_>, id: &str) -> Response {
    let delivery = match load(ctx, id) {
        Ok(delivery) => delivery,
        Err(r) => return r,
    };
    if delivery.state == DeliveryState::Queued {
        return wrong_state(
            "A queued delivery is still being delivered; it can be forgotten once delivered or dead.",
            "is queued",
        );
    }
    match ctx.store.remove(&DeliveryKey(&delivery.task_id)) {
        Ok(()) => Response::empty(204),
        Err(e) => Response::unavailable(&e),
    }
}

/// `POST /api/v1/deliveries/{task_id}/replay`: a dead letter goes back in the queue, due now
/// (202); a queued one stays as it is (200). A delivered one, or one the upstream no longer
/// honours the key of, is refused (409): sent again, the latter could be scheduled twice.
pub(crate) fn replay(ctx: &Ctx<'_>, config: &Config, id: &str) -> Response {
    let mut delivery = match load(ctx, id) {
        Ok(delivery) => delivery,
        Err(r) => return r,
    };
    let now = ctx.clock.now();
    match delivery.state {
        DeliveryState::Queued => return Response::json(200, &delivery.view()),
        DeliveryState::Delivered => {
            return wrong_state(
                "The upstream confirmed this delivery; there is nothing to replay.",
                "is delivered",
            )
        }
        DeliveryState::Dead => {}
    }
    if super::key_expires_at(config, &delivery) <= now {
        return Response::problem(&Problem::at(
            ProblemKind::Conflict,
            "The upstream no longer honours this delivery's Idempotency-Key \
             (idempotency_retention_seconds after it was received): replayed, the deletion \
             could be scheduled a second time. Send it anew if the upstream does not have it.",
            "/received_at",
            "retention",
            "is older than idempotency_retention_seconds",
        ));
    }
    delivery.requeue(0, now, now);
    delivery.replays += 1;
    match outbox::insert(ctx.store, &mut delivery, now) {
        Ok(()) => {
            ctx.note(Event::DeliveryQueued {
                task_id: delivery.task_id.to_string(),
                next_attempt_at: now,
            });
            Response::json(202, &delivery.view())
        }
        Err(e) => Response::unavailable(&e),
    }
}

/// `POST /api/v1/deliveries/dispatch`: one dispatch now, whatever the next-due hint says.
pub(crate) fn dispatch_now(ctx: &Ctx<'_>, config: &Config) -> Response {
    let Some(upstream) = &config.upstream else {
        return Response::json(
            200,
            &Report {
                idle: Some("store mode: there is no upstream to deliver to"),
                complete: true,
                ..Report::default()
            },
        );
    };
    match dispatch::dispatch(ctx, config, upstream, Limits::ON_DEMAND) {
        Ok(report) => Response::json(200, &report),
        Err(e) => Response::unavailable(&e),
    }
}
