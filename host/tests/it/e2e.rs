//! One end-to-end suite, two hosts: the Spin component over real HTTP on loopback, driven by a
//! minimal HTTP/1.1 client, under `tombstone serve` (our wasmtime host) and under real Spin
//! (`spin up` with the project's `spin.toml` unchanged, when a Spin CLI is found), each with its
//! SQLite key-value store. Every test in [`on_both_hosts!`] runs on both; the few that need
//! `tombstone serve`'s own switches (injected store failures, another playground folder) run on
//! it alone. The relay and delivery tests are in `relay.rs` and `delivery.rs`, the Redis ones in
//! `redis.rs`.
//!
//! Needs the Spin component: `cargo run --release -p xtask -- spin` (CI builds it first), and
//! for real Spin's playground, the web module (`scripts/web.sh`).

use std::path::Path;

use serde_json::{json, Value};
use tombstone_core::signature::WebhookSecret;
use tombstone_tests::{conformance_dir, load_cases};

use crate::support::*;
use crate::{on_both_hosts, on_every_host};

fn every_shared_sample_through_its_webhook_route_becomes_the_tables_task(host: Host) {
    let (server, _) = start(host, "samples", &[]);
    let mut checked = 0;
    let mut covered = std::collections::BTreeSet::new();
    for delivery in sample_deliveries("e2e") {
        let (case, expected) = (&delivery.case, delivery.expected());
        let reply = delivery.send(&server);
        covered.insert(delivery.file());
        let body = reply.json();
        let (key, task_id) = (delivery.key(), delivery.task_id());
        assert_eq!(body["status"], "scheduled", "{}", case.name);
        assert_eq!(body["task_id"], task_id.as_str(), "{}", case.name);
        assert_eq!(body["idempotency_key"], key, "{}", case.name);
        assert_eq!(body["invoices_count"], expected["invoices_count"]);
        assert_eq!(body["invoice_lines_count"], expected["invoice_lines_count"]);
        let task = server.get(&format!("/api/v1/tasks/{task_id}"));
        assert_eq!(task.status, 200, "{}", case.name);
        let task = task.json();
        assert_eq!(
            task["request"]["body"], expected["request"]["body"],
            "{}",
            case.name
        );
        assert_eq!(task["warnings"], expected["warnings"], "{}", case.name);
        assert_eq!(task["received_at"], body["received_at"]);
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} shared-sample cases ran");
    assert_every_shared_sample_in(&covered, "never went through a route");
    let deliveries = server.get("/api/v1/deliveries").json();
    assert_eq!(
        deliveries["deliveries"],
        json!([]),
        "store mode delivers nothing later"
    );
}

fn routes_duplicates_reuse_and_the_dry_run(host: Host) {
    let (server, kv) = start(host, "routes", &[("schedule_delay_seconds", "90")]);
    assert_eq!(server.get("/healthz").json(), json!({"status": "ok"}));
    let schema = server.get("/schemas/canonical-request.json");
    assert_eq!(schema.status, 200);
    assert_eq!(schema.headers["content-type"], "application/schema+json");
    assert_eq!(server.get("/schemas/nope.json").problem().0, 404);
    assert_eq!(server.get("/nope").problem().1, "not-found");
    assert_eq!(
        server.get("/api/v1/invoice-deletions").problem().1,
        "method-not-allowed"
    );

    let first = canonical(&server, "k-1", CANONICAL);
    assert_eq!(first.status, 202);
    let first = first.json();
    assert_eq!(first["status"], "scheduled");
    let received =
        tombstone_core::Timestamp::parse(first["received_at"].as_str().unwrap()).unwrap();
    let scheduled =
        tombstone_core::Timestamp::parse(first["scheduled_for"].as_str().unwrap()).unwrap();
    assert_eq!(scheduled.unix_seconds() - received.unix_seconds(), 90);

    let again = canonical(&server, "k-1", CANONICAL);
    let mut expected = first.clone();
    expected["status"] = json!("duplicate");
    assert_eq!((again.status, again.json()), (202, expected));
    let reuse = canonical(
        &server,
        "k-1",
        r#"{"invoices":[{"invoice_id":"inv-2","clinic_id":"c"}]}"#,
    );
    assert_eq!(
        reuse.problem(),
        (
            422,
            "idempotency-key-reuse".into(),
            "/header/Idempotency-Key".into()
        )
    );

    let dry = server.post(
        "/api/v1/convert?organization_id=acme-vet",
        &[],
        &std::fs::read(conformance_dir().join("payloads/mercoa/00-doc-example-verbatim.json"))
            .unwrap(),
    );
    assert_eq!(dry.status, 200);
    assert_eq!(dry.json()["source"], "mercoa");
    // The task of k-1 and its claim (maintenance removes it once its minutes have passed):
    // the dry run, the duplicate and the reuse stored nothing.
    let keys = stored_keys(&kv);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys[0].starts_with("claim/") && keys[1].starts_with("task/"),
        "{keys:?}"
    );
}

