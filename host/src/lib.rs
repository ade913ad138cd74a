//! # tombstone-host
//!
//! The hosts of the tombstone adapter: [`plugin::Plugin`] runs the WebAssembly component in
//! wasmtime (compiled once, a fresh or a reused instance per call), for the `tombstone` CLI and
//! for anyone embedding the plugin in their own gateway.
//!
//! ```no_run
//! use tombstone_core::RawContext;
//! use tombstone_host::plugin::{find_component, outcome_json, Plugin};
//!
//! let plugin = Plugin::load(&find_component()?)?;
//! let context = RawContext {
//!     organization_id: Some("acme-vet".into()),
//!     received_at: Some("2026-01-01T00:00:00Z".into()),
//!     ..RawContext::default()
//! };
//! let outcome = plugin.convert(br#"{"type":"InvoiceDelete","_id":"inv_1","locationId":"loc_1"}"#, &context)?;
//! println!("{}", outcome_json(&outcome));
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod compiled;
pub mod plugin;
pub mod serve;
