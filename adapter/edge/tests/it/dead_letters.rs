//! Dead letters an operator can act on: list (paged, newest first), read, replay, delete.

use serde_json::{json, Value};
use tombstone_core::signature::WebhookSecret;
use tombstone_edge::Event;

use crate::support::*;

fn failing_store() -> TestStore {
    TestStore {
        fail_prefix: Some("task/"),
        ..TestStore::default()
    }
}

fn healthy(store: TestStore) -> TestStore {
    TestStore {
        inner: store.inner,
        ..TestStore::default()
    }
}

fn replay(id: u64) -> String {
    format!("/api/v1/dead-letters/{id}/replay")
}

#[test]
fn a_replay_runs_with_the_original_received_at_and_removes_the_letter() {
    let cfg = config(&[("schedule_delay_seconds", "60")]);
    let kv = failing_store();
    let r = canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 503);
    assert!(matches!(
        r.events.as_slice(),
        [Event::DeadLetterKept { reason, .. }, Event::Answered { .. }] if reason.contains("disk full")
    ));
    // The request's summary: its route's template, never the path; the outcome, no task id.
    assert_eq!(
        r.events[1],
        Event::Answered {
            route: "/api/v1/invoice-deletions".into(),
            status: 503,
            outcome: "unavailable".into(),
            task_id: None,
        }
    );
    // An hour later, with the store healthy again.
    let kv = healthy(kv);
    let path = replay(1);
    let r = post(&path, b"").send(&kv, &cfg, later(3600));
    assert_eq!(r.status, 202, "{r:?}");
    let body = r.body_json();
    assert_eq!(body["status"], "scheduled");
    assert_eq!(body["received_at"], T0, "the original time");
    assert_eq!(body["scheduled_for"], "2026-03-01T12:01:00Z");
    assert_eq!(
        r.events,
        [
            Event::DeadLetterReplayed {
                id: tombstone_edge::dead_letters::DeadLetterId::new(1),
                status: 202,
                removed: true
            },
            Event::Answered {
                route: "/api/v1/dead-letters/{id}/replay".into(),
                status: 202,
                outcome: "scheduled".into(),
                task_id: Some(body["task_id"].as_str().unwrap().to_owned()),
            }
        ]
    );
    assert_eq!(
        get("/api/v1/dead-letters/1")
            .send(&kv, &cfg, later(3601))
            .status,
        404
    );
    // The task was scheduled exactly as the first delivery would have been.
    let again = canonical(CANONICAL, "k-1").send(&kv, &cfg, later(3602));
    assert_eq!(again.body_json()["status"], "duplicate");
    assert_eq!(again.body_json()["received_at"], T0);
}

#[test]
fn a_replay_of_a_deletion_delivered_meanwhile_answers_duplicate() {
    let cfg = config(&[]);
    let kv = failing_store();
    assert_eq!(
        canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0)).status,
        503
    );
    let kv = healthy(kv);
    // The provider's own retry got through first.
    let retry = canonical(CANONICAL, "k-1").send(&kv, &cfg, later(5));
    assert_eq!(retry.body_json()["status"], "scheduled");
    let r = post(&replay(1), b"").send(&kv, &cfg, later(60));
    assert_eq!(
        (r.status, r.body_json()["status"].clone()),
        (202, json!("duplicate"))
    );
    assert_eq!(
        get("/api/v1/dead-letters")
            .send(&kv, &cfg, later(61))
            .body_json()["dead_letters"],
        json!([])
    );
}

#[test]
fn a_failed_replay_keeps_the_letter_with_its_attempts_and_last_reason() {
    let cfg = config(&[]);
    let kv = failing_store();
    assert_eq!(
        canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0)).status,
        503
    );
    for attempt in 1..=2 {
        let r = post(&replay(1), b"").send(&kv, &cfg, later(attempt * 10));
        assert_eq!((r.status, problem_type(&r)), (503, "unavailable".into()));
        let letter = get("/api/v1/dead-letters/1")
            .send(&kv, &cfg, later(100))
            .body_json();
        assert_eq!(letter["attempts"], attempt);
        assert_eq!(letter["last_attempt_at"], later(attempt * 10).to_string());
        assert!(letter["last_reason"]
            .as_str()
            .unwrap()
            .contains("disk full"));
        assert_eq!(letter["received_at"], T0);
    }
    // No second letter was written for the failed replays.
    let letters = get("/api/v1/dead-letters")
        .send(&kv, &cfg, later(100))
        .body_json();
    assert_eq!(letters["dead_letters"].as_array().unwrap().len(), 1);
}

