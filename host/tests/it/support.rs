//! What the host tests share: a `tombstone serve` process on loopback, a minimal HTTP/1.1 client
//! (so each test controls exactly what goes on the wire), and readers of the SQLite store.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// Which host runs the service: our own (`tombstone serve`), real Spin (`spin up` with the
/// project's `spin.toml` unchanged), or Cloudflare's workerd (`wrangler dev` with the project's
/// `workers/wrangler.toml` unchanged, the Workers build of the same edge crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `tombstone serve`.
    Serve,
    /// `spin up`.
    Spin,
    /// `wrangler dev` (workerd, from npm).
    Workers,
}

impl Host {
    /// The Spin CLI: `$SPIN`, else `spin` on `PATH`; `None` when there is none.
    pub fn spin_cli() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("SPIN").filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("spin"))
                .find(|candidate| candidate.is_file())
        })
    }

    /// wrangler, as `workers/` installs it (`npm ci` there), beside the module it serves
    /// (`workers/build/tombstone_workers.wasm`, from `cargo run -p xtask -- workers`); `None`
    /// when either is missing.
    pub fn wrangler() -> Option<PathBuf> {
        let workers = project_root().join("workers");
        let wrangler = workers.join("node_modules/.bin/wrangler");
        (wrangler.is_file() && workers.join("build/tombstone_workers.wasm").is_file())
            .then_some(wrangler)
    }

    /// Whether this host can run here; says why not, in one line, when it cannot.
    pub fn available(self) -> bool {
        if self == Host::Spin && Host::spin_cli().is_none() {
            println!("real Spin: no Spin CLI found (SPIN or PATH); this test ran on tombstone serve only");
            return false;
        }
        if self == Host::Workers && Host::wrangler().is_none() {
            println!("workerd: workers/ is not built (scripts/test.sh builds it); this test did not run on Workers");
            return false;
        }
        true
    }

    /// The key-value file a host keeps in `dir`: ours, or Spin's default SQLite store (the same
    /// table layout).
    pub fn kv_file(self, dir: &Path) -> PathBuf {
        match self {
            Host::Serve => dir.join("kv.sqlite"),
            Host::Spin => dir.join("sqlite_key_value.db"),
            // wrangler's state: the Durable Object's and the KV namespace's SQLite files.
            Host::Workers => dir.join("workers-state"),
        }
    }
}

