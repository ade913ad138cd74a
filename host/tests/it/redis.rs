//! Many instances, one truth: several `tombstone serve` processes on one real Redis (Debian's
//! `redis-server`, started here on a loopback port; `.ci/run` installs it), configured with
//! Spin's runtime-config file as `spin up` would be.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// A `redis-server` with an append-only file synced on every write, so a SIGKILL loses nothing
/// it acknowledged.
pub(crate) struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    pub(crate) fn start(name: &str) -> RedisServer {
        let dir = scratch(&format!("redis-{name}"))
            .parent()
            .unwrap()
            .to_path_buf();
        RedisServer::start_in(dir, free_port())
    }

    fn start_in(dir: PathBuf, port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server package; scripts/setup.sh installs it)");
        let server = RedisServer { child, port, dir };
        let started = Instant::now();
        while server.connection().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// SIGKILL, then a new server on the same port and files.
    pub(crate) fn kill(mut self) -> (PathBuf, u16) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        (self.dir.clone(), self.port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn connection(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection()
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query(&mut self.connection().unwrap())
            .unwrap();
        keys.sort();
        keys
    }

    fn get(&self, key: &str) -> Option<Vec<u8>> {
        redis::cmd("GET")
            .arg(key)
            .query(&mut self.connection().unwrap())
            .unwrap()
    }

    /// Spin's runtime-config file pointing the `default` store at this server.
    pub(crate) fn runtime_config(&self) -> PathBuf {
        let file = self.dir.join("runtime-config.toml");
        std::fs::write(
            &file,
            format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
                self.url()
            ),
        )
        .unwrap();
        file
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tombstone serve` on the Redis of `config`, at `listen`.
fn instance(listen: &str, config: &std::path::Path) -> Server {
    Server::spawn(listen, &["--runtime-config", config.to_str().unwrap()])
}

fn body_of(key: &str) -> String {
    format!(r#"{{"invoices":[{{"invoice_id":"inv-{key}","clinic_id":"clinic-1"}}]}}"#)
}

/// What one delivery got: `scheduled`, `duplicate`, `conflict`, `unavailable`, or another status.
fn outcome(reply: &Reply) -> String {
    match reply.status {
        200 | 202 => reply.json()["status"].as_str().unwrap().to_owned(),
        409 => "conflict".into(),
        503 => {
            assert_eq!(reply.problem().1, "unavailable");
            assert!(reply.headers.contains_key("retry-after"));
            "unavailable".into()
        }
        other => format!("status {other}"),
    }
}

/// Sends `key`'s deletion to the server at `addr`; `None` when it is not there (killed).
fn deliver(addr: &str, key: &str) -> Option<Reply> {
    try_post_to(addr, key, &body_of(key)).ok()
}

fn one_deletion_sent_100_times_over_2_and_4_instances_is_scheduled_once(host: Host) {
    for n in [2, 4] {
        let redis = RedisServer::start(&format!("one-key-{n}-{host:?}"));
        let config = redis.runtime_config();
        let servers: Vec<Server> = (0..n)
            .map(|_| Server::launch(host, "127.0.0.1:0", Store::RuntimeConfig(&config), &[]))
            .collect();
        let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
        let key = format!("one-key-{n}");
        let threads: Vec<_> = (0..100)
            .map(|i| {
                let addr = addrs[i % n].clone();
                let key = key.clone();
                std::thread::spawn(move || outcome(&post_to(&addr, &key, &body_of(&key))))
            })
            .collect();
        let outcomes: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let count = |what: &str| outcomes.iter().filter(|o| *o == what).count();
        let (scheduled, duplicate, conflict) =
            (count("scheduled"), count("duplicate"), count("conflict"));
        println!(
            "redis, {n} instances of {host:?}: 100 deliveries of one key: {scheduled} \
             scheduled, {duplicate} duplicate, {conflict} conflict"
        );
        assert_eq!(scheduled, 1, "{outcomes:?}");
        assert_eq!(scheduled + duplicate + conflict, 100, "{outcomes:?}");
        let task_id = tombstone_core::task_id("acme-vet", &key).unwrap();
        let keys = redis.keys();
        let tasks: Vec<&String> = keys.iter().filter(|k| !k.starts_with("claim/")).collect();
        assert_eq!(tasks, [&format!("task/{task_id}")], "one task: {keys:?}");
        // The holder's claim stays (maintenance removes it once its minutes have passed); a
        // burst across a minute's end may leave the next minute's too.
        assert!((1..=2).contains(&(keys.len() - 1)), "{keys:?}");
        // Every later retry, on any instance, is that task's duplicate.
        for addr in &addrs {
            assert_eq!(outcome(&post_to(addr, &key, &body_of(&key))), "duplicate");
        }
    }
}

crate::on_both_hosts!(one_deletion_sent_100_times_over_2_and_4_instances_is_scheduled_once);

#[test]
fn accepted_deletions_leave_their_tasks_and_claims_in_redis_and_maintenance_removes_stale_claims() {
    let redis = RedisServer::start("bounded");
    let config = redis.runtime_config();
    let servers: Vec<Server> = (0..2).map(|_| instance("127.0.0.1:0", &config)).collect();
    for round in 0..3 {
        for i in 0..30 {
            let key = format!("bounded-{i}");
            let r = post_to(&servers[(i + round) % 2].addr, &key, &body_of(&key));
            assert_eq!(r.status, 202);
        }
    }
    let keys = redis.keys();
    let (claims, tasks): (Vec<&String>, Vec<&String>) =
        keys.iter().partition(|k| k.starts_with("claim/"));
    assert_eq!(tasks.len(), 30, "30 deletions, 90 deliveries: {keys:?}");
    assert!(tasks.iter().all(|k| k.starts_with("task/")), "{keys:?}");
    // Each scheduling delivery's claim stays until its minutes have passed (Spin's Redis store
    // keeps counters as INCRBY's decimal text); no loser left one behind.
    assert_eq!(claims.len(), 30, "{claims:?}");
    for claim in &claims {
        assert!(redis.get(claim).is_some_and(|v| v == b"1"), "{claim}");
    }
    let keys: Vec<String> = tasks.into_iter().cloned().collect();
    // Gone by hand, as maintenance removes them once their minutes have passed: what follows
    // tests maintenance on claims of known ages.
    for claim in &claims {
        let _: () = redis::cmd("DEL")
            .arg(claim.as_str())
            .query(&mut redis.connection().unwrap())
            .unwrap();
    }

    // What an instance that died holding a claim leaves: a counter. The maintenance route lists
    // the store through Redis and removes it once its minutes have passed, not before.
    let task_id = keys[0].strip_prefix("task/").unwrap();
    let minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60;
    let stale = format!("claim/{task_id}/0/{}", minute - 10);
    let live = format!("claim/{task_id}/0/{minute}");
    let mut connection = redis.connection().unwrap();
    for key in [&stale, &live] {
        let n: i64 = redis::cmd("INCR").arg(key).query(&mut connection).unwrap();
        assert_eq!(n, 1);
    }
    let expired = post_to_path(&servers[1].addr, "/api/v1/maintenance/expire");
    assert_eq!(expired.status, 200, "{expired:?}");
    assert_eq!(
        expired.json(),
        serde_json::json!({"next": null, "keys_scanned": 32, "claims_removed": 1, "tasks_removed": 0, "deliveries_removed": 0, "index_entries_removed": 0, "leases_removed": 0})
    );
    let keys = redis.keys();
    assert_eq!(keys.len(), 31, "{keys:?}");
    assert!(keys.contains(&live) && !keys.contains(&stale), "{keys:?}");
}

/// An empty POST to `path` on the server at `addr`.
fn post_to_path(addr: &str, path: &str) -> Reply {
    try_request(addr, "POST", path, &[("X-API-Key", ADMIN_KEY)], b"").unwrap()
}

#[test]
fn a_mixed_load_over_three_instances_survives_one_killed_and_restarted() {
    let redis = RedisServer::start("mixed");
    let config = redis.runtime_config();
    let listens: Vec<String> = (0..3)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let servers: Arc<Mutex<Vec<Option<Server>>>> = Arc::new(Mutex::new(
        listens.iter().map(|l| Some(instance(l, &config))).collect(),
    ));
    // 8 senders, 60 deliveries each, over 15 keys: at step i every sender sends key i / 4, to
    // instance (sender + i) % 3, so each key is sent 32 times, to every instance, concurrently,
    // and new keys keep coming for the whole run (the kill meets first deliveries too).
    let answers = Arc::new(Mutex::new(Vec::<(String, Option<Value>)>::new()));
    let senders: Vec<_> = (0..8)
        .map(|t| {
            let listens = listens.clone();
            let answers = answers.clone();
            std::thread::spawn(move || {
                for i in 0..60 {
                    let key = format!("mixed-{}", i / 4);
                    let addr = &listens[(t + i) % 3];
                    let reply = deliver(addr, &key);
                    let value = reply.filter(|r| r.status == 202).map(|r| r.json());
                    answers.lock().unwrap().push((key, value));
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    // Mid-load: SIGKILL the second instance, and start it again on its address.
    while answers.lock().unwrap().len() < 120 {
        std::thread::sleep(Duration::from_millis(5));
    }
    servers.lock().unwrap()[1].take().unwrap().kill();
    std::thread::sleep(Duration::from_millis(300));
    servers.lock().unwrap()[1] = Some(instance(&listens[1], &config));
    for s in senders {
        s.join().unwrap();
    }
    let answers = answers.lock().unwrap().clone();
    let mut scheduled: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, value) in &answers {
        if let Some(v) = value.as_ref().filter(|v| v["status"] == "scheduled") {
            scheduled.entry(key.clone()).or_default().push(v.clone());
        }
    }
    let unanswered = answers.iter().filter(|(_, v)| v.is_none()).count();
    println!(
        "redis, 3 instances, one killed and restarted: {} deliveries, {} keys scheduled, \
         {unanswered} not accepted (killed instance, conflicts)",
        answers.len(),
        scheduled.len()
    );
    // The task each key has in Redis, by its stored received_at.
    let stored_received_at = |key: &str, task_id: &str| -> Value {
        let stored = redis
            .get(&format!("task/{task_id}"))
            .unwrap_or_else(|| panic!("{key} was answered but its task is not stored"));
        let stored: Value = serde_json::from_slice(&stored).unwrap();
        stored["response"]["received_at"].clone()
    };
    for (key, firsts) in &scheduled {
        assert_eq!(firsts.len(), 1, "{key} was scheduled twice: {firsts:?}");
        let task_id = firsts[0]["task_id"].as_str().unwrap();
        assert_eq!(
            stored_received_at(key, task_id),
            firsts[0]["received_at"],
            "{key}"
        );
    }
    // Every duplicate answer names the one task its key has: the one answered "scheduled", or
    // the one the killed instance stored before it could answer.
    for (key, value) in &answers {
        if let Some(v) = value.as_ref().filter(|v| v["status"] == "duplicate") {
            let task_id = v["task_id"].as_str().unwrap();
            assert_eq!(v["received_at"], stored_received_at(key, task_id), "{key}");
            if let Some(firsts) = scheduled.get(key) {
                assert_eq!(v["received_at"], firsts[0]["received_at"], "{key}");
            }
        }
    }
    let tasks = redis
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("task/"))
        .count();
    // At most one task per key; at least one per key answered "scheduled" (more only when the
    // killed instance stored one it never answered).
    assert!(
        (scheduled.len()..=15).contains(&tasks),
        "{tasks} tasks for {} keys answered scheduled, of 15",
        scheduled.len()
    );
    // Every key was taken, but those whose claim the killed instance held when it died (at
    // most the two keys in flight then: their retries get 409 until the claim window ends).
    let taken: BTreeSet<&String> = answers
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(key, _)| key)
        .collect();
    assert!(
        taken.len() >= 13,
        "only {} of 15 keys were taken",
        taken.len()
    );
    // The restarted instance serves: a new key is scheduled, a taken one is a duplicate.
    let fresh = deliver(&listens[1], "mixed-after-restart").expect("an answer");
    assert_eq!(
        (fresh.status, fresh.json()["status"].clone()),
        (202, Value::from("scheduled"))
    );
    let again = deliver(&listens[1], taken.first().unwrap()).expect("an answer");
    assert_eq!(
        (again.status, again.json()["status"].clone()),
        (202, Value::from("duplicate"))
    );
}

#[test]
fn redis_restarted_mid_load_loses_no_acknowledged_deletion() {
    let redis = RedisServer::start("restart");
    let config = redis.runtime_config();
    let servers: Vec<Server> = (0..2).map(|_| instance("127.0.0.1:0", &config)).collect();
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    let answers = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let (answers, stop) = (answers.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let key = format!("restart-{i}");
                let reply = post_to(&addrs[i % 2], &key, &body_of(&key));
                answers.lock().unwrap().push((key, outcome(&reply)));
                i += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let wait_for = |n: usize| {
        while answers.lock().unwrap().len() < n {
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_for(40);
    let (dir, port) = redis.kill();
    // The one request in flight when Redis died may have been served before it died.
    let outage_from = answers.lock().unwrap().len() + 1;
    std::thread::sleep(Duration::from_millis(1500));
    // Counted before Redis starts again: every one of these came while it was down (an
    // instance may reconnect and serve before `start_in` has seen Redis answer).
    let back_at = answers.lock().unwrap().len();
    let redis = RedisServer::start_in(dir, port);
    // Served again, without restarting an instance.
    let started = Instant::now();
    while !answers.lock().unwrap()[back_at..]
        .iter()
        .any(|(_, o)| o == "scheduled")
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never served again"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let now = answers.lock().unwrap().len();
    wait_for(now + 20);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    sender.join().unwrap();
    let answers = answers.lock().unwrap().clone();
    let during = &answers[outage_from..back_at];
    assert!(!during.is_empty());
    assert!(
        during.iter().all(|(_, o)| o == "unavailable"),
        "during the outage: {during:?}"
    );
    let mut acknowledged = 0;
    for (key, o) in &answers {
        assert!(o == "scheduled" || o == "unavailable", "{key}: {o}");
        if o == "scheduled" {
            acknowledged += 1;
            let task_id = tombstone_core::task_id("acme-vet", key).unwrap();
            assert!(
                redis.get(&format!("task/{task_id}")).is_some(),
                "{key} was acknowledged, then lost"
            );
        }
    }
    println!(
        "redis restarted mid-load: {} deliveries, {acknowledged} acknowledged and all stored, \
         {} answered 503 during the outage",
        answers.len(),
        during.len()
    );
}

/// A `redis-server` speaking TLS only, with a password, its certificate signed by a CA made for
/// the test; the CA's file and the port.
fn tls_redis(dir: &std::path::Path) -> (KillOnDrop, PathBuf, u16) {
    crate::relay::test_pki(dir);
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
        ])
        .args(["--tls-cert-file", "leaf.pem", "--tls-key-file", "leaf.key"])
        .args(["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"])
        .args(["--requirepass", "s3cret-redis", "--save", ""])
        .current_dir(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server with TLS (Debian's is built with it)");
    let guard = KillOnDrop(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "redis-server (TLS) did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (guard, dir.join("ca.pem"), port)
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn rediss_with_a_verified_certificate_a_prefix_and_no_password_in_any_message() {
    let dir = scratch_dir("redis-tls");
    let (_redis, ca, port) = tls_redis(&dir);
    let config = dir.join("runtime-config.toml");
    std::fs::write(
        &config,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"rediss://:s3cret-redis@127.0.0.1:{port}\"\nprefix = \"tombstone:\"\n"
        ),
    )
    .unwrap();
    let log = dir.join("serve.log");
    let trusted = Server::spawn_with(
        "127.0.0.1:0",
        &["--runtime-config", config.to_str().unwrap()],
        Stdio::from(std::fs::File::create(&log).unwrap()),
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    );
    for i in 0..3 {
        let key = format!("tls-{i}");
        assert_eq!(
            post_to(&trusted.addr, &key, &body_of(&key)).json()["status"],
            "scheduled"
        );
    }
    assert_eq!(trusted.get("/readyz").status, 200);
    // Every key is under the prefix (read through TLS with the CA, as redis-cli would).
    let keys: Vec<String> = {
        let output = Command::new("redis-cli")
            .args([
                "--tls",
                "--cacert",
                ca.to_str().unwrap(),
                "-p",
                &port.to_string(),
            ])
            .args(["-a", "s3cret-redis", "--no-auth-warning", "--scan"])
            .output()
            .expect("redis-cli");
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    assert!(keys.len() >= 3, "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("tombstone:")), "{keys:?}");
    // Maintenance lists them with SCAN, under the prefix, and finds every one.
    let expired = post_to_path(&trusted.addr, "/api/v1/maintenance/expire").json();
    assert_eq!(
        expired["keys_scanned"].as_u64().unwrap() as usize,
        keys.len(),
        "{expired}"
    );

    // With the system's roots alone, the certificate is refused: not ready, deliveries refused
    // for now — and no message anywhere holds the password.
    let untrusted = Server::spawn_with(
        "127.0.0.1:0",
        &["--runtime-config", config.to_str().unwrap()],
        Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()),
        &[],
    );
    let ready = untrusted.get("/readyz");
    assert_eq!(ready.status, 503, "{ready:?}");
    let refused = post_to(&untrusted.addr, "tls-x", &body_of("tls-x"));
    assert_eq!(refused.status, 503, "{refused:?}");
    drop(trusted);
    drop(untrusted);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("UnknownIssuer"),
        "the log says why: {logged}"
    );
    assert!(
        !logged.contains("s3cret-redis"),
        "the password leaked: {logged}"
    );
    assert!(!String::from_utf8_lossy(&refused.body).contains("s3cret"));
    assert!(
        !String::from_utf8_lossy(&refused.body).contains("UnknownIssuer"),
        "internals"
    );

    // A URL serve cannot use: it refuses to start, and says so without the password.
    std::fs::write(
        &config,
        "[key_value_store.default]\ntype = \"redis\"\nurl = \"rediss://:s3cret-redis@[::1\"\n",
    )
    .unwrap();
    let failed = Command::new(env!("CARGO_BIN_EXE_tombstone"))
        .args(["serve", "--listen", "127.0.0.1:0", "--runtime-config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(said.contains("rediss://:***@"), "{said}");
    assert!(!said.contains("s3cret-redis"), "{said}");
}
