//! Store mode over an in-memory store: routes, statuses, idempotency, retention, refusals and
//! every authentication check. The same behaviour is tested again over real HTTP against
//! `tombstone serve` (`host/tests/it/serve.rs`).

use std::cell::Cell;

use base64::Engine;
use ed25519_dalek::Signer;
use serde_json::{json, Value};
use tombstone_core::signature::WebhookSecret;
use tombstone_edge::KeyValue;

use tombstone_tests::percent_encode;

use crate::support::*;

#[test]
fn the_canonical_route_schedules_once_then_replays_duplicates_without_writing() {
    let kv = TestStore::default();
    let cfg = config(&[("schedule_delay_seconds", "60")]);
    let first = canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0));
    assert_eq!(first.status, 202, "{first:?}");
    let body = first.body_json();
    assert_eq!(body["status"], "scheduled");
    assert_eq!(body["received_at"], T0);
    assert_eq!(body["scheduled_for"], "2026-03-01T12:01:00Z");
    assert_eq!(body["invoices_count"], 1);
    let task_id = body["task_id"].as_str().unwrap().to_owned();
    assert_eq!(
        first.header("location"),
        Some(format!("/api/v1/tasks/{task_id}").as_str())
    );
    assert_eq!(kv.writes.get(), 2, "the claim and the task");
    let minute = at(T0).unix_seconds() / 60;
    assert_eq!(
        kv.keys(),
        [
            format!("claim/{task_id}/0/{minute}"),
            format!("task/{task_id}")
        ],
        "the claim stays until maintenance removes it, once its minutes have passed"
    );

    // A reformatted retry a minute later is the same deletion: the first response, no write.
    let retry = r#"{ "invoices": [ { "clinic_id": "clinic-1", "invoice_id": "inv-1" } ] }"#;
    let again = canonical(retry, "k-1").send(&kv, &cfg, later(60));
    assert_eq!(again.status, 202);
    let mut expected = body.clone();
    expected["status"] = json!("duplicate");
    assert_eq!(again.body_json(), expected);
    assert_eq!(kv.writes.get(), 2, "a duplicate writes nothing");

    let task = get(&format!("/api/v1/tasks/{task_id}")).send(&kv, &cfg, later(61));
    assert_eq!(task.status, 200);
    let task = task.body_json();
    assert_eq!(
        task["request"]["body"],
        serde_json::from_str::<Value>(CANONICAL).unwrap()
    );
    assert_eq!(task["request"]["headers"]["Idempotency-Key"], "k-1");
    assert_eq!(task["scheduled_for"], "2026-03-01T12:01:00Z");
}

#[test]
fn only_a_route_that_takes_a_deletion_reports_one() {
    // The summaries the request log and the outcome counter read: the first delivery is
    // `scheduled`, its retry `duplicate`, both with the task id; reading the stored task (whose
    // document says `scheduled` too) is `ok`, so a dashboard never counts a read as a deletion.
    let kv = TestStore::default();
    let cfg = config(&[]);
    let answered = |r: &tombstone_edge::Response| r.events.last().cloned().unwrap();
    let first = canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0));
    let task_id = first.body_json()["task_id"].as_str().unwrap().to_owned();
    let again = canonical(CANONICAL, "k-1").send(&kv, &cfg, later(1));
    let read = get(&format!("/api/v1/tasks/{task_id}")).send(&kv, &cfg, later(2));
    assert_eq!(read.body_json()["status"], "scheduled");
    let summary = |route: &str, status: u16, outcome: &str, task_id: Option<&str>| {
        tombstone_edge::Event::Answered {
            route: route.into(),
            status,
            outcome: outcome.into(),
            task_id: task_id.map(str::to_owned),
        }
    };
    assert_eq!(
        [answered(&first), answered(&again), answered(&read)],
        [
            summary(
                "/api/v1/invoice-deletions",
                202,
                "scheduled",
                Some(&task_id)
            ),
            summary(
                "/api/v1/invoice-deletions",
                202,
                "duplicate",
                Some(&task_id)
            ),
            summary("/api/v1/tasks/{task_id}", 200, "ok", None),
        ]
    );
}

