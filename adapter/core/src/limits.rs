//! The contract's limits (docs/contract.md §1), in one place.

/// Largest source webhook body accepted, in bytes (1 MiB).
pub const MAX_SOURCE_BODY_BYTES: usize = 1024 * 1024;

/// Largest canonical body accepted or produced, in bytes (750 KiB).
pub const MAX_CANONICAL_BODY_BYTES: usize = 750 * 1024;

/// Most entries (`invoices` + `invoice_lines`) in one canonical request.
pub const MAX_ENTRIES: usize = 5_000;

/// Deepest JSON nesting accepted (arrays and objects; the top-level value is depth 1).
pub const MAX_DEPTH: usize = 64;

/// Longest schedule delay accepted, in seconds (30 days: the furthest Cloud Tasks schedules ahead).
pub const MAX_DELAY_SECONDS: u32 = 30 * 24 * 60 * 60;