#[test]
fn a_replay_refused_by_the_pipeline_returns_that_answer_and_keeps_the_letter() {
    let up = [
        (
            "upstream_url",
            "http://upstream.test/api/v1/invoice-deletions",
        ),
        ("upstream_origin", "http://upstream.test"),
    ];
    let cfg = config(&up);
    let kv = TestStore::default();
    let upstream = ScriptedUpstream::answering([
        Ok(answer(500, "text/plain", "")),
        Ok(answer(
            422,
            "application/problem+json",
            r#"{"type":"urn:tombstone:problem:validation","title":"t","status":422,"detail":"d","errors":[]}"#,
        )),
    ]);
    let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &cfg, at(T0));
    assert_eq!(r.status, 503);
    let r = post(&replay(1), b"").send_via(&kv, &upstream, &cfg, later(10));
    assert_eq!(r.status, 422);
    let letter = get("/api/v1/dead-letters/1")
        .send(&kv, &cfg, later(11))
        .body_json();
    assert_eq!(letter["attempts"], 1);
    assert_eq!(
        letter["last_reason"],
        "the replay was answered 422 validation"
    );
    // The replay sent the same request as the first attempt.
    let sent = upstream.sent.borrow();
    assert_eq!(sent[0], sent[1]);
}

#[test]
fn a_signed_webhook_replays_hours_later_against_its_received_time() {
    let cfg = config(&[("mercoa_webhook_secret", SECRET)]);
    let body = payload("mercoa/00-doc-example-verbatim.json");
    let ts = at(T0).unix_seconds();
    let signature = WebhookSecret::parse(SECRET)
        .unwrap()
        .sign("msg_1", ts, &body);
    let kv = failing_store();
    let r = post("/api/v1/webhooks/mercoa/acme-vet", &body)
        .query("clinic_id=c-1")
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", &ts.to_string())
        .header("webhook-signature", &signature)
        .header("X-API-Key", "never-kept")
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 503);
    let letter = get("/api/v1/dead-letters/1")
        .send(&kv, &cfg, at(T0))
        .body_json();
    assert_eq!(letter["query"], "clinic_id=c-1");
    let kept: Vec<&str> = letter["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h[0].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        [
            "Content-Type",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature"
        ]
    );
    let kv = healthy(kv);
    let r = post(&replay(1), b"").send(&kv, &cfg, later(6 * 3600));
    assert_eq!(
        (r.status, r.body_json()["status"].clone()),
        (200, json!("scheduled"))
    );
}

#[test]
fn the_operators_api_key_authorizes_a_canonical_replay() {
    let cfg = config(&[("api_keys", "ops-key")]);
    let kv = failing_store();
    let r = canonical(CANONICAL, "k-1")
        .header("X-API-Key", "ops-key")
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 503);
    let kv = healthy(kv);
    let path = replay(1);
    assert_eq!(post(&path, b"").send(&kv, &cfg, later(5)).status, 401);
    let r = post(&path, b"")
        .header("X-API-Key", "ops-key")
        .send(&kv, &cfg, later(5));
    assert_eq!(r.status, 202, "{r:?}");
    for route in ["/api/v1/dead-letters", "/api/v1/dead-letters/1"] {
        assert_eq!(get(route).send(&kv, &cfg, later(6)).status, 401, "{route}");
        assert_eq!(
            get(route).method("DELETE").send(&kv, &cfg, later(6)).status,
            if route.ends_with('1') { 401 } else { 405 }
        );
    }
}

