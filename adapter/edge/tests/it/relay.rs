//! Relay mode with a scripted upstream: what is sent, and how each kind of answer is judged.

use serde_json::{json, Value};
use tombstone_core::canonical::DeletionStatus;
use tombstone_core::{Context, OrganizationId};
use tombstone_edge::{UpstreamError, UpstreamResponse};

use crate::support::*;

const UPSTREAM: &str = "https://upstream.test:8443/api/v1/invoice-deletions";

/// Relay mode to [`UPSTREAM`], with `extra` variables.
fn relay_config(
    extra: &[(&str, &str)],
) -> Result<tombstone_edge::Config, tombstone_edge::ConfigError> {
    let mut vars = vec![
        ("upstream_url", UPSTREAM),
        ("upstream_origin", "https://upstream.test:8443"),
    ];
    vars.extend_from_slice(extra);
    config(&vars)
}

/// The canonical response the upstream would give to `body` with `key` for acme-vet at T0.
fn canonical_response(body: &str, key: &str, status: DeletionStatus) -> String {
    let mut ctx = Context::new(OrganizationId::new("acme-vet").unwrap(), at(T0));
    ctx.idempotency_key = Some(tombstone_core::IdempotencyKey::new(key).unwrap());
    let conversion = tombstone_core::convert(body.as_bytes(), &ctx).unwrap();
    serde_json::to_string(&conversion.response(status)).unwrap()
}

fn accepted(body: &str, key: &str) -> UpstreamResponse {
    answer(
        202,
        "application/json",
        &canonical_response(body, key, DeletionStatus::Scheduled),
    )
}

#[test]
fn a_webhook_is_sent_upstream_as_the_canonical_request_convert_shows() {
    let kv = TestStore::default();
    let config = relay_config(&[("upstream_authorization", "Bearer s3cret")]);
    let body = payload("mercoa/00-doc-example-verbatim.json");
    let dry = post("/api/v1/convert", &body)
        .query("organization_id=acme-vet")
        .send(&kv, &config, at(T0));
    let dry: Value = dry.body_json();
    let key = dry["request"]["headers"]["Idempotency-Key"]
        .as_str()
        .unwrap();
    let canonical_body = serde_json::to_string(&dry["request"]["body"]).unwrap();
    // Pretty-printed: the sender gets the upstream's bytes, not a re-serialization.
    let upstream_answer = serde_json::to_string_pretty(
        &serde_json::from_str::<Value>(&canonical_response(
            &canonical_body,
            key,
            DeletionStatus::Scheduled,
        ))
        .unwrap(),
    )
    .unwrap();
    let upstream =
        ScriptedUpstream::answering([Ok(answer(202, "application/json", &upstream_answer))]);

    let r =
        post("/api/v1/webhooks/mercoa/acme-vet", &body).send_via(&kv, &upstream, &config, at(T0));
    assert_eq!(r.status, 200, "Mercoa's documented success status: {r:?}");
    assert_eq!(
        r.body,
        upstream_answer.as_bytes(),
        "the upstream's response, as it came"
    );
    let sent = upstream.sent.borrow();
    let sent = &sent[0];
    assert_eq!(sent.url, UPSTREAM);
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("idempotency-key"), Some(key));
    assert_eq!(sent.header("x-organization-id"), Some("acme-vet"));
    assert_eq!(sent.header("authorization"), Some("Bearer s3cret"));
    assert_eq!(sent.timeout_ms, 10_000);
    // Byte for byte the body inside the dry run's output.
    let convert_text = String::from_utf8(
        post("/api/v1/convert", &body)
            .query("organization_id=acme-vet")
            .send(&kv, &config, at(T0))
            .body,
    )
    .unwrap();
    let sent_body = String::from_utf8(sent.body.clone()).unwrap();
    assert!(
        convert_text.contains(&format!("\"body\":{sent_body}}},\"task_id\"")),
        "{sent_body} is not inside {convert_text}"
    );
    assert!(
        kv.keys().is_empty(),
        "relay mode keeps no state: {:?}",
        kv.keys()
    );
}

