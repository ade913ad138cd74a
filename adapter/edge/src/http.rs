//! The HTTP request and response as plain data: what the Spin shell copies in and out, and what
//! the tests build by hand.

use serde::Serialize;
use tombstone_core::{Problem, ProblemKind};

use crate::model::event::Event;
use crate::store::StoreError;

/// Seconds a sender is asked to wait after a transient refusal.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// An incoming request. Header names are compared case-insensitively.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path, without the query (`/api/v1/convert`).
    pub path: &'a str,
    /// The query string without `?` (may be empty).
    pub query: &'a str,
    /// Every header, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body, exactly as received (signatures are over these bytes).
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter, percent-decoded (`+` is a space, as in forms).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k).as_deref() == Some(name)).then(|| percent_decode(v))?
        })
    }
}

/// Decodes a query's name or value: `%XX` escapes, and `+` as a space (form encoding); `None`
/// when the result is not UTF-8 or an escape is broken.
pub fn percent_decode(s: &str) -> Option<String> {
    decode(s, true)
}

/// Decodes a path segment: `%XX` escapes only (in a path, `+` is itself).
pub fn percent_decode_segment(s: &str) -> Option<String> {
    decode(s, false)
}

fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// An outgoing response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// What happened that an operator should know (written to the log by the shell; never sent).
    pub events: Vec<Event>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &impl Serialize) -> Response {
        Response::bytes(
            status,
            "application/json",
            serde_json::to_vec(value).expect("response documents always serialize"),
        )
    }

    /// A response with the given content type.
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
            events: Vec::new(),
        }
    }

    /// A 404 problem.
    pub fn not_found(detail: &str) -> Response {
        Response::problem(&Problem::at(
            ProblemKind::NotFound,
            detail,
            "",
            "route",
            "does not exist",
        ))
    }

    /// 503 `unavailable` with `Retry-After`, for a store that failed an admin route.
    pub fn unavailable(error: &StoreError) -> Response {
        Response::problem(&Problem::new(ProblemKind::Unavailable, error.to_string()))
            .with_header("retry-after", RETRY_AFTER_SECONDS)
    }

    /// An RFC 9457 problem response.
    pub fn problem(problem: &Problem) -> Response {
        Response::bytes(
            problem.status(),
            "application/problem+json",
            problem.to_json().into_bytes(),
        )
    }

    /// A response with no body (204 No Content).
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The same response with one more header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether it is an RFC 9457 problem document.
    pub fn is_problem(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.starts_with("application/problem+json"))
    }

    /// The same response with another status; a problem document's `status` member says the
    /// same (its `type` stays: the kind of problem does not change with the status a sender
    /// needs to see).
    pub fn with_status(mut self, status: u16) -> Response {
        /// A problem document in its wire order.
        #[derive(serde::Deserialize, Serialize)]
        struct Document {
            #[serde(rename = "type")]
            type_uri: String,
            title: String,
            status: u16,
            detail: String,
            errors: serde_json::Value,
        }
        self.status = status;
        if self.is_problem() {
            if let Ok(mut document) = serde_json::from_slice::<Document>(&self.body) {
                document.status = status;
                self.body = serde_json::to_vec(&document).expect("a problem serializes");
            }
        }
        self
    }

    /// What the answer was: `scheduled` or `duplicate` (with the task id) for a deletion, the
    /// problem's kind for a problem document, `http-<status>` for another refusal (an
    /// upstream's, relayed as it came), `ok` otherwise.
    pub fn outcome(&self) -> (String, Option<String>) {
        let is = |t: &str| {
            self.header("content-type")
                .is_some_and(|c| c.starts_with(t))
        };
        if is("application/problem+json") {
            let kind = self.body_json()["type"]
                .as_str()
                .and_then(|t| t.strip_prefix("urn:tombstone:problem:"))
                .unwrap_or("problem")
                .to_owned();
            return (kind, None);
        }
        if (200..300).contains(&self.status) && is("application/json") {
            let body = self.body_json();
            if let (Some(status), Some(task_id)) =
                (body["status"].as_str(), body["task_id"].as_str())
            {
                return (status.to_owned(), Some(task_id.to_owned()));
            }
        }
        if self.status >= 400 {
            return (format!("http-{}", self.status), None);
        }
        ("ok".to_owned(), None)
    }

    /// The body as JSON (for tests and logs).
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_never_an_ok_outcome() {
        let json = |status, content_type: &str, body: &str| {
            Response::bytes(status, content_type, body.as_bytes().to_vec()).outcome()
        };
        let problem = r#"{"type":"urn:tombstone:problem:validation"}"#;
        assert_eq!(
            json(422, "application/problem+json", problem).0,
            "validation"
        );
        // An upstream's refusal, relayed with its own content type.
        assert_eq!(
            json(422, "application/json", r#"{"error":"x"}"#).0,
            "http-422"
        );
        assert_eq!(json(400, "text/plain", "no").0, "http-400");
        let scheduled = r#"{"status":"scheduled","task_id":"t"}"#;
        assert_eq!(
            json(202, "application/json", scheduled),
            ("scheduled".to_owned(), Some("t".to_owned()))
        );
        assert_eq!(json(200, "application/json", "{}").0, "ok");
    }

    #[test]
    fn query_parameters_are_percent_decoded() {
        let req = Request {
            method: "POST",
            path: "/",
            query: "a=1&clinic_id=clinic%2042+north&empty=&flag",
            headers: vec![("X-Organization-Id".into(), "acme".into())],
            body: b"",
        };
        assert_eq!(
            req.query_param("clinic_id").as_deref(),
            Some("clinic 42 north")
        );
        assert_eq!(req.query_param("empty").as_deref(), Some(""));
        assert_eq!(req.query_param("flag").as_deref(), Some(""));
        assert_eq!(req.query_param("missing"), None);
        assert_eq!(req.header("x-organization-id"), Some("acme"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("a+b%2B").as_deref(), Some("a b+"));
        assert_eq!(percent_decode_segment("a+b%2B").as_deref(), Some("a+b+"));
        assert_eq!(percent_decode("%ff"), None);
    }
}
