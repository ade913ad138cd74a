//! Relay mode's durable delivery with its ports in memory: what is queued, when the dispatcher
//! attempts it, what makes a dead letter, the circuit, the leases, replays and listings. The
//! same behaviour runs again over real HTTP against real upstream processes
//! (`host/tests/it/delivery.rs`).

use serde_json::{json, Value};
use tombstone_core::canonical::DeletionStatus;
use tombstone_core::{Context, OrganizationId, Timestamp};
use tombstone_edge::{Config, ConfigError, Env, Event, KeyValue, UpstreamError, UpstreamResponse};

use crate::support::*;

const UPSTREAM: &str = "http://upstream.test:8080/api/v1/invoice-deletions";

fn relay(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut vars = vec![
        ("upstream_url", UPSTREAM),
        ("upstream_origin", "http://upstream.test:8080"),
    ];
    vars.extend_from_slice(extra);
    config(&vars)
}

/// The upstream's canonical response to `body` with `key` for acme-vet, received at T0.
fn confirmation(body: &str, key: &str, status: DeletionStatus) -> UpstreamResponse {
    let mut ctx = Context::new(OrganizationId::new("acme-vet").unwrap(), at(T0));
    ctx.idempotency_key = Some(tombstone_core::IdempotencyKey::new(key).unwrap());
    let conversion = tombstone_core::convert(body.as_bytes(), &ctx).unwrap();
    answer(
        202,
        "application/json",
        &serde_json::to_string(&conversion.response(status)).unwrap(),
    )
}

fn down() -> Result<UpstreamResponse, UpstreamError> {
    Ok(answer(503, "text/plain", "down"))
}

fn task(key: &str) -> String {
    tombstone_core::task_id("acme-vet", key)
        .unwrap()
        .to_string()
}

fn delivery(kv: &TestStore, cfg: &Result<Config, ConfigError>, key: &str, t: Timestamp) -> Value {
    get(&format!("/api/v1/deliveries/{}", task(key)))
        .send(kv, cfg, t)
        .body_json()
}

/// One dispatch at `t` (the admin route: scans whatever the next-due hint says).
fn dispatch(
    kv: &TestStore,
    upstream: &ScriptedUpstream,
    cfg: &Result<Config, ConfigError>,
    t: Timestamp,
) -> Value {
    let r = post("/api/v1/deliveries/dispatch", b"").send_via(kv, upstream, cfg, t);
    assert_eq!(r.status, 200, "{r:?}");
    r.body_json()
}

fn at_ms(ms: u64) -> Timestamp {
    at(T0).plus_millis(ms).unwrap()
}

#[test]
fn an_upstream_failure_is_queued_and_delivered_by_the_dispatcher_on_its_schedule() {
    let kv = TestStore::default();
    let cfg = relay(&[("retry_schedule_seconds", "0,5,300")]);
    let upstream = ScriptedUpstream::answering([down()]);
    let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    assert_eq!(
        (r.status, r.body_json()["status"].clone()),
        (202, json!("queued"))
    );
    let queued = delivery(&kv, &cfg, "k-1", at(T0));
    let next = Timestamp::parse(queued["next_attempt_at"].as_str().unwrap()).unwrap();
    let wait = next.millis_since(at(T0));
    assert!((4_000..=6_000).contains(&wait), "5 s ± 20 %: {wait} ms");

    // Before its time: no attempt (the script has no answer for one).
    let early = dispatch(&kv, &upstream, &cfg, at_ms(3_900));
    assert_eq!(
        (early["attempted"].clone(), early["queued"].clone()),
        (json!(0), json!(1))
    );
    // Due: attempted and confirmed.
    upstream.answers.borrow_mut().push_back(Ok(confirmation(
        CANONICAL,
        "k-1",
        DeletionStatus::Scheduled,
    )));
    let report = dispatch(&kv, &upstream, &cfg, at_ms(6_100));
    assert_eq!(
        (
            report["attempted"].clone(),
            report["delivered"].clone(),
            report["queued"].clone()
        ),
        (json!(1), json!(1), json!(0)),
        "{report}"
    );
    let done = delivery(&kv, &cfg, "k-1", at_ms(6_100));
    assert_eq!(done["state"], "delivered");
    assert_eq!(done["attempt_count"], 2);
    assert_eq!(done["response"]["status"], "scheduled");
    let outcomes: Vec<&str> = done["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["server-error", "scheduled"]);
    // The two requests upstream were the same request: same key, same bytes.
    let sent = upstream.sent.borrow();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1]);
    // Nothing is left to do: a dispatch stays idle.
    drop(sent);
    let idle = dispatch(&kv, &upstream, &cfg, at_ms(7_000));
    assert_eq!(idle["attempted"], 0);
}

