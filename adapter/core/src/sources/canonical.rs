//! The canonical request itself: checked strictly and passed through, ids trimmed.

use super::spec::{
    schema, Detection, EventSpec, Mapped, Proof, Retried, RetryContract, SourceSpec,
};
use crate::canonical::{DeletionRequest, InvoiceDeletion, InvoiceLineDeletion};
use crate::error::{FieldError, Problem, ProblemKind};
use crate::ids::EntityId;
use crate::json::{Field, Payload};

#[jsonschema::validator(path = "../../schemas/canonical-request.schema.json")]
struct Schema;

/// The canonical request (a deletion in itself; its key always comes from the delivery).
pub static SOURCE: SourceSpec = SourceSpec {
    name: "canonical",
    display_name: "Canonical",
    success_status: 202,
    retry: RetryContract {
        // The canonical contract: a 409 (the same key in flight) and a 503 say "retry".
        retried: Retried::AnyFailure,
        not_now_status: 503,
    },
    proof: Proof::ApiKey,
    events: &[EventSpec {
        name: "invoice-deletions",
        schema: schema!(Schema, "canonical-request", "canonical-request.schema.json"),
        map,
        reads: &["/invoices", "/invoice_lines"],
    }],
    detect,
    detected_by: &["/invoices", "/invoice_lines"],
};

fn detect(payload: &dyn Payload) -> Detection {
    if payload.at("/invoices").is_some() || payload.at("/invoice_lines").is_some() {
        Detection::Deletion(&SOURCE.events[0])
    } else {
        Detection::NotThis
    }
}

/// How many elements the array at `pointer` has (0 when it is not an array).
fn len(payload: &dyn Payload, pointer: &str) -> usize {
    match payload.at(pointer) {
        Some(Field::Array(len)) => len,
        _ => 0,
    }
}

/// `invoices` + `invoice_lines` of a payload, counted before validation (for the entry limit).
pub(crate) fn entries(payload: &dyn Payload) -> usize {
    len(payload, "/invoices") + len(payload, "/invoice_lines")
}

/// Runs after the schema passed: trims and checks every id, and requires at least one entry.
fn map(payload: &dyn Payload, _context_clinic: Option<&EntityId>) -> Result<Mapped, Problem> {
    let mut errors = Vec::new();
    let mut id = |pointer: String| -> Option<EntityId> {
        let s = payload.str_at(&pointer)?;
        EntityId::new(s)
            .map_err(|e| {
                errors.push(FieldError::new(
                    pointer,
                    e.keyword(),
                    format!("id {e} after trimming"),
                ))
            })
            .ok()
    };

    let mut invoices = Vec::new();
    for i in 0..len(payload, "/invoices") {
        let at = |f: &str| format!("/invoices/{i}/{f}");
        let invoice_id = id(at("invoice_id"));
        let clinic_id = id(at("clinic_id"));
        let client_id = id(at("client_id"));
        if let (Some(invoice_id), Some(clinic_id)) = (invoice_id, clinic_id) {
            invoices.push(InvoiceDeletion {
                invoice_id,
                clinic_id,
                client_id,
            });
        }
    }
    let mut invoice_lines = Vec::new();
    for i in 0..len(payload, "/invoice_lines") {
        let at = |f: &str| format!("/invoice_lines/{i}/{f}");
        let invoice_line_id = id(at("invoice_line_id"));
        let invoice_id = id(at("invoice_id"));
        let clinic_id = id(at("clinic_id"));
        if let (Some(invoice_line_id), Some(invoice_id), Some(clinic_id)) =
            (invoice_line_id, invoice_id, clinic_id)
        {
            invoice_lines.push(InvoiceLineDeletion {
                invoice_line_id,
                invoice_id,
                clinic_id,
            });
        }
    }
    if !errors.is_empty() {
        return Err(Problem::with_errors(
            ProblemKind::Validation,
            "The canonical request has ids that are blank or too long.",
            errors,
        ));
    }
    if invoices.is_empty() && invoice_lines.is_empty() {
        return Err(Problem::at(
            ProblemKind::Validation,
            "The canonical request deletes nothing.",
            "",
            "minItems",
            "at least one of invoices or invoice_lines must be non-empty",
        ));
    }
    Ok(Mapped {
        request: DeletionRequest {
            invoices,
            invoice_lines,
        },
        event_id: None,
        warnings: Vec::new(),
    })
}
