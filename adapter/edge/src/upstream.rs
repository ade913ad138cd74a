//! The outbound-HTTP port: how relay mode reaches the canonical deletion API. The Spin shell
//! implements it over `wasi:http/outgoing-handler`; tests implement it in memory or over real
//! HTTP. Everything relay mode decides about the answer is in [`crate::relay`].

/// Largest upstream answer read; a longer one is not a canonical response.
pub const MAX_UPSTREAM_RESPONSE_BYTES: usize = 64 * 1024;

/// One request to the upstream: always `POST` of a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    /// Absolute `http` or `https` URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How long the whole exchange may take (connect, send, first byte, the whole answer), in
    /// milliseconds.
    pub timeout_ms: u32,
}

impl UpstreamRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The upstream's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// At most [`MAX_UPSTREAM_RESPONSE_BYTES`] of body.
    pub body: Vec<u8>,
}

impl UpstreamResponse {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Nothing (or not all of the answer) arrived in time.
    #[error("the upstream did not answer within {0} ms")]
    Timeout(u32),
    /// The connection could not be made (refused, reset, no route, DNS failure).
    #[error("the upstream could not be reached: {0}")]
    Unreachable(String),
    /// The host refused the outbound request (Spin: the origin is not in the component's
    /// `allowed_outbound_hosts`, which `spin.toml` takes from `upstream_origin`).
    #[error(
        "the outbound request was denied: the upstream's origin is not an allowed outbound host \
         (set upstream_origin to the scheme://host:port of upstream_url)"
    )]
    Denied,
    /// The answer was longer than [`MAX_UPSTREAM_RESPONSE_BYTES`].
    #[error("the upstream's answer is longer than {MAX_UPSTREAM_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// Any other failure of the exchange (protocol error, TLS failure).
    #[error("the upstream request failed: {0}")]
    Failed(String),
}

/// Sends requests to the upstream.
pub trait Upstream {
    /// Sends one request and waits (at most its `timeout_ms`) for the whole answer.
    fn send(&self, request: &UpstreamRequest) -> Result<UpstreamResponse, UpstreamError>;
}

/// The upstream of store mode: there is none, so any attempt is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoUpstream;

impl Upstream for NoUpstream {
    fn send(&self, _: &UpstreamRequest) -> Result<UpstreamResponse, UpstreamError> {
        Err(UpstreamError::Denied)
    }
}
