//! Relay mode end to end over real HTTP: an edge `tombstone serve` in relay mode in front of an
//! upstream `tombstone serve` in store mode (the canonical service), on loopback. Nothing is
//! mocked in-process: where a test needs an upstream that misbehaves, or needs the exact bytes
//! on the wire, a small HTTP server on its own thread plays that part.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tombstone_tests::run_native;

use crate::support::*;

/// What the test upstream does with a request.
#[derive(Clone)]
enum Behaviour {
    /// Forwards it to this address and relays the answer back.
    Forward(String),
    /// Answers with this raw status, content type and body.
    Answer(u16, &'static str, &'static str),
    /// Never answers.
    Hang,
    /// Answers 200 with a chunked JSON body of 50 MiB, as fast as the edge reads it.
    Huge,
    /// Answers 200 with a declared body of 1000 bytes, one byte every 100 ms.
    Drip,
}

/// A request as the upstream received it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }
}

/// An HTTP/1.1 server on a thread: records every request, then behaves as told.
struct TestUpstream {
    addr: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl TestUpstream {
    fn start(behaviour: Behaviour) -> TestUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let behaviour = behaviour.clone();
                let log = log.clone();
                std::thread::spawn(move || serve_one(stream, &behaviour, &log));
            }
        });
        TestUpstream { addr, received }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Reads one request (head and `Content-Length` body).
pub(crate) fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(raw[..head_end].to_vec()).ok()?;
    let length: usize = head
        .split("\r\n")
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Received { head, body })
}

