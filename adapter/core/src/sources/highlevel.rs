//! HighLevel `InvoiceDelete` webhook, or the body of a `DELETE /invoices/{id}` response → one
//! `invoices` entry.
//!
//! The published webhook body carries no event field; many real deliveries add
//! `"type": "InvoiceDelete"` and `locationId`. Both shapes are accepted. The clinic is the
//! location: `locationId`, else `altId` when `altType` is `location`, else the delivery context.

use super::fields::{not_a_deletion, one_invoice, required_id};
use super::spec::{
    schema, Detection, EventSpec, Mapped, Proof, Retried, RetryContract, SourceSpec,
};
use crate::error::Problem;
use crate::ids::EntityId;
use crate::json::{Field, Payload};

#[jsonschema::validator(path = "../../schemas/highlevel.schema.json")]
struct Schema;

/// HighLevel. Its deliveries are signed with HighLevel's own keys (Ed25519, legacy RSA).
pub static SOURCE: SourceSpec = SourceSpec {
    name: "highlevel",
    display_name: "HighLevel",
    success_status: 200,
    // HighLevel retries only 429 ("Automated Webhook Retries": up to six more times, about 10
    // minutes apart); every other status, 503 and 409 included, is final.
    retry: RetryContract {
        retried: Retried::Only(&[429]),
        not_now_status: 429,
    },
    proof: Proof::HighLevel {
        secret_variable: "highlevel_webhook_secret",
        ed25519_variable: "highlevel_ed25519_public_key",
        rsa_variable: "highlevel_rsa_public_key",
    },
    // `InvoiceDelete` is also the event of the DELETE-response shape.
    events: &[EventSpec {
        name: "InvoiceDelete",
        schema: schema!(Schema, "highlevel", "highlevel.schema.json"),
        map,
        reads: &[
            "/_id",
            "/altType",
            "/locationId",
            "/altId",
            "/contactDetails/id",
        ],
    }],
    detect,
    detected_by: &["/type", "/_id", "/altType"],
};

fn detect(payload: &dyn Payload) -> Detection {
    let event = &SOURCE.events[0];
    let has_string = |pointer: &str| payload.str_at(pointer).is_some();
    match payload.at("/type") {
        Some(Field::String(name)) if name == event.name => Detection::Deletion(event),
        // `type` is a common field name; only a HighLevel-shaped object is a HighLevel event.
        Some(Field::String(_)) if has_string("/_id") => {
            Detection::OtherEvent(not_a_deletion("/type", SOURCE.events))
        }
        None if has_string("/_id") && has_string("/altType") => Detection::Deletion(event),
        _ => Detection::NotThis,
    }
}

fn map(payload: &dyn Payload, context_clinic: Option<&EntityId>) -> Result<Mapped, Problem> {
    let invoice_id = required_id(payload, "/_id")?;
    let alt_is_location = payload.str_at("/altType") == Some("location");
    let clinic_pointers: &[&str] = if alt_is_location {
        &["/locationId", "/altId"]
    } else {
        &["/locationId"]
    };
    one_invoice(
        payload,
        invoice_id,
        clinic_pointers,
        &["/contactDetails/id"],
        context_clinic,
    )
}
