//! # tombstone-host
//!
//! The `tombstone` program: the command line ([`cli`]) and `tombstone serve` ([`serve`]), a
//! small Spin-compatible runtime for the Spin component — the WASI 0.2 proxy world, Spin's
//! key-value and variables interfaces, and the ports behind them. The plugin harness that runs
//! the plugin component for `tombstone convert` is its own crate, `tombstone-harness`
//! (`host/harness`): what an embedder reads.

pub mod cli;
pub mod serve;