#[test]
fn another_body_with_the_same_key_is_refused_until_the_retention_ends() {
    let kv = TestStore::default();
    let cfg = config(&[("idempotency_retention_seconds", "3600")]);
    assert_eq!(
        canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0)).status,
        202
    );
    let reuse = canonical(OTHER_CANONICAL, "k-1").send(&kv, &cfg, later(3599));
    assert_eq!(
        (reuse.status, problem_type(&reuse)),
        (422, "idempotency-key-reuse".into())
    );
    assert_eq!(
        reuse.body_json()["errors"][0]["pointer"],
        "/header/Idempotency-Key"
    );
    // Another organization has its own keys.
    let other_org = post("/api/v1/invoice-deletions", OTHER_CANONICAL.as_bytes())
        .header("Idempotency-Key", "k-1")
        .header("X-Organization-Id", "other-org")
        .send(&kv, &cfg, later(1));
    assert_eq!(other_org.status, 202);

    // After the retention the key is free: the new body is scheduled, and the first task is
    // archived, not lost.
    let fresh = canonical(OTHER_CANONICAL, "k-1").send(&kv, &cfg, later(3600));
    assert_eq!(fresh.status, 202);
    assert_eq!(fresh.body_json()["status"], "scheduled");
    let task_id = fresh.body_json()["task_id"].as_str().unwrap().to_owned();
    let archived = kv
        .get(&format!("task/{task_id}/0"))
        .unwrap()
        .expect("archived");
    let archived: Value = serde_json::from_slice(&archived).unwrap();
    assert_eq!(
        archived["conversion"]["request"]["body"]["invoices"][0]["invoice_id"],
        "inv-1"
    );
    assert_eq!(archived["generation"], 0);
    let dup = canonical(OTHER_CANONICAL, "k-1").send(&kv, &cfg, later(3601));
    assert_eq!(dup.body_json()["status"], "duplicate");
}

#[test]
fn a_delivery_while_the_first_is_in_flight_is_a_conflict_and_leaves_the_claim_to_its_holder() {
    let kv = TestStore::default();
    let cfg = config(&[]);
    let task_id = tombstone_core::task_id("acme-vet", "k-1").unwrap();
    let minute = at(T0).unix_seconds() / 60;
    // The first delivery holds this minute's claim but has not stored its task yet.
    let held = format!("claim/{task_id}/0/{minute}");
    kv.increment(&held, 1).unwrap();
    let second = canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0));
    assert_eq!(
        (second.status, problem_type(&second)),
        (409, "conflict".into())
    );
    assert_eq!(second.header("retry-after"), Some("1"));
    assert_eq!(
        kv.increment(&held, 0).unwrap(),
        2,
        "the loser leaves the counter to its holder"
    );
    assert!(kv.get(&format!("task/{task_id}")).unwrap().is_none());

    // A claim of the minute before still blocks (the first delivery may be finishing), and so
    // does one of the minute after: whoever claims second in adjacent minutes loses, and
    // removes the counter it got 1 on.
    assert_eq!(
        canonical(CANONICAL, "k-1")
            .send(&kv, &cfg, later(60))
            .status,
        409
    );
    assert_eq!(
        canonical(CANONICAL, "k-1")
            .send(&kv, &cfg, later(-60))
            .status,
        409
    );
    assert_eq!(kv.keys(), [held], "only the held claim is left");
    // A claim left by a delivery that died blocks for at most two minutes: then the retry wins.
    let retry = canonical(CANONICAL, "k-1").send(&kv, &cfg, later(120));
    assert_eq!(retry.status, 202);
    assert_eq!(retry.body_json()["status"], "scheduled");
    let again = canonical(CANONICAL, "k-1").send(&kv, &cfg, later(121));
    assert_eq!(again.body_json()["status"], "duplicate");
    // The dead delivery's counter is removed by the maintenance route once its minutes passed;
    // the retry's own, which scheduled, once its minutes pass too.
    let swept = post("/api/v1/maintenance/expire", b"").send(&kv, &cfg, later(121));
    assert_eq!(swept.body_json()["claims_removed"], 1);
    assert_eq!(
        kv.keys(),
        [
            format!("claim/{task_id}/0/{}", minute + 2),
            format!("task/{task_id}")
        ]
    );
    let swept = post("/api/v1/maintenance/expire", b"").send(&kv, &cfg, later(240));
    assert_eq!(swept.body_json()["claims_removed"], 1);
    assert_eq!(kv.keys(), [format!("task/{task_id}")]);
}

#[test]
fn a_holder_that_finds_the_task_stored_since_it_looked_answers_duplicate() {
    // Between a delivery's first read and its claim, another delivery stored the task: its
    // claim, which it left, makes this one lose, and what it read then is the task.
    struct StoredBetween {
        inner: TestStore,
        first: Cell<bool>,
    }
    impl KeyValue for StoredBetween {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, tombstone_edge::StoreError> {
            if key.starts_with("task/") && self.first.replace(false) {
                return Ok(None);
            }
            self.inner.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), tombstone_edge::StoreError> {
            self.inner.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), tombstone_edge::StoreError> {
            self.inner.delete(key)
        }
        fn increment(&self, key: &str, delta: i64) -> Result<i64, tombstone_edge::StoreError> {
            self.inner.increment(key, delta)
        }
        fn keys(&self) -> Result<Vec<String>, tombstone_edge::StoreError> {
            self.inner.inner.keys()
        }
    }
    let cfg = config(&[]);
    let kv = TestStore::default();
    let first = canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0));
    assert_eq!(first.body_json()["status"], "scheduled");
    let kv = StoredBetween {
        inner: kv,
        first: Cell::new(true),
    };
    let late = canonical(CANONICAL, "k-1").send(&kv, &cfg, later(1));
    assert_eq!(late.body_json()["status"], "duplicate", "{late:?}");
    assert_eq!(late.body_json()["received_at"], T0);
    assert_eq!(
        kv.inner.keys().len(),
        2,
        "the task and its claim: {:?}",
        kv.inner.keys()
    );
}

