//! What an operator sees: one JSON log line per request on stderr, and Prometheus metrics on
//! their own address, checked after a known sequence of requests.

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::Value;

use crate::support::*;

/// The samples of a metric, by their label set, from Prometheus' text format.
pub(crate) fn samples(text: &str, metric: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name_labels, value) = l.rsplit_once(' ')?;
            let (name, labels) = match name_labels.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (name_labels, ""),
            };
            (name == metric).then(|| (labels.to_owned(), value.parse().unwrap()))
        })
        .collect()
}

#[test]
fn a_known_sequence_is_logged_line_by_line_and_counted() {
    let kv = scratch("telemetry");
    let log = kv.with_file_name("stderr.log");
    let metrics_port = free_port();
    let metrics_listen = format!("127.0.0.1:{metrics_port}");
    let server = Server::spawn_with_stderr(
        "127.0.0.1:0",
        &[
            "--kv",
            kv.to_str().unwrap(),
            "--metrics-listen",
            &metrics_listen,
            "--fail-writes-to",
            "task/",
        ],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let org = "org-that-must-not-be-logged";
    let mercoa = std::fs::read(
        tombstone_tests::conformance_dir().join("payloads/mercoa/00-doc-example-verbatim.json"),
    )
    .unwrap();
    // 1 refused for now (every task write fails), 1 invalid JSON, 1 unknown route, 1 health
    // check, 1 dry run, 1 delivery listing.
    let webhook = format!("/api/v1/webhooks/mercoa/{org}");
    assert_eq!(server.post(&webhook, &[], &mercoa).status, 503);
    assert_eq!(server.post(&webhook, &[], b"{not json").status, 400);
    assert_eq!(server.get("/nope").status, 404);
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(
        server
            .post(
                &format!("/api/v1/convert?organization_id={org}"),
                &[],
                &mercoa
            )
            .status,
        200
    );
    assert_eq!(server.get("/api/v1/deliveries").status, 200);

    let text = reqwest_like_get(&metrics_listen, "/metrics");
    let requests = samples(&text, "tombstone_requests_total");
    let route = "/api/v1/webhooks/{source}/{organization_id}";
    assert_eq!(
        requests[&format!("route=\"{route}\",status=\"503\"")],
        1.0,
        "{text}"
    );
    assert_eq!(requests[&format!("route=\"{route}\",status=\"400\"")], 1.0);
    assert_eq!(requests["route=\"-\",status=\"404\""], 1.0);
    assert_eq!(requests["route=\"/healthz\",status=\"200\""], 1.0);
    assert_eq!(requests["route=\"/api/v1/convert\",status=\"200\""], 1.0);
    assert_eq!(requests.values().sum::<f64>(), 6.0);
    let outcomes = samples(&text, "tombstone_outcomes_total");
    assert_eq!(outcomes["outcome=\"unavailable\""], 1.0);
    assert_eq!(outcomes["outcome=\"invalid-json\""], 1.0);
    assert_eq!(outcomes["outcome=\"not-found\""], 1.0);
    assert_eq!(outcomes["outcome=\"ok\""], 3.0);
    let refused = samples(&text, "tombstone_not_accepted_total");
    assert_eq!(refused["source=\"mercoa\",status=\"503\""], 1.0, "{text}");
    let letters = samples(&text, "tombstone_dead_letters_total");
    assert_eq!(letters["reason=\"exhausted\""], 0.0);
    let durations = samples(&text, "tombstone_request_duration_seconds_count");
    assert_eq!(durations.values().sum::<f64>(), 6.0);
    let kv_ops = samples(&text, "tombstone_kv_operation_duration_seconds_count");
    assert!(
        kv_ops["operation=\"set\",result=\"error\""] >= 1.0,
        "{kv_ops:?}"
    );
    assert!(
        kv_ops["operation=\"get\",result=\"ok\""] >= 2.0,
        "{kv_ops:?}"
    );

    // Then the README's three requests on a store that works: a deletion, its retry, and an
    // invalid payload; the deletion's line carries the task id, and the metrics are the README's.
    let kv2 = kv.with_file_name("kv2.sqlite");
    let log2 = kv.with_file_name("stderr2.log");
    let metrics_listen2 = format!("127.0.0.1:{}", free_port());
    let second = Server::spawn_with_stderr(
        "127.0.0.1:0",
        &[
            "--kv",
            kv2.to_str().unwrap(),
            "--log-format",
            "json",
            "--metrics-listen",
            &metrics_listen2,
        ],
        Stdio::from(std::fs::File::create(&log2).unwrap()),
    );
    let scheduled = second.post(&webhook, &[], &mercoa).json();
    assert_eq!(scheduled["status"], "scheduled");
    let duplicate = second.post(&webhook, &[], &mercoa).json();
    assert_eq!(duplicate["status"], "duplicate");
    assert_eq!(
        second
            .post(&webhook, &[], br#"{"eventType":"invoice.deleted"}"#)
            .status,
        422
    );
    let text = reqwest_like_get(&metrics_listen2, "/metrics");
    let requests = samples(&text, "tombstone_requests_total");
    assert_eq!(
        requests[&format!("route=\"{route}\",status=\"200\"")],
        2.0,
        "{text}"
    );
    assert_eq!(requests[&format!("route=\"{route}\",status=\"422\"")], 1.0);
    let outcomes = samples(&text, "tombstone_outcomes_total");
    assert_eq!(outcomes["outcome=\"scheduled\""], 1.0, "{text}");
    assert_eq!(outcomes["outcome=\"duplicate\""], 1.0);
    assert_eq!(outcomes["outcome=\"validation\""], 1.0);
    assert_eq!(
        samples(&text, "tombstone_not_accepted_total").len(),
        0,
        "{text}"
    );
    drop(server);
    drop(second);

    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .chain(
            std::fs::read_to_string(&log2)
                .unwrap()
                .lines()
                .collect::<Vec<_>>(),
        )
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object ({e}): {l}"))
        })
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "tombstone::request")
        .collect();
    assert_eq!(requests.len(), 9, "{lines:#?}");
    for line in &requests {
        for field in [
            "timestamp",
            "method",
            "route",
            "status",
            "duration_ms",
            "outcome",
        ] {
            assert!(!line[field].is_null(), "{field} in {line}");
        }
        assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    }
    let first = requests[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["route"], route);
    assert_eq!(first["status"], 503);
    assert_eq!(first["problem"], "unavailable");
    let deletion = requests[6];
    assert_eq!(deletion["outcome"], "scheduled");
    assert_eq!(deletion["task_id"], scheduled["task_id"]);
    assert!(deletion["problem"].is_null());
    assert_eq!(requests[7]["outcome"], "duplicate");
    assert_eq!(
        (
            requests[8]["status"].clone(),
            requests[8]["problem"].clone()
        ),
        (422.into(), "validation".into())
    );
    // The refusal was logged too, with what failed.
    assert!(lines.iter().any(|l| l["target"] == "tombstone::delivery"
        && l["status"] == 503
        && l["reason"].as_str().is_some_and(|r| r.contains("injected"))));
    // Never a path's organization, a header value or a payload id.
    let all = std::fs::read_to_string(&log).unwrap() + &std::fs::read_to_string(&log2).unwrap();
    for secret in [
        org,
        "in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9",
        "application/json",
    ] {
        assert!(!all.contains(secret), "the log holds {secret}");
    }
}

/// A GET on a fresh connection, its body as text.
pub(crate) fn reqwest_like_get(addr: &str, path: &str) -> String {
    let reply = try_request(addr, "GET", path, &[], b"").unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.headers["content-type"].starts_with("text/plain; version=0.0.4"));
    String::from_utf8(reply.body).unwrap()
}

#[test]
fn the_text_log_format_is_for_people() {
    let kv = scratch("telemetry-text");
    let log = kv.with_file_name("stderr.log");
    let server = Server::spawn_with_stderr(
        "127.0.0.1:0",
        &["--kv", kv.to_str().unwrap(), "--log-format", "text"],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    assert_eq!(server.get("/healthz").status, 200);
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("tombstone::request"))
        .unwrap_or_else(|| panic!("no request line in {text:?}"));
    assert!(serde_json::from_str::<Value>(line).is_err(), "{line}");
    for part in ["INFO", "/healthz", "status=200", "method=", "duration_ms="] {
        assert!(line.contains(part), "{part} in {line}");
    }
}
