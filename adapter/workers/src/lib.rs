//! The tombstone ingestion service on Cloudflare Workers. Everything it decides is in
//! `tombstone-edge`, unchanged; this crate is the edge crate's ports over a handful of plain wasm
//! imports, which the JavaScript shell (`workers/src/index.mjs`) supplies:
//!
//! - the key-value store: Workers KV (relay mode) or a Durable Object's storage (store mode);
//! - the upstream: `fetch`, with the request's deadline;
//! - the configuration: the Worker's vars and secrets, under the Spin variables' names;
//! - the clock (`Date.now()`), the log (`console.log`) and randomness (`crypto.getRandomValues`).
//!
//! The edge crate's ports are synchronous (Spin's are). On Workers every I/O call returns a
//! promise, so the shell wraps the I/O imports in `WebAssembly.Suspending` and the exports that
//! reach them in `WebAssembly.promising` (JavaScript Promise Integration): the module waits for
//! each answer as Spin's component does, and nothing in the edge crate changes.
//!
//! The module is a plain `wasm32-unknown-unknown` library with no bindings generator between it
//! and the shell: bytes in through [`input`], bytes out through [`output`]. Its ABI is
//! [`abi`]; the shell makes one instance per request, as Spin does.

// The ABI is raw pointers and imported functions: the shell's whole job, as the Spin shell's
// export glue is.
#![allow(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod abi;
#[cfg(target_arch = "wasm32")]
mod ports;

pub mod wire;