/// Where a launched host keeps its `default` store.
#[derive(Debug, Clone, Copy)]
pub enum Store<'a> {
    /// SQLite in this folder (its file: [`Host::kv_file`]).
    Dir(&'a Path),
    /// What this Spin runtime-config file says (Redis, for several instances).
    RuntimeConfig(&'a Path),
}

/// The project's root (where `spin.toml` is).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The admin key every test server has unless its test sets `admin_api_keys`; requests to the
/// admin routes carry it unless they carry a key of their own.
pub const ADMIN_KEY: &str = "test-admin-key";

/// Whether a path is an admin route's.
fn is_admin(path: &str) -> bool {
    ["/api/v1/tasks", "/api/v1/deliveries", "/api/v1/maintenance"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// A running `tombstone serve` or `spin up`; killed (SIGKILL, its whole process group) on drop.
pub struct Server {
    child: Child,
    pub addr: String,
    pub host: Host,
}

/// A loopback port that was free a moment ago (for a server that must come back on the same
/// address after a restart).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// `tombstone serve` on any free port, with its SQLite store at `kv`.
    pub fn start(kv: &Path, args: &[&str]) -> Server {
        Server::start_on("127.0.0.1:0", kv, args)
    }

    /// `tombstone serve --listen listen --kv kv`.
    pub fn start_on(listen: &str, kv: &Path, args: &[&str]) -> Server {
        let mut all = vec!["--kv", kv.to_str().unwrap()];
        all.extend_from_slice(args);
        Server::spawn(listen, &all)
    }

    /// `tombstone serve --listen listen` with exactly `args`.
    pub fn spawn(listen: &str, args: &[&str]) -> Server {
        Server::spawn_with_stderr(listen, args, Stdio::inherit())
    }

    /// The same, with its stderr (the request log) going to `stderr`.
    pub fn spawn_with_stderr(listen: &str, args: &[&str], stderr: Stdio) -> Server {
        Server::spawn_with(listen, args, stderr, &[])
    }

    /// The component on `host`, listening on `listen` (`127.0.0.1:0`: any free port), its store
    /// at `store`, with Spin variables `vars` (`--var` for serve, `SPIN_VARIABLE_*` for Spin).
    pub fn launch(host: Host, listen: &str, store: Store<'_>, vars: &[(&str, &str)]) -> Server {
        match host {
            Host::Serve => {
                // The playground's folder, as spin.toml maps it.
                let www = path_text(&project_root().join("www"));
                let mut args: Vec<String> = vec!["--www".into(), www];
                args.extend(match store {
                    Store::Dir(dir) => vec!["--kv".into(), path_text(&host.kv_file(dir))],
                    Store::RuntimeConfig(file) => {
                        vec!["--runtime-config".into(), path_text(file)]
                    }
                });
                for (name, value) in vars {
                    args.push("--var".into());
                    args.push(format!("{name}={value}"));
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Server::spawn(listen, &args)
            }
            Host::Spin => Server::spin_up(listen, store, vars),
            Host::Workers => match store {
                Store::Dir(dir) => Server::wrangler_dev(listen, dir, vars),
                Store::RuntimeConfig(_) => panic!("Workers keeps its own state: no runtime config"),
            },
        }
    }

    /// `wrangler dev` from `workers/` with its `wrangler.toml` unchanged: workerd on loopback,
    /// offline, its state in `dir`, the variables in an env file (their values may hold `:`).
    fn wrangler_dev(listen: &str, dir: &Path, vars: &[(&str, &str)]) -> Server {
        use std::os::unix::process::CommandExt;
        let wrangler = Host::wrangler().expect("workers/ built");
        let port = match listen.rsplit_once(':') {
            Some((_, "0")) | None => free_port(),
            Some((_, port)) => port.parse().expect("a port"),
        };
        let mut env_file = format!("admin_api_keys=\"{ADMIN_KEY}\"\n");
        for (name, value) in vars {
            env_file.push_str(&format!("{name}=\"{value}\"\n"));
        }
        let env_path = dir.join("workers.env");
        std::fs::write(&env_path, env_file).unwrap();
        // workerd now and then fails to start when several start at once: up to three tries.
        for attempt in 1..=3 {
            let log = std::fs::File::create(dir.join("wrangler.log")).unwrap();
            let child = Command::new(&wrangler)
                .current_dir(project_root().join("workers"))
                .args([
                    "dev",
                    "--local",
                    "--ip",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                ])
                .arg("--persist-to")
                .arg(Host::Workers.kv_file(dir))
                .arg("--env-file")
                .arg(&env_path)
                // Its own inspector port: two at once would both take 9229.
                .args(["--inspector-port", &free_port().to_string()])
                // GET /__scheduled runs the Cron Trigger.
                .args(["--test-scheduled", "--show-interactive-dev-session=false"])
                .args(["--log-level", "info"])
                .env("WRANGLER_SEND_METRICS", "false")
                .env("CI", "1")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .process_group(0)
                .spawn()
                .expect("start wrangler dev");
            let mut server = Server {
                child,
                addr: format!("127.0.0.1:{port}"),
                host: Host::Workers,
            };
            let started = std::time::Instant::now();
            loop {
                if try_request(&server.addr, "GET", "/healthz", &[], b"").is_ok() {
                    return server;
                }
                let log = || std::fs::read_to_string(dir.join("wrangler.log")).unwrap_or_default();
                if server.child.try_wait().unwrap().is_some() {
                    assert!(attempt < 3, "wrangler dev ended: {}", log());
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "wrangler dev did not answer on {} within a minute: {}",
                    server.addr,
                    log()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        unreachable!("the third try returns or fails")
    }

    /// `spin up` from the project's root with its `spin.toml` unchanged, in a process group of
    /// its own (it runs the server as a child: a kill must reach both).
    fn spin_up(listen: &str, store: Store<'_>, vars: &[(&str, &str)]) -> Server {
        use std::os::unix::process::CommandExt;
        let spin = Host::spin_cli().expect("a Spin CLI (SPIN or PATH)");
        let listen = if listen.ends_with(":0") {
            format!("127.0.0.1:{}", free_port())
        } else {
            listen.to_owned()
        };
        let mut command = Command::new(spin);
        command
            .current_dir(project_root())
            .args(["up", "--listen", &listen]);
        match store {
            Store::Dir(dir) => {
                command.arg("--state-dir").arg(dir);
            }
            Store::RuntimeConfig(file) => {
                // Each instance its own (its logs), the store the file's.
                let port = listen.rsplit(':').next().unwrap_or("0");
                let state = file.parent().unwrap().join(format!("spin-state-{port}"));
                command
                    .arg("--runtime-config-file")
                    .arg(file)
                    .arg("--state-dir")
                    .arg(state);
            }
        }
        // The test admin key, unless the test sets admin_api_keys itself (below, later wins).
        command.env("SPIN_VARIABLE_ADMIN_API_KEYS", ADMIN_KEY);
        for (name, value) in vars {
            command.env(
                format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
                value,
            );
        }
        let child = command
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start spin up");
        let server = Server {
            child,
            addr: listen,
            host: Host::Spin,
        };
        let started = std::time::Instant::now();
        while try_request(&server.addr, "GET", "/healthz", &[], b"").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "spin up did not answer on {} within a minute",
                server.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The same, with environment variables set for the process.
    pub fn spawn_with(listen: &str, args: &[&str], stderr: Stdio, env: &[(&str, &str)]) -> Server {
        // The test admin key, unless the test sets admin_api_keys itself.
        let admin = format!("admin_api_keys={ADMIN_KEY}");
        let sets_admin = args.iter().any(|a| a.starts_with("admin_api_keys="));
        let mut child = Command::new(env!("CARGO_BIN_EXE_tombstone"))
            .args(["serve", "--listen", listen])
            .args(if sets_admin {
                vec![]
            } else {
                vec!["--var", &admin]
            })
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start tombstone serve");
        let addr = announced_address(&mut child);
        Server {
            child,
            addr,
            host: Host::Serve,
        }
    }

    /// The server's peak resident memory since the last [`Server::reset_peak_rss`] (or its
    /// start), in KiB (Linux `VmHWM`): what a request used at its height, not after it.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }

    /// Resets the peak of [`Server::peak_rss_kib`] to the current resident memory (Linux
    /// `clear_refs` 5).
    pub fn reset_peak_rss(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").unwrap();
    }

    /// Sends `head` (request line and headers, without the blank line), then `body` in pieces
    /// of `piece` bytes with `pause` between them — as `Transfer-Encoding: chunked` when
    /// `chunked` — while reading the answer. Returns the answer and how long it took to come;
    /// the sender stops at the first write error (the server may close once it has answered).
    pub fn stream(
        &self,
        head: &str,
        body_len: usize,
        piece: usize,
        pause: Duration,
        chunked: bool,
    ) -> (Reply, Duration) {
        let stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let head = format!("{head}\r\n\r\n");
        let started = std::time::Instant::now();
        let sender = std::thread::spawn(move || {
            writer.write_all(head.as_bytes())?;
            let data = vec![b' '; piece];
            let mut sent = 0;
            while sent < body_len {
                let n = piece.min(body_len - sent);
                if chunked {
                    writer.write_all(format!("{n:x}\r\n").as_bytes())?;
                    writer.write_all(&data[..n])?;
                    writer.write_all(b"\r\n")?;
                } else {
                    writer.write_all(&data[..n])?;
                }
                sent += n;
                if !pause.is_zero() {
                    std::thread::sleep(pause);
                }
            }
            if chunked {
                writer.write_all(b"0\r\n\r\n")?;
            }
            Ok::<(), std::io::Error>(())
        });
        let reply = read_reply(stream);
        let took = started.elapsed();
        let _ = sender.join();
        (reply, took)
    }

    /// Sends SIGTERM (what Kubernetes, systemd and `docker stop` send first).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end; its exit status.
    pub fn wait(mut self) -> std::process::ExitStatus {
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }

    /// SIGKILL: no shutdown hook runs.
    pub fn kill(mut self) {
        self.kill_all();
    }

    /// SIGKILL to the process, and to its process group when it has one (Spin's, wrangler's).
    fn kill_all(&mut self) {
        if self.host != Host::Serve {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut headers = headers.to_vec();
        if is_admin(path)
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("x-api-key"))
        {
            headers.push(("X-API-Key", ADMIN_KEY));
        }
        try_request(&self.addr, method, path, &headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        self.request("POST", path, &all, body)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// One request on a connection of its own; an error when the server is not there or closes
/// without a complete answer.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    // The server may answer (413) before reading a large body; a reset then is fine.
    let _ = stream.write_all(body);
    let raw = read_answer(&mut stream, method)?;
    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "no complete answer",
        ));
    }
    Ok(Reply::parse(&raw))
}

/// An answer, read to the end its framing gives (`Content-Length`, the last chunk) or to the
/// connection's close. Not to the close alone: workerd keeps a connection open for seconds after
/// its answer, whatever `Connection: close` says.
fn read_answer(stream: &mut TcpStream, method: &str) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buffer = [0; 64 * 1024];
    loop {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Ok(raw);
        }
        raw.extend_from_slice(&buffer[..n]);
        let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status = head.split(' ').nth(1).unwrap_or_default();
        let header = |name: &str| {
            head.split("\r\n")
                .filter_map(|l| l.split_once(':'))
                .find(|(n, _)| n.trim() == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        let body = raw.len() - split - 4;
        let complete = if method == "HEAD" || ["204", "304"].contains(&status) {
            true
        } else if header("transfer-encoding").as_deref() == Some("chunked") {
            raw.ends_with(b"\r\n0\r\n\r\n") || (body == 5 && raw.ends_with(b"0\r\n\r\n"))
        } else if let Some(length) = header("content-length").and_then(|l| l.parse().ok()) {
            body >= length
        } else {
            false
        };
        if complete {
            return Ok(raw);
        }
    }
}

/// The canonical deletion of `key` (organization acme-vet) to the server at `addr`.
pub fn post_to(addr: &str, key: &str, body: &str) -> Reply {
    try_post_to(addr, key, body).unwrap_or_else(|e| panic!("{addr}: {e}"))
}

/// The same; an error when the server is not there (killed, restarting).
pub fn try_post_to(addr: &str, key: &str, body: &str) -> std::io::Result<Reply> {
    try_request(
        addr,
        "POST",
        "/api/v1/invoice-deletions",
        &[
            ("Content-Type", "application/json"),
            ("Idempotency-Key", key),
            ("X-Organization-Id", "acme-vet"),
        ],
        body.as_bytes(),
    )
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn parse(raw: &[u8]) -> Reply {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no complete response head in {raw:?}"));
        let head = std::str::from_utf8(&raw[..split]).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut headers = BTreeMap::new();
        for (name, value) in lines.filter_map(|l| l.split_once(':')) {
            let name = name.trim().to_ascii_lowercase();
            // A header the server sent twice would hide behind the map: no test may pass on it.
            let twice = headers.insert(name.clone(), value.trim().to_owned());
            assert!(twice.is_none(), "{name} twice in {head}");
        }
        let mut body = raw[split + 4..].to_vec();
        if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
            body = dechunk(&body);
        } else if let Some(length) = headers.get("content-length") {
            // A truncated body is not an answer.
            assert_eq!(Ok(body.len()), length.parse::<usize>(), "{head}");
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Status, problem kind and the first error's pointer of a problem+json answer.
    pub fn problem(&self) -> (u16, String, String) {
        assert_eq!(
            self.headers.get("content-type").map(String::as_str),
            Some("application/problem+json"),
            "{self:?}"
        );
        let v = self.json();
        (
            self.status,
            v["type"]
                .as_str()
                .unwrap()
                .replace("urn:tombstone:problem:", ""),
            v["errors"][0]["pointer"].as_str().unwrap_or("").to_owned(),
        )
    }
}

/// Reads one complete answer (by its `Content-Length`, its chunked framing, or the connection's
/// end), without waiting for the server to close the connection.
fn read_reply(mut stream: TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
            let body = &raw[at + 4..];
            let length = head.lines().find_map(|l| {
                l.strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            let complete = match length {
                Some(n) => body.len() >= n,
                None if head.contains("transfer-encoding: chunked") => body.ends_with(b"0\r\n\r\n"),
                None => false,
            };
            if complete {
                return Reply::parse(&raw);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return Reply::parse(&raw),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[line_end + 2..line_end + 2 + size]);
        body = &body[line_end + 2 + size + 2..];
    }
}

/// The component on `host` with its SQLite store in a fresh folder named after the test and the
/// host; the server and the store's file.
pub fn start(host: Host, name: &str, vars: &[(&str, &str)]) -> (Server, PathBuf) {
    let dir = scratch_dir(&format!("{name}-{host:?}"));
    let server = Server::launch(host, "127.0.0.1:0", Store::Dir(&dir), vars);
    (server, host.kv_file(&dir))
}

/// A fresh folder of its own for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    scratch(name).parent().unwrap().to_path_buf()
}

/// A fresh folder for one test's key-value file.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("kv.sqlite")
}

/// Every key of the key-value file.
pub fn stored_keys(kv: &Path) -> Vec<String> {
    if kv.is_dir() {
        return workers_keys(kv);
    }
    let db = rusqlite::Connection::open(kv).unwrap();
    let mut statement = db
        .prepare("SELECT key FROM spin_key_value ORDER BY key")
        .unwrap();
    let keys = statement.query_map([], |row| row.get(0)).unwrap();
    keys.collect::<Result<_, _>>().unwrap()
}

/// Every key of wrangler's local state in `dir`: the Durable Object's storage (table `_cf_KV`)
/// and the KV namespace's (table `_mf_entries`).
fn workers_keys(dir: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "sqlite") {
                let db = rusqlite::Connection::open(&path).unwrap();
                for table in ["_cf_KV", "_mf_entries"] {
                    if let Ok(mut statement) = db.prepare(&format!("SELECT key FROM {table}")) {
                        let found = statement.query_map([], |row| row.get(0)).unwrap();
                        keys.extend(found.map(Result::unwrap));
                    }
                }
            }
        }
    }
    keys.sort();
    keys
}

/// The task records (`task/<id>`, not archived generations) of the key-value file.
pub fn stored_tasks(kv: &Path) -> Vec<String> {
    stored_keys(kv)
        .into_iter()
        .filter(|k| k.starts_with("task/") && k.matches('/').count() == 1)
        .collect()
}

pub const CANONICAL: &str = r#"{"invoices":[{"invoice_id":"inv-1","clinic_id":"clinic-1"}]}"#;

pub fn canonical(server: &Server, key: &str, body: &str) -> Reply {
    server.post(
        "/api/v1/invoice-deletions",
        &[("Idempotency-Key", key), ("X-Organization-Id", "acme-vet")],
        body.as_bytes(),
    )
}

pub use tombstone_tests::percent_encode as encode;

/// One delivery of a shared sample: its case of the conformance table, its route's path, its
/// headers.
pub struct SampleDelivery {
    /// The case.
    pub case: tombstone_tests::Case,
    /// The route, with its query.
    pub path: String,
    /// The headers the delivery carries.
    pub headers: Vec<(String, String)>,
    /// The organization it is sent for.
    pub organization: String,
}

impl SampleDelivery {
    /// Sends it to `server`, and checks that it is answered with its source's success status.
    pub fn send(&self, server: &Server) -> Reply {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = server.post(&self.path, &headers, &self.case.payload_bytes());
        let source = self.case.expect["conversion"]["source"].as_str().unwrap();
        assert_eq!(
            reply.status,
            success_status(source),
            "{}: {reply:?}",
            self.case.name
        );
        reply
    }

    /// The sample's file, relative to `tests/conformance/`.
    pub fn file(&self) -> String {
        self.case.payload_file.clone().unwrap()
    }

    /// The conversion the table expects.
    pub fn expected(&self) -> &serde_json::Value {
        &self.case.expect["conversion"]
    }

    /// The key its canonical request carries.
    pub fn key(&self) -> &str {
        self.expected()["request"]["headers"]["Idempotency-Key"]
            .as_str()
            .unwrap()
    }

    /// Its task id.
    pub fn task_id(&self) -> String {
        tombstone_core::task_id(&self.organization, self.key())
            .unwrap()
            .to_string()
    }
}

/// Every case of the table whose payload is a shared sample, as a delivery to its route, each
/// for an organization of its own (`<prefix>-<n>`: cases reuse payloads with other clinics,
/// and the same key with another body would rightly be refused as reuse).
pub fn sample_deliveries(prefix: &str) -> Vec<SampleDelivery> {
    tombstone_tests::load_cases()
        .into_iter()
        .enumerate()
        .filter_map(|(n, case)| {
            let organization = format!("{prefix}-{n}");
            let (path, headers) = sample_delivery(&case, &organization)?;
            Some(SampleDelivery {
                case,
                path,
                headers,
                organization,
            })
        })
        .collect()
}

/// A case of the conformance table whose payload is a shared sample, sent to its route: the
/// canonical route for canonical samples, the webhook route (forced or `auto`) otherwise.
/// `None` for cases that are not such a delivery.
fn sample_delivery(
    case: &tombstone_tests::Case,
    org: &str,
) -> Option<(String, Vec<(String, String)>)> {
    case.expect.get("conversion")?;
    let file = case.payload_file.as_deref()?;
    // The sample folders are named after the sources.
    let shared = tombstone_core::Source::ALL
        .iter()
        .any(|s| file.starts_with(&format!("payloads/{}/", s.name())));
    if !shared || case.context.delay_seconds.unwrap_or(0) != 0 {
        return None;
    }
    let mut headers = vec![];
    if let Some(key) = &case.context.idempotency_key {
        headers.push(("Idempotency-Key".to_owned(), key.clone()));
    }
    let source = case.expect["conversion"]["source"].as_str()?;
    let path = if source == "canonical" {
        headers.push(("X-Organization-Id".to_owned(), org.to_owned()));
        "/api/v1/invoice-deletions".to_owned()
    } else {
        let route = match &case.context.source {
            Some(forced) if forced != "auto" => forced.clone(),
            _ => "auto".to_owned(),
        };
        let mut path = format!("/api/v1/webhooks/{route}/{org}");
        if let Some(clinic) = &case.context.clinic_id {
            path.push_str(&format!("?clinic_id={}", encode(clinic)));
        }
        path
    };
    Some((path, headers))
}

/// The status a source's route answers with.
pub fn success_status(source: &str) -> u16 {
    tombstone_core::Source::from_name(source)
        .expect("a source of the table")
        .success_status()
}

/// Every shared sample payload (`payloads/<source>/<file>`, for every source) is in `covered`.
pub fn assert_every_shared_sample_in(covered: &std::collections::BTreeSet<String>, missing: &str) {
    for dir in tombstone_core::Source::ALL.iter().map(|s| s.name()) {
        let folder = tombstone_tests::conformance_dir()
            .join("payloads")
            .join(dir);
        for entry in std::fs::read_dir(folder).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let file = format!("payloads/{dir}/{name}");
            assert!(covered.contains(&file), "{file} {missing}");
        }
    }
}

/// Runs one end-to-end test on both hosts: `name::serve` on `tombstone serve`, `name::spin` on
/// real Spin when a Spin CLI is found (else that test says so in one line and passes).
#[macro_export]
macro_rules! on_both_hosts {
    ($($name:ident),+ $(,)?) => {
        $( $crate::host_tests!($name; serve: Serve, spin: Spin); )+
    };
}

/// Runs one end-to-end test on every host: as [`on_both_hosts!`], and `name::workers` on workerd
/// (`wrangler dev`) when `workers/` is built (else that test says so in one line and passes).
#[macro_export]
macro_rules! on_every_host {
    ($($name:ident),+ $(,)?) => {
        $( $crate::host_tests!($name; serve: Serve, spin: Spin, workers: Workers); )+
    };
}

/// The tests of one end-to-end test function, one per host.
#[macro_export]
macro_rules! host_tests {
    ($name:ident; $($test:ident: $host:ident),+) => {
        mod $name {
            use $crate::support::Host;
            $(
                #[test]
                fn $test() {
                    if Host::$host.available() {
                        super::$name(Host::$host);
                    }
                }
            )+
        }
    };
}

/// Waits until `done` holds, `poke`-ing the service meanwhile (on Spin the dispatcher runs
/// after requests: this is the traffic a live service has), for at most `limit`.
pub fn wait_for(server: &Server, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = std::time::Instant::now();
    loop {
        if done() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "not done within {limit:?} on {:?}",
            server.host
        );
        if server.host != Host::Serve {
            let _ = try_request(&server.addr, "GET", "/healthz", &[], b"");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The address a `tombstone serve` child announces on the first line of its stdout (which must
/// be piped).
pub fn announced_address(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .unwrap();
    line.split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned()
}
