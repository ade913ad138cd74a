//! The tombstone ingestion service as a Spin HTTP component. Everything it decides is in
//! `tombstone-edge`; this shell only copies the request in and the response out, reads the clock
//! and Spin variables, and gives the edge crate Spin's default key-value store:
//! `fermyon:spin/key-value` for reads and writes, `wasi:keyvalue/atomics.increment` for claims
//! (Spin's own key-value interface has no atomic check-and-set).

// `#[http_component]` expands to the component's exported entry point (export names, unsafe ABI
// glue); this crate's own code has no unsafe.
#![allow(unsafe_code)]

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value;
use spin_sdk::wit::wasi::keyvalue::{atomics, store as wasi_store};
use tombstone_core::Timestamp;
use tombstone_edge::{Config, KeyValue, StoreError};

/// The store every instance uses (Spin's `default`, declared in `spin.toml`).
const STORE: &str = "default";

#[http_component]
fn handle(req: Request) -> Response {
    let method = req.method().to_string();
    let headers = req
        .headers()
        .map(|(name, value)| (name.to_owned(), value.as_str().unwrap_or("").to_owned()))
        .collect();
    let request = tombstone_edge::Request {
        method: &method,
        path: req.path(),
        query: req.query(),
        headers,
        body: req.body(),
    };
    let config = Config::from_variables(|name| spin_sdk::variables::get(name).ok());
    let response = tombstone_edge::handle(&request, &SpinStore::open(), &config, now());
    let mut builder = Response::builder();
    builder.status(response.status);
    for (name, value) in response.headers {
        builder.header(name, value);
    }
    builder.body(response.body).build()
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

impl SpinStore {
    fn open() -> SpinStore {
        SpinStore {
            kv: key_value::Store::open(STORE).map_err(|e| StoreError(e.to_string())),
            bucket: wasi_store::open(STORE).map_err(|e| StoreError(format!("{e:?}"))),
        }
    }

    fn kv(&self) -> Result<&key_value::Store, StoreError> {
        self.kv.as_ref().map_err(Clone::clone)
    }
}

impl KeyValue for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.kv()?.get(key).map_err(|e| StoreError(e.to_string()))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv()?
            .set(key, value)
            .map_err(|e| StoreError(e.to_string()))
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let bucket = self.bucket.as_ref().map_err(Clone::clone)?;
        atomics::increment(bucket, key, delta).map_err(|e| StoreError(format!("{e:?}")))
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.kv()?.get_keys().map_err(|e| StoreError(e.to_string()))
    }
}