fn serve_one(mut stream: TcpStream, behaviour: &Behaviour, log: &Mutex<Vec<Received>>) {
    // The edge's client keeps connections alive: serve requests until it closes.
    while let Some(request) = read_request(&mut stream) {
        log.lock().unwrap().push(request.clone());
        let answer = match behaviour {
            Behaviour::Hang => {
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
            Behaviour::Huge => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                            Transfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let piece = vec![b' '; 64 << 10];
                let chunk = [format!("{:x}\r\n", piece.len()).as_bytes(), &piece, b"\r\n"].concat();
                for _ in 0..(50 << 20) / piece.len() {
                    if stream.write_all(&chunk).is_err() {
                        return; // the edge stopped reading
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n");
                return;
            }
            Behaviour::Drip => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                            Content-Length: 1000\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..1000 {
                    std::thread::sleep(Duration::from_millis(100));
                    if stream.write_all(b" ").is_err() {
                        return;
                    }
                }
                return;
            }
            Behaviour::Answer(status, content_type, body) => format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
            Behaviour::Forward(to) => {
                let Ok(mut upstream) = TcpStream::connect(to) else {
                    return; // the real upstream is down: the connection just closes
                };
                let head = request
                    .head
                    .split("\r\n")
                    .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                    .collect::<Vec<_>>()
                    .join("\r\n");
                let mut forwarded = format!("{head}\r\nConnection: close\r\n\r\n").into_bytes();
                forwarded.extend_from_slice(&request.body);
                if upstream.write_all(&forwarded).is_err() {
                    return;
                }
                let mut answer = Vec::new();
                if upstream.read_to_end(&mut answer).is_err() || answer.is_empty() {
                    return;
                }
                answer
            }
        };
        if stream.write_all(&answer).is_err() {
            return;
        }
    }
}

/// The edge in relay mode, sending to `origin` (and allowed to reach `allowed`).
fn edge(name: &str, origin: &str, allowed: &str, extra: &[&str]) -> (Server, std::path::PathBuf) {
    let kv = scratch(name);
    let url = format!("upstream_url={origin}/api/v1/invoice-deletions");
    let allowed = format!("upstream_origin={allowed}");
    let mut args = vec!["--var", &url, "--var", &allowed];
    args.extend_from_slice(extra);
    (Server::start(&kv, &args), kv)
}

/// The delivery record of the canonical deletion `key` of acme-vet.
fn delivery_of(server: &Server, key: &str) -> Value {
    let task = tombstone_core::task_id("acme-vet", key).unwrap();
    server.get(&format!("/api/v1/deliveries/{task}")).json()
}

fn every_shared_sample_is_relayed_as_the_tables_canonical_request(host: Host) {
    let upstream_kv = scratch(&format!("relay-upstream-{host:?}"));
    let upstream = Server::start(&upstream_kv, &[]);
    let wire = TestUpstream::start(Behaviour::Forward(upstream.addr.clone()));
    let url = format!("{}/api/v1/invoice-deletions", wire.origin());
    let origin = wire.origin();
    let (edge, edge_kv) = start(
        host,
        "relay-edge",
        &[
            ("upstream_url", &url),
            ("upstream_origin", &origin),
            ("upstream_authorization", "Bearer relay-secret"),
            // A loaded CI machine runs many servers at once: the upstream gets time to answer.
            ("upstream_timeout_ms", "30000"),
        ],
    );
    let mut relayed = 0;
    let mut covered = std::collections::BTreeSet::new();
    for delivery in sample_deliveries("relay") {
        let (case, expected) = (&delivery.case, delivery.expected());
        let before = wire.received().len();
        let reply = delivery.send(&edge);
        covered.insert(delivery.file());
        let task_id = delivery.task_id();
        let body = reply.json();
        if body["status"] != "scheduled" {
            let queued = edge.get(&format!("/api/v1/deliveries/{task_id}")).json();
            panic!("{} on {host:?}: {body}; the delivery: {queued}", case.name);
        }
        assert_eq!(body["task_id"], task_id.as_str(), "{}", case.name);

        // On the wire: exactly one request, the table's canonical request byte for byte.
        let sent = &wire.received()[before..];
        assert_eq!(sent.len(), 1, "{}", case.name);
        let sent = &sent[0];
        assert!(
            sent.head
                .starts_with("POST /api/v1/invoice-deletions HTTP/1.1"),
            "{}",
            sent.head
        );
        assert_eq!(sent.header("content-type"), Some("application/json"));
        assert_eq!(sent.header("idempotency-key"), Some(delivery.key()));
        assert_eq!(
            sent.header("x-organization-id"),
            Some(delivery.organization.as_str())
        );
        assert_eq!(sent.header("authorization"), Some("Bearer relay-secret"));
        let native = run_native(case);
        let sent_body = String::from_utf8(sent.body.clone()).unwrap();
        assert!(
            native.contains(&format!("\"body\":{sent_body}}},\"task_id\"")),
            "{}: sent {sent_body}, the table has {native}",
            case.name
        );
        // The upstream scheduled it, and the sender got the upstream's own answer.
        let task = upstream.get(&format!("/api/v1/tasks/{task_id}")).json();
        assert_eq!(
            task["request"]["body"], expected["request"]["body"],
            "{}",
            case.name
        );
        assert_eq!(task["received_at"], body["received_at"]);

        // The retry is a duplicate, and the upstream says so.
        let again = delivery.send(&edge);
        assert_eq!(again.json()["status"], "duplicate", "{}", case.name);
        relayed += 1;
    }
    assert!(relayed >= 20, "only {relayed} samples were relayed");
    assert_every_shared_sample_in(&covered, "was never relayed");
    // Key reuse is the upstream's verdict, relayed as it came.
    let first = edge.post(
        "/api/v1/invoice-deletions",
        &[
            ("Idempotency-Key", "reuse-1"),
            ("X-Organization-Id", "acme-vet"),
        ],
        CANONICAL.as_bytes(),
    );
    assert_eq!(first.status, 202);
    let reuse = edge.post(
        "/api/v1/invoice-deletions",
        &[
            ("Idempotency-Key", "reuse-1"),
            ("X-Organization-Id", "acme-vet"),
        ],
        br#"{"invoices":[{"invoice_id":"inv-2","clinic_id":"clinic-1"}]}"#,
    );
    assert_eq!(
        reuse.problem(),
        (
            422,
            "idempotency-key-reuse".into(),
            "/header/Idempotency-Key".into()
        )
    );
    assert!(
        stored_keys(&edge_kv).is_empty(),
        "relay mode keeps no state: {:?}",
        stored_keys(&edge_kv)
    );
    assert_eq!(stored_tasks(&upstream_kv).len(), relayed + 1);
}

crate::on_every_host!(every_shared_sample_is_relayed_as_the_tables_canonical_request);

#[test]
fn an_upstream_killed_mid_run_loses_nothing_and_each_deletion_is_scheduled_exactly_once() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let upstream_kv = scratch("kill-upstream");
    let upstream = Server::start_on(&listen, &upstream_kv, &[]);
    let origin = format!("http://{listen}");
    let (edge, _) = edge(
        "kill-edge",
        &origin,
        &origin,
        &[
            "--var",
            "upstream_timeout_ms=2000",
            "--var",
            "retry_schedule_seconds=0,1,1,2,3,5,8",
            "--var",
            "circuit_open_seconds=1",
        ],
    );
    let edge = Arc::new(edge);

    // 40 deletions, four senders at a time; the upstream dies after the first answers.
    const DELIVERIES: usize = 40;
    let answers = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let edge = edge.clone();
            let answers = answers.clone();
            std::thread::spawn(move || {
                for i in (t..DELIVERIES).step_by(4) {
                    let body =
                        format!(r#"{{"invoices":[{{"invoice_id":"inv-{i}","clinic_id":"c"}}]}}"#);
                    let r = edge.post(
                        "/api/v1/invoice-deletions",
                        &[
                            ("Idempotency-Key", &format!("kill-{i}")),
                            ("X-Organization-Id", "acme-vet"),
                        ],
                        body.as_bytes(),
                    );
                    let status = r.json()["status"].as_str().unwrap_or("").to_owned();
                    // The task id of a deletion answered "scheduled" (by the upstream, relayed).
                    let scheduled = (status == "scheduled")
                        .then(|| r.json()["task_id"].as_str().unwrap().to_owned());
                    answers
                        .lock()
                        .unwrap()
                        .push((i, r.status, status, scheduled));
                    std::thread::sleep(Duration::from_millis(25));
                }
            })
        })
        .collect();
    while answers.lock().unwrap().len() < 8 {
        std::thread::sleep(Duration::from_millis(5));
    }
    upstream.kill();
    for s in senders {
        s.join().unwrap();
    }
    let answers = answers.lock().unwrap().clone();
    assert!(
        answers.iter().all(|(_, s, _, _)| *s == 202),
        "every delivery accepted: {answers:?}"
    );
    let queued = answers.iter().filter(|a| a.2 == "queued").count();
    let accepted = answers.iter().filter(|a| a.2 == "scheduled").count();
    assert_eq!(accepted + queued, DELIVERIES, "{answers:?}");
    assert!(
        accepted >= 8 && queued > 0,
        "{accepted} scheduled, {queued} queued"
    );

    // The upstream comes back on the same address; nobody replays anything.
    let upstream = Server::start_on(&listen, &upstream_kv, &["--dispatch-every-ms", "0"]);
    let started = Instant::now();
    while stored_tasks(&upstream_kv).len() < DELIVERIES {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {DELIVERIES} tasks upstream",
            stored_tasks(&upstream_kv).len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // One task upstream per deletion, and no deletion answered "scheduled" twice (a second
    // scheduling would overwrite the same task key, so the answers are what can show it).
    let tasks = stored_tasks(&upstream_kv);
    assert_eq!(tasks.len(), DELIVERIES, "one task upstream per deletion");
    let mut scheduled: Vec<String> = answers.iter().filter_map(|a| a.3.clone()).collect();
    for i in 0..DELIVERIES {
        let d = delivery_of(&edge, &format!("kill-{i}"));
        if d["state"] == "delivered" && d["response"]["status"] == "scheduled" {
            scheduled.push(d["task_id"].as_str().unwrap().to_owned());
        }
    }
    let mut once = scheduled.clone();
    once.sort();
    once.dedup();
    assert_eq!(
        once.len(),
        scheduled.len(),
        "a deletion scheduled twice: {scheduled:?}"
    );
    // Every deletion, sent again, is the upstream's duplicate of its one task.
    for i in 0..DELIVERIES {
        let body = format!(r#"{{"invoices":[{{"invoice_id":"inv-{i}","clinic_id":"c"}}]}}"#);
        let r = canonical_to(&upstream, &format!("kill-{i}"), &body);
        assert_eq!(r.json()["status"], "duplicate", "deletion {i}");
    }
    println!(
        "kill-and-recover: {DELIVERIES} deliveries, {accepted} scheduled before/around the kill, \
         {queued} queued and delivered by the dispatcher within {:.1} s of the upstream's return, \
         {} tasks upstream",
        started.elapsed().as_secs_f64(),
        tasks.len()
    );
}

fn canonical_to(server: &Server, key: &str, body: &str) -> Reply {
    server.post(
        "/api/v1/invoice-deletions",
        &[("Idempotency-Key", key), ("X-Organization-Id", "acme-vet")],
        body.as_bytes(),
    )
}

#[test]
fn an_upstream_that_hangs_answers_garbage_or_fails_is_never_a_success() {
    let cases = [
        ("hang", Behaviour::Hang, "did not answer within 1000 ms"),
        // Bounded in size and in time, whatever the upstream sends.
        ("huge", Behaviour::Huge, "longer than 65536 bytes"),
        ("drip", Behaviour::Drip, "did not answer within 1000 ms"),
        (
            "garbage",
            Behaviour::Answer(200, "application/json", "garbage"),
            "not JSON",
        ),
        (
            "empty-object",
            Behaviour::Answer(202, "application/json", "{}"),
            "required property",
        ),
        (
            "fails",
            Behaviour::Answer(500, "text/plain", "oops"),
            "status 500",
        ),
    ];
    for (name, behaviour, reason) in cases {
        let wire = TestUpstream::start(behaviour);
        let (edge, edge_kv) = edge(
            &format!("bad-upstream-{name}"),
            &wire.origin(),
            &wire.origin(),
            &["--var", "upstream_timeout_ms=1000"],
        );
        edge.reset_peak_rss();
        let rss_before = edge.peak_rss_kib();
        let started = Instant::now();
        let r = canonical(&edge, "k-1", CANONICAL);
        assert_eq!(
            (r.status, r.json()["status"].clone()),
            (202, json!("queued")),
            "{name}: {r:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            started.elapsed()
        );
        assert_eq!(wire.received().len(), 1, "{name}");
        let delivery = delivery_of(&edge, "k-1");
        let detail = delivery["attempts"][0]["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{name}: {delivery}");
        assert_eq!(delivery["body"], CANONICAL);
        let task = tombstone_core::task_id("acme-vet", "k-1").unwrap();
        assert!(
            stored_keys(&edge_kv).contains(&format!("delivery/{task}")),
            "{name}"
        );
        // A 50 MiB answer is not buffered: the edge reads at most 64 KiB + 1 of it.
        let growth = edge.peak_rss_kib().saturating_sub(rss_before);
        assert!(growth < 16 << 10, "{name}: peak RSS grew by {growth} KiB");
    }
}

#[test]
fn a_request_to_any_other_host_is_refused_as_spin_refuses_it() {
    let other = TestUpstream::start(Behaviour::Answer(202, "application/json", "{}"));
    let allowed = format!("http://127.0.0.1:{}", free_port());
    let (edge, _) = edge("denied", &other.origin(), &allowed, &[]);
    let r = canonical(&edge, "k-1", CANONICAL);
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (202, json!("queued"))
    );
    assert!(
        other.received().is_empty(),
        "nothing reached the other host"
    );
    let delivery = delivery_of(&edge, "k-1");
    assert_eq!(delivery["attempts"][0]["outcome"], "denied", "{delivery}");
    // With nothing set, upstream_origin's default allows no real host either.
    let kv = scratch("denied-default");
    let url = format!("upstream_url={}/api/v1/invoice-deletions", other.origin());
    let edge = Server::start(&kv, &["--var", &url]);
    assert_eq!(
        canonical(&edge, "k-1", CANONICAL).json()["status"],
        "queued"
    );
    assert!(other.received().is_empty());
    let delivery: Value = delivery_of(&edge, "k-1");
    assert!(delivery["attempts"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("upstream_origin"));
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl (Debian's, installed by scripts/setup.sh)");
    assert!(status.success(), "openssl {args:?}");
}

/// A test CA and a certificate for 127.0.0.1 signed by it, in `dir`: `ca.pem`, `leaf.pem`,
/// `leaf.key`.
pub(crate) fn test_pki(dir: &std::path::Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"]);
    ca.extend(["-subj", "/CN=tombstone test CA"]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
}

/// An HTTPS front (Python's `ssl`, `host/tests/fixtures/tls_proxy.py`) for the server at
/// `target`; its origin.
fn tls_front(dir: &std::path::Path, target: &str) -> (KillOnDrop, String) {
    use std::io::BufRead;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls_proxy.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .args(["leaf.pem", "leaf.key", &format!("http://{target}")])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let origin = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    (KillOnDrop(child), origin)
}

/// A child process killed when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn https_upstreams_are_trusted_through_the_systems_roots_only() {
    let upstream_kv = scratch("relay-tls-upstream");
    let upstream = Server::start(&upstream_kv, &[]);
    let dir = upstream_kv.parent().unwrap().to_owned();
    test_pki(&dir);
    let (_front, origin) = tls_front(&dir, &upstream.addr);
    let url = format!("upstream_url={origin}/api/v1/invoice-deletions");
    let allowed = format!("upstream_origin={origin}");
    let ca = dir.join("ca.pem");

    // The system's roots, extended with the test CA the way OpenSSL's tools and rustls'
    // native roots read them (SSL_CERT_FILE): the deletion reaches the upstream over TLS.
    let trusted_kv = scratch("relay-tls-trusted");
    let trusted = Server::spawn_with(
        "127.0.0.1:0",
        &[
            "--kv",
            trusted_kv.to_str().unwrap(),
            "--var",
            &url,
            "--var",
            &allowed,
        ],
        std::process::Stdio::inherit(),
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    let r = canonical(&trusted, "tls-1", CANONICAL);
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (202, json!("scheduled")),
        "{r:?}"
    );
    let task_id = tombstone_core::task_id("acme-vet", "tls-1").unwrap();
    assert_eq!(
        upstream.get(&format!("/api/v1/tasks/{task_id}")).status,
        200
    );

    // The system's roots alone do not know the test CA: never a success; it is queued.
    let plain_kv = scratch("relay-tls-untrusted");
    let plain = Server::start(&plain_kv, &["--var", &url, "--var", &allowed]);
    let r = canonical(&plain, "tls-2", CANONICAL);
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (202, json!("queued")),
        "{r:?}"
    );
    let delivery = delivery_of(&plain, "tls-2");
    let detail = delivery["attempts"][0]["detail"].as_str().unwrap();
    println!("untrusted certificate: {detail}");
    assert!(detail.contains("ErrorCode::TlsProtocolError"), "{delivery}");
    let task_id = tombstone_core::task_id("acme-vet", "tls-2").unwrap();
    assert_eq!(
        upstream.get(&format!("/api/v1/tasks/{task_id}")).status,
        404
    );
}