fn fifty_concurrent_deliveries_of_one_key_schedule_exactly_once(host: Host) {
    let (server, kv) = start(host, "concurrent", &[]);
    let server = std::sync::Arc::new(server);
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let server = server.clone();
            std::thread::spawn(move || {
                let r = canonical(&server, "race-1", CANONICAL);
                match r.status {
                    202 => r.json()["status"].as_str().unwrap().to_owned(),
                    409 => "conflict".to_owned(),
                    other => panic!("unexpected {other}: {r:?}"),
                }
            })
        })
        .collect();
    let outcomes: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let count = |what: &str| outcomes.iter().filter(|o| *o == what).count();
    assert_eq!(count("scheduled"), 1, "{outcomes:?}");
    assert_eq!(
        count("scheduled") + count("duplicate") + count("conflict"),
        50
    );
    let tasks: Vec<String> = stored_keys(&kv)
        .into_iter()
        .filter(|k| k.starts_with("task/"))
        .collect();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    // Once the first is stored, every retry is its duplicate.
    assert_eq!(
        canonical(&server, "race-1", CANONICAL).json()["status"],
        "duplicate"
    );
}

fn a_killed_server_restarts_with_every_accepted_deletion(host: Host) {
    let dir = scratch_dir(&format!("restart-{host:?}"));
    let listen = format!("127.0.0.1:{}", free_port());
    let server = Server::launch(host, &listen, Store::Dir(&dir), &[]);
    let accepted: Vec<Value> = (0..10)
        .map(|i| {
            let body = format!(r#"{{"invoices":[{{"invoice_id":"inv-{i}","clinic_id":"c"}}]}}"#);
            let r = canonical(&server, &format!("restart-{i}"), &body);
            assert_eq!(r.status, 202);
            r.json()
        })
        .collect();
    server.kill(); // SIGKILL: no shutdown hook runs

    let server = Server::launch(host, &listen, Store::Dir(&dir), &[]);
    for (i, first) in accepted.iter().enumerate() {
        let task = server.get(&format!(
            "/api/v1/tasks/{}",
            first["task_id"].as_str().unwrap()
        ));
        assert_eq!(task.status, 200, "task {i} lost");
        assert_eq!(task.json()["received_at"], first["received_at"]);
        let body = format!(r#"{{"invoices":[{{"invoice_id":"inv-{i}","clinic_id":"c"}}]}}"#);
        let again = canonical(&server, &format!("restart-{i}"), &body).json();
        assert_eq!(again["status"], "duplicate");
        assert_eq!(again["received_at"], first["received_at"]);
    }
}

fn bad_inputs_get_problem_json_and_leave_no_state(host: Host) {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (server, kv) = start(host, "bad", &[("mercoa_webhook_secret", secret)]);
    let mercoa =
        std::fs::read(conformance_dir().join("payloads/mercoa/00-doc-example-verbatim.json"))
            .unwrap();
    let id_org = [("Idempotency-Key", "k"), ("X-Organization-Id", "acme-vet")];
    let route = "/api/v1/invoice-deletions";
    let cases: Vec<(Reply, (u16, &str, &str))> = vec![
        (
            server.post(route, &id_org, b"{not json"),
            (400, "invalid-json", ""),
        ),
        (
            server.request(
                "POST",
                route,
                &[("Content-Type", "text/plain"), id_org[0], id_org[1]],
                CANONICAL.as_bytes(),
            ),
            (415, "unsupported-media-type", "/header/Content-Type"),
        ),
        (
            server.post("/api/v1/webhooks/auto/acme-vet", &[], &vec![b' '; 2 << 20]),
            (413, "payload-too-large", ""),
        ),
        (
            server.post(route, &id_org[..1], CANONICAL.as_bytes()),
            (400, "missing-header", "/header/X-Organization-Id"),
        ),
        (
            server.post(route, &id_org[1..], CANONICAL.as_bytes()),
            (400, "missing-header", "/header/Idempotency-Key"),
        ),
        (
            server.post("/api/v1/webhooks/mercoa/acme-vet", &[], &mercoa),
            (401, "unauthorized", "/header/webhook-id"),
        ),
    ];
    for (reply, expected) in &cases {
        let (status, kind, pointer) = reply.problem();
        assert_eq!((status, kind.as_str(), pointer.as_str()), *expected);
    }
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let good = WebhookSecret::parse(secret)
        .unwrap()
        .sign("msg_1", ts, &mercoa);
    let stale = WebhookSecret::parse(secret)
        .unwrap()
        .sign("msg_1", ts - 400, &mercoa);
    let mut tampered = mercoa.clone();
    tampered.push(b'\n');
    let signed = |body: &[u8], ts: i64, sig: &str| {
        server.post(
            "/api/v1/webhooks/mercoa/acme-vet",
            &[
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", &ts.to_string()),
                ("webhook-signature", sig),
            ],
            body,
        )
    };
    assert_eq!(
        signed(&mercoa, ts, "v1,").problem().2,
        "/header/webhook-signature"
    );
    assert_eq!(
        signed(&mercoa, ts - 400, &stale).problem().2,
        "/header/webhook-timestamp"
    );
    assert_eq!(signed(&tampered, ts, &good).problem().0, 401);
    assert!(stored_keys(&kv).is_empty(), "{:?}", stored_keys(&kv));
    // The genuine delivery goes through.
    assert_eq!(signed(&mercoa, ts, &good).status, 200);
}

#[test]
fn a_storage_failure_is_refused_for_now_and_the_retry_after_recovery_schedules() {
    let kv = scratch("store-failure");
    let server = Server::start(&kv, &["--fail-writes-to", "task/"]);
    let r = canonical(&server, "k-dl", CANONICAL);
    assert_eq!(r.problem().1, "unavailable");
    assert_eq!(r.status, 503);
    assert!(r.headers.contains_key("retry-after"));
    // What failed is logged, never answered: the answer names no store internals.
    assert!(
        !String::from_utf8_lossy(&r.body).contains("injected"),
        "{r:?}"
    );
    server.kill();

    let server = Server::start(&kv, &[]);
    let retry = canonical(&server, "k-dl", CANONICAL);
    assert_eq!(
        (retry.status, retry.json()["status"].clone()),
        (202, json!("scheduled"))
    );
}

/// The playground, as `spin.toml`'s fileserver component serves `www/` (Spin is the
/// reference: `tombstone serve` answers the same statuses, types and caching headers).
fn the_playground_is_served_at_its_own_path_as_in_spin_toml(host: Host) {
    let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    let (server, _) = start(host, "playground", &[]);
    assert_eq!(server.get("/playground").status, 404);
    let page = server.get("/playground/");
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["content-type"], "text/html");
    assert_eq!(page.headers["cache-control"], "max-age=60");
    let index = std::fs::read(www.join("index.html")).unwrap();
    assert_eq!(page.body, index);
    let etag = page.headers["etag"].clone();
    assert_eq!(etag.len(), 64, "the SHA-256 of the bytes, in hex");
    let again = server.request("GET", "/playground/", &[("If-None-Match", &etag)], b"");
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let module = server.get("/playground/app.js");
    assert_eq!(module.headers["content-type"], "text/javascript");
    assert_eq!(
        server.get("/playground/style.css").headers["content-type"],
        "text/css"
    );
    // Each of these names a file that exists, outside the served folder.
    assert!(www.join("../Cargo.toml").is_file() && Path::new("/etc/passwd").is_file());
    for outside in [
        "/playground/../Cargo.toml",
        "/playground/%2e%2e/Cargo.toml",
        "/playground/%2E%2e%2fCargo.toml",
        "/playground/.%2e/Cargo.toml",
        "/playground/..%2fCargo.toml",
        "/playground/./../Cargo.toml",
        "/playground//etc/passwd",
        "/playground/%2fetc/passwd",
        "/playground/nope.js",
    ] {
        assert_eq!(server.get(outside).status, 404, "{outside}");
    }
    // A path that only starts like the playground's is the component's.
    assert_eq!(server.get("/playgrounds").problem().1, "not-found");
    // Everything else is still the component's.
    assert_eq!(server.get("/healthz").status, 200);
}

/// `tombstone serve --www` on another folder: a symbolic link out of it is refused, one inside
/// it is followed (Spin's fileserver reads files mapped into the component, where no link
/// leads out).
#[test]
fn serve_refuses_a_symbolic_link_out_of_its_playground_folder() {
    // A symbolic link out of the served folder is refused; one inside it is followed.
    let dir = scratch("playground-links").with_file_name("www");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), b"<p>hi</p>").unwrap();
    #[cfg(unix)]
    {
        let secret = dir.with_file_name("secret.txt");
        std::fs::write(&secret, b"outside").unwrap();
        std::os::unix::fs::symlink(&secret, dir.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(dir.join("index.html"), dir.join("alias.html")).unwrap();
    }
    let kv = scratch("playground-links-kv");
    let linked = Server::start(&kv, &["--www", dir.to_str().unwrap()]);
    assert_eq!(linked.get("/playground/").body, b"<p>hi</p>");
    #[cfg(unix)]
    {
        assert_eq!(linked.get("/playground/leak.txt").status, 404);
        assert_eq!(linked.get("/playground/alias.html").body, b"<p>hi</p>");
    }
}

