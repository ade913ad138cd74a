//! HighLevel `InvoiceDelete` webhook, or the body of a `DELETE /invoices/{id}` response → one
//! `invoices` entry.
//!
//! The published webhook body carries no event field; many real deliveries add
//! `"type": "InvoiceDelete"` and `locationId`. Both shapes are accepted. The clinic is the
//! location: `locationId`, else `altId` when `altType` is `location`, else the delivery context.

use serde_json::Value;

use super::{clinic_id, first_id, not_a_deletion, required_id, Detection, Mapped};
use crate::canonical::{DeletionRequest, InvoiceDeletion};
use crate::context::Context;
use crate::error::Problem;

/// Source name.
pub const NAME: &str = "highlevel";
/// The deletion event (`type`), also used for the DELETE-response shape.
pub const EVENT: &str = "InvoiceDelete";
/// Schema name.
pub const SCHEMA: &str = "highlevel";

pub(crate) fn detect(payload: &Value) -> Detection {
    let has_string = |field: &str| payload.get(field).is_some_and(Value::is_string);
    match payload.get("type").and_then(Value::as_str) {
        Some(EVENT) => Detection::Deletion,
        // `type` is a common field name; only a HighLevel-shaped object is a HighLevel event.
        Some(_) if has_string("_id") => Detection::OtherEvent(not_a_deletion("type", EVENT)),
        Some(_) => Detection::NotThis,
        None if payload.get("type").is_none() && has_string("_id") && has_string("altType") => {
            Detection::Deletion
        }
        None => Detection::NotThis,
    }
}

pub(crate) fn map(payload: &Value, ctx: &Context) -> Result<Mapped, Problem> {
    let mut warnings = Vec::new();
    let invoice_id = required_id(payload, "/_id")?;
    let alt_is_location = payload.get("altType").and_then(Value::as_str) == Some("location");
    let clinic_pointers: &[&str] = if alt_is_location {
        &["/locationId", "/altId"]
    } else {
        &["/locationId"]
    };
    let clinic_id = clinic_id(payload, clinic_pointers, ctx, &mut warnings)?;
    let client_id = first_id(payload, &["/contactDetails/id"], &mut warnings)?;
    Ok(Mapped {
        request: DeletionRequest {
            invoices: vec![InvoiceDeletion {
                invoice_id: invoice_id.clone(),
                clinic_id,
                client_id,
            }],
            invoice_lines: Vec::new(),
        },
        event_id: Some(invoice_id),
        warnings,
    })
}
