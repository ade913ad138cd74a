//! A trusted gateway under an attacker's requests: bodies bounded before they are buffered on
//! every route, declared or chunked, fast or dripping, with the server's memory measured.

use std::time::Duration;

use crate::support::*;

const FIFTY_MIB: usize = 50 << 20;

/// The server's peak resident memory (`VmHWM`) may grow by at most this over all the large
/// bodies below: less than one of them (the component reads at most 1 MiB + 1 of each; the host
/// drains the rest frame by frame).
const RSS_GROWTH_BOUND_KIB: u64 = 32 << 10;

fn head(method: &str, path: &str, server: &Server, framing: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Idempotency-Key: k-1\r\nX-Organization-Id: acme-vet\r\n{framing}",
        server.addr
    )
}

#[test]
fn every_body_is_bounded_before_it_is_buffered_and_the_next_request_is_served() {
    let kv = scratch("bodies");
    let server = Server::start(&kv, &["--var", "body_timeout_ms=1000"]);
    // Warm the server up, so the measurement starts from a server that has run a request.
    assert_eq!(canonical(&server, "warm-up", CANONICAL).status, 202);
    server.reset_peak_rss();
    let rss_before = server.peak_rss_kib();
    let routes = [
        ("POST", "/api/v1/webhooks/mercoa/acme-vet", "webhook body"),
        ("POST", "/api/v1/invoice-deletions", "canonical body"),
        ("POST", "/api/v1/convert", "webhook body"),
        ("GET", "/healthz", "body"),
        ("POST", "/api/v1/deliveries/dispatch", "body"),
    ];
    for (method, path, noun) in routes {
        // Declared: refused before a byte of the body is read, with the core's own document.
        let (reply, took) = server.stream(
            &head(
                method,
                path,
                &server,
                &format!("Content-Length: {FIFTY_MIB}"),
            ),
            FIFTY_MIB,
            64 << 10,
            Duration::ZERO,
            false,
        );
        let (status, kind, _) = reply.problem();
        assert_eq!(
            (status, kind.as_str()),
            (413, "payload-too-large"),
            "declared {path}"
        );
        let detail = reply.json()["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.starts_with(&format!("The {noun} is {FIFTY_MIB} bytes; the limit is")),
            "{path}: {detail}"
        );
        assert!(took < Duration::from_secs(5), "declared {path}: {took:?}");
        // Chunked: the component stops one byte past the route's limit.
        let (reply, took) = server.stream(
            &head(method, path, &server, "Transfer-Encoding: chunked"),
            FIFTY_MIB,
            64 << 10,
            Duration::ZERO,
            true,
        );
        let (status, kind, _) = reply.problem();
        assert_eq!(
            (status, kind.as_str()),
            (413, "payload-too-large"),
            "chunked {path}"
        );
        assert!(
            reply.json()["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("The {noun} is longer than")),
            "{reply:?}"
        );
        assert!(took < Duration::from_secs(5), "chunked {path}: {took:?}");
    }
    // Dripping bodies: a few bytes now and then, past body_timeout_ms, on every route.
    for ((method, path, _), chunked) in routes
        .into_iter()
        .flat_map(|route| [(route, false), (route, true)])
    {
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_owned()
        } else {
            "Content-Length: 1000".to_owned()
        };
        let (reply, took) = server.stream(
            &head(method, path, &server, &framing),
            1000,
            10,
            Duration::from_millis(200),
            chunked,
        );
        assert_eq!(
            reply.problem(),
            (408, "request-timeout".into(), "".into()),
            "{method} {path} chunked: {chunked}"
        );
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(4),
            "{method} {path} chunked: {chunked}: {took:?}"
        );
    }
    let peak = server.peak_rss_kib();
    let growth = peak.saturating_sub(rss_before);
    println!(
        "bodies: RSS {rss_before} KiB before, {peak} KiB at the peak (+{growth} KiB) over 10 \
         bodies of 50 MiB and {} dripping ones",
        routes.len() * 2
    );
    assert!(growth < RSS_GROWTH_BOUND_KIB, "RSS grew by {growth} KiB");
    // The server is still itself.
    assert_eq!(server.get("/healthz").status, 200);
    let r = canonical(&server, "after", CANONICAL);
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (202, "scheduled".into())
    );
}