#[test]
fn a_senders_retry_while_queued_gets_the_same_answer_and_writes_nothing() {
    let kv = TestStore::default();
    let cfg = relay(&[]);
    let upstream = ScriptedUpstream::answering([down()]);
    let first = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    let writes = kv.writes.get();
    assert_eq!(
        writes, 5,
        "a queued delivery: its number, index entry and record, the circuit, the next-due hint"
    );
    let again = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, later(1));
    assert_eq!(again.status, 202);
    assert_eq!(again.body, first.body, "the same answer");
    assert_eq!(kv.writes.get(), writes, "and no write");
    assert_eq!(upstream.sent.borrow().len(), 1, "and no attempt");
    // The same key with another body is what the upstream would call a reuse.
    let reuse = canonical(OTHER_CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, later(2));
    assert_eq!(
        (reuse.status, problem_type(&reuse)),
        (422, "idempotency-key-reuse".into())
    );
    assert_eq!(kv.writes.get(), writes);
}

#[test]
fn retry_after_is_honoured_and_410_and_verdicts_are_final_after_one_attempt() {
    let cfg = relay(&[("retry_schedule_seconds", "0,1,1,1")]);
    // A 429 asking for 30 s: not attempted again sooner, although the schedule says 1 s.
    let kv = TestStore::default();
    let mut slow_down = answer(429, "application/json", "{}");
    slow_down.headers.push(("Retry-After".into(), "30".into()));
    let upstream = ScriptedUpstream::answering([Ok(slow_down)]);
    canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    assert_eq!(dispatch(&kv, &upstream, &cfg, later(29))["attempted"], 0);
    upstream.answers.borrow_mut().push_back(Ok(confirmation(
        CANONICAL,
        "k-1",
        DeletionStatus::Duplicate,
    )));
    assert_eq!(dispatch(&kv, &upstream, &cfg, later(31))["delivered"], 1);
    assert_eq!(
        delivery(&kv, &cfg, "k-1", later(31))["attempts"][1]["outcome"],
        "duplicate"
    );

    // 410 and 422 end it: a dead letter, never attempted again.
    let problem = r#"{"type":"about:blank","title":"t","status":422,"detail":"d"}"#;
    for (final_answer, reason, outcome) in [
        (answer(410, "text/plain", ""), "gone", "gone"),
        (
            answer(422, "application/problem+json", problem),
            "verdict",
            "verdict",
        ),
    ] {
        let kv = TestStore::default();
        let upstream = ScriptedUpstream::answering([down(), Ok(final_answer)]);
        canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
        let report = dispatch(&kv, &upstream, &cfg, later(2));
        assert_eq!(
            (report["attempted"].clone(), report["dead"].clone()),
            (json!(1), json!(1))
        );
        let dead = delivery(&kv, &cfg, "k-1", later(2));
        assert_eq!(dead["state"], "dead");
        assert_eq!(dead["dead_reason"], reason);
        assert_eq!(dead["attempts"][1]["outcome"], outcome);
        // The script has no more answers: any attempt now would fail the test.
        for t in [10, 100, 10_000] {
            assert_eq!(dispatch(&kv, &upstream, &cfg, later(t))["attempted"], 0);
        }
        assert_eq!(upstream.sent.borrow().len(), 2);
    }
}

