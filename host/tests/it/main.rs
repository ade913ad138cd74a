//! The host's integration tests, in one binary: the `tombstone` CLI, `spin.toml` against the
//! code, and `tombstone serve` end to end over real HTTP (store mode, relay mode).
//!
//! The serve tests need the Spin component: `cargo run --release -p xtask -- spin` (CI builds it
//! first).

mod cli;
mod delivery;
mod e2e;
mod hardening;
mod redis;
mod relay;
mod spin_manifest;
mod support;
mod telemetry;