fn the_conformance_table_through_the_spin_component_prints_the_same_bytes_as_native(host: Host) {
    // In relay mode, with an upstream that is not there: the dry run neither stores nor sends.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let url = format!("{dead}/api/v1/invoice-deletions");
    let (server, kv) = start(
        host,
        "table",
        &[("upstream_url", &url), ("upstream_origin", &dead)],
    );
    let mut ran = 0;
    for case in load_cases() {
        let c = &case.context;
        // Without received_at the server's clock fills it in; that one case is the table's
        // only clock-dependent row, and runs natively and in the other hosts.
        if c.received_at.is_none() {
            continue;
        }
        let mut query = Vec::new();
        let fields = [
            ("organization_id", &c.organization_id),
            ("clinic_id", &c.clinic_id),
            ("idempotency_key", &c.idempotency_key),
            ("source", &c.source),
            ("received_at", &c.received_at),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                query.push(format!("{name}={}", encode(v)));
            }
        }
        query.push(format!("delay_seconds={}", c.delay_seconds.unwrap_or(0)));
        let path = format!("/api/v1/convert?{}", query.join("&"));
        let reply = server.post(&path, &[], &case.payload_bytes());
        let kind = if reply.status == 200 {
            "conversion"
        } else {
            "problem"
        };
        let output = format!("{{\"{kind}\":{}}}", String::from_utf8_lossy(&reply.body));
        tombstone_tests::check(&case, &output).unwrap();
        assert_eq!(output, tombstone_tests::run_native(&case), "{}", case.name);
        ran += 1;
    }
    assert!(ran >= 179, "only {ran} cases ran");
    assert!(stored_keys(&kv).is_empty(), "the dry run stores nothing");
}

