//! The result of a conversion and its one JSON rendering, shared by every runtime.

use serde::Serialize;

use crate::canonical::{DeletionRequest, DeletionResponse, DeletionStatus, METHOD, PATH};
use crate::ids::{IdempotencyKey, OrganizationId, TaskId};
use crate::sources::Source;
use crate::time::Timestamp;

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

/// A converted delivery: the canonical request to send and the ids that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Where the payload came from.
    pub source: Source,
    /// The organization (`X-Organization-Id`).
    pub organization_id: OrganizationId,
    /// The delivery's own key, or the one derived from the payload (`Idempotency-Key`).
    pub idempotency_key: IdempotencyKey,
    /// Deterministic task id of `organization_id` and `idempotency_key`.
    pub task_id: TaskId,
    /// When the delivery was received (from the caller).
    pub received_at: Timestamp,
    /// `received_at` + the schedule delay.
    pub scheduled_for: Timestamp,
    /// The canonical body.
    pub request: DeletionRequest,
    /// Inconsistencies that did not block the mapping.
    pub warnings: Vec<Warning>,
}

impl Conversion {
    /// Number of `invoices` entries.
    pub fn invoices_count(&self) -> usize {
        self.request.invoices.len()
    }

    /// Number of `invoice_lines` entries.
    pub fn invoice_lines_count(&self) -> usize {
        self.request.invoice_lines.len()
    }

    /// The 202 response for this conversion with `status`.
    pub fn response(&self, status: DeletionStatus) -> DeletionResponse {
        DeletionResponse {
            status,
            task_id: self.task_id.clone(),
            scheduled_for: self.scheduled_for,
            idempotency_key: self.idempotency_key.clone(),
            invoices_count: self.invoices_count(),
            invoice_lines_count: self.invoice_lines_count(),
            received_at: self.received_at,
        }
    }

    /// The conversion as one compact JSON object: `source`, `request` (method, path, headers,
    /// body), `task_id`, `scheduled_for`, `received_at`, the counts and `warnings`. Every runtime
    /// prints exactly these bytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.document()).expect("a conversion always serializes")
    }

    /// The same object as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self.document()).expect("a conversion always serializes")
    }

    fn document(&self) -> ConversionDocument<'_> {
        ConversionDocument {
            source: self.source,
            request: RequestDocument {
                method: METHOD,
                path: PATH,
                headers: Headers {
                    idempotency_key: &self.idempotency_key,
                    organization_id: &self.organization_id,
                },
                body: &self.request,
            },
            task_id: &self.task_id,
            scheduled_for: self.scheduled_for,
            received_at: self.received_at,
            invoices_count: self.invoices_count(),
            invoice_lines_count: self.invoice_lines_count(),
            warnings: &self.warnings,
        }
    }
}

#[derive(Serialize)]
struct ConversionDocument<'a> {
    source: Source,
    request: RequestDocument<'a>,
    task_id: &'a TaskId,
    scheduled_for: Timestamp,
    received_at: Timestamp,
    invoices_count: usize,
    invoice_lines_count: usize,
    warnings: &'a [Warning],
}

#[derive(Serialize)]
struct RequestDocument<'a> {
    method: &'static str,
    path: &'static str,
    headers: Headers<'a>,
    body: &'a DeletionRequest,
}

#[derive(Serialize)]
struct Headers<'a> {
    #[serde(rename = "Idempotency-Key")]
    idempotency_key: &'a IdempotencyKey,
    #[serde(rename = "X-Organization-Id")]
    organization_id: &'a OrganizationId,
}
