//! Errors as data: every rejection is a [`Problem`] that renders to RFC 9457 `application/problem+json`.
//!
//! Messages say what is wrong and where, never what the value was: invoice data is private, and
//! problem documents end up in logs.

use serde::{Serialize, Serializer};

/// The kind of a problem; each maps to one HTTP status and one `type` URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The body is not JSON (or not UTF-8). 400.
    InvalidJson,
    /// A required header (or delivery context value) is absent. 400.
    MissingHeader,
    /// A header (or delivery context value) is present but malformed. 400.
    InvalidHeader,
    /// The request's `Content-Type` is not JSON. 415.
    UnsupportedMediaType,
    /// A size or count limit was exceeded. 413.
    PayloadTooLarge,
    /// The payload is none of the known formats. 422.
    UnknownFormat,
    /// The payload does not satisfy its format's JSON Schema or the contract's rules. 422.
    Validation,
    /// The payload is valid but an id the canonical request needs cannot be found. 422.
    Unmappable,
    /// The same organization and key were used before with a different body. 422.
    IdempotencyKeyReuse,
    /// The same organization and key are still being processed. 409.
    Conflict,
    /// A signature or API key is missing or wrong. 401.
    Unauthorized,
    /// No such route or stored resource (edge app). 404.
    NotFound,
    /// The route exists but not for this method (edge app). 405.
    MethodNotAllowed,
    /// A server-side failure (storage, configuration, an upstream that did not confirm); the
    /// delivery was kept in a dead-letter record and may be retried (edge app). 503.
    Unavailable,
    /// The request body did not arrive in time (edge app). 408.
    RequestTimeout,
}

impl ProblemKind {
    /// Every kind, for tables and tests.
    pub const ALL: [ProblemKind; 15] = [
        ProblemKind::InvalidJson,
        ProblemKind::MissingHeader,
        ProblemKind::InvalidHeader,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::PayloadTooLarge,
        ProblemKind::UnknownFormat,
        ProblemKind::Validation,
        ProblemKind::Unmappable,
        ProblemKind::IdempotencyKeyReuse,
        ProblemKind::Conflict,
        ProblemKind::Unauthorized,
        ProblemKind::NotFound,
        ProblemKind::MethodNotAllowed,
        ProblemKind::Unavailable,
        ProblemKind::RequestTimeout,
    ];

    /// The short name used in the `type` URI (`urn:tombstone:problem:<slug>`).
    pub fn slug(self) -> &'static str {
        match self {
            ProblemKind::InvalidJson => "invalid-json",
            ProblemKind::MissingHeader => "missing-header",
            ProblemKind::InvalidHeader => "invalid-header",
            ProblemKind::UnsupportedMediaType => "unsupported-media-type",
            ProblemKind::PayloadTooLarge => "payload-too-large",
            ProblemKind::UnknownFormat => "unknown-format",
            ProblemKind::Validation => "validation",
            ProblemKind::Unmappable => "unmappable",
            ProblemKind::IdempotencyKeyReuse => "idempotency-key-reuse",
            ProblemKind::Conflict => "conflict",
            ProblemKind::Unauthorized => "unauthorized",
            ProblemKind::NotFound => "not-found",
            ProblemKind::MethodNotAllowed => "method-not-allowed",
            ProblemKind::Unavailable => "unavailable",
            ProblemKind::RequestTimeout => "request-timeout",
        }
    }

    /// Parses a slug back into a kind.
    pub fn from_slug(slug: &str) -> Option<ProblemKind> {
        ProblemKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The HTTP status of this kind.
    pub fn status(self) -> u16 {
        match self {
            ProblemKind::InvalidJson | ProblemKind::MissingHeader | ProblemKind::InvalidHeader => {
                400
            }
            ProblemKind::Unauthorized => 401,
            ProblemKind::NotFound => 404,
            ProblemKind::MethodNotAllowed => 405,
            ProblemKind::RequestTimeout => 408,
            ProblemKind::Conflict => 409,
            ProblemKind::PayloadTooLarge => 413,
            ProblemKind::UnsupportedMediaType => 415,
            ProblemKind::UnknownFormat
            | ProblemKind::Validation
            | ProblemKind::Unmappable
            | ProblemKind::IdempotencyKeyReuse => 422,
            ProblemKind::Unavailable => 503,
        }
    }

    /// A short, fixed, human title.
    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::InvalidJson => "Body is not valid JSON",
            ProblemKind::MissingHeader => "Required header is missing",
            ProblemKind::InvalidHeader => "Header is invalid",
            ProblemKind::UnsupportedMediaType => "Unsupported media type",
            ProblemKind::PayloadTooLarge => "Payload too large",
            ProblemKind::UnknownFormat => "Unknown payload format",
            ProblemKind::Validation => "Payload failed validation",
            ProblemKind::Unmappable => "Payload cannot be mapped to a deletion",
            ProblemKind::IdempotencyKeyReuse => "Idempotency key reused with a different body",
            ProblemKind::Conflict => "Request with this idempotency key is still being processed",
            ProblemKind::Unauthorized => "Unauthorized",
            ProblemKind::NotFound => "Not found",
            ProblemKind::MethodNotAllowed => "Method not allowed",
            ProblemKind::Unavailable => "Service unavailable",
            ProblemKind::RequestTimeout => "Request body not received in time",
        }
    }

    /// The RFC 9457 `type` URI.
    pub fn type_uri(self) -> String {
        format!("urn:tombstone:problem:{}", self.slug())
    }
}

