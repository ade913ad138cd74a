//! WillSuite `case_invoice_item.deleted` → one `invoice_lines` entry.
//!
//! WillSuite knows nothing of clinics, so the clinic always comes from the delivery context.
//! `invoice_data.id` should equal the item's `case_invoice_id`; when it does not, the item's
//! value is used and a warning says so (WillSuite's own examples disagree on ids).

use serde_json::Value;

use super::{clinic_id, detect_by_event_field, required_id, Detection, Mapped};
use crate::canonical::{DeletionRequest, InvoiceLineDeletion};
use crate::context::Context;
use crate::conversion::Warning;
use crate::error::Problem;
use crate::ids::EntityId;

/// Source name.
pub const NAME: &str = "willsuite";
/// The deletion event (`webhook_type`).
pub const EVENT: &str = "case_invoice_item.deleted";
/// Schema name.
pub const SCHEMA: &str = "willsuite";

pub(crate) fn detect(payload: &Value) -> Detection {
    detect_by_event_field(payload, "webhook_type", EVENT)
}

pub(crate) fn map(payload: &Value, ctx: &Context) -> Result<Mapped, Problem> {
    let mut warnings = Vec::new();
    let invoice_line_id = required_id(payload, "/invoice_item_data/id")?;
    let invoice_id = required_id(payload, "/invoice_item_data/case_invoice_id")?;
    let clinic_id = clinic_id(payload, &[], ctx, &mut warnings)?;
    let invoice_data_id = payload
        .pointer("/invoice_data/id")
        .and_then(Value::as_str)
        .and_then(|s| EntityId::new(s).ok());
    if invoice_data_id.is_some_and(|id| id != invoice_id) {
        warnings.push(Warning::new(
            "/invoice_data/id",
            "id-mismatch",
            "differs from /invoice_item_data/case_invoice_id, which was used",
        ));
    }
    Ok(Mapped {
        request: DeletionRequest {
            invoices: Vec::new(),
            invoice_lines: vec![InvoiceLineDeletion {
                invoice_line_id: invoice_line_id.clone(),
                invoice_id,
                clinic_id,
            }],
        },
        event_id: Some(invoice_line_id),
        warnings,
    })
}