#[test]
fn accepted_deletions_leave_their_tasks_and_claims_and_maintenance_removes_what_expired() {
    let cfg = config(&[
        ("idempotency_retention_seconds", "3600"),
        ("task_retention_seconds", "86400"),
    ]);
    let kv = TestStore::default();
    let mut tasks = Vec::new();
    for n in 0..20 {
        let body = format!(r#"{{"invoices":[{{"invoice_id":"inv-{n}","clinic_id":"c"}}]}}"#);
        let key = format!("k-{}", n % 10);
        let org = format!("org-{}", n / 10);
        // Every deletion three times: the first schedules, the others are duplicates, which
        // write nothing.
        let mut writes = kv.writes.get();
        for retry in 0..3 {
            let r = post("/api/v1/invoice-deletions", body.as_bytes())
                .header("Idempotency-Key", &key)
                .header("X-Organization-Id", &org)
                .send(&kv, &cfg, later(n * 10 + retry));
            let expected = if retry == 0 { "scheduled" } else { "duplicate" };
            assert_eq!(
                (r.status, r.body_json()["status"].clone()),
                (202, json!(expected)),
                "deletion {n}, send {retry}"
            );
            if retry == 0 {
                writes = kv.writes.get();
            } else {
                assert_eq!(kv.writes.get(), writes, "a duplicate of deletion {n} wrote");
            }
        }
        tasks.push(format!(
            "task/{}",
            tombstone_core::task_id(&org, &key).unwrap()
        ));
    }
    // Reused after the idempotency retention: the old task is archived, not lost.
    let reused = post("/api/v1/invoice-deletions", OTHER_CANONICAL.as_bytes())
        .header("Idempotency-Key", "k-0")
        .header("X-Organization-Id", "org-0")
        .send(&kv, &cfg, later(4000));
    assert_eq!(reused.body_json()["status"], "scheduled");
    tasks.push(format!("{}/0", tasks[0]));
    tasks.sort();
    let (claims, others): (Vec<String>, Vec<String>) =
        kv.keys().into_iter().partition(|k| k.starts_with("claim/"));
    assert_eq!(
        others, tasks,
        "tasks and an archived generation, beside the claims"
    );
    assert_eq!(
        claims.len(),
        21,
        "one claim per scheduled deletion: {claims:?}"
    );
    // A day later the first twenty-one are older than task_retention_seconds, and every
    // claim's minutes have passed.
    let swept = post("/api/v1/maintenance/expire", b"").send(&kv, &cfg, later(86_400 + 200));
    assert_eq!(
        swept.body_json(),
        json!({"next": null, "keys_scanned": 42, "claims_removed": 21, "tasks_removed": 20, "deliveries_removed": 0, "index_entries_removed": 0, "leases_removed": 0})
    );
    assert_eq!(
        kv.keys().len(),
        1,
        "the reused key's newer task stays: {:?}",
        kv.keys()
    );
    // task_retention_seconds may not undercut the idempotency retention.
    let e = config(&[("task_retention_seconds", "60")]).unwrap_err();
    assert_eq!(e.variable, "task_retention_seconds");
}

#[test]
fn a_storage_failure_is_refused_in_the_status_each_source_retries_and_frees_the_key() {
    let failing = TestStore {
        fail_prefix: Some("task/"),
        ..TestStore::default()
    };
    let cfg = config(&[]);
    let r = canonical(CANONICAL, "k-1").send(&failing, &cfg, at(T0));
    assert_eq!((r.status, problem_type(&r)), (503, "unavailable".into()));
    assert_eq!(r.header("retry-after"), Some("5"));
    assert!(
        !String::from_utf8_lossy(&r.body).contains("disk full"),
        "the store's own words stay in the log: {r:?}"
    );
    assert!(r.events.iter().any(|e| matches!(
        e,
        tombstone_edge::Event::NotAccepted { status: 503, reason, .. } if reason.contains("disk full")
    )));
    // Each provider route answers in what its provider retries: HighLevel retries only 429.
    let cases = [
        ("mercoa", "mercoa/00-doc-example-verbatim.json", 503),
        ("willsuite", "willsuite/01-doc-example-verbatim.json", 503),
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
    ];
    for (route, file, status) in cases {
        let body = payload(file);
        let r = post(&format!("/api/v1/webhooks/{route}/acme-vet"), &body)
            .query("clinic_id=clinic-9")
            .send(&failing, &cfg, at(T0));
        assert_eq!(r.status, status, "{route}: {r:?}");
        assert_eq!(
            r.body_json()["status"],
            status,
            "{route}: the document says so too"
        );
        assert_eq!(problem_type(&r), "unavailable", "{route}");
        assert_eq!(r.header("retry-after"), Some("5"), "{route}");
    }
    assert!(
        failing.keys().is_empty(),
        "nothing half-written: {:?}",
        failing.keys()
    );

    // The store recovers (same data, no failure): the provider's retry schedules.
    let healthy = TestStore {
        inner: std::mem::take(&mut { failing }.inner),
        ..TestStore::default()
    };
    let retry = canonical(CANONICAL, "k-1").send(&healthy, &cfg, later(5));
    assert_eq!(retry.status, 202);
    assert_eq!(retry.body_json()["status"], "scheduled");
}

#[test]
fn a_claim_conflict_is_a_429_for_highlevel_and_a_409_for_the_others() {
    let kv = TestStore::default();
    let cfg = config(&[]);
    let body = payload("highlevel/01-webhook-doc-example-verbatim.json");
    let mercoa = payload("mercoa/00-doc-example-verbatim.json");
    // A delivery in flight holds the claim of this minute: its retries get a transient refusal.
    for (route, body, status) in [("highlevel", &body, 429), ("mercoa", &mercoa, 409)] {
        let converted = post("/api/v1/convert", body)
            .query("organization_id=acme-vet")
            .send(&kv, &cfg, at(T0))
            .body_json();
        let task = converted["task_id"].as_str().unwrap().to_owned();
        let minute = at(T0).unix_seconds().div_euclid(60);
        kv.inner
            .increment(&format!("claim/{task}/0/{minute}"), 1)
            .unwrap();
        let r = post(&format!("/api/v1/webhooks/{route}/acme-vet"), body).send(&kv, &cfg, at(T0));
        assert_eq!(
            (r.status, problem_type(&r)),
            (status, "conflict".into()),
            "{route}"
        );
        assert!(r.header("retry-after").is_some(), "{route}");
    }
}

#[test]
fn a_misconfigured_variable_is_refused_for_now_and_never_echoes_the_value() {
    let kv = TestStore::default();
    let cfg = config(&[("mercoa_webhook_secret", "whsec_%%not-base64%%")]);
    let body = payload("mercoa/00-doc-example-verbatim.json");
    let r = post("/api/v1/webhooks/mercoa/acme-vet", &body).send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("5"));
    let highlevel = payload("highlevel/01-webhook-doc-example-verbatim.json");
    let hl = post("/api/v1/webhooks/highlevel/acme-vet", &highlevel).send(&kv, &cfg, at(T0));
    assert_eq!(hl.status, 429, "HighLevel retries only 429: {hl:?}");
    for text in [
        String::from_utf8(r.body.clone()).unwrap(),
        format!("{:?}", r.events),
        String::from_utf8(hl.body.clone()).unwrap(),
    ] {
        assert!(!text.contains("not-base64"), "{text}");
        assert!(
            text.contains("mercoa_webhook_secret"),
            "names the variable: {text}"
        );
    }
    assert!(
        kv.keys().is_empty(),
        "nobody checked the sender: nothing is kept"
    );
}

