//! Streams with deadlines over `wasi:http` and `wasi:io`: the incoming request body (bounded in
//! size and time) and relay mode's outbound request (bounded by `upstream_timeout_ms`, from
//! connect to the last byte of the answer, whatever the host's own timeouts are).

use spin_sdk::http::IncomingRequest;
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    http_error_code, ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use tombstone_edge::upstream::MAX_UPSTREAM_RESPONSE_BYTES;
use tombstone_edge::{Upstream, UpstreamError, UpstreamRequest, UpstreamResponse};
use wasi::clocks::monotonic_clock;
use wasi::io::poll::{poll, Pollable};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// Not complete before the deadline.
    TooSlow,
    /// The stream failed.
    Unreadable,
}

/// A point in time after which a wait gives up.
struct Deadline(Pollable);

impl Deadline {
    fn after_ms(ms: u32) -> Deadline {
        Deadline(monotonic_clock::subscribe_duration(
            u64::from(ms) * 1_000_000,
        ))
    }

    /// Waits until `ready` is ready or the deadline passes; `false` when the deadline passed.
    fn wait(&self, ready: &Pollable) -> bool {
        let woken = poll(&[ready, &self.0]);
        woken.contains(&0) || !self.0.ready()
    }
}

/// Reads `stream` to its end: at most `limit` bytes (one more is [`BodyError::TooLarge`]),
/// before `deadline`.
fn read_all(stream: &InputStream, limit: usize, deadline: &Deadline) -> Result<Vec<u8>, BodyError> {
    let readable = stream.subscribe();
    let mut body = Vec::new();
    loop {
        let room = (limit + 1 - body.len()).min(64 * 1024) as u64;
        match stream.read(room) {
            Ok(chunk) if chunk.is_empty() => {
                if !deadline.wait(&readable) {
                    return Err(BodyError::TooSlow);
                }
            }
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > limit {
                    return Err(BodyError::TooLarge);
                }
            }
            Err(StreamError::Closed) => return Ok(body),
            // The host's own cap on the body (`tombstone serve`: 8 MiB) is a body too large too.
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(match http_error_code(&e) {
                    Some(
                        ErrorCode::HttpRequestBodySize(_) | ErrorCode::HttpResponseBodySize(_),
                    ) => BodyError::TooLarge,
                    _ => BodyError::Unreadable,
                })
            }
        }
    }
}

/// The request's body, read as a stream: stops one byte past `limit`, or after `timeout_ms`.
pub fn read_body(
    req: IncomingRequest,
    limit: usize,
    timeout_ms: u32,
) -> Result<Vec<u8>, BodyError> {
    let deadline = Deadline::after_ms(timeout_ms);
    let body = req.consume().map_err(|()| BodyError::Unreadable)?;
    let stream = body.stream().map_err(|()| BodyError::Unreadable)?;
    let read = read_all(&stream, limit, &deadline);
    drop(stream);
    if read.is_ok() {
        drop(IncomingBody::finish(body));
    }
    read
}

/// Writes all of `bytes` to `stream` before `deadline`.
fn write_all(
    stream: &OutputStream,
    bytes: &[u8],
    deadline: &Deadline,
) -> Result<(), UpstreamError> {
    let writable = stream.subscribe();
    let failed = |e: StreamError| UpstreamError::Failed(format!("writing the request body: {e:?}"));
    let mut rest = bytes;
    while !rest.is_empty() {
        let room = stream.check_write().map_err(failed)?;
        if room == 0 {
            if !deadline.wait(&writable) {
                return Err(UpstreamError::Timeout(0));
            }
            continue;
        }
        let n = usize::try_from(room).unwrap_or(usize::MAX).min(rest.len());
        stream.write(&rest[..n]).map_err(failed)?;
        rest = &rest[n..];
    }
    // Every byte is written. A host that has sent the whole declared length may close the stream
    // before the flush is confirmed (Spin does, now and then): that is no failure, and the
    // response future says how the request went.
    match stream.flush() {
        Ok(()) => {}
        Err(StreamError::Closed) => return Ok(()),
        Err(e) => return Err(failed(e)),
    }
    loop {
        match stream.check_write() {
            Ok(_) if writable.ready() => return Ok(()),
            Ok(_) => {
                if !deadline.wait(&writable) {
                    return Err(UpstreamError::Timeout(0));
                }
            }
            Err(StreamError::Closed) => return Ok(()),
            Err(e) => return Err(failed(e)),
        }
    }
}

