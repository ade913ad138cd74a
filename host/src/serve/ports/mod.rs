//! The ports `tombstone serve` plugs into the Spin component, each a module: the key-value
//! store ([`kv`]: SQLite or Redis, as Spin's runtime config chooses), outbound HTTP
//! ([`outbound`]: only to the allowed hosts), the variables ([`variables`]), the playground's
//! files ([`files`]) and what the operator is told ([`telemetry`], [`metrics`]). [`spin`] is the
//! Spin interfaces the component imports, implemented over the key-value store and the
//! variables.

pub mod files;
pub mod kv;
pub mod metrics;
pub mod outbound;
pub mod spin;
pub mod telemetry;
pub mod variables;
