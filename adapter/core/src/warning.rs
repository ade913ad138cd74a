//! What is odd in a payload but did not stop its conversion.

use serde::Serialize;

/// Something odd that did not stop the conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// JSON Pointer of the odd place in the payload.
    pub pointer: String,
    /// Stable machine-readable code (`id-mismatch`, `blank-id-ignored`).
    pub code: String,
    /// What is odd, without the value.
    pub message: String,
}

impl Warning {
    /// A warning at `pointer`.
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Warning {
        Warning {
            pointer: pointer.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}
