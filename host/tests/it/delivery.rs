//! Every deletion delivered with no human and no provider retry, over real HTTP, on both hosts:
//! an edge in relay mode (`tombstone serve` or `spin up`) in front of a real upstream (a
//! `tombstone serve` in store mode, the canonical service), through a [`Gate`] that can fail the
//! way an upstream fails: 503s, refused connections, hangs, canned answers.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::on_both_hosts;
use crate::support::*;

/// What the gate does with the next request.
#[derive(Debug, Clone)]
enum Mode {
    /// Forwards it to the upstream and relays the answer.
    Forward,
    /// Answers this status (503: an upstream that is down), with these headers.
    Fail(u16, Vec<(&'static str, &'static str)>),
    /// Refuses connections: nothing listens on its port.
    Refuse,
    /// Never answers.
    Hang,
}

/// A request the gate received: when, its key and organization, and the upstream's `status`
/// member when it forwarded one.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    key: String,
    organization: String,
    answered: Option<String>,
}

/// A canned answer: a status and its headers.
type Canned = (u16, Vec<(&'static str, &'static str)>);

/// An HTTP front for the upstream that fails on command.
struct Gate {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    /// Answers to give before the mode's, one per request.
    script: Arc<Mutex<VecDeque<Canned>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Gate {
    fn start(upstream: &str, mode: Mode) -> Gate {
        let port = free_port();
        let gate = Gate {
            port,
            mode: Arc::new(Mutex::new(mode)),
            script: Arc::default(),
            seen: Arc::default(),
            stop: Arc::default(),
        };
        let (mode, script, seen, stop) = (
            gate.mode.clone(),
            gate.script.clone(),
            gate.seen.clone(),
            gate.stop.clone(),
        );
        let upstream = upstream.to_owned();
        std::thread::spawn(move || {
            let mut listener: Option<TcpListener> = None;
            while !stop.load(Ordering::Relaxed) {
                let refusing = matches!(*mode.lock().unwrap(), Mode::Refuse);
                if refusing {
                    // Closed: a connection is refused.
                    listener = None;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let l = listener.get_or_insert_with(|| {
                    let l = TcpListener::bind(("127.0.0.1", port)).expect("the gate's port");
                    l.set_nonblocking(true).unwrap();
                    l
                });
                match l.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let (mode, script, seen, upstream) =
                            (mode.clone(), script.clone(), seen.clone(), upstream.clone());
                        std::thread::spawn(move || {
                            serve(stream, &mode, &script, &seen, &upstream);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        gate
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn then_answer(&self, answers: &[Canned]) {
        self.script.lock().unwrap().extend(answers.iter().cloned());
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Serves one connection's requests as the gate's mode says.
fn serve(
    mut stream: TcpStream,
    mode: &Mutex<Mode>,
    script: &Mutex<VecDeque<Canned>>,
    seen: &Mutex<Vec<Seen>>,
    upstream: &str,
) {
    while let Some(request) = crate::relay::read_request(&mut stream) {
        let at = Instant::now();
        let key = request.header("idempotency-key").unwrap_or("").to_owned();
        let organization = request.header("x-organization-id").unwrap_or("").to_owned();
        let scripted = script.lock().unwrap().pop_front();
        let mode = match scripted {
            Some((status, headers)) => Mode::Fail(status, headers),
            None => mode.lock().unwrap().clone(),
        };
        let (answer, answered) = match mode {
            Mode::Refuse => return,
            Mode::Hang => {
                seen.lock().unwrap().push(Seen {
                    at,
                    key,
                    organization,
                    answered: None,
                });
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            Mode::Fail(status, headers) => {
                let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n");
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                (head.into_bytes(), None)
            }
            Mode::Forward => {
                let Ok(reply) = try_request(
                    upstream,
                    "POST",
                    "/api/v1/invoice-deletions",
                    &[
                        ("Content-Type", "application/json"),
                        ("Idempotency-Key", &key),
                        ("X-Organization-Id", &organization),
                    ],
                    &request.body,
                ) else {
                    return;
                };
                let status = reply.json()["status"].as_str().map(str::to_owned);
                let mut raw = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    reply.status,
                    reply.body.len()
                )
                .into_bytes();
                raw.extend_from_slice(&reply.body);
                (raw, status)
            }
        };
        seen.lock().unwrap().push(Seen {
            at,
            key,
            organization,
            answered,
        });
        if stream.write_all(&answer).is_err() {
            return;
        }
    }
}

/// `tombstone serve` on a scratch store named `name`, relaying to `gate`'s upstream, with `args`.
fn serve_relaying_to(gate: &Gate, name: &str, args: &[&str]) -> Server {
    let url = format!("upstream_url={}/api/v1/invoice-deletions", gate.origin());
    let origin = format!("upstream_origin={}", gate.origin());
    let mut all = vec!["--var", &url, "--var", &origin];
    all.extend(args);
    Server::start(&scratch(name), &all)
}

/// The edge's relay variables, to the gate, with a short schedule and circuit for tests.
fn relay_vars(gate: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("upstream_url", format!("{gate}/api/v1/invoice-deletions")),
        ("upstream_origin", gate.to_owned()),
        ("upstream_timeout_ms", "1000".to_owned()),
        ("retry_schedule_seconds", "0,1,1,2,2,3,3,5".to_owned()),
        ("circuit_open_seconds", "1".to_owned()),
    ];
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        vars.push((name, (*value).to_owned()));
    }
    vars
}

fn launch_edge(host: Host, listen: &str, store: Store<'_>, vars: &[(&str, String)]) -> Server {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
    Server::launch(host, listen, store, &vars)
}

/// One deletion of each route: a provider's webhook (its own route) or a canonical request,
/// for `org`.
struct Deletion {
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    source: &'static str,
}

fn payload(file: &str) -> Vec<u8> {
    std::fs::read(
        tombstone_tests::conformance_dir()
            .join("payloads")
            .join(file),
    )
    .unwrap()
}

/// Deletions of every source for `org`: Mercoa, WillSuite, HighLevel (on its own route and on
/// `auto`) and a canonical request.
fn deletions(org: &str) -> Vec<Deletion> {
    let webhook = |source: &'static str, route: &str, file: &str, query: &str| Deletion {
        path: format!("/api/v1/webhooks/{route}/{org}{query}"),
        headers: vec![],
        body: payload(file),
        source,
    };
    vec![
        webhook(
            "mercoa",
            "mercoa",
            "mercoa/00-doc-example-verbatim.json",
            "",
        ),
        webhook(
            "willsuite",
            "willsuite",
            "willsuite/01-doc-example-verbatim.json",
            "?clinic_id=clinic-9",
        ),
        webhook(
            "highlevel",
            "highlevel",
            "highlevel/01-webhook-doc-example-verbatim.json",
            "",
        ),
        webhook(
            "highlevel",
            "auto",
            "highlevel/05-webhook-minimal-identifiers-only.json",
            "",
        ),
        Deletion {
            path: "/api/v1/invoice-deletions".into(),
            headers: vec![
                ("Idempotency-Key", format!("{org}-canonical")),
                ("X-Organization-Id", org.to_owned()),
            ],
            body: CANONICAL.as_bytes().to_vec(),
            source: "canonical",
        },
    ]
}

impl Deletion {
    fn send(&self, server: &Server) -> Reply {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        server.post(&self.path, &headers, &self.body)
    }
}

/// The task ids the upstream stored.
fn upstream_tasks(upstream_kv: &std::path::Path) -> Vec<String> {
    stored_tasks(upstream_kv)
}

/// `deletions` deletions reached the upstream, and each was scheduled there exactly once; the
/// counts per deletion.
fn assert_each_scheduled_once(
    gate: &Gate,
    deletions: usize,
) -> BTreeMap<(String, String), (usize, usize)> {
    let counts = per_deletion(gate);
    assert_eq!(counts.len(), deletions, "{counts:?}");
    assert!(
        counts.values().all(|c| c.1 == 1),
        "scheduled once each: {counts:?}"
    );
    counts
}

/// Requests the gate forwarded, per deletion (organization and key): how many, and how many the
/// upstream answered `scheduled`.
fn per_deletion(gate: &Gate) -> BTreeMap<(String, String), (usize, usize)> {
    let mut counts: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for seen in gate.seen() {
        if let Some(answered) = &seen.answered {
            let entry = counts.entry((seen.organization, seen.key)).or_default();
            entry.0 += 1;
            if answered == "scheduled" {
                entry.1 += 1;
            }
        }
    }
    counts
}

/// A running upstream: `tombstone serve` in store mode, the canonical service.
fn upstream(name: &str) -> (Server, std::path::PathBuf) {
    let kv = scratch(name);
    (Server::start(&kv, &["--dispatch-every-ms", "0"]), kv)
}

fn outage_then_recovery(host: Host) {
    let (upstream, upstream_kv) = upstream(&format!("outage-upstream-{host:?}"));
    let gate = Gate::start(&upstream.addr, Mode::Fail(503, vec![]));
    let dir = scratch_dir(&format!("outage-edge-{host:?}"));
    let edge = launch_edge(
        host,
        "127.0.0.1:0",
        Store::Dir(&dir),
        &relay_vars(&gate.origin(), &[]),
    );

    // The outage: first every request gets a 503, then connections are refused. Deliveries of
    // every source keep arriving, and the providers resend some.
    let mut accepted = 0;
    let mut queued = 0;
    let mut resent = 0;
    let mut expected = Vec::new();
    for (window, mode) in [("fail", Mode::Fail(503, vec![])), ("refuse", Mode::Refuse)] {
        gate.set(mode);
        for n in 0..3 {
            let org = format!("{window}-{n}");
            for deletion in deletions(&org) {
                let reply = deletion.send(&edge);
                let status = success_status(deletion.source);
                assert_eq!(
                    reply.status, status,
                    "{host:?} {} during the outage: {reply:?}",
                    deletion.path
                );
                accepted += 1;
                let body = reply.json();
                assert_eq!(body["status"], "queued", "{reply:?}");
                queued += 1;
                expected.push((org.clone(), body["task_id"].as_str().unwrap().to_owned()));
                if n == 0 {
                    // The provider's own retry: the same answer.
                    let again = deletion.send(&edge);
                    assert_eq!(
                        (again.status, again.body.clone()),
                        (reply.status, reply.body)
                    );
                    resent += 1;
                }
            }
        }
    }
    assert!(
        upstream_tasks(&upstream_kv).is_empty(),
        "nothing reached the upstream yet"
    );

    // Recovery, and no admin call: every deletion reaches the upstream on its own.
    gate.set(Mode::Forward);
    let total = expected.len();
    let took = wait_for(&edge, Duration::from_secs(60), || {
        upstream_tasks(&upstream_kv).len() >= total
    });
    let counts = per_deletion(&gate);
    assert_eq!(
        counts.len(),
        total,
        "one deletion upstream per delivery: {counts:?}"
    );
    for ((org, key), (requests, scheduled)) in &counts {
        assert_eq!(
            *scheduled, 1,
            "{org}/{key} scheduled {scheduled} times in {requests}"
        );
    }
    assert_eq!(upstream_tasks(&upstream_kv).len(), total);
    // Each delivery is delivered, with its attempts.
    let mut attempts = Vec::new();
    wait_for(&edge, Duration::from_secs(10), || {
        attempts.clear();
        expected.iter().all(|(_, task)| {
            let d = edge.get(&format!("/api/v1/deliveries/{task}")).json();
            attempts.push(d["attempt_count"].as_u64().unwrap_or(0));
            d["state"] == "delivered"
        })
    });
    let forwarded: usize = counts.values().map(|c| c.0).sum();
    println!(
        "outage on {host:?}: {accepted} accepted ({resent} resent by their provider), {queued} queued, \
         {} delivered; attempts per delivery {}..{} (mean {:.1}); {} requests upstream after recovery, \
         {} of them duplicates; recovery to the last delivery {:.1} s",
        counts.len(),
        attempts.iter().min().unwrap(),
        attempts.iter().max().unwrap(),
        attempts.iter().sum::<u64>() as f64 / attempts.len() as f64,
        forwarded,
        forwarded - total,
        took.as_secs_f64(),
    );
    // Within the schedule: its delays after the outage are at most a few seconds each.
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn on_workers_the_cron_trigger_delivers_a_queued_deletion_with_no_traffic() {
    if !Host::Workers.available() {
        return;
    }
    let (upstream, upstream_kv) = upstream("cron-upstream");
    let gate = Gate::start(&upstream.addr, Mode::Refuse);
    let dir = scratch_dir("cron-edge");
    let vars = relay_vars(&gate.origin(), &[]);
    let edge = launch_edge(Host::Workers, "127.0.0.1:0", Store::Dir(&dir), &vars);
    let deletion = &deletions("cron")[0];
    assert_eq!(deletion.send(&edge).json()["status"], "queued");
    gate.set(Mode::Forward);
    // No request comes: nothing is re-driven.
    std::thread::sleep(Duration::from_secs(3));
    assert!(upstream_tasks(&upstream_kv).is_empty());
    // The Cron Trigger (wrangler's GET /__scheduled runs it; no request reaches the Worker).
    let started = Instant::now();
    while upstream_tasks(&upstream_kv).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never delivered"
        );
        let ran = try_request(&edge.addr, "GET", "/__scheduled", &[], b"").unwrap();
        assert_eq!(ran.status, 200, "{ran:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let scheduled: usize = per_deletion(&gate).values().map(|c| c.1).sum();
    assert_eq!(scheduled, 1);
}

fn a_killed_edge_restarts_with_every_queued_delivery(host: Host) {
    let (upstream, upstream_kv) = upstream(&format!("kill-upstream-{host:?}"));
    let gate = Gate::start(&upstream.addr, Mode::Refuse);
    let dir = scratch_dir(&format!("kill-edge-{host:?}"));
    let listen = format!("127.0.0.1:{}", free_port());
    let vars = relay_vars(&gate.origin(), &[]);
    let edge = launch_edge(host, &listen, Store::Dir(&dir), &vars);
    const N: usize = 12;
    for i in 0..N {
        let reply = post_to(&edge.addr, &format!("kill-{i}"), CANONICAL);
        assert_eq!(reply.json()["status"], "queued", "{reply:?}");
    }
    edge.kill();
    gate.set(Mode::Forward);
    let edge = launch_edge(host, &listen, Store::Dir(&dir), &vars);
    wait_for(&edge, Duration::from_secs(60), || {
        // The gate records an answer as it relays it: wait for those records too.
        upstream_tasks(&upstream_kv).len() >= N && per_deletion(&gate).len() >= N
    });
    assert_each_scheduled_once(&gate, N);
}

/// Two edges on one Redis queue deliveries; one is killed and restarted; the upstream comes
/// back: each deletion is scheduled exactly once, and the two dispatchers seldom attempt the same
/// delivery at the same moment (the leases; counted).
fn two_edges_on_redis_lose_nothing_when_one_is_killed(host: Host) {
    let (upstream, upstream_kv) = upstream(&format!("redis-kill-upstream-{host:?}"));
    let gate = Gate::start(&upstream.addr, Mode::Fail(503, vec![]));
    let redis = crate::redis::RedisServer::start(&format!("redis-kill-{host:?}"));
    let config = redis.runtime_config();
    let vars = relay_vars(&gate.origin(), &[]);
    let listen = format!("127.0.0.1:{}", free_port());
    let a = launch_edge(host, &listen, Store::RuntimeConfig(&config), &vars);
    let b = launch_edge(host, "127.0.0.1:0", Store::RuntimeConfig(&config), &vars);
    const N: usize = 16;
    for i in 0..N {
        let edge = if i % 2 == 0 { &a } else { &b };
        let reply = post_to(&edge.addr, &format!("redis-kill-{i}"), CANONICAL);
        assert_eq!(reply.json()["status"], "queued", "{reply:?}");
    }
    a.kill();
    let a = launch_edge(host, &listen, Store::RuntimeConfig(&config), &vars);
    gate.set(Mode::Forward);
    wait_for(&b, Duration::from_secs(60), || {
        let _ = try_request(&a.addr, "GET", "/healthz", &[], b"");
        // The gate records an answer as it relays it: wait for those records too.
        upstream_tasks(&upstream_kv).len() >= N && per_deletion(&gate).len() >= N
    });
    let counts = assert_each_scheduled_once(&gate, N);
    let twice = counts.values().filter(|c| c.0 > 1).count();
    println!(
        "two {host:?} edges on Redis, one killed: {N} deliveries scheduled once each; \
         {twice} forwarded more than once after recovery"
    );
}

fn retry_after_410_and_verdicts_follow_the_rules(host: Host) {
    let (upstream, _) = upstream(&format!("rules-upstream-{host:?}"));
    let gate = Gate::start(&upstream.addr, Mode::Forward);
    let dir = scratch_dir(&format!("rules-edge-{host:?}"));
    // No attempt while the sender waits (the schedule's first delay is 1 s): every attempt is
    // the dispatcher's, so each rule is seen on its own.
    let vars = relay_vars(&gate.origin(), &[("retry_schedule_seconds", "1,1,1")]);
    let edge = launch_edge(host, "127.0.0.1:0", Store::Dir(&dir), &vars);
    let delivery = |key: &str| {
        let task = tombstone_core::task_id("acme-vet", key).unwrap();
        edge.get(&format!("/api/v1/deliveries/{task}")).json()
    };
    let attempts_of = |key: &str| -> Vec<Instant> {
        gate.seen()
            .into_iter()
            .filter(|s| s.key == key)
            .map(|s| s.at)
            .collect()
    };

    // 429 with Retry-After: 3 — the next attempt is not sooner, though the schedule says 1 s.
    gate.then_answer(&[(429, vec![("Retry-After", "3")])]);
    assert_eq!(
        post_to(&edge.addr, "rate", CANONICAL).json()["status"],
        "queued"
    );
    wait_for(&edge, Duration::from_secs(20), || {
        delivery("rate")["state"] == "delivered"
    });
    let at = attempts_of("rate");
    assert_eq!(at.len(), 2, "{host:?}");
    let gap = at[1] - at[0];
    assert!(
        gap >= Duration::from_millis(2_900),
        "{host:?}: retried after {gap:?}"
    );

    // 410 and 422: dead letters after one attempt, never attempted again.
    for (key, status, reason) in [("gone", 410, "gone"), ("verdict", 422, "verdict")] {
        gate.then_answer(&[(status, vec![])]);
        assert_eq!(
            post_to(&edge.addr, key, CANONICAL).json()["status"],
            "queued"
        );
        wait_for(&edge, Duration::from_secs(20), || {
            delivery(key)["state"] == "dead"
        });
        let dead = delivery(key);
        assert_eq!(dead["dead_reason"], reason);
        assert_eq!(dead["attempt_count"], 1);
        std::thread::sleep(Duration::from_millis(2_500));
        assert_eq!(
            attempts_of(key).len(),
            1,
            "{key}: attempted after a final answer"
        );
    }

    // An exhausted schedule: a dead letter that lists every attempt.
    gate.then_answer(&[(503, vec![]), (503, vec![]), (503, vec![])]);
    post_to(&edge.addr, "exhausted", CANONICAL);
    wait_for(&edge, Duration::from_secs(30), || {
        delivery("exhausted")["state"] == "dead"
    });
    let dead = delivery("exhausted");
    assert_eq!(dead["dead_reason"], "exhausted");
    assert_eq!(dead["attempts"].as_array().unwrap().len(), 3);
    assert!(dead["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["outcome"] == "server-error" && a["status"] == 503));
    let letters = edge.get("/api/v1/deliveries?state=dead").json();
    assert_eq!(letters["deliveries"].as_array().unwrap().len(), 3);

    // A replay puts the dead letter back in the queue; the upstream now takes it, once.
    let task = tombstone_core::task_id("acme-vet", "exhausted").unwrap();
    let replay = edge.post(&format!("/api/v1/deliveries/{task}/replay"), &[], b"");
    assert_eq!(replay.status, 202, "{replay:?}");
    wait_for(&edge, Duration::from_secs(20), || {
        delivery("exhausted")["state"] == "delivered"
    });
    assert_eq!(
        per_deletion(&gate)[&("acme-vet".into(), "exhausted".into())].1,
        1
    );
}

fn an_open_circuit_answers_without_waiting_for_the_upstream(host: Host) {
    let (upstream, _) = upstream(&format!("circuit-upstream-{host:?}"));
    let gate = Gate::start(&upstream.addr, Mode::Hang);
    let dir = scratch_dir(&format!("circuit-edge-{host:?}"));
    let vars = relay_vars(
        &gate.origin(),
        &[
            ("circuit_failure_threshold", "3"),
            ("circuit_open_seconds", "60"),
        ],
    );
    let edge = launch_edge(host, "127.0.0.1:0", Store::Dir(&dir), &vars);
    // Three deliveries each wait out the timeout, and open the circuit.
    for i in 0..3 {
        let started = Instant::now();
        let reply = post_to(&edge.addr, &format!("slow-{i}"), CANONICAL);
        assert_eq!(reply.json()["status"], "queued");
        assert!(started.elapsed() >= Duration::from_millis(900));
    }
    // Every one after: answered at once, queued, with no attempt.
    let before = gate.seen().len();
    let mut slowest = Duration::ZERO;
    for i in 0..10 {
        let started = Instant::now();
        let reply = post_to(&edge.addr, &format!("fast-{i}"), CANONICAL);
        slowest = slowest.max(started.elapsed());
        assert_eq!(reply.json()["status"], "queued");
    }
    println!("circuit open on {host:?}: the slowest of 10 deliveries took {slowest:?}");
    assert!(slowest < Duration::from_millis(100), "{slowest:?}");
    assert_eq!(
        gate.seen().len(),
        before,
        "no attempt while the circuit is open"
    );
}

crate::on_every_host!(outage_then_recovery);
on_both_hosts!(
    a_killed_edge_restarts_with_every_queued_delivery,
    two_edges_on_redis_lose_nothing_when_one_is_killed,
    retry_after_410_and_verdicts_follow_the_rules,
    an_open_circuit_answers_without_waiting_for_the_upstream,
    highlevel_conflicts_are_429,
);

#[test]
fn highlevel_gets_429_never_503_when_the_store_fails() {
    // serve: every write under delivery/ and deliveries/ fails; the upstream is down.
    let (upstream, _) = upstream("hl-upstream");
    let gate = Gate::start(&upstream.addr, Mode::Refuse);
    let edge = serve_relaying_to(&gate, "hl-edge", &["--fail-writes-to", "deliver"]);
    for deletion in deletions("hl") {
        let reply = deletion.send(&edge);
        let (status, kind, _) = reply.problem();
        let expected = if deletion.source == "highlevel" {
            429
        } else {
            503
        };
        assert_eq!(
            (status, kind.as_str()),
            (expected, "unavailable"),
            "{}",
            deletion.path
        );
        assert_eq!(reply.json()["status"], expected);
        assert!(reply.headers.contains_key("retry-after"), "{reply:?}");
    }
    // And in store mode, where the store itself is the delivery.
    let store_kv = scratch("hl-store");
    let store = Server::start(&store_kv, &["--fail-writes-to", "task/"]);
    for deletion in deletions("hl") {
        let reply = deletion.send(&store);
        let expected = if deletion.source == "highlevel" {
            429
        } else {
            503
        };
        assert_eq!(reply.status, expected, "{}: {reply:?}", deletion.path);
    }
}

/// A claim another delivery holds is a transient refusal too: HighLevel's concurrent resends get
/// 429, never 409; exactly one is scheduled.
fn highlevel_conflicts_are_429(host: Host) {
    let dir = scratch_dir(&format!("hl-conflict-{host:?}"));
    let server = Arc::new(Server::launch(host, "127.0.0.1:0", Store::Dir(&dir), &[]));
    let body = Arc::new(payload("highlevel/01-webhook-doc-example-verbatim.json"));
    let threads: Vec<_> = (0..30)
        .map(|_| {
            let (server, body) = (server.clone(), body.clone());
            std::thread::spawn(move || {
                server.post("/api/v1/webhooks/highlevel/hl-conflict", &[], &body)
            })
        })
        .collect();
    let replies: Vec<Reply> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut statuses = BTreeMap::new();
    for reply in &replies {
        let outcome = match reply.status {
            200 => reply.json()["status"].as_str().unwrap().to_owned(),
            429 => {
                assert!(reply.headers.contains_key("retry-after"), "{reply:?}");
                "429".to_owned()
            }
            other => panic!("{host:?}: HighLevel got {other}: {reply:?}"),
        };
        *statuses.entry(outcome).or_insert(0) += 1;
    }
    println!("30 concurrent HighLevel resends on {host:?}: {statuses:?}");
    assert_eq!(statuses.get("scheduled"), Some(&1), "{statuses:?}");
}

/// `tombstone serve` dispatches with no request arriving, and what the component does after its
/// answer is logged and counted (serve used to read a request's events when it answered, so a
/// dispatch after the answer was never seen: the first serve/Spin difference this suite found).
#[test]
fn serve_dispatches_with_no_request_arriving_and_counts_it() {
    use crate::telemetry::{reqwest_like_get, samples};
    let (upstream, upstream_kv) = upstream("tick-upstream");
    let gate = Gate::start(&upstream.addr, Mode::Fail(503, vec![]));
    let metrics = format!("127.0.0.1:{}", free_port());
    let edge = serve_relaying_to(
        &gate,
        "tick-edge",
        &[
            "--var",
            "retry_schedule_seconds=0,1",
            "--metrics-listen",
            &metrics,
        ],
    );
    assert_eq!(
        post_to(&edge.addr, "tick", CANONICAL).json()["status"],
        "queued"
    );
    let text = reqwest_like_get(&metrics, "/metrics");
    let attempts = samples(&text, "tombstone_delivery_attempts_total");
    assert_eq!(attempts["outcome=\"server-error\""], 1.0, "{text}");
    gate.set(Mode::Forward);
    // No request at all from here on: serve's own tick delivers it.
    let started = Instant::now();
    while upstream_tasks(&upstream_kv).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never delivered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The attempt after the tick's answer is counted, and so is the queue, once seen whole.
    let started = Instant::now();
    loop {
        let text = reqwest_like_get(&metrics, "/metrics");
        let attempts = samples(&text, "tombstone_delivery_attempts_total");
        let queued = samples(&text, "tombstone_deliveries_queued");
        if attempts["outcome=\"scheduled\""] == 1.0 && queued[""] == 0.0 {
            let circuit = samples(&text, "tombstone_upstream_circuit_state");
            assert_eq!(circuit[""], 0.0, "{text}");
            let dead = samples(&text, "tombstone_dead_letters_total");
            assert_eq!(dead["reason=\"exhausted\""], 0.0, "{text}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
