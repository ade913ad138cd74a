//! WillSuite's two deletion webhooks, both on one route, both answered 202:
//!
//! - `case_invoice_item.deleted` (one line) → one `invoice_lines` entry: the line is
//!   `invoice_item_data.id`, its invoice `invoice_item_data.case_invoice_id`;
//! - `case_invoice.deleted` (a whole invoice) → one `invoices` entry for `invoice_data.id`, no
//!   client. Its items (`invoice_items_data`) are validated and counted (they count against the
//!   5,000-entry limit) but not emitted as lines: deleting an invoice deletes its lines.
//!
//! WillSuite knows nothing of clinics, so the clinic always comes from the delivery context.
//! Ids that should agree but do not are warnings (`id-mismatch`), not errors: WillSuite's own
//! examples disagree on ids.

use super::fields::{clinic_id, detect_by_event_field, required_id};
use super::spec::{
    schema, Detection, EventSpec, Mapped, Proof, Retried, RetryContract, SourceSpec,
};
use crate::canonical::{DeletionRequest, InvoiceDeletion, InvoiceLineDeletion};
use crate::error::{Problem, ProblemKind};
use crate::ids::EntityId;
use crate::json::{Field, Payload};
use crate::limits::MAX_ENTRIES;
use crate::warning::Warning;

#[jsonschema::validator(path = "../../schemas/willsuite.schema.json")]
struct ItemSchema;
#[jsonschema::validator(path = "../../schemas/willsuite-invoice.schema.json")]
struct InvoiceSchema;

/// WillSuite.
pub static SOURCE: SourceSpec = SourceSpec {
    name: "willsuite",
    display_name: "WillSuite",
    success_status: 202,
    // WillSuite publishes no retry policy.
    retry: RetryContract {
        retried: Retried::Unpublished,
        not_now_status: 503,
    },
    proof: Proof::StandardWebhooks {
        secret_variable: "willsuite_webhook_secret",
    },
    events: &[
        EventSpec {
            name: "case_invoice_item.deleted",
            schema: schema!(ItemSchema, "willsuite", "willsuite.schema.json"),
            map: map_item,
            reads: &[
                "/invoice_item_data/id",
                "/invoice_item_data/case_invoice_id",
                "/invoice_data/id",
            ],
        },
        EventSpec {
            name: "case_invoice.deleted",
            schema: schema!(
                InvoiceSchema,
                "willsuite-invoice",
                "willsuite-invoice.schema.json"
            ),
            map: map_invoice,
            reads: &["/invoice_data/id", "/invoice_items_data/*/case_invoice_id"],
        },
    ],
    detect,
    detected_by: &["/webhook_type"],
};

fn detect(payload: &dyn Payload) -> Detection {
    detect_by_event_field(payload, "/webhook_type", SOURCE.events)
}

/// The id at `pointer` if it is a usable id (for comparisons that only warn).
fn comparable_id<'p>(payload: &'p dyn Payload, pointer: &str) -> Option<&'p str> {
    payload
        .str_at(pointer)
        .and_then(|s| EntityId::trimmed(s).ok())
}

fn map_item(payload: &dyn Payload, context_clinic: Option<&EntityId>) -> Result<Mapped, Problem> {
    let mut warnings = Vec::new();
    let invoice_line_id = required_id(payload, "/invoice_item_data/id")?;
    let invoice_id = required_id(payload, "/invoice_item_data/case_invoice_id")?;
    let clinic_id = clinic_id(payload, &[], context_clinic, &mut warnings)?;
    if comparable_id(payload, "/invoice_data/id").is_some_and(|id| id != invoice_id.as_str()) {
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

fn map_invoice(
    payload: &dyn Payload,
    context_clinic: Option<&EntityId>,
) -> Result<Mapped, Problem> {
    let mut warnings = Vec::new();
    let invoice_id = required_id(payload, "/invoice_data/id")?;
    let items = match payload.at("/invoice_items_data") {
        Some(Field::Array(len)) => len,
        _ => 0,
    };
    // The invoice's lines go with it: each counts against the entry limit.
    if 1 + items > MAX_ENTRIES {
        return Err(Problem::at(
            ProblemKind::PayloadTooLarge,
            format!(
                "The invoice has {} items; an invoice and its lines are at most {MAX_ENTRIES} entries.",
                items
            ),
            "/invoice_items_data",
            "maxItems",
            format!("an invoice and its items must be at most {MAX_ENTRIES} entries"),
        ));
    }
    let clinic_id = clinic_id(payload, &[], context_clinic, &mut warnings)?;
    for i in 0..items {
        let pointer = format!("/invoice_items_data/{i}/case_invoice_id");
        if comparable_id(payload, &pointer).is_none_or(|id| id != invoice_id.as_str()) {
            warnings.push(Warning::new(
                pointer,
                "id-mismatch",
                "differs from /invoice_data/id, which was used",
            ));
        }
    }
    Ok(Mapped {
        request: DeletionRequest {
            invoices: vec![InvoiceDeletion {
                invoice_id: invoice_id.clone(),
                clinic_id,
                client_id: None,
            }],
            invoice_lines: Vec::new(),
        },
        event_id: Some(invoice_id),
        warnings,
    })
}
