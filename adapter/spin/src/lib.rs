//! The tombstone ingestion service as a Spin HTTP component. Everything it decides is in
//! `tombstone-edge`; this shell only does I/O:
//!
//! - reads the request body as a stream, stopping one byte past the route's limit (413) or at
//!   `body_timeout_ms` (408), so no body is buffered beyond the contract's (docs/contract.md) limits;
//! - reads the clock and Spin variables (parsed once per instance — Spin runs one per request —
//!   and shared by the request and the dispatch after it; an unusable one is a "not now" answer
//!   on the routes that need it, and `/readyz` names it);
//! - gives the edge crate Spin's default key-value store — `fermyon:spin/key-value` for reads,
//!   writes and deletes, `wasi:keyvalue/atomics.increment` for claims and ids (Spin's own
//!   key-value interface has no atomic check-and-set);
//! - sends relay mode's outbound requests over `wasi:http/outgoing-handler` ([`outbound`]);
//! - writes the edge crate's events to stderr, where Spin keeps the component's log;
//! - once the response is complete, runs the edge crate's work after a response (relay mode's
//!   dispatcher): Spin 4 keeps an instance running until its handler returns.

// `#[http_component]` expands to the component's exported entry point (export names, unsafe ABI
// glue); this crate's own code has no unsafe.
#![allow(unsafe_code)]

mod outbound;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use spin_sdk::key_value;
use spin_sdk::wit::wasi::http0_2_0::types::{Fields, OutgoingBody, OutgoingResponse};
use spin_sdk::wit::wasi::keyvalue::{atomics, store as wasi_store};
use tombstone_core::Timestamp;
use tombstone_edge::config::DEFAULT_BODY_TIMEOUT_MS;
use tombstone_edge::{Config, Env, KeyValue, StoreError};

use crate::outbound::{BodyError, SpinUpstream};

/// The store every instance uses (Spin's `default`, declared in `spin.toml`).
const STORE: &str = "default";

#[http_component]
fn handle(req: IncomingRequest, response_out: ResponseOutparam) {
    let method = req.method().to_string();
    let path_with_query = req.path_with_query().unwrap_or_else(|| "/".to_owned());
    let (path, query) = path_with_query
        .split_once('?')
        .unwrap_or((&path_with_query, ""));
    let headers: Vec<(String, String)> = req
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let declared_length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<u64>().ok());
    let config = Config::from_variables(|name| spin_sdk::variables::get(name).ok());
    let timeout_ms = config
        .as_ref()
        .map_or(DEFAULT_BODY_TIMEOUT_MS, |c| c.body_timeout_ms);
    let store = SpinStore::open();
    let env = Env {
        kv: &store,
        upstream: &SpinUpstream,
        clock: &WallClock,
    };
    let mut response = match outbound::read_body(req, tombstone_edge::body_limit(path), timeout_ms)
    {
        Ok(body) => {
            let request = tombstone_edge::Request {
                method: &method,
                path,
                query,
                headers,
                body: &body,
            };
            tombstone_edge::handle(&request, env, &config)
        }
        Err(error) => {
            let mut answer = match error {
                BodyError::TooLarge => tombstone_edge::body_too_large(path, declared_length),
                BodyError::TooSlow => tombstone_edge::body_too_slow(timeout_ms),
                BodyError::Unreadable => tombstone_edge::body_unreadable(),
            };
            tombstone_edge::summarize(path, &mut answer);
            answer
        }
    };
    write_events(std::mem::take(&mut response.events));
    respond(response_out, response);
    // The response is complete (its body finished): the sender has its answer. Spin keeps the
    // instance running until this function returns, so relay mode's dispatcher runs here.
    write_events(tombstone_edge::after_response(env, &config));
}

/// The edge crate's events, one line each on stderr (Spin's component log).
fn write_events(events: Vec<tombstone_edge::Event>) {
    for event in events {
        eprintln!("{}", event.to_line());
    }
}

/// Sends `response` and finishes its body, so that the client sees the end of it before any
/// work after it.
fn respond(out: ResponseOutparam, response: tombstone_edge::Response) {
    let headers: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let outgoing = OutgoingResponse::new(fields);
    let _ = outgoing.set_status_code(response.status);
    let Ok(body) = outgoing.body() else {
        return;
    };
    out.set(outgoing);
    let written = match body.write() {
        Ok(stream) => response
            .body
            // `blocking-write-and-flush` takes at most 4096 bytes a call.
            .chunks(4096)
            .try_for_each(|chunk| stream.blocking_write_and_flush(chunk)),
        Err(()) => return,
    };
    // The stream is gone (dropped above) before the body is finished, as WASI requires.
    if written.is_ok() {
        let _ = OutgoingBody::finish(body, None);
    }
}

/// Spin's wall clock.
struct WallClock;

impl tombstone_edge::Clock for WallClock {
    fn now(&self) -> Timestamp {
        now()
    }
}

/// The wall clock, to the millisecond.
fn now() -> Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    let millis = since_epoch.subsec_millis() * 1_000_000;
    Timestamp::from_unix(seconds, millis, 3).expect("the clock is within years 1970–9999")
}

/// Spin's default store through both interfaces Spin offers for it.
struct SpinStore {
    kv: Result<key_value::Store, StoreError>,
    bucket: Result<wasi_store::Bucket, StoreError>,
}

fn backend(error: impl std::fmt::Debug) -> StoreError {
    StoreError::unavailable(format!("{error:?}"))
}

impl SpinStore {
    fn open() -> SpinStore {
        SpinStore {
            kv: key_value::Store::open(STORE).map_err(backend),
            bucket: wasi_store::open(STORE).map_err(backend),
        }
    }

    fn kv(&self) -> Result<&key_value::Store, StoreError> {
        self.kv.as_ref().map_err(Clone::clone)
    }
}

impl KeyValue for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.kv()?.get(key).map_err(backend)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv()?.set(key, value).map_err(backend)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv()?.delete(key).map_err(backend)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let bucket = self.bucket.as_ref().map_err(Clone::clone)?;
        atomics::increment(bucket, key, delta).map_err(backend)
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.kv()?.get_keys().map_err(backend)
    }

    fn keys_page(&self, cursor: Option<&str>) -> Result<tombstone_edge::KeyPage, StoreError> {
        let bucket = self.bucket.as_ref().map_err(Clone::clone)?;
        let page = bucket
            .list_keys(cursor.map(str::to_owned).as_deref())
            .map_err(backend)?;
        Ok(tombstone_edge::KeyPage {
            keys: page.keys,
            next: page.cursor,
        })
    }
}
