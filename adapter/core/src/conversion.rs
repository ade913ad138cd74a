//! The result of a conversion and its one JSON rendering, shared by every runtime.

use serde::Serialize;

use crate::canonical::{DeletionRequest, DeletionResponse, DeletionStatus, METHOD, PATH};
use crate::ids::{IdempotencyKey, OrganizationId, TaskId};
use crate::sources::spec::Source;
use crate::time::Timestamp;
use crate::warning::Warning;
use crate::write;

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
        self.body_and_json().1
    }

    /// The canonical body ([`DeletionRequest::to_json`]) and [`Conversion::to_json`], which
    /// holds it: the body written once, for callers that need both (the plugin).
    pub fn body_and_json(&self) -> (String, String) {
        let body = self.request.to_json();
        let mut out = String::with_capacity(body.len() + 512);
        out.push('{');
        write::member(&mut out, "source", self.source.name(), true);
        write::key(&mut out, "request", false);
        out.push('{');
        write::member(&mut out, "method", METHOD, true);
        write::member(&mut out, "path", PATH, false);
        write::key(&mut out, "headers", false);
        out.push('{');
        write::member(
            &mut out,
            "Idempotency-Key",
            self.idempotency_key.as_str(),
            true,
        );
        write::member(
            &mut out,
            "X-Organization-Id",
            self.organization_id.as_str(),
            false,
        );
        out.push('}');
        write::key(&mut out, "body", false);
        out.push_str(&body);
        out.push('}');
        write::member(&mut out, "task_id", self.task_id.as_str(), false);
        write::key(&mut out, "scheduled_for", false);
        self.scheduled_for.write_json(&mut out);
        write::key(&mut out, "received_at", false);
        self.received_at.write_json(&mut out);
        write::key(&mut out, "invoices_count", false);
        write::count(&mut out, self.invoices_count());
        write::key(&mut out, "invoice_lines_count", false);
        write::count(&mut out, self.invoice_lines_count());
        write::key(&mut out, "warnings", false);
        write::objects(&mut out, &self.warnings, |out, w| {
            write::member(out, "pointer", &w.pointer, true);
            write::member(out, "code", &w.code, false);
            write::member(out, "message", &w.message, false);
        });
        out.push('}');
        (body, out)
    }

    /// [`Conversion::to_json`] as `serde_json` writes the same document: what the direct
    /// writer is held to.
    #[cfg(test)]
    pub(crate) fn to_json_by_serde(&self) -> String {
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