#[test]
fn webhook_routes_answer_with_each_providers_documented_status() {
    let kv = TestStore::default();
    let cfg = config(&[]);
    for (source, file, query, status) in WEBHOOK_ROUTE_CASES {
        let body = payload(file);
        let path = format!("/api/v1/webhooks/{source}/acme-vet");
        let r = post(&path, &body).query(query).send(&kv, &cfg, at(T0));
        assert_eq!(r.status, status, "{source}: {r:?}");
        assert_eq!(r.body_json()["status"], "scheduled", "{source}");
        let again = post(&path, &body).query(query).send(&kv, &cfg, later(1));
        assert_eq!(
            (again.status, again.body_json()["status"].clone()),
            (status, json!("duplicate"))
        );
    }
    // WillSuite names no clinic: without ?clinic_id= it is unmappable, and nothing is kept.
    let before = kv.keys().len();
    let body = payload("willsuite/01-doc-example-verbatim.json");
    let r = post("/api/v1/webhooks/willsuite/acme-vet", &body).send(&kv, &cfg, at(T0));
    assert_eq!((r.status, problem_type(&r)), (422, "unmappable".into()));
    assert_eq!(kv.keys().len(), before);
}

#[test]
fn bad_requests_get_problems_and_leave_no_state() {
    let kv = TestStore::default();
    let cfg = config(&[]);
    let big = vec![b' '; 2 << 20];
    let cases: Vec<(Call<'_>, u16, &str, &str)> = vec![
        (canonical("{not json", "k"), 400, "invalid-json", ""),
        (
            Call {
                headers: vec![("Content-Type".into(), "text/plain".into())],
                ..canonical(CANONICAL, "k")
            },
            415,
            "unsupported-media-type",
            "/header/Content-Type",
        ),
        (
            canonical(CANONICAL, "k").header("Content-Type", "x"),
            202,
            "",
            "",
        ),
        (
            post("/api/v1/invoice-deletions", CANONICAL.as_bytes())
                .header("X-Organization-Id", "o"),
            400,
            "missing-header",
            "/header/Idempotency-Key",
        ),
        (
            post("/api/v1/invoice-deletions", CANONICAL.as_bytes()).header("Idempotency-Key", "k"),
            400,
            "missing-header",
            "/header/X-Organization-Id",
        ),
        (
            canonical(CANONICAL, "has space"),
            400,
            "invalid-header",
            "/header/Idempotency-Key",
        ),
        (
            post("/api/v1/webhooks/mercoa/acme", &big),
            413,
            "payload-too-large",
            "",
        ),
        (
            post("/api/v1/webhooks/stripe/acme", b"{}"),
            404,
            "not-found",
            "",
        ),
        (post("/api/v1/webhooks/mercoa", b"{}"), 404, "not-found", ""),
        (
            post("/api/v1/webhooks/auto/acme", br#"{"hello":1}"#),
            422,
            "unknown-format",
            "",
        ),
        (
            get("/api/v1/invoice-deletions"),
            405,
            "method-not-allowed",
            "",
        ),
        (get("/nope"), 404, "not-found", ""),
        (get("/api/v1/tasks/not-a-task"), 404, "not-found", ""),
        (
            get("/api/v1/tasks/0000000000000000000000000000000000000000000000000000000000000000"),
            404,
            "not-found",
            "",
        ),
    ];
    for (call, status, kind, pointer) in &cases {
        let r = call.send(&kv, &cfg, at(T0));
        assert_eq!(r.status, *status, "{} {}: {r:?}", call.method, call.path);
        if *status >= 400 {
            assert_eq!(problem_type(&r), *kind);
            if !pointer.is_empty() {
                assert_eq!(r.body_json()["errors"][0]["pointer"], *pointer, "{kind}");
            }
        }
    }
    // Only the one valid request left anything behind: its task and its claim.
    assert_eq!(kv.keys().len(), 2, "{:?}", kv.keys());
    let r = get("/api/v1/invoice-deletions").send(&kv, &cfg, at(T0));
    assert_eq!(r.header("allow"), Some("POST"));
}

#[test]
fn health_schemas_and_dry_run_conversion() {
    let kv = TestStore::default();
    let cfg = config(&[]);
    assert_eq!(
        get("/healthz").send(&kv, &cfg, at(T0)).body_json(),
        json!({"status": "ok"})
    );
    let s = get("/schemas/mercoa.json").send(&kv, &cfg, at(T0));
    assert_eq!(
        (s.status, s.header("content-type")),
        (200, Some("application/schema+json"))
    );
    assert!(s.body_json()["$schema"].is_string());
    assert_eq!(
        get("/schemas/stripe.json").send(&kv, &cfg, at(T0)).status,
        404
    );
    let body = payload("willsuite/01-doc-example-verbatim.json");
    let r = post("/api/v1/convert", &body)
        .query("organization_id=acme-vet&clinic_id=clinic%209")
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 200, "{r:?}");
    let c = r.body_json();
    assert_eq!(c["source"], "willsuite");
    assert_eq!(
        c["request"]["body"]["invoice_lines"][0]["clinic_id"],
        "clinic 9"
    );
    assert_eq!(kv.writes.get(), 0, "a dry run stores nothing");
}

