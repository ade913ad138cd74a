//! Request bodies as the host hands them to the component — bounded, and never left
//! half-read — and the answers the host gives itself.
//!
//! The component reads a body as a stream and stops one byte past its route's limit, or at its
//! deadline, and answers (413, 408) without the rest. A client that is still sending would then
//! meet a closed socket and could lose that answer (the kernel resets a connection closed with
//! unread data). So what the component leaves unread is read and thrown away in the background
//! — at most [`DRAIN_BYTES`] for at most [`DRAIN_TIME`] — before the connection closes. Memory
//! stays bounded: a drained frame is dropped as soon as it arrives.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The most of an unread body the host reads and discards after the answer.
pub const DRAIN_BYTES: u64 = 64 << 20;
/// The longest the host keeps reading an unread body after the answer.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads and discards what is left of `body`, within the drain bounds, in the background.
pub fn drain(body: Incoming) {
    tokio::spawn(async move {
        let mut body = body;
        let mut seen = 0u64;
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    seen += data.len() as u64;
                }
                if seen > DRAIN_BYTES {
                    break;
                }
            }
        })
        .await;
    });
}

/// An incoming body that [`drain`]s itself when dropped unfinished.
pub struct DrainOnDrop {
    body: Option<Incoming>,
}

impl DrainOnDrop {
    /// Wraps a request body.
    pub fn new(body: Incoming) -> DrainOnDrop {
        DrainOnDrop { body: Some(body) }
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            if !body.is_end_stream() {
                drain(body);
            }
        }
    }
}

impl Body for DrainOnDrop {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.body.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

/// A response of the edge crate, sent by the host itself.
pub fn edge_response(edge: tombstone_edge::Response) -> hyper::Response<HyperOutgoingBody> {
    let content_type = edge
        .header("content-type")
        .unwrap_or("text/plain")
        .to_owned();
    let mut r = response(edge.status, &content_type, edge.body.into());
    for (name, value) in &edge.headers {
        if !name.eq_ignore_ascii_case("content-type") {
            if let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::try_from(name.as_str()),
                hyper::header::HeaderValue::try_from(value.as_str()),
            ) {
                r.headers_mut().append(name, value);
            }
        }
    }
    r
}

/// A response of `status` with this content type and body.
pub fn response(
    status: u16,
    content_type: &str,
    body: Bytes,
) -> hyper::Response<HyperOutgoingBody> {
    let mut r = hyper::Response::new(
        Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *r.status_mut() = hyper::StatusCode::from_u16(status).expect("a valid status");
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_str(content_type).expect("a valid header"),
    );
    r
}
