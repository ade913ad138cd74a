//! What crosses between the module and the JavaScript shell. A message is a frame: 4 bytes
//! (little-endian length of the head), the head as JSON, then the body's raw bytes, so that no
//! body is ever re-encoded (signatures are over its exact bytes).

use serde::{Deserialize, Serialize};

/// An incoming request's head (the shell → [`crate`]'s `handle`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestHead {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query without `?` (may be empty).
    pub query: String,
    /// Every header, in arrival order.
    pub headers: Vec<(String, String)>,
}

/// Why the shell could not read a request's body (the shell → `refuse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The request's path (its route sets the limit and the answer's status).
    pub path: String,
    /// What went wrong.
    pub reason: RefusalReason,
    /// The request's `Content-Length`, if it had one.
    pub declared_length: Option<u64>,
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalReason {
    /// Longer than the route's limit.
    TooLarge,
    /// Not all there within `body_timeout_ms`.
    TooSlow,
    /// The stream failed.
    Unreadable,
}

/// A response's head (`handle` → the shell), and the upstream's answer's (the shell → the
/// module).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHead {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
}

/// An upstream request's head (the module → the shell's `upstream_send`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamHead {
    /// Absolute URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The whole exchange's deadline.
    pub timeout_ms: u32,
    /// The most of the answer's body to read; one byte more is a `too-large` failure.
    pub max_response_bytes: usize,
}

/// Why the upstream gave no answer (the shell's `upstream_send`, failing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamFailure {
    /// `timeout`, `unreachable`, `too-large` or `failed`.
    pub kind: String,
    /// What `fetch` said.
    pub message: String,
}

/// A page of keys (the shell's `kv_list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPage {
    /// The keys.
    pub keys: Vec<String>,
    /// The next page's cursor; `null` after the last.
    pub next: Option<String>,
}

/// Whether a path's route reads or writes the store. The others (the dry run, health, the
/// schemas, the document, no route at all) answer from the request alone, so store mode answers
/// them where they arrive instead of in the Durable Object.
pub fn uses_store(path: &str) -> bool {
    use tombstone_edge::routes::Route;
    !matches!(
        Route::parse(path),
        None | Some(Route::Convert | Route::Health | Route::Schema { .. } | Route::OpenApi)
    )
}

/// A frame of `head` and `body`.
pub fn frame(head: &impl Serialize, body: &[u8]) -> Vec<u8> {
    let head = serde_json::to_vec(head).expect("heads always serialize");
    let mut out = Vec::with_capacity(4 + head.len() + body.len());
    out.extend_from_slice(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(body);
    out
}

/// A frame's head and body; `None` for bytes that are not a frame of a `T`.
pub fn unframe<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<(T, &'a [u8])> {
    let length = usize::try_from(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    let head = bytes.get(4..4usize.checked_add(length)?)?;
    let head = serde_json::from_slice(head).ok()?;
    Some((head, &bytes[4 + length..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_gives_back_its_head_and_its_exact_body() {
        let head = ResponseHead {
            status: 202,
            headers: vec![("content-type".into(), "application/json".into())],
        };
        let body = b"{\"a\":1}\xff\x00";
        let framed = frame(&head, body);
        assert_eq!(
            unframe::<ResponseHead>(&framed),
            Some((head, body.as_slice()))
        );
    }

    #[test]
    fn only_the_routes_of_the_store_go_to_the_store() {
        for path in [
            "/api/v1/invoice-deletions",
            "/api/v1/webhooks/mercoa/acme-vet",
            "/api/v1/tasks/abc",
            "/api/v1/deliveries",
            "/api/v1/deliveries/dispatch",
            "/api/v1/maintenance/expire",
            "/readyz",
        ] {
            assert!(uses_store(path), "{path}");
        }
        for path in [
            "/api/v1/convert",
            "/healthz",
            "/schemas/mercoa.json",
            "/openapi.json",
            "/nope",
        ] {
            assert!(!uses_store(path), "{path}");
        }
    }

    #[test]
    fn bytes_that_are_not_a_frame_are_none() {
        assert_eq!(unframe::<ResponseHead>(b""), None);
        assert_eq!(unframe::<ResponseHead>(&[9, 0, 0, 0, b'{']), None);
        assert_eq!(unframe::<ResponseHead>(&[2, 0, 0, 0, b'{', b'}']), None);
        assert_eq!(unframe::<KeyPage>(&frame(&1, b"")), None);
    }
}