#[test]
fn api_keys_guard_the_canonical_and_admin_routes_and_a_canonical_body_on_auto() {
    let kv = TestStore::default();
    let cfg = config(&[("api_keys", "old-key, new-key")]);
    let r = canonical(CANONICAL, "k-1").send(&kv, &cfg, at(T0));
    assert_eq!((r.status, problem_type(&r)), (401, "unauthorized".into()));
    assert_eq!(r.body_json()["errors"][0]["pointer"], "/header/X-API-Key");
    let r = canonical(CANONICAL, "k-1")
        .header("X-API-Key", "wrong")
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 401);
    let r = canonical(CANONICAL, "k-1")
        .header("X-API-Key", "new-key")
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 202);
    let task_id = r.body_json()["task_id"].as_str().unwrap().to_owned();
    // The admin routes take admin_api_keys only: an ingestion key is no admin key.
    let path = format!("/api/v1/tasks/{task_id}");
    for (key, status) in [("old-key", 401), ("wrong", 401), (ADMIN_KEY, 200)] {
        let r = get(&path).header("X-API-Key", key).send(&kv, &cfg, at(T0));
        assert_eq!(r.status, status, "{key}");
    }
    assert_eq!(
        get("/api/v1/deliveries")
            .header("X-API-Key", "new-key")
            .send(&kv, &cfg, at(T0))
            .status,
        401
    );
    // The auto webhook route does not open a side door to the canonical contract.
    let r = post("/api/v1/webhooks/auto/acme-vet", CANONICAL.as_bytes())
        .header("Idempotency-Key", "k-2")
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 401);
    // Provider routes stay open unless their own secret is set.
    let body = payload("mercoa/00-doc-example-verbatim.json");
    assert_eq!(
        post("/api/v1/webhooks/mercoa/acme-vet", &body)
            .send(&kv, &cfg, at(T0))
            .status,
        200
    );
}