on_every_host!(
    every_shared_sample_through_its_webhook_route_becomes_the_tables_task,
    routes_duplicates_reuse_and_the_dry_run,
    fifty_concurrent_deliveries_of_one_key_schedule_exactly_once,
    a_killed_server_restarts_with_every_accepted_deletion,
    bad_inputs_get_problem_json_and_leave_no_state,
    the_conformance_table_through_the_spin_component_prints_the_same_bytes_as_native,
);
// The playground is Spin's static file server, which the Worker does not have.
on_both_hosts!(the_playground_is_served_at_its_own_path_as_in_spin_toml);

#[test]
fn serve_refuses_a_spin_component_of_another_build_and_says_how_to_rebuild() {
    // The component as built, answering GET /healthz with this checkout's build...
    let built = project_root().join("target/wasm/tombstone_spin.wasm");
    let bytes = std::fs::read(&built).unwrap();
    let ours = tombstone_edge::BUILD.as_bytes();
    let at = bytes
        .windows(ours.len())
        .position(|w| w == ours)
        .expect("the component holds its build");
    // ... and a copy that names another (its hash's last digit changed, as a stale build's is).
    let mut other = bytes.clone();
    let last = at + ours.len() - 1;
    other[last] = if other[last] == b'0' { b'1' } else { b'0' };
    let dir = scratch_dir("other-build");
    let stale = dir.join("tombstone_spin.wasm");
    std::fs::write(&stale, &other).unwrap();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_tombstone"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--kv-memory",
            "--component",
        ])
        .arg(&stale)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            serve.kill().unwrap();
            panic!("serve started a component of another build");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut said = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut said).unwrap();
    assert!(
        said.contains("cargo run --release -p xtask -- spin"),
        "{said}"
    );
    assert!(said.contains(tombstone_edge::BUILD), "{said}");
}