/// What a `wasi:http` error code means for relay mode.
fn upstream_error(code: ErrorCode, timeout_ms: u32) -> UpstreamError {
    match code {
        ErrorCode::HttpRequestDenied => UpstreamError::Denied,
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => UpstreamError::Timeout(timeout_ms),
        code @ (ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionLimitReached) => UpstreamError::Unreachable(format!("{code:?}")),
        code => UpstreamError::Failed(format!("{code:?}")),
    }
}

/// Relay mode's upstream over `wasi:http/outgoing-handler`.
pub struct SpinUpstream;

impl Upstream for SpinUpstream {
    fn send(&self, request: &UpstreamRequest) -> Result<UpstreamResponse, UpstreamError> {
        let timeout_ms = request.timeout_ms;
        send(request).map_err(|e| match e {
            UpstreamError::Timeout(_) => UpstreamError::Timeout(timeout_ms),
            e => e,
        })
    }
}

fn send(request: &UpstreamRequest) -> Result<UpstreamResponse, UpstreamError> {
    let deadline = Deadline::after_ms(request.timeout_ms);
    let invalid =
        |what: &str| UpstreamError::Failed(format!("the upstream URL's {what} is invalid"));
    let uri: http::Uri = request.url.parse().map_err(|_| invalid("syntax"))?;
    let headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
        .collect();
    let fields = Fields::from_list(&headers)
        .map_err(|e| UpstreamError::Failed(format!("a request header is refused: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    outgoing
        .set_method(&Method::Post)
        .map_err(|()| invalid("method"))?;
    let scheme = if uri.scheme_str() == Some("https") {
        Scheme::Https
    } else {
        Scheme::Http
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid("scheme"))?;
    outgoing
        .set_authority(uri.authority().map(|a| a.as_str()))
        .map_err(|()| invalid("authority"))?;
    outgoing
        .set_path_with_query(Some(uri.path_and_query().map_or("/", |p| p.as_str())))
        .map_err(|()| invalid("path"))?;
    let body = outgoing
        .body()
        .map_err(|()| UpstreamError::Failed("no request body".into()))?;
    // The host's own timeouts, as a second bound (the deadline above is the first).
    let options = RequestOptions::new();
    let ns = Some(u64::from(request.timeout_ms) * 1_000_000);
    let _ = options.set_connect_timeout(ns);
    let _ = options.set_first_byte_timeout(ns);
    let _ = options.set_between_bytes_timeout(ns);
    // Send first, then stream the body: the host forwards the body as it is written.
    let future = outgoing_handler::handle(outgoing, Some(options))
        .map_err(|code| upstream_error(code, request.timeout_ms))?;
    {
        let stream = body
            .write()
            .map_err(|()| UpstreamError::Failed("no request body stream".into()))?;
        write_all(&stream, &request.body, &deadline)?;
    }
    OutgoingBody::finish(body, None).map_err(|code| upstream_error(code, request.timeout_ms))?;

    let ready = future.subscribe();
    let response = loop {
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(code))) => return Err(upstream_error(code, request.timeout_ms)),
            Some(Err(())) => {
                return Err(UpstreamError::Failed("the response was taken twice".into()))
            }
            None => {
                if !deadline.wait(&ready) {
                    return Err(UpstreamError::Timeout(request.timeout_ms));
                }
            }
        }
    };
    drop(ready);
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|()| UpstreamError::Failed("no response body".into()))?;
    let stream = incoming
        .stream()
        .map_err(|()| UpstreamError::Failed("no response body stream".into()))?;
    let body = match read_all(&stream, MAX_UPSTREAM_RESPONSE_BYTES, &deadline) {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Err(UpstreamError::TooLarge),
        Err(BodyError::TooSlow) => return Err(UpstreamError::Timeout(request.timeout_ms)),
        Err(BodyError::Unreadable) => {
            return Err(UpstreamError::Failed("the response body broke off".into()))
        }
    };
    drop(stream);
    drop(IncomingBody::finish(incoming));
    Ok(UpstreamResponse {
        status,
        headers,
        body,
    })
}