fn signed<'a>(body: &'a [u8], id: &str, ts: i64, signature: &str) -> Call<'a> {
    post("/api/v1/webhooks/mercoa/acme-vet", body)
        .header("webhook-id", id)
        .header("webhook-timestamp", &ts.to_string())
        .header("webhook-signature", signature)
}

#[test]
fn standard_webhooks_signatures_are_required_once_a_secret_is_set() {
    let kv = TestStore::default();
    let new_secret = "whsec_bmV3LXNlY3JldC1ieXRlcy0wMDAx";
    let cfg = config(&[("mercoa_webhook_secret", &format!("{SECRET} {new_secret}"))]);
    let body = payload("mercoa/00-doc-example-verbatim.json");
    let now = at(T0);
    let ts = now.unix_seconds();
    let old = WebhookSecret::parse(SECRET).unwrap();
    let new = WebhookSecret::parse(new_secret).unwrap();
    let good = old.sign("msg_1", ts, &body);

    let refused = |call: Call<'_>, pointer: &str| {
        let r = call.send(&kv, &cfg, now);
        assert_eq!(
            (r.status, problem_type(&r)),
            (401, "unauthorized".into()),
            "{pointer}"
        );
        assert_eq!(r.body_json()["errors"][0]["pointer"], pointer);
    };
    refused(
        post("/api/v1/webhooks/mercoa/acme-vet", &body),
        "/header/webhook-id",
    );
    refused(
        signed(&body, "msg_1", ts, "v1,"),
        "/header/webhook-signature",
    );
    refused(
        signed(
            &body,
            "msg_1",
            ts - 301,
            &old.sign("msg_1", ts - 301, &body),
        ),
        "/header/webhook-timestamp",
    );
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    refused(
        signed(&tampered, "msg_1", ts, &good),
        "/header/webhook-signature",
    );
    refused(
        signed(&body, "msg_2", ts, &good),
        "/header/webhook-signature",
    );
    assert!(kv.keys().is_empty(), "refused deliveries leave nothing");

    // Rotation: the sender signs with both secrets; either alone also verifies.
    let both = format!("{} {}", new.sign("msg_1", ts, &body), good);
    assert_eq!(
        signed(&body, "msg_1", ts, &both)
            .send(&kv, &cfg, now)
            .status,
        200
    );
    let only_new = new.sign("msg_1", ts + 10, &body);
    let r = signed(&body, "msg_1", ts + 10, &only_new).send(&kv, &cfg, later(10));
    assert_eq!(
        (r.status, r.body_json()["status"].clone()),
        (200, json!("duplicate"))
    );
    // Svix header names are accepted too.
    let r = post("/api/v1/webhooks/mercoa/acme-vet", &body)
        .header("svix-id", "msg_1")
        .header("svix-timestamp", &ts.to_string())
        .header("svix-signature", &good)
        .send(&kv, &cfg, now);
    assert_eq!(r.status, 200);
}

