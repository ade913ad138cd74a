//! The target: the canonical deletion request (`POST /api/v1/invoice-deletions`) and its response.

use serde::{Deserialize, Serialize};

use crate::ids::{EntityId, IdempotencyKey, TaskId};
use crate::time::Timestamp;
use crate::write;

/// Method of the canonical request.
pub const METHOD: &str = "POST";
/// Path of the canonical request.
pub const PATH: &str = "/api/v1/invoice-deletions";

/// An invoice to delete, with all of its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceDeletion {
    /// The invoice.
    pub invoice_id: EntityId,
    /// The clinic (or firm) that owns the invoice.
    pub clinic_id: EntityId,
    /// The counterparty, when the source knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<EntityId>,
}

/// One invoice line to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLineDeletion {
    /// The line.
    pub invoice_line_id: EntityId,
    /// The invoice the line belongs to.
    pub invoice_id: EntityId,
    /// The clinic (or firm) that owns the invoice.
    pub clinic_id: EntityId,
}

/// The canonical request body. Empty arrays are omitted when serialized.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletionRequest {
    /// Invoice-level deletions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoices: Vec<InvoiceDeletion>,
    /// Line-level deletions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoice_lines: Vec<InvoiceLineDeletion>,
}

impl DeletionRequest {
    /// `invoices` + `invoice_lines`.
    pub fn entries(&self) -> usize {
        self.invoices.len() + self.invoice_lines.len()
    }

    /// The body as compact JSON (the bytes that are sent and fingerprinted).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(32 + 128 * self.entries());
        self.write_json(&mut out);
        out
    }

    /// Appends [`DeletionRequest::to_json`]: the bytes `serde_json` gives for it.
    pub(crate) fn write_json(&self, out: &mut String) {
        out.push('{');
        if !self.invoices.is_empty() {
            write::key(out, "invoices", true);
            write::objects(out, &self.invoices, |out, invoice| {
                write::member(out, "invoice_id", invoice.invoice_id.as_str(), true);
                write::member(out, "clinic_id", invoice.clinic_id.as_str(), false);
                if let Some(client_id) = &invoice.client_id {
                    write::member(out, "client_id", client_id.as_str(), false);
                }
            });
        }
        if !self.invoice_lines.is_empty() {
            write::key(out, "invoice_lines", self.invoices.is_empty());
            write::objects(out, &self.invoice_lines, |out, line| {
                write::member(out, "invoice_line_id", line.invoice_line_id.as_str(), true);
                write::member(out, "invoice_id", line.invoice_id.as_str(), false);
                write::member(out, "clinic_id", line.clinic_id.as_str(), false);
            });
        }
        out.push('}');
    }
}

/// `status` of a [`DeletionResponse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletionStatus {
    /// First delivery: a task was scheduled.
    Scheduled,
    /// Same organization, key and body as an earlier delivery: its answer, replayed.
    Duplicate,
    /// Relay mode: stored durably by the edge, which delivers it to the canonical deletion API
    /// in the background, without the sender's help (`GET /api/v1/deliveries/{task_id}`).
    Queued,
    /// Reserved.
    Completed,
    /// Reserved.
    Error,
}

/// The 202 answer to an accepted deletion request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionResponse {
    /// Scheduling outcome.
    pub status: DeletionStatus,
    /// Deterministic Cloud Tasks id.
    pub task_id: TaskId,
    /// When the task runs.
    pub scheduled_for: Timestamp,
    /// The key the delivery was deduplicated by.
    pub idempotency_key: IdempotencyKey,
    /// Number of `invoices` entries.
    pub invoices_count: usize,
    /// Number of `invoice_lines` entries.
    pub invoice_lines_count: usize,
    /// When the first delivery was received.
    pub received_at: Timestamp,
}
