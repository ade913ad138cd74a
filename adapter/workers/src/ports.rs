//! The edge crate's ports over the shell's imports ([`crate::abi::host`]).

use tombstone_core::Timestamp;
use tombstone_edge::upstream::MAX_UPSTREAM_RESPONSE_BYTES;
use tombstone_edge::{
    Clock, KeyPage, KeyValue, StoreError, Upstream, UpstreamError, UpstreamRequest,
    UpstreamResponse,
};

use crate::abi::{host, Reply};
use crate::wire::{self, ResponseHead, UpstreamFailure, UpstreamHead};

/// The Worker's store: Workers KV or the Durable Object's storage (the shell chooses by mode).
pub struct WorkersStore;

impl KeyValue for WorkersStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match host::kv_get(key) {
            Reply::Value(value) => Ok(Some(value)),
            Reply::Absent => Ok(None),
            Reply::Failed(cause) => Err(StoreError::unavailable(cause)),
        }
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        host::kv_set(key, value).done()
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        host::kv_delete(key).done()
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let corrupt = || StoreError::Corrupt {
            key: key.to_owned(),
            what: "counter",
        };
        match host::kv_increment(key, delta) {
            Reply::Value(text) => std::str::from_utf8(&text)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(corrupt),
            // `kv_increment` answers "absent" for a value that is not a counter.
            Reply::Absent => Err(corrupt()),
            Reply::Failed(cause) => Err(StoreError::unavailable(cause)),
        }
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.keys_page(cursor.as_deref())?;
            keys.extend(page.keys);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    fn keys_page(&self, cursor: Option<&str>) -> Result<KeyPage, StoreError> {
        match host::kv_list(cursor) {
            Reply::Value(json) => {
                let page: wire::KeyPage = serde_json::from_slice(&json)
                    .map_err(|e| StoreError::unavailable(format!("kv_list: {e}")))?;
                Ok(KeyPage {
                    keys: page.keys,
                    next: page.next,
                })
            }
            Reply::Absent => Ok(KeyPage::default()),
            Reply::Failed(cause) => Err(StoreError::unavailable(cause)),
        }
    }
}

impl Reply {
    /// A write's outcome.
    fn done(self) -> Result<(), StoreError> {
        match self {
            Reply::Failed(cause) => Err(StoreError::unavailable(cause)),
            Reply::Value(_) | Reply::Absent => Ok(()),
        }
    }
}

/// Relay mode's upstream: the shell's `fetch`.
pub struct FetchUpstream;

impl Upstream for FetchUpstream {
    fn send(&self, request: &UpstreamRequest) -> Result<UpstreamResponse, UpstreamError> {
        let head = UpstreamHead {
            url: request.url.clone(),
            headers: request.headers.clone(),
            timeout_ms: request.timeout_ms,
            max_response_bytes: MAX_UPSTREAM_RESPONSE_BYTES,
        };
        match host::upstream_send(&wire::frame(&head, &request.body)) {
            Reply::Value(answer) => {
                let (head, body) = wire::unframe::<ResponseHead>(&answer).ok_or_else(|| {
                    UpstreamError::Failed("the shell's answer is not a frame".into())
                })?;
                Ok(UpstreamResponse {
                    status: head.status,
                    headers: head.headers,
                    body: body.to_vec(),
                })
            }
            Reply::Absent => Err(UpstreamError::Failed("no answer".into())),
            Reply::Failed(text) => Err(upstream_error(&text, request.timeout_ms)),
        }
    }
}

/// The failure the shell reports (a [`UpstreamFailure`] as JSON, or any text it threw).
fn upstream_error(text: &str, timeout_ms: u32) -> UpstreamError {
    match serde_json::from_str::<UpstreamFailure>(text) {
        Ok(failure) => match failure.kind.as_str() {
            "timeout" => UpstreamError::Timeout(timeout_ms),
            "unreachable" => UpstreamError::Unreachable(failure.message),
            "too-large" => UpstreamError::TooLarge,
            _ => UpstreamError::Failed(failure.message),
        },
        Err(_) => UpstreamError::Failed(text.to_owned()),
    }
}

/// `Date.now()`: on Workers, the time of the last I/O (the clock stands still while code runs).
pub struct WorkersClock;

impl Clock for WorkersClock {
    fn now(&self) -> Timestamp {
        let millis = host::now_ms();
        let seconds = millis.div_euclid(1000);
        let nanos = u32::try_from(millis.rem_euclid(1000) * 1_000_000).unwrap_or(0);
        Timestamp::from_unix(seconds, nanos, 3).expect("the clock is within years 1970–9999")
    }
}