#[test]
fn highlevel_signatures_ed25519_and_legacy_rsa() {
    let fixtures = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let rsa_pem =
        std::fs::read_to_string(format!("{fixtures}/highlevel-test-rsa.pub.pem")).unwrap();
    let rsa_body = std::fs::read(format!("{fixtures}/highlevel-delivery.json")).unwrap();
    let rsa_sig =
        std::fs::read_to_string(format!("{fixtures}/highlevel-delivery.x-wh-signature")).unwrap();
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let ed_pem = {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        signing
            .verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap()
    };
    let cfg = config(&[
        ("highlevel_ed25519_public_key", &ed_pem),
        ("highlevel_rsa_public_key", &rsa_pem),
    ]);
    let kv = TestStore::default();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let route = "/api/v1/webhooks/highlevel/acme-vet";

    let r = post(route, &rsa_body).send(&kv, &cfg, at(T0));
    assert_eq!(
        (r.status, r.body_json()["errors"][0]["pointer"].clone()),
        (401, json!("/header/x-ghl-signature"))
    );
    // Signed when it says it was sent (its body's timestamp is 2025-03-02T10:11:13Z): accepted.
    let r = post(route, &rsa_body)
        .header("x-wh-signature", rsa_sig.trim())
        .send(&kv, &cfg, at("2025-03-02T10:11:20Z"));
    assert_eq!(r.status, 200, "legacy RSA signature: {r:?}");
    // The same signed delivery captured and replayed a year later: refused, stale.
    let r = post(route, &rsa_body)
        .header("x-wh-signature", rsa_sig.trim())
        .send(&kv, &cfg, at(T0));
    assert_eq!(
        (r.status, r.body_json()["errors"][0]["pointer"].clone()),
        (401, json!("/timestamp")),
        "a replayed HighLevel delivery: {r:?}"
    );
    // Within highlevel_timestamp_tolerance_seconds (here a year and a day), it passes again.
    let lenient = config(&[
        ("highlevel_rsa_public_key", &rsa_pem),
        ("highlevel_timestamp_tolerance_seconds", "86400"),
    ]);
    let r = post(route, &rsa_body)
        .header("x-wh-signature", rsa_sig.trim())
        .send(&kv, &lenient, at("2025-03-03T09:00:00Z"));
    assert_eq!(r.status, 200, "{r:?}");

    let body = payload("highlevel/01-webhook-doc-example-verbatim.json");
    let sig = b64(&signing.sign(&body).to_bytes());
    let r = post(route, &body)
        .header("x-ghl-signature", &sig)
        .send(&kv, &cfg, at(T0));
    assert_eq!(r.status, 200, "Ed25519 signature: {r:?}");
    // The RSA signature of another body, an Ed25519 signature over a changed body, garbage.
    let mut changed = body.clone();
    changed.push(b'\n');
    for (name, value, bytes) in [
        ("x-wh-signature", rsa_sig.trim().to_owned(), body.clone()),
        ("x-ghl-signature", sig.clone(), changed),
        ("x-ghl-signature", "not base64!".to_owned(), body.clone()),
    ] {
        let r = post(route, &bytes)
            .header(name, &value)
            .send(&kv, &cfg, at(T0));
        assert_eq!(r.status, 401, "{name}");
    }
    // Ed25519 only: the RSA header is no longer accepted.
    let ed_only = config(&[("highlevel_ed25519_public_key", &ed_pem)]);
    let r = post(route, &rsa_body)
        .header("x-wh-signature", rsa_sig.trim())
        .send(&kv, &ed_only, at(T0));
    assert_eq!(r.status, 401);
}

#[test]
fn the_admin_routes_are_closed_until_admin_api_keys_is_set_and_the_first_run_still_works() {
    let kv = TestStore::default();
    let nothing = config(&[("admin_api_keys", "")]);
    for (method, path) in [
        (
            "GET",
            "/api/v1/tasks/0000000000000000000000000000000000000000000000000000000000000000",
        ),
        ("GET", "/api/v1/deliveries"),
        (
            "GET",
            "/api/v1/deliveries/0000000000000000000000000000000000000000000000000000000000000000",
        ),
        ("POST", "/api/v1/deliveries/dispatch"),
        ("POST", "/api/v1/maintenance/expire"),
    ] {
        for key in [None, Some("anything"), Some("")] {
            let mut call = get(path).method(method);
            if let Some(key) = key {
                call = call.header("X-API-Key", key);
            }
            let r = call.send(&kv, &nothing, at(T0));
            assert_eq!(r.status, 403, "{method} {path} {key:?}: {r:?}");
            assert_eq!(r.body_json()["status"], 403);
            assert_eq!(problem_type(&r), "unauthorized");
            assert!(
                r.body_json()["detail"]
                    .as_str()
                    .unwrap()
                    .contains("admin_api_keys"),
                "says how to open them: {r:?}"
            );
        }
    }
    assert_eq!(kv.key_scans.get(), 0, "maintenance never ran");
    // The README's first run: a webhook, nothing configured.
    let body = payload("mercoa/00-doc-example-verbatim.json");
    let r = post("/api/v1/webhooks/mercoa/acme-vet", &body).send(&kv, &nothing, at(T0));
    assert_eq!(
        (r.status, r.body_json()["status"].clone()),
        (200, json!("scheduled"))
    );
}

#[test]
fn an_api_key_bound_to_organizations_posts_for_those_only() {
    let kv = TestStore::default();
    let cfg = config(&[("api_keys", "k-all, k-acme acme-vet acme-north")]);
    let send = |key: &str, org: &str, idem: &str| {
        post("/api/v1/invoice-deletions", CANONICAL.as_bytes())
            .header("Idempotency-Key", idem)
            .header("X-Organization-Id", org)
            .header("X-API-Key", key)
            .send(&kv, &cfg, at(T0))
    };
    assert_eq!(send("k-acme", "acme-vet", "a-1").status, 202);
    assert_eq!(send("k-acme", "acme-north", "a-2").status, 202);
    assert_eq!(send("k-all", "anyone", "a-3").status, 202);
    let other = send("k-acme", "other-org", "a-4");
    assert_eq!(other.status, 403, "{other:?}");
    assert_eq!(
        other.body_json()["errors"][0]["pointer"],
        "/header/X-Organization-Id"
    );
    assert_eq!(send("k-acm", "acme-vet", "a-5").status, 401);
    // The detecting route holds a canonical body to the same key, for the path's organization.
    let auto = |org: &str| {
        post(
            &format!("/api/v1/webhooks/auto/{org}"),
            CANONICAL.as_bytes(),
        )
        .header("Idempotency-Key", "auto-1")
        .header("X-API-Key", "k-acme")
        .send(&kv, &cfg, at(T0))
    };
    assert_eq!(auto("other-org").status, 403);
    assert_eq!(auto("acme-vet").status, 202);
    // Nothing was scheduled for another organization.
    let tasks: Vec<String> = kv
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("task/"))
        .collect();
    assert_eq!(tasks.len(), 4, "{tasks:?}");
}

