//! The delivery context: what the caller knows about a delivery besides its body, in the
//! checked form the core works with ([`Context`]), and the pointers its problems name. What
//! arrives as strings is [`crate::raw_context::RawContext`].

use crate::ids::{EntityId, IdempotencyKey, OrganizationId};
use crate::sources::spec::Source;
use crate::time::Timestamp;

/// Pointer of the organization header.
pub const ORGANIZATION_POINTER: &str = "/header/X-Organization-Id";
/// Pointer of the idempotency key header.
pub const IDEMPOTENCY_KEY_POINTER: &str = "/header/Idempotency-Key";
/// Pointer of the context's clinic id.
pub const CLINIC_POINTER: &str = "/context/clinic_id";

/// A checked delivery context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The organization (tenant) the deletion belongs to.
    pub organization_id: OrganizationId,
    /// The clinic to use when the payload names none.
    pub clinic_id: Option<EntityId>,
    /// The delivery's own `Idempotency-Key`; derived from the payload when absent.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The source the caller says this is; detected when `None`.
    pub source: Option<Source>,
    /// When the delivery was received (the core reads no clock).
    pub received_at: Timestamp,
    /// How long after `received_at` the task runs.
    pub delay_seconds: u32,
}

impl Context {
    /// A context with only the required values.
    pub fn new(organization_id: OrganizationId, received_at: Timestamp) -> Context {
        Context {
            organization_id,
            clinic_id: None,
            idempotency_key: None,
            source: None,
            received_at,
            delay_seconds: 0,
        }
    }
}
