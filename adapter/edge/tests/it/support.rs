//! What the edge tests share: requests built by hand, a store that counts writes and can fail,
//! an upstream that answers from a script and records what it was sent.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::collections::VecDeque;

use tombstone_core::Timestamp;
use tombstone_edge::{
    handle, Config, ConfigError, Env, KeyValue, MemoryStore, NoUpstream, Request, Response,
    StoreError, Upstream, UpstreamError, UpstreamRequest, UpstreamResponse,
};

pub const T0: &str = "2026-03-01T12:00:00Z";
pub const CANONICAL: &str = r#"{"invoices":[{"invoice_id":"inv-1","clinic_id":"clinic-1"}]}"#;
pub const OTHER_CANONICAL: &str = r#"{"invoices":[{"invoice_id":"inv-2","clinic_id":"clinic-1"}]}"#;
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The admin key every test configuration has unless it sets `admin_api_keys` itself; calls to
/// admin routes carry it unless they carry a key of their own.
pub const ADMIN_KEY: &str = "test-admin-key";

/// Whether a path is an admin route's.
fn is_admin(path: &str) -> bool {
    ["/api/v1/tasks", "/api/v1/deliveries", "/api/v1/maintenance"]
        .iter()
        .any(|p| path.starts_with(p))
}

pub fn at(t: &str) -> Timestamp {
    Timestamp::parse(t).unwrap()
}

/// `seconds` after [`T0`].
pub fn later(seconds: i64) -> Timestamp {
    Timestamp::from_unix(at(T0).unix_seconds() + seconds, 0, 0).unwrap()
}

/// A store that counts writes and whole-store key scans, and can fail the writes under a prefix.
#[derive(Default)]
pub struct TestStore {
    pub inner: MemoryStore,
    pub writes: Cell<usize>,
    pub key_scans: Cell<usize>,
    pub fail_prefix: Option<&'static str>,
    /// Every read fails too (the store is gone).
    pub fail_reads: bool,
}

impl TestStore {
    pub fn keys(&self) -> Vec<String> {
        self.inner.keys().unwrap()
    }

    fn write(&self, key: &str) -> Result<(), StoreError> {
        if self.fail_prefix.is_some_and(|p| key.starts_with(p)) {
            return Err(StoreError::unavailable("disk full"));
        }
        self.writes.set(self.writes.get() + 1);
        Ok(())
    }
}

impl KeyValue for TestStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.fail_reads {
            return Err(StoreError::unavailable("injected: connection refused"));
        }
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.write(key)?;
        self.inner.set(key, value)
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.write(key)?;
        self.inner.delete(key)
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.write(key)?;
        self.inner.increment(key, delta)
    }
    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.key_scans.set(self.key_scans.get() + 1);
        self.inner.keys()
    }
    fn keys_page(&self, cursor: Option<&str>) -> Result<tombstone_edge::KeyPage, StoreError> {
        self.inner.keys_page(cursor)
    }
}

/// An upstream that answers from a script (one answer per request, in order) and keeps every
/// request it was sent.
#[derive(Default)]
pub struct ScriptedUpstream {
    pub answers: RefCell<VecDeque<Result<UpstreamResponse, UpstreamError>>>,
    pub sent: RefCell<Vec<UpstreamRequest>>,
}

impl ScriptedUpstream {
    pub fn answering(
        answers: impl IntoIterator<Item = Result<UpstreamResponse, UpstreamError>>,
    ) -> ScriptedUpstream {
        ScriptedUpstream {
            answers: RefCell::new(answers.into_iter().collect()),
            sent: RefCell::default(),
        }
    }
}

impl Upstream for ScriptedUpstream {
    fn send(&self, request: &UpstreamRequest) -> Result<UpstreamResponse, UpstreamError> {
        self.sent.borrow_mut().push(request.clone());
        self.answers
            .borrow_mut()
            .pop_front()
            .expect("the script has an answer for every request")
    }
}

/// An upstream answer.
pub fn answer(status: u16, content_type: &str, body: &str) -> UpstreamResponse {
    UpstreamResponse {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.as_bytes().to_vec(),
    }
}

pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

pub fn post<'a>(path: &'a str, body: &'a [u8]) -> Call<'a> {
    Call {
        method: "POST",
        path,
        query: "",
        headers: vec![("Content-Type".into(), "application/json".into())],
        body,
    }
}

pub fn get(path: &str) -> Call<'_> {
    Call {
        method: "GET",
        path,
        query: "",
        headers: vec![],
        body: b"",
    }
}

impl<'a> Call<'a> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn query(mut self, query: &'a str) -> Self {
        self.query = query;
        self
    }

    pub fn method(mut self, method: &'a str) -> Self {
        self.method = method;
        self
    }

    /// Handles the call in store mode (no upstream).
    pub fn send(
        &self,
        kv: &dyn KeyValue,
        config: &Result<Config, ConfigError>,
        now: Timestamp,
    ) -> Response {
        self.send_via(kv, &NoUpstream, config, now)
    }

    /// Handles the call with an upstream.
    pub fn send_via(
        &self,
        kv: &dyn KeyValue,
        upstream: &dyn Upstream,
        config: &Result<Config, ConfigError>,
        now: Timestamp,
    ) -> Response {
        let mut headers = self.headers.clone();
        if is_admin(self.path)
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("x-api-key"))
        {
            headers.push(("X-API-Key".into(), ADMIN_KEY.into()));
        }
        let req = Request {
            method: self.method,
            path: self.path,
            query: self.query,
            headers,
            body: self.body,
        };
        handle(
            &req,
            Env {
                kv,
                upstream,
                clock: &now,
            },
            config,
        )
    }
}

/// A configuration of these variables, and `admin_api_keys` = [`ADMIN_KEY`] unless they set it.
pub fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.entry("admin_api_keys".into())
        .or_insert_with(|| ADMIN_KEY.into());
    Config::from_variables(|name| map.get(name).cloned())
}

pub fn canonical<'a>(body: &'a str, key: &str) -> Call<'a> {
    post("/api/v1/invoice-deletions", body.as_bytes())
        .header("Idempotency-Key", key)
        .header("X-Organization-Id", "acme-vet")
}

pub fn problem_type(r: &Response) -> String {
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{r:?}"
    );
    r.body_json()["type"]
        .as_str()
        .unwrap()
        .trim_start_matches("urn:tombstone:problem:")
        .to_owned()
}

/// A payload of the conformance table.
pub fn payload(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/conformance/payloads/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// One delivery per webhook route — the source in the path, a provider's example, the query —
/// and the status the provider documents for success. The detecting route (`auto`) answers
/// with the detected provider's.
pub const WEBHOOK_ROUTE_CASES: [(&str, &str, &str, u16); 4] = [
    ("mercoa", "mercoa/00-doc-example-verbatim.json", "", 200),
    (
        "willsuite",
        "willsuite/01-doc-example-verbatim.json",
        "clinic_id=clinic-9",
        202,
    ),
    (
        "highlevel",
        "highlevel/01-webhook-doc-example-verbatim.json",
        "",
        200,
    ),
    (
        "auto",
        "highlevel/05-webhook-minimal-identifiers-only.json",
        "",
        200,
    ),
];