#[test]
fn every_route_answers_with_its_success_status_and_duplicates_come_from_upstream() {
    let kv = TestStore::default();
    let config = relay_config(&[]);
    for (source, file, query, status) in WEBHOOK_ROUTE_CASES {
        let body = payload(file);
        let path = format!("/api/v1/webhooks/{source}/acme-vet");
        let dry = post("/api/v1/convert", &body)
            .query(&format!("organization_id=acme-vet&{query}"))
            .send(&kv, &config, at(T0))
            .body_json();
        let key = dry["request"]["headers"]["Idempotency-Key"]
            .as_str()
            .unwrap();
        let canonical_body = serde_json::to_string(&dry["request"]["body"]).unwrap();
        let duplicate = canonical_response(&canonical_body, key, DeletionStatus::Duplicate);
        let upstream =
            ScriptedUpstream::answering([Ok(answer(200, "application/json", &duplicate))]);
        let r = post(&path, &body)
            .query(query)
            .send_via(&kv, &upstream, &config, at(T0));
        assert_eq!(
            (r.status, r.body_json()["status"].clone()),
            (status, json!("duplicate")),
            "{source}"
        );
    }
    let upstream = ScriptedUpstream::answering([Ok(accepted(CANONICAL, "k-1"))]);
    let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &config, at(T0));
    assert_eq!(
        (r.status, r.body_json()["status"].clone()),
        (202, json!("scheduled"))
    );
    assert!(kv.keys().is_empty());
}

#[test]
fn upstream_verdicts_on_the_delivery_are_relayed_as_they_came() {
    let kv = TestStore::default();
    let config = relay_config(&[]);
    let problem = r#"{"type":"urn:tombstone:problem:idempotency-key-reuse","title":"t","status":422,"detail":"d","errors":[]}"#;
    let fastapi = r#"{"detail":[{"loc":["body"],"msg":"field required"}]}"#;
    let cases = [
        (
            answer(422, "application/problem+json", problem),
            422,
            "application/problem+json",
            problem,
        ),
        (
            answer(422, "application/json", fastapi),
            422,
            "application/json",
            fastapi,
        ),
        (
            answer(400, "application/problem+json", problem),
            400,
            "application/problem+json",
            problem,
        ),
        (
            answer(413, "application/problem+json", problem),
            413,
            "application/problem+json",
            problem,
        ),
    ];
    for (given, status, content_type, body) in cases {
        let upstream = ScriptedUpstream::answering([Ok(given)]);
        let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &config, at(T0));
        assert_eq!(r.status, status);
        assert_eq!(r.header("content-type"), Some(content_type));
        assert_eq!(r.body, body.as_bytes());
    }
    assert!(
        kv.keys().is_empty(),
        "verdicts keep nothing: {:?}",
        kv.keys()
    );
}

#[test]
fn nothing_the_upstream_did_not_confirm_is_answered_scheduled_it_is_queued() {
    let config = relay_config(&[]);
    let other_task = canonical_response(CANONICAL, "another-key", DeletionStatus::Scheduled);
    let mut missing_field: Value = serde_json::from_str(&canonical_response(
        CANONICAL,
        "k-1",
        DeletionStatus::Scheduled,
    ))
    .unwrap();
    missing_field
        .as_object_mut()
        .unwrap()
        .remove("scheduled_for");
    let missing_field = missing_field.to_string();
    let bad_time = canonical_response(CANONICAL, "k-1", DeletionStatus::Scheduled)
        .replace("2026-03-01T12:00:00Z", "yesterday");
    let cases: Vec<(Result<UpstreamResponse, UpstreamError>, &str, &str)> = vec![
        (
            Ok(answer(500, "text/plain", "boom")),
            "server-error",
            "failed with status 500",
        ),
        (
            Ok(answer(503, "text/plain", "")),
            "server-error",
            "failed with status 503",
        ),
        (
            Err(UpstreamError::Timeout(10_000)),
            "timeout",
            "did not answer within 10000 ms",
        ),
        (
            Err(UpstreamError::Unreachable("ConnectionRefused".into())),
            "unreachable",
            "could not be reached",
        ),
        (Err(UpstreamError::Denied), "denied", "denied"),
        (Err(UpstreamError::TooLarge), "too-large", "longer than"),
        (
            Ok(answer(200, "application/json", "garbage")),
            "invalid-response",
            "not JSON",
        ),
        (
            Ok(answer(200, "application/json", "{}")),
            "invalid-response",
            "required property",
        ),
        (
            Ok(answer(202, "application/json", &other_task)),
            "invalid-response",
            "task_id is not this delivery's",
        ),
        (
            Ok(answer(202, "application/json", &missing_field)),
            "invalid-response",
            "scheduled_for",
        ),
        (
            Ok(answer(202, "application/json", &bad_time)),
            "invalid-response",
            "malformed",
        ),
        (
            Ok(answer(401, "application/problem+json", "{}")),
            "no-verdict",
            "no verdict on this delivery",
        ),
        (
            Ok(answer(404, "text/html", "<html>")),
            "no-verdict",
            "no verdict",
        ),
        (
            Ok(answer(429, "application/json", "{}")),
            "rate-limited",
            "slow down",
        ),
        (
            Ok(answer(409, "application/problem+json", "{}")),
            "conflict",
            "still processing",
        ),
        (Ok(answer(302, "text/html", "")), "redirect", "redirected"),
    ];
    let task_id = tombstone_core::task_id("acme-vet", "k-1").unwrap();
    for (n, (given, outcome, reason)) in cases.into_iter().enumerate() {
        let kv = TestStore::default();
        let upstream = ScriptedUpstream::answering([given]);
        let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &config, at(T0));
        assert_eq!(
            (r.status, r.body_json()["status"].clone()),
            (202, json!("queued")),
            "case {n}: {r:?}"
        );
        assert_eq!(r.body_json()["task_id"], task_id.as_str());
        assert_eq!(
            r.header("location"),
            Some(format!("/api/v1/deliveries/{task_id}").as_str())
        );
        let delivery = get(&format!("/api/v1/deliveries/{task_id}"))
            .send(&kv, &config, at(T0))
            .body_json();
        assert_eq!(delivery["state"], "queued", "case {n}");
        let attempt = &delivery["attempts"][0];
        assert_eq!(attempt["outcome"], outcome, "case {n}: {delivery}");
        let detail = attempt["detail"].as_str().unwrap();
        assert!(
            detail.contains(reason),
            "case {n}: {detail:?} lacks {reason:?}"
        );
        assert_eq!(delivery["body"], CANONICAL);
        assert_eq!(delivery["received_at"], T0);
        assert_eq!(delivery["attempt_count"], 1);
        // The delivery, its index entry and the counter that numbered it (and the circuit
        // and the next-due hint): nothing else.
        let mut keys = kv.keys();
        keys.retain(|k| !k.starts_with("upstream/circuit") && k != "deliveries/next-due");
        assert_eq!(
            keys,
            [
                "deliveries/last-seq".to_owned(),
                "deliveries/seq/1".to_owned(),
                format!("delivery/{task_id}")
            ],
            "case {n}"
        );
    }
}