#[test]
fn an_exhausted_schedule_makes_a_dead_letter_that_lists_every_attempt() {
    let kv = TestStore::default();
    let cfg = relay(&[("retry_schedule_seconds", "0,1,1")]);
    let upstream = ScriptedUpstream::answering([
        down(),
        Err(UpstreamError::Timeout(10_000)),
        Err(UpstreamError::Unreachable("ConnectionRefused".into())),
    ]);
    let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    assert_eq!(r.body_json()["status"], "queued");
    dispatch(&kv, &upstream, &cfg, later(2));
    let report = dispatch(&kv, &upstream, &cfg, later(4));
    assert_eq!(report["dead"], 1, "{report}");
    let dead = delivery(&kv, &cfg, "k-1", later(4));
    assert_eq!(dead["state"], "dead");
    assert_eq!(dead["dead_reason"], "exhausted");
    let outcomes: Vec<&str> = dead["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["server-error", "timeout", "unreachable"]);
    assert_eq!(dead["attempts"][0]["status"], 503);
    assert!(dead.get("next_attempt_at").is_none());
    // Listed as a dead letter.
    let letters = get("/api/v1/deliveries")
        .query("state=dead")
        .send(&kv, &cfg, later(4))
        .body_json();
    assert_eq!(letters["deliveries"][0]["task_id"], task("k-1"));
    assert!(letters["deliveries"][0].get("body").is_none());
}

#[test]
fn a_key_the_upstream_would_no_longer_honour_is_never_sent_again() {
    let kv = TestStore::default();
    // Retention 60 s; the schedule's second retry would come after it.
    let cfg = relay(&[
        ("retry_schedule_seconds", "0,10,100"),
        ("idempotency_retention_seconds", "60"),
    ]);
    let upstream = ScriptedUpstream::answering([down(), down()]);
    canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    let report = dispatch(&kv, &upstream, &cfg, later(13));
    assert_eq!(report["dead"], 1, "{report}");
    assert_eq!(
        delivery(&kv, &cfg, "k-1", later(13))["dead_reason"],
        "key-expired"
    );
    // Nor replayed: 409, and nothing sent.
    let replay = post(&format!("/api/v1/deliveries/{}/replay", task("k-1")), b"").send_via(
        &kv,
        &upstream,
        &cfg,
        later(61),
    );
    assert_eq!(
        (replay.status, problem_type(&replay)),
        (409, "conflict".into())
    );
    assert_eq!(replay.body_json()["errors"][0]["pointer"], "/received_at");
}

#[test]
fn a_dead_letter_replays_into_the_queue_and_is_delivered_once() {
    let kv = TestStore::default();
    let cfg = relay(&[("retry_schedule_seconds", "0")]);
    let upstream = ScriptedUpstream::answering([down()]);
    canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    assert_eq!(
        delivery(&kv, &cfg, "k-1", at(T0))["dead_reason"],
        "exhausted",
        "a one-attempt schedule gives up at once"
    );
    let path = format!("/api/v1/deliveries/{}/replay", task("k-1"));
    let replay = post(&path, b"").send_via(&kv, &upstream, &cfg, later(60));
    assert_eq!(replay.status, 202, "{replay:?}");
    assert_eq!(replay.body_json()["state"], "queued");
    assert_eq!(replay.body_json()["replays"], 1);
    // A second replay while queued changes nothing.
    let writes = kv.writes.get();
    assert_eq!(
        post(&path, b"")
            .send_via(&kv, &upstream, &cfg, later(61))
            .status,
        200
    );
    assert_eq!(kv.writes.get(), writes);
    upstream.answers.borrow_mut().push_back(Ok(confirmation(
        CANONICAL,
        "k-1",
        DeletionStatus::Scheduled,
    )));
    assert_eq!(dispatch(&kv, &upstream, &cfg, later(62))["delivered"], 1);
    let done = delivery(&kv, &cfg, "k-1", later(62));
    assert_eq!(
        (done["state"].clone(), done["attempt_count"].clone()),
        (json!("delivered"), json!(2))
    );
    // Delivered: a replay is refused, and the delivery can be forgotten.
    let again = post(&path, b"").send_via(&kv, &upstream, &cfg, later(63));
    assert_eq!(again.status, 409);
    let one = format!("/api/v1/deliveries/{}", task("k-1"));
    assert_eq!(
        get(&one).method("DELETE").send(&kv, &cfg, later(64)).status,
        204
    );
    assert_eq!(get(&one).send(&kv, &cfg, later(64)).status, 404);
    assert_eq!(upstream.sent.borrow().len(), 2);
}

#[test]
fn the_circuit_queues_without_an_attempt_once_open_and_probes_once_when_half_open() {
    let kv = TestStore::default();
    let cfg = relay(&[
        ("circuit_failure_threshold", "2"),
        ("circuit_open_seconds", "10"),
        ("retry_schedule_seconds", "0,60"),
    ]);
    let upstream = ScriptedUpstream::answering([down(), down()]);
    for key in ["k-1", "k-2"] {
        canonical(CANONICAL, key).send_via(&kv, &upstream, &cfg, at(T0));
    }
    let opened = canonical(CANONICAL, "k-3").send_via(&kv, &upstream, &cfg, later(1));
    assert_eq!(opened.body_json()["status"], "queued");
    assert_eq!(upstream.sent.borrow().len(), 2, "no attempt while open");
    assert!(opened
        .events
        .iter()
        .any(|e| matches!(e, Event::DeliveryQueued { .. })));
    // Open until T0 + 10: queued for then.
    let k3 = delivery(&kv, &cfg, "k-3", later(1));
    assert_eq!(k3["attempt_count"], 0);
    assert_eq!(k3["next_attempt_at"], "2026-03-01T12:00:10Z");
    // Half-open: the one delivery that arrives makes the probe; it succeeds, the circuit
    // closes, and the queued k-3 is attempted by the next dispatch.
    upstream.answers.borrow_mut().extend([
        Ok(confirmation(CANONICAL, "k-4", DeletionStatus::Scheduled)),
        Ok(confirmation(CANONICAL, "k-3", DeletionStatus::Scheduled)),
    ]);
    let probe = canonical(CANONICAL, "k-4").send_via(&kv, &upstream, &cfg, later(11));
    assert_eq!(probe.body_json()["status"], "scheduled");
    assert!(probe.events.iter().any(|e| matches!(
        e,
        Event::CircuitChanged {
            phase: tombstone_edge::model::circuit::CircuitPhase::Closed,
            ..
        }
    )));
    let report = dispatch(&kv, &upstream, &cfg, later(12));
    assert_eq!(report["delivered"], 1, "{report}");
    assert_eq!(report["circuit"], "closed");
    assert_eq!(report["queued"], 2, "k-1 and k-2 wait for their 60 s");
}

#[test]
fn a_leased_attempt_is_left_to_its_dispatcher() {
    let kv = TestStore::default();
    let cfg = relay(&[("retry_schedule_seconds", "0,1")]);
    let upstream = ScriptedUpstream::answering([down()]);
    canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    // Another dispatcher holds the lease of attempt 1 in this minute.
    let minute = later(2).unix_seconds().div_euclid(60);
    kv.inner
        .increment(&format!("deliveries/lease/{}/1/{minute}", task("k-1")), 1)
        .unwrap();
    let r = post("/api/v1/deliveries/dispatch", b"").send_via(&kv, &upstream, &cfg, later(2));
    let report = r.body_json();
    assert_eq!(
        (report["attempted"].clone(), report["leases_lost"].clone()),
        (json!(0), json!(1)),
        "{report}"
    );
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e, Event::LeaseLost { .. })));
    // A lease of the minute before counts too, and the loser gives back what it took.
    let next_minute = later(62);
    let r = post("/api/v1/deliveries/dispatch", b"").send_via(&kv, &upstream, &cfg, next_minute);
    assert_eq!(r.body_json()["leases_lost"], 1);
    assert!(
        !kv.keys().contains(&format!(
            "deliveries/lease/{}/1/{}",
            task("k-1"),
            minute + 1
        )),
        "{:?}",
        kv.keys()
    );
}

