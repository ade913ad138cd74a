//! What store mode keeps per task id.

use serde::{Deserialize, Serialize};
use tombstone_core::idempotency::IdempotencyRecord;

/// What is stored per task id: the idempotency record and the task itself (one write).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTask {
    /// The idempotency record (fingerprint, first response, generation, expiry).
    #[serde(flatten)]
    pub record: IdempotencyRecord,
    /// The conversion that was scheduled: source, the canonical request to send (method, path,
    /// headers, body), ids, times and warnings.
    pub conversion: serde_json::Value,
}