#[test]
fn serve_refuses_to_start_on_an_unusable_variable_and_check_config_says_the_same() {
    let bad = "mercoa_webhook_secret=whsec_%%secret-value%%";
    let serve = std::process::Command::new(env!("CARGO_BIN_EXE_tombstone"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--kv-memory",
            "--var",
            bad,
        ])
        .output()
        .unwrap();
    assert!(!serve.status.success(), "serve started with {bad}");
    let said = String::from_utf8_lossy(&serve.stderr);
    assert!(said.contains("mercoa_webhook_secret"), "{said}");
    assert!(!said.contains("secret-value"), "never the value: {said}");

    let check = |vars: &[&str]| {
        let mut args = vec!["check-config"];
        for var in vars {
            args.extend(["--var", var]);
        }
        std::process::Command::new(env!("CARGO_BIN_EXE_tombstone"))
            .args(args)
            .env_remove("SPIN_VARIABLE_API_KEYS")
            .output()
            .unwrap()
    };
    let refused = check(&[bad]);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stdout);
    assert!(
        said.contains("mercoa_webhook_secret") && !said.contains("secret-value"),
        "{said}"
    );
    // Plain http with a credential, to another machine: refused too.
    let refused = check(&[
        "upstream_url=http://upstream.example/api/v1/invoice-deletions",
        "upstream_authorization=Bearer t0ken",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stdout);
    assert!(
        said.contains("upstream_authorization") && !said.contains("t0ken"),
        "{said}"
    );

    // Nothing set: usable, and every check that is off is named.
    let open = check(&[]);
    assert_eq!(open.status.code(), Some(0));
    let said = String::from_utf8_lossy(&open.stdout);
    for off in [
        "the Mercoa route takes unsigned webhooks: set mercoa_webhook_secret",
        "the WillSuite route takes unsigned webhooks",
        "the HighLevel route takes unsigned webhooks",
        "the canonical route is open",
        "the admin routes (tasks, deliveries, dispatch, maintenance) are closed",
    ] {
        assert!(said.contains(off), "{off} in {said}");
    }
    // Everything set: nothing to warn about.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let vars = [
        format!("mercoa_webhook_secret={secret}"),
        format!("willsuite_webhook_secret={secret}"),
        format!("highlevel_webhook_secret={secret}"),
        "api_keys=k1".to_owned(),
        "admin_api_keys=a1".to_owned(),
    ];
    let closed = check(&vars.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(closed.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&closed.stdout).contains("warning"));
}

