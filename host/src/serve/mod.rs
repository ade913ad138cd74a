//! `tombstone serve`: the Spin component hosted in wasmtime, as Spin hosts it — the WASI 0.2
//! proxy world (wasmtime-wasi + wasmtime-wasi-http), Spin's key-value and variables interfaces
//! (see [`ports::spin`]), a fresh instance per request from one `InstancePre` on the pooling allocator —
//! plus the browser playground's static files at `/playground/`, as `spin.toml`'s fileserver
//! component serves them.
//!
//! The parts:
//!
//! - [`app`]: the loaded component and how one request runs in a fresh instance of it;
//! - [`listener`]: the HTTP/1.1 listener, connection limits, graceful shutdown, `/metrics`;
//! - [`http`]: request bodies (bounded, drained) and the answers the host gives itself;
//! - [`ports`]: what the component reaches through the host — key-value, outbound HTTP,
//!   variables, files, telemetry;
//! - [`options`]: what `serve` is told;
//! - [`fingerprint`]: the check that the component's edge crate is the one this host was built with.

pub mod app;
pub mod fingerprint;
pub mod http;
pub mod listener;
pub mod options;
pub mod ports;

pub use self::app::checked_variables;
pub use self::options::{ServeOptions, MAX_REQUEST_BYTES, SPIN_COMPONENT_FILE};
pub use self::ports::kv::sqlite::Durability;

/// Runs the server until the process is stopped. Prints `listening on http://ADDR` once ready.
pub fn run(options: ServeOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(listener::serve(options))
}
