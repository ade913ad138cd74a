//! The component's `wasi:http/outgoing-handler`, limited the way Spin limits it: a request may
//! go only to the component's `allowed_outbound_hosts` (`spin.toml`: `["{{ upstream_origin }}"]`,
//! resolved from the variables as Spin resolves it); any other is refused with
//! `HttpRequestDenied`, the error Spin gives. Allowed requests go out over one pooled HTTP/1.1
//! client, HTTPS verified against the system's root certificates, with the guest's request
//! options (connect, first-byte and between-bytes timeouts) honoured.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tombstone_edge::config::Origin;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The `allowed_outbound_hosts` entries of the component, as `spin.toml` writes them (a test
/// checks the manifest).
pub const ALLOWED_OUTBOUND_HOSTS: [&str; 1] = ["{{ upstream_origin }}"];

/// A guest that sets no timeout gets these (Spin's are 600 s; ours stay inside the request
/// budget).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, WasiBody>;

/// Where the component may send requests, and the client that sends them. Cheap to clone: one
/// per request's store.
#[derive(Clone)]
pub struct Outbound {
    allowed: Arc<[Origin]>,
    client: HttpsClient,
}

/// Resolves `{{ name }}` templates with the variables, as Spin does for
/// `allowed_outbound_hosts`; an entry that does not parse allows nothing.
pub fn allowed_origins(variable: impl Fn(&str) -> Option<String>) -> Vec<Origin> {
    ALLOWED_OUTBOUND_HOSTS
        .iter()
        .filter_map(|entry| Origin::parse(&expand(entry, &variable)?).ok())
        .collect()
}

/// `template` with each `{{ name }}` replaced by its variable's value, left to right, once: a
/// value is never expanded again (a `{{` inside one stays as it is). `None` for an unknown
/// variable or an unclosed `{{`.
fn expand(template: &str, variable: &impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        out.push_str(&variable(after[..end].trim())?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

impl Outbound {
    /// An outbound policy allowing exactly `allowed`.
    pub fn new(allowed: Vec<Origin>) -> anyhow::Result<Outbound> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Outbound {
            allowed: allowed.into(),
            client,
        })
    }

    fn allows(&self, uri: &http::Uri) -> bool {
        let Some(authority) = uri.authority() else {
            return false;
        };
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        let port = authority
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        self.allowed.iter().any(|o| {
            o.scheme == scheme && o.host.eq_ignore_ascii_case(authority.host()) && o.port == port
        })
    }
}

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _io: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send> {
        let allowed = self.allows(request.uri());
        let client = self.client.clone();
        Box::new(async move {
            if !allowed {
                return Err(Error::HttpRequestDenied);
            }
            let timeout = |d: Option<Duration>| d.unwrap_or(DEFAULT_TIMEOUT).min(DEFAULT_TIMEOUT);
            let options = options.unwrap_or_default();
            let first_byte = timeout(options.connect_timeout)
                .saturating_add(timeout(options.first_byte_timeout));
            let between_bytes =
                timeout(options.between_bytes_timeout).max(Duration::from_millis(1));
            let response = match tokio::time::timeout(first_byte, client.request(request)).await {
                Err(_) => return Err(Error::ConnectionReadTimeout),
                Ok(Err(e)) => return Err(client_error(&e)),
                Ok(Ok(response)) => response,
            };
            let response = response.map(|incoming| {
                TimedBody {
                    incoming,
                    timeout: between_bytes,
                    sleep: Box::pin(tokio::time::sleep(between_bytes)),
                }
                .boxed_unsync()
            });
            Ok((response, Box::new(async { Ok(()) }) as IoFuture))
        })
    }
}

/// What a failed exchange is, in `wasi:http` terms.
fn client_error(e: &hyper_util::client::legacy::Error) -> Error {
    use std::error::Error as _;
    // A failed TLS handshake (an unknown issuer, a wrong name, an alert): what
    // wasmtime-wasi-http's own client, and so Spin, answers for it.
    if is_tls_failure(e) {
        return Error::TlsProtocolError;
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
                std::io::ErrorKind::TimedOut => Error::ConnectionTimeout,
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof => Error::ConnectionTerminated,
                _ => Error::DestinationUnavailable,
            };
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                return Error::ConnectionTerminated;
            }
            if h.is_timeout() {
                return Error::ConnectionReadTimeout;
            }
        }
        source = s.source();
    }
    if e.is_connect() {
        Error::DestinationUnavailable
    } else {
        Error::InternalError(Some(e.to_string()))
    }
}

/// Whether `e`, or an error under it (also inside an `io::Error`), is a rustls error.
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(e) = current {
        if e.is::<rustls::Error>() {
            return true;
        }
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// The upstream's response body, failing with `ConnectionReadTimeout` when no bytes come for
/// the between-bytes timeout.
struct TimedBody {
    incoming: hyper::body::Incoming,
    timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let deadline = tokio::time::Instant::now() + self.timeout;
                self.sleep.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_inside_a_value_is_not_expanded_again() {
        let values = |name: &str| match name {
            "upstream_origin" => Some("{{ upstream_origin }}".to_owned()),
            "open" => Some("{{".to_owned()),
            "host" => Some("127.0.0.1:3001".to_owned()),
            _ => None,
        };
        // It used to loop for ever, expanding the value into itself.
        assert_eq!(allowed_origins(values), vec![]);
        assert_eq!(
            expand("{{ upstream_origin }}", &values).as_deref(),
            Some("{{ upstream_origin }}")
        );
        assert_eq!(expand("a{{open}}b", &values).as_deref(), Some("a{{b"));
        assert_eq!(
            expand("http://{{ host }}", &values).as_deref(),
            Some("http://127.0.0.1:3001")
        );
        assert_eq!(expand("http://{{ nope }}", &values), None);
        assert_eq!(expand("http://{{ host", &values), None);
    }

    #[test]
    fn the_template_resolves_from_the_variables_and_a_bad_value_allows_nothing() {
        let vars = |value: &'static str| {
            move |name: &str| (name == "upstream_origin").then(|| value.to_owned())
        };
        assert_eq!(
            allowed_origins(vars("http://127.0.0.1:8080")),
            [Origin::parse("http://127.0.0.1:8080").unwrap()]
        );
        assert!(allowed_origins(vars("not a host")).is_empty());
        assert!(allowed_origins(|_| None).is_empty());
    }

    #[tokio::test]
    async fn only_the_allowed_origin_passes() {
        let outbound =
            Outbound::new(vec![Origin::parse("https://api.example:8443").unwrap()]).unwrap();
        for (uri, allowed) in [
            ("https://api.example:8443/api/v1/invoice-deletions", true),
            ("https://API.example:8443/x", true),
            ("http://api.example:8443/x", false),
            ("https://api.example/x", false),
            ("https://other.example:8443/x", false),
        ] {
            assert_eq!(outbound.allows(&uri.parse().unwrap()), allowed, "{uri}");
        }
    }
}