#[test]
fn serve_logs_a_warning_at_start_for_every_check_that_is_off() {
    let kv = scratch("warnings");
    let log = kv.with_file_name("stderr.log");
    let server = Server::spawn_with_stderr(
        "127.0.0.1:0",
        &["--kv", kv.to_str().unwrap(), "--var", "api_keys=k1"],
        std::process::Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    assert_eq!(server.get("/healthz").status, 200);
    drop(server);
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &Value| l["target"] == "tombstone::config")
        .collect();
    let said: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert_eq!(said.len(), 3, "three unsigned provider routes: {said:?}");
    assert!(
        said.iter().all(|l| l.contains("unsigned webhooks")),
        "{said:?}"
    );
    assert!(lines.iter().all(|l| l["level"] == "WARN"));
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_refuses_new_connections_and_exits_0() {
    let kv = scratch("graceful");
    let server = Server::start(&kv, &["--grace", "20"]);
    let addr = server.addr.clone();
    // A request whose body arrives slowly: in flight when the signal comes.
    let body = CANONICAL.as_bytes().to_vec();
    let sender = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(&addr).unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(30)))
                .unwrap();
            use std::io::{Read, Write};
            let head = format!(
                "POST /api/v1/invoice-deletions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nIdempotency-Key: graceful-1\r\nX-Organization-Id: acme-vet\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            for byte in &body {
                stream.write_all(&[*byte]).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let mut raw = Vec::new();
            let _ = stream.read_to_end(&mut raw);
            Reply::parse(&raw)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // A new connection after the signal is refused.
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "a new connection after SIGTERM was accepted"
    );
    // The one in flight gets its answer, and the deletion is kept.
    let reply = sender.join().unwrap();
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.json()["status"], "scheduled");
    let status = server.wait();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(stored_tasks(&kv).len(), 1);
}

#[test]
fn past_max_connections_a_new_connection_is_closed_and_the_others_are_served() {
    let kv = scratch("max-connections");
    let server = Server::start(&kv, &["--max-connections", "2"]);
    use std::io::{Read, Write};
    // Two idle connections hold both places.
    let held: Vec<std::net::TcpStream> = (0..2)
        .map(|_| std::net::TcpStream::connect(&server.addr).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut third = std::net::TcpStream::connect(&server.addr).unwrap();
    third
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let _ = third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut raw = Vec::new();
    let _ = third.read_to_end(&mut raw);
    assert!(
        raw.is_empty(),
        "the third connection was served: {:?}",
        String::from_utf8_lossy(&raw)
    );
    drop(held);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        server.get("/healthz").status,
        200,
        "served again once places are free"
    );
}

#[test]
fn running_out_of_file_descriptors_does_not_end_the_server() {
    // A server allowed 64 open files; far more clients than that at once.
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$0\" serve --listen 127.0.0.1:0 --kv-memory",
            env!("CARGO_BIN_EXE_tombstone"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = announced_address(&mut child);
    let crowd: Vec<std::net::TcpStream> = (0..150)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(crowd.len() > 64, "only {} connections", crowd.len());
    drop(crowd);
    // Once the crowd is gone, the server answers again: the failed accepts did not end it.
    let started = std::time::Instant::now();
    let answered = loop {
        match try_request(&addr, "GET", "/healthz", &[], b"") {
            Ok(reply) => break reply,
            Err(e) => {
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(10),
                    "no answer: {e}"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    };
    assert_eq!(answered.status, 200);
    assert!(child.try_wait().unwrap().is_none(), "the server ended");
    let _ = child.kill();
    let _ = child.wait();
}
