//! The value types every feature shares: what is stored (tasks, deliveries, the circuit) and
//! what is noted for the operator (events). Each is data with its own pure rules; nothing here
//! imports a feature, the store or the HTTP types, so every feature can import these and a
//! circle cannot form through them (`tests/it/structure.rs` checks it).

pub mod circuit;
pub mod delivery;
pub mod event;
pub mod task;