#[test]
fn a_webhook_signed_for_one_organization_never_verifies_on_anothers() {
    let kv = TestStore::default();
    let shared = SECRET;
    let acme = "whsec_bmV3LXNlY3JldC1ieXRlcy0wMDAx";
    let cfg = config(&[(
        "mercoa_webhook_secret",
        &format!("{shared}, acme-vet {acme}"),
    )]);
    let body = payload("mercoa/00-doc-example-verbatim.json");
    let now = at(T0);
    let sign = |secret: &str| {
        WebhookSecret::parse(secret)
            .unwrap()
            .sign("msg_1", now.unix_seconds(), &body)
    };
    let send = |org: &str, signature: &str| {
        post(&format!("/api/v1/webhooks/mercoa/{org}"), &body)
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", &now.unix_seconds().to_string())
            .header("webhook-signature", signature)
            .send(&kv, &cfg, now)
            .status
    };
    // acme-vet's own secret verifies on acme-vet's path only.
    assert_eq!(send("acme-vet", &sign(acme)), 200);
    assert_eq!(send("other-org", &sign(acme)), 401, "captured and moved");
    // An organization with its own secrets is not verified with the shared ones.
    assert_eq!(send("acme-vet", &sign(shared)), 401);
    // Every other organization uses the shared ones (rotation: several at once).
    assert_eq!(send("other-org", &sign(shared)), 200);
}

#[test]
fn liveness_touches_nothing_and_readiness_names_what_is_not_ready() {
    let failing = TestStore {
        fail_reads: true,
        ..TestStore::default()
    };
    let r = get("/healthz").send(&failing, &config(&[]), at(T0));
    assert_eq!(r.body_json(), json!({"status": "ok"}), "{r:?}");
    let broken = config(&[("mercoa_webhook_secret", "whsec_%%not-base64%%")]);
    let r = get("/healthz").send(&failing, &broken, at(T0));
    assert_eq!(r.status, 200, "liveness reads no variable");

    let r = get("/readyz").send(&failing, &config(&[]), at(T0));
    assert_eq!((r.status, problem_type(&r)), (503, "unavailable".into()));
    assert!(
        !String::from_utf8_lossy(&r.body).contains("injected"),
        "{r:?}"
    );
    let r = get("/readyz").send(&TestStore::default(), &broken, at(T0));
    assert_eq!(r.status, 503);
    assert_eq!(
        r.body_json()["errors"][0]["pointer"],
        "/variables/mercoa_webhook_secret"
    );
    assert!(!String::from_utf8_lossy(&r.body).contains("not-base64"));
    let r = get("/readyz").send(&TestStore::default(), &config(&[]), at(T0));
    assert_eq!(r.body_json(), json!({"status": "ready"}));
}

#[test]
fn maintenance_sweeps_a_large_store_a_page_at_a_time_and_resumes() {
    let kv = TestStore::default();
    let cfg = config(&[]);
    // 2,500 stale claims (an hour old): more than two pages.
    let minute = at(T0).unix_seconds() / 60 - 60;
    for n in 0..2_500 {
        let task = tombstone_core::task_id("acme-vet", &format!("k-{n}")).unwrap();
        kv.inner
            .increment(&format!("claim/{task}/0/{minute}"), 1)
            .unwrap();
    }
    let mut cursor: Option<String> = None;
    let mut calls = 0;
    let mut removed = 0;
    loop {
        let query = cursor
            .as_ref()
            .map(|c| format!("cursor={}", percent_encode(c)))
            .unwrap_or_default();
        let page = post("/api/v1/maintenance/expire", b"")
            .query(&query)
            .send(&kv, &cfg, at(T0))
            .body_json();
        calls += 1;
        assert!(page["keys_scanned"].as_u64().unwrap() <= 1_000, "{page}");
        removed += page["claims_removed"].as_u64().unwrap();
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(calls < 10);
    }
    assert_eq!((calls, removed), (3, 2_500));
    assert!(kv.keys().is_empty());
    assert_eq!(kv.key_scans.get(), 0, "never every key at once");
}