#[test]
fn listings_page_newest_first_without_bodies_or_a_key_scan_and_skip_deleted_letters() {
    let cfg = config(&[]);
    let kv = failing_store();
    for n in 1..=5 {
        let r = canonical(CANONICAL, &format!("k-{n}")).send(&kv, &cfg, later(n));
        assert_eq!(r.status, 503);
    }
    let r = get("/api/v1/dead-letters/3")
        .method("DELETE")
        .send(&kv, &cfg, later(10));
    assert_eq!((r.status, r.body.len()), (204, 0));
    assert_eq!(
        get("/api/v1/dead-letters/3")
            .method("DELETE")
            .send(&kv, &cfg, later(10))
            .status,
        404
    );
    let ids = |page: &Value| -> Vec<u64> {
        page["dead_letters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                assert!(l.get("body").is_none() && l.get("headers").is_none());
                l["id"].as_u64().unwrap()
            })
            .collect()
    };
    let first = get("/api/v1/dead-letters")
        .query("limit=2")
        .send(&kv, &cfg, later(11))
        .body_json();
    assert_eq!(ids(&first), [5, 4]);
    assert_eq!(first["next"], "/api/v1/dead-letters?limit=2&before=4");
    let second = get("/api/v1/dead-letters")
        .query("limit=2&before=4")
        .send(&kv, &cfg, later(11))
        .body_json();
    assert_eq!(ids(&second), [2, 1]);
    assert_eq!(second["next"], Value::Null);
    // Listing follows the sequence of ids; it never reads every key of the store.
    assert_eq!(kv.key_scans.get(), 0, "a listing scanned the whole store");
    for (query, pointer) in [
        ("limit=0", "/query/limit"),
        ("limit=201", "/query/limit"),
        ("before=x", "/query/before"),
    ] {
        let r = get("/api/v1/dead-letters")
            .query(query)
            .send(&kv, &cfg, later(11));
        assert_eq!(
            (r.status, r.body_json()["errors"][0]["pointer"].clone()),
            (422, json!(pointer))
        );
    }
    for bad in ["0", "x", "007"] {
        let path = format!("/api/v1/dead-letters/{bad}");
        assert_eq!(get(&path).send(&kv, &cfg, later(11)).status, 404, "{bad}");
    }
}

#[test]
fn a_delivery_that_cannot_be_kept_either_is_reported_and_still_answered_503() {
    let kv = TestStore {
        fail_prefix: Some(""),
        ..TestStore::default()
    };
    let r = canonical(CANONICAL, "k-1").send(&kv, &config(&[]), at(T0));
    assert_eq!(r.status, 503);
    assert_eq!(
        r.body_json()["detail"],
        "The delivery could not be processed or kept; retry later."
    );
    assert!(
        matches!(
            r.events.as_slice(),
            [Event::DeadLetterLost { .. }, Event::Answered { .. }]
        ),
        "{:?}",
        r.events
    );
}

#[test]
fn a_failed_claim_removal_is_reported() {
    // The task write fails, and so does the removal of the claim: the key then answers 409
    // until its minutes pass, and the operator is told which key.
    let kv = TestStore {
        fail_prefix: Some("task/"),
        ..TestStore::default()
    };
    struct FailingClaimRemovals(TestStore);
    impl tombstone_edge::KeyValue for FailingClaimRemovals {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, tombstone_edge::StoreError> {
            self.0.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), tombstone_edge::StoreError> {
            self.0.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), tombstone_edge::StoreError> {
            if key.starts_with("claim/") {
                return Err(tombstone_edge::StoreError::Backend("gone".into()));
            }
            self.0.delete(key)
        }
        fn increment(&self, key: &str, delta: i64) -> Result<i64, tombstone_edge::StoreError> {
            self.0.increment(key, delta)
        }
        fn keys(&self) -> Result<Vec<String>, tombstone_edge::StoreError> {
            self.0.inner.keys()
        }
    }
    let kv = FailingClaimRemovals(kv);
    let r = canonical(CANONICAL, "k-1").send(&kv, &config(&[]), at(T0));
    assert_eq!(r.status, 503);
    let task_id = tombstone_core::task_id("acme-vet", "k-1").unwrap();
    let minute = at(T0).unix_seconds() / 60;
    assert!(
        r.events.contains(&Event::RollbackFailed {
            key: format!("claim/{task_id}/0/{minute}"),
            error: "key-value store: gone".into(),
        }),
        "{:?}",
        r.events
    );
}