#[test]
fn listings_filter_by_state_and_page_newest_first_without_a_key_scan() {
    let kv = TestStore::default();
    let cfg = relay(&[("retry_schedule_seconds", "0,1")]);
    let upstream = ScriptedUpstream::answering([down(), down()]);
    canonical(CANONICAL, "k-0").send_via(&kv, &upstream, &cfg, at(T0));
    canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, later(10));
    upstream.answers.borrow_mut().extend([
        Ok(confirmation(CANONICAL, "k-0", DeletionStatus::Scheduled)),
        Err(UpstreamError::Timeout(1)),
    ]);
    // k-0 delivered, k-1 dead (its schedule is done).
    let report = dispatch(&kv, &upstream, &cfg, later(12));
    assert_eq!(
        (report["delivered"].clone(), report["dead"].clone()),
        (json!(1), json!(1)),
        "{report}"
    );
    upstream
        .answers
        .borrow_mut()
        .extend([down(), down(), down()]);
    for n in 2..5 {
        canonical(CANONICAL, &format!("k-{n}")).send_via(&kv, &upstream, &cfg, later(20 + n));
    }
    let page = get("/api/v1/deliveries")
        .query("limit=2")
        .send(&kv, &cfg, later(3))
        .body_json();
    let ids: Vec<&str> = page["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["idempotency_key"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["k-4", "k-3"]);
    let next = page["next"].as_str().unwrap().to_owned();
    assert!(
        next.starts_with("/api/v1/deliveries?limit=2&before="),
        "{next}"
    );
    let delivered = get("/api/v1/deliveries")
        .query("state=delivered")
        .send(&kv, &cfg, later(3))
        .body_json();
    assert_eq!(delivered["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(delivered["deliveries"][0]["idempotency_key"], "k-0");
    assert_eq!(
        get("/api/v1/deliveries")
            .query("state=lost")
            .send(&kv, &cfg, later(3))
            .status,
        422
    );
    assert_eq!(kv.key_scans.get(), 0, "no listing of the store's keys");
}

#[test]
fn nothing_durable_is_a_429_for_highlevel_and_a_503_for_the_others() {
    let failing = TestStore {
        fail_prefix: Some("deliver"),
        ..TestStore::default()
    };
    let cfg = relay(&[]);
    let cases = [
        (
            "highlevel",
            "highlevel/01-webhook-doc-example-verbatim.json",
            429,
        ),
        (
            "auto",
            "highlevel/01-webhook-doc-example-verbatim.json",
            429,
        ),
        ("mercoa", "mercoa/00-doc-example-verbatim.json", 503),
    ];
    for (route, file, status) in cases {
        let upstream = ScriptedUpstream::answering([down()]);
        let body = payload(file);
        let r = post(&format!("/api/v1/webhooks/{route}/acme-vet"), &body).send_via(
            &failing,
            &upstream,
            &cfg,
            at(T0),
        );
        assert_eq!(
            (r.status, problem_type(&r)),
            (status, "unavailable".into()),
            "{route}"
        );
        assert_eq!(r.header("retry-after"), Some("5"));
        assert!(r
            .events
            .iter()
            .any(|e| matches!(e, Event::NotAccepted { .. })));
    }
}

#[test]
fn after_a_response_an_idle_service_reads_one_key_and_writes_nothing() {
    let kv = TestStore::default();
    let cfg = relay(&[]);
    let upstream = ScriptedUpstream::answering([Ok(confirmation(
        CANONICAL,
        "k-1",
        DeletionStatus::Scheduled,
    ))]);
    let clock = at(T0);
    let env = Env {
        kv: &kv,
        upstream: &upstream,
        clock: &clock,
    };
    // A healthy relay has never queued anything: it writes nothing at all.
    canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    tombstone_edge::after_response(env, &cfg);
    assert_eq!(kv.writes.get(), 0);
    assert!(kv.keys().is_empty());
    // Once something was queued, the first dispatch that finds nothing due sets the hint
    // ahead...
    upstream.answers.borrow_mut().push_back(down());
    canonical(CANONICAL, "k-2").send_via(&kv, &upstream, &cfg, at(T0));
    tombstone_edge::after_response(env, &cfg);
    let writes = kv.writes.get();
    // ...so the next ones, within it, only read it.
    for _ in 0..10 {
        assert!(tombstone_edge::after_response(env, &cfg).is_empty());
    }
    assert_eq!(kv.writes.get(), writes);
    // In store mode there is nothing to dispatch at all.
    assert!(tombstone_edge::after_response(env, &config(&[])).is_empty());
}

#[test]
fn maintenance_removes_finished_deliveries_after_their_retention() {
    let kv = TestStore::default();
    let cfg = relay(&[
        ("retry_schedule_seconds", "0"),
        ("dead_letter_retention_seconds", "3600"),
    ]);
    let upstream = ScriptedUpstream::answering([down()]);
    canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    let kept = post("/api/v1/maintenance/expire", b"").send(&kv, &cfg, later(3_599));
    assert_eq!(kept.body_json()["deliveries_removed"], 0);
    let swept = post("/api/v1/maintenance/expire", b"").send(&kv, &cfg, later(3_600));
    assert_eq!(
        swept.body_json()["deliveries_removed"],
        1,
        "{:?}",
        swept.body_json()
    );
    assert_eq!(
        get(&format!("/api/v1/deliveries/{}", task("k-1")))
            .send(&kv, &cfg, later(3_600))
            .status,
        404
    );
}