impl Serialize for ProblemKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.slug())
    }
}

/// One thing wrong with the input, at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// RFC 6901 JSON Pointer into the payload; `""` is the whole body, `/header/<Name>` a header,
    /// `/context/<field>` a value of the delivery context.
    pub pointer: String,
    /// The JSON Schema keyword (or contract rule named like one) that failed.
    pub keyword: String,
    /// What is wrong, without the value.
    pub message: String,
}

impl FieldError {
    /// A field error at `pointer`.
    pub fn new(
        pointer: impl Into<String>,
        keyword: impl Into<String>,
        message: impl Into<String>,
    ) -> FieldError {
        FieldError {
            pointer: pointer.into(),
            keyword: keyword.into(),
            message: message.into(),
        }
    }
}

/// A rejected input: an RFC 9457 problem with the field errors that explain it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", kind.slug())]
pub struct Problem {
    /// What kind of problem this is (sets `type`, `title` and `status`).
    pub kind: ProblemKind,
    /// One sentence for a person.
    pub detail: String,
    /// Where and what, one entry per place.
    pub errors: Vec<FieldError>,
}

/// At most this many field errors are reported; the detail says when more were found.
pub const MAX_REPORTED_ERRORS: usize = 100;

impl Problem {
    /// A problem with no field errors.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A problem with field errors.
    pub fn with_errors(
        kind: ProblemKind,
        detail: impl Into<String>,
        errors: Vec<FieldError>,
    ) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            errors,
        }
    }

    /// A problem with one field error.
    pub fn at(
        kind: ProblemKind,
        detail: impl Into<String>,
        pointer: impl Into<String>,
        keyword: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem::with_errors(
            kind,
            detail,
            vec![FieldError::new(pointer, keyword, message)],
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The `application/problem+json` document, as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&ProblemDocument::from(self)).expect("a problem always serializes")
    }

    /// The `application/problem+json` document, as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(ProblemDocument::from(self)).expect("a problem always serializes")
    }
}

/// The wire shape of a problem (field order is the wire order).
#[derive(Serialize)]
struct ProblemDocument<'a> {
    #[serde(rename = "type")]
    type_uri: String,
    title: &'static str,
    status: u16,
    detail: &'a str,
    errors: &'a [FieldError],
}

impl<'a> From<&'a Problem> for ProblemDocument<'a> {
    fn from(problem: &'a Problem) -> Self {
        ProblemDocument {
            type_uri: problem.kind.type_uri(),
            title: problem.kind.title(),
            status: problem.kind.status(),
            detail: &problem.detail,
            errors: &problem.errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_spec() {
        let expected = [
            ("invalid-json", 400),
            ("missing-header", 400),
            ("invalid-header", 400),
            ("unsupported-media-type", 415),
            ("payload-too-large", 413),
            ("unknown-format", 422),
            ("validation", 422),
            ("unmappable", 422),
            ("idempotency-key-reuse", 422),
            ("conflict", 409),
            ("unauthorized", 401),
            ("not-found", 404),
            ("method-not-allowed", 405),
            ("unavailable", 503),
            ("request-timeout", 408),
        ];
        for (slug, status) in expected {
            let kind = ProblemKind::from_slug(slug).unwrap();
            assert_eq!(kind.status(), status, "{slug}");
            assert_eq!(kind.slug(), slug);
        }
        assert_eq!(ProblemKind::ALL.len(), expected.len());
    }

    #[test]
    fn renders_rfc9457_fields_in_order() {
        let p = Problem::at(
            ProblemKind::Validation,
            "bad",
            "/a",
            "type",
            "must be a string",
        );
        assert_eq!(
            p.to_json(),
            r#"{"type":"urn:tombstone:problem:validation","title":"Payload failed validation","status":422,"detail":"bad","errors":[{"pointer":"/a","keyword":"type","message":"must be a string"}]}"#
        );
    }
}
