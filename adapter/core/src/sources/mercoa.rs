//! Mercoa `invoice.deleted` → one `invoices` entry.
//!
//! The clinic is the party that is Mercoa's customer: the vendor when only
//! `invoice.vendor.isCustomer` is true, otherwise the payer. Its id comes from the flat
//! `payerId`/`vendorId`, else the nested `payer.id`/`vendor.id`, else the delivery context. The
//! client is the other party, when it has an id.

use super::fields::{detect_by_event_field, one_invoice, required_id};
use super::spec::{
    schema, Detection, EventSpec, Mapped, Proof, Retried, RetryContract, SourceSpec,
};
use crate::error::Problem;
use crate::ids::EntityId;
use crate::json::{Field, Payload};

#[jsonschema::validator(path = "../../schemas/mercoa.schema.json")]
struct Schema;

/// Mercoa.
pub static SOURCE: SourceSpec = SourceSpec {
    name: "mercoa",
    display_name: "Mercoa",
    success_status: 200,
    // Mercoa sends through Svix, which retries every non-2xx answer for about 28 hours.
    retry: RetryContract {
        retried: Retried::AnyFailure,
        not_now_status: 503,
    },
    proof: Proof::StandardWebhooks {
        secret_variable: "mercoa_webhook_secret",
    },
    events: &[EventSpec {
        name: "invoice.deleted",
        schema: schema!(Schema, "mercoa", "mercoa.schema.json"),
        map,
        reads: &[
            "/invoice/id",
            "/invoice/vendor/isCustomer",
            "/invoice/payer/isCustomer",
            "/invoice/vendorId",
            "/invoice/vendor/id",
            "/invoice/payerId",
            "/invoice/payer/id",
        ],
    }],
    detect,
    detected_by: &["/eventType"],
};

fn detect(payload: &dyn Payload) -> Detection {
    detect_by_event_field(payload, "/eventType", SOURCE.events)
}

fn map(payload: &dyn Payload, context_clinic: Option<&EntityId>) -> Result<Mapped, Problem> {
    let invoice_id = required_id(payload, "/invoice/id")?;
    let is_customer = |pointer: &str| payload.at(pointer) == Some(Field::Bool(true));
    let clinic_is_vendor =
        is_customer("/invoice/vendor/isCustomer") && !is_customer("/invoice/payer/isCustomer");
    let (clinic, client) = if clinic_is_vendor {
        (
            ["/invoice/vendorId", "/invoice/vendor/id"],
            ["/invoice/payerId", "/invoice/payer/id"],
        )
    } else {
        (
            ["/invoice/payerId", "/invoice/payer/id"],
            ["/invoice/vendorId", "/invoice/vendor/id"],
        )
    };
    one_invoice(payload, invoice_id, &clinic, &client, context_clinic)
}