#[test]
fn a_letter_kept_before_its_sender_was_checked_is_never_replayed_with_the_operators_key() {
    // API keys are set, but another variable is unusable, so no variable can be read: a
    // canonical request without a key cannot be checked, and is kept (503).
    let kv = TestStore::default();
    let broken = config(&[("api_keys", "k1"), ("schedule_delay_seconds", "2592001")]);
    assert!(broken.is_err());
    let forged = canonical(CANONICAL, "k-forged").send(&kv, &broken, at(T0));
    assert_eq!(forged.status, 503, "{forged:?}");
    // A request that could never be delivered is refused as it would be, and nothing is kept.
    let plain = Call {
        headers: vec![("Content-Type".into(), "text/plain".into())],
        ..canonical(CANONICAL, "k-plain")
    }
    .send(&kv, &broken, at(T0));
    assert_eq!(plain.status, 415);
    let fixed = config(&[("api_keys", "k1")]);
    let letters = get("/api/v1/dead-letters")
        .header("X-API-Key", "k1")
        .send(&kv, &fixed, later(60))
        .body_json();
    assert_eq!(letters["dead_letters"].as_array().unwrap().len(), 1);
    // The operator replays it with their own key: the letter is proved by its own headers
    // only, has no key, and is refused; nothing is scheduled, and the letter stays.
    let r = post(&replay(1), b"")
        .header("X-API-Key", "k1")
        .send(&kv, &fixed, later(60));
    assert_eq!(problem_type(&r), "unauthorized", "{r:?}");
    assert!(
        kv.keys().iter().all(|k| !k.starts_with("task/")),
        "{:?}",
        kv.keys()
    );
    let letter = get("/api/v1/dead-letters/1")
        .header("X-API-Key", "k1")
        .send(&kv, &fixed, later(61))
        .body_json();
    assert_eq!(letter["sender_unchecked"], true);
    assert_eq!(letter["attempts"], 1);
    // The sender's own retry, with its key, is what delivers it.
    let retry = canonical(CANONICAL, "k-forged")
        .header("X-API-Key", "k1")
        .send(&kv, &fixed, later(62));
    assert_eq!(retry.status, 202);
}

#[test]
fn a_letter_kept_after_its_sender_was_checked_replays_with_the_operators_key() {
    // A store failure after the key was checked: the operator's key stands in for the
    // sender's, which no letter keeps.
    let cfg = config(&[("api_keys", "k1")]);
    let kv = TestStore {
        fail_prefix: Some("task/"),
        ..TestStore::default()
    };
    let r = canonical(CANONICAL, "k-1")
        .header("X-API-Key", "k1")
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 503);
    let kv = TestStore {
        inner: kv.inner,
        ..TestStore::default()
    };
    let r = post(&replay(1), b"")
        .header("X-API-Key", "k1")
        .send(&kv, &cfg, later(60));
    assert_eq!(
        (r.status, r.body_json()["status"].clone()),
        (202, json!("scheduled"))
    );
}

#[test]
fn a_late_replays_task_stays_while_its_key_is_honoured() {
    // Both retentions a day. A delivery fails at T0; the operator replays it 20 hours later,
    // which honours its key for a day from the replay.
    let cfg = config(&[
        ("idempotency_retention_seconds", "86400"),
        ("task_retention_seconds", "86400"),
    ]);
    let kv = failing_store();
    assert_eq!(
        canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0)).status,
        503
    );
    let kv = healthy(kv);
    let replayed = post(&replay(1), b"").send(&kv, &cfg, later(20 * 3600));
    assert_eq!(replayed.body_json()["status"], "scheduled", "{replayed:?}");
    // A day after received_at the task is past its retention, but its key is still honoured:
    // it stays, and the provider's late resend is a duplicate, not a second scheduling.
    let expire = |at: i64| {
        post("/api/v1/maintenance/expire", b"")
            .send(&kv, &cfg, later(at))
            .body_json()["tasks_removed"]
            .clone()
    };
    assert_eq!(expire(24 * 3600 + 1), 0);
    let resend = canonical(CANONICAL, "k-1").send(&kv, &cfg, later(30 * 3600));
    assert_eq!(resend.body_json()["status"], "duplicate", "{resend:?}");
    // Once the key is no longer honoured, the task goes.
    assert_eq!(expire(44 * 3600), 1);
}