#[test]
fn a_relay_misconfiguration_names_the_variable_and_keeps_nothing_unchecked() {
    let kv = TestStore::default();
    let upstream = ScriptedUpstream::default();
    for (vars, variable) in [
        (
            vec![("upstream_url", "ftp://upstream.test/x")],
            "upstream_url",
        ),
        (vec![("upstream_url", "upstream.test/x")], "upstream_url"),
        (
            vec![("upstream_url", "https://user:pw@upstream.test/x")],
            "upstream_url",
        ),
        (
            vec![
                ("upstream_url", "http://upstream.test/x"),
                ("upstream_timeout_ms", "0"),
            ],
            "upstream_timeout_ms",
        ),
        (
            vec![
                ("upstream_url", "http://upstream.test/x"),
                ("upstream_timeout_ms", "60001"),
            ],
            "upstream_timeout_ms",
        ),
        (
            vec![
                ("upstream_url", "http://upstream.test/x"),
                ("retry_schedule_seconds", "0,pw"),
            ],
            "retry_schedule_seconds",
        ),
        (
            vec![
                ("upstream_url", "http://upstream.test/x"),
                ("circuit_failure_threshold", "0"),
            ],
            "circuit_failure_threshold",
        ),
    ] {
        let error = config(&vars).unwrap_err();
        assert_eq!(error.variable, variable, "{vars:?}");
        assert!(!error.to_string().contains("pw"), "never echoes a value");
        let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &Err(error), at(T0));
        assert_eq!(r.status, 503);
        let answered = format!("{} {:?}", String::from_utf8_lossy(&r.body), r.events);
        assert!(!answered.contains("pw"), "never echoes a value: {answered}");
        assert!(
            answered.contains(variable),
            "names the variable: {answered}"
        );
    }
    assert!(upstream.sent.borrow().is_empty(), "nothing was sent");
    assert!(
        kv.keys().is_empty(),
        "nothing unchecked is kept: {:?}",
        kv.keys()
    );
}

#[test]
fn origins_parse_as_allowed_outbound_hosts_write_them() {
    use tombstone_edge::config::Origin;
    for (text, origin) in [
        ("https://api.example", "https://api.example:443"),
        ("https://api.example/", "https://api.example:443"),
        ("http://API.example:8080", "http://api.example:8080"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
    ] {
        assert_eq!(Origin::parse(text).unwrap().to_string(), origin, "{text}");
    }
    for bad in [
        "",
        "api.example",
        "https://api.example/path",
        "ftp://x",
        "https://",
    ] {
        assert!(Origin::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Origin::of_url("https://api.example/api/v1/invoice-deletions").unwrap(),
        Origin::parse("https://api.example").unwrap()
    );
}

#[test]
fn store_mode_never_calls_an_upstream() {
    let kv = TestStore::default();
    let upstream = ScriptedUpstream::default();
    let r = canonical(CANONICAL, "k-1").send_via(&kv, &upstream, &config(&[]), at(T0));
    assert_eq!(r.status, 202);
    assert!(upstream.sent.borrow().is_empty());
}
