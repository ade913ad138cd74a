//! # tombstone-harness
//!
//! The tombstone plugin — the WebAssembly component of `adapter/plugin`, world `adapter` of
//! `adapter/wit/adapter.wit` — hosted in wasmtime: the whole of what an embedder needs, in one
//! file and [`compiled`].
//!
//! [`Plugin`] compiles the component once (and keeps the compilation beside it) and keeps an
//! `InstancePre` on an engine with the pooling allocator. Each call can get a fresh instance
//! (as Spin does per request: nothing leaks between deliveries) with [`Plugin::convert`], or
//! reuse one with [`Plugin::instance`]. The plugin imports nothing: no WASI, no clock, no
//! network; the caller passes the payload and the delivery context.
//!
//! ```no_run
//! use tombstone_core::RawContext;
//! use tombstone_harness::{find_component, outcome_json, Plugin};
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
//!
//! `examples/convert.rs` is the same as a program: `cargo run -p tombstone-harness --example
//! convert -- PAYLOAD.json ORGANIZATION`.

pub mod compiled;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tombstone_core::RawContext;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../adapter/wit",
        world: "adapter",
    });
}

pub use bindings::{Context as WitContext, Conversion as WitConversion, Problem as WitProblem};

/// File name of the component artifact (`cargo run --release -p xtask -- plugin` writes it to
/// `target/wasm/`).
pub const COMPONENT_FILE: &str = "tombstone_adapter.wasm";

/// Bytes of each pooled linear memory kept resident between instances (covers the stack, the
/// data segments and the heap of a typical conversion). With `PAGEMAP_SCAN` (Linux 6.7+) only
/// the pages an instance wrote are restored; without it, all of them, each time.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// The compiled plugin, ready to instantiate.
pub struct Plugin {
    engine: Engine,
    pre: bindings::AdapterPre<()>,
}

/// One live instance of the plugin, reusable across calls.
pub struct PluginInstance {
    store: Store<()>,
    adapter: bindings::Adapter,
}

/// What a conversion through the plugin returns: the plugin's own records.
pub type Outcome = Result<WitConversion, WitProblem>;

/// The pooling allocator for a fresh instance per call, with room for `instances` at once; the
/// plugin's engine and `tombstone serve`'s share it.
pub fn pooling(instances: u32) -> PoolingAllocationConfig {
    let mut pooling = PoolingAllocationConfig::default();
    pooling.total_component_instances(instances);
    pooling.total_memories(instances);
    pooling.total_tables(instances);
    // A fresh instance per call would otherwise page-fault its heap back in on every call:
    // keep the first pages of each pooled memory resident, and restore only those written.
    pooling.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
    pooling.pagemap_scan(Enabled::Auto);
    pooling
}

/// The engine every plugin runs on: the pooling allocator, as for a gateway's fresh instance per
/// call.
fn engine() -> anyhow::Result<Engine> {
    let mut pooling = pooling(256);
    pooling.table_keep_resident(64 << 10);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Ok(Engine::new(&config)?)
}

impl Plugin {
    /// Loads the component at `path`: compiled once, then kept beside it (a hidden `.cwasm`
    /// file), so later runs of the command line start without compiling.
    pub fn load(path: &Path) -> anyhow::Result<Plugin> {
        let bytes = std::fs::read(path).with_context(|| {
            format!(
                "cannot read the tombstone plugin at {}; build it with `cargo run --release -p xtask -- plugin`",
                path.display()
            )
        })?;
        let engine = engine()?;
        let component = crate::compiled::component(&engine, path, &bytes)
            .with_context(|| format!("cannot load the tombstone plugin at {}", path.display()))?;
        Plugin::from_component(engine, &component)
    }

    /// Compiles a component from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Plugin> {
        let engine = engine()?;
        let component = Component::new(&engine, bytes)?;
        Plugin::from_component(engine, &component)
    }

    fn from_component(engine: Engine, component: &Component) -> anyhow::Result<Plugin> {
        // The plugin imports nothing, so the linker stays empty.
        let linker = Linker::new(&engine);
        let pre = bindings::AdapterPre::new(linker.instantiate_pre(component)?)?;
        Ok(Plugin { engine, pre })
    }

    /// A new instance, for several calls.
    pub fn instance(&self) -> anyhow::Result<PluginInstance> {
        let mut store = Store::new(&self.engine, ());
        let adapter = self.pre.instantiate(&mut store)?;
        Ok(PluginInstance { store, adapter })
    }

    /// Converts one delivery in a fresh instance.
    pub fn convert(&self, payload: &[u8], context: &RawContext) -> anyhow::Result<Outcome> {
        self.instance()?.convert(payload, context)
    }
}

impl PluginInstance {
    /// Converts one delivery.
    pub fn convert(&mut self, payload: &[u8], context: &RawContext) -> anyhow::Result<Outcome> {
        let context = wit_context(context);
        Ok(self
            .adapter
            .call_convert(&mut self.store, payload, &context)?)
    }

    /// The detected source's name, if any.
    pub fn detect(&mut self, payload: &[u8]) -> anyhow::Result<Option<String>> {
        Ok(self.adapter.call_detect(&mut self.store, payload)?)
    }

    /// The task id of an organization and an idempotency key.
    pub fn task_id(
        &mut self,
        organization_id: &str,
        idempotency_key: &str,
    ) -> anyhow::Result<Result<String, WitProblem>> {
        Ok(self
            .adapter
            .call_task_id(&mut self.store, organization_id, idempotency_key)?)
    }

    /// An embedded JSON Schema's text.
    pub fn schema(&mut self, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self.adapter.call_schema(&mut self.store, name)?)
    }
}

/// The JSON every runtime prints for an outcome: the conversion document or the problem document.
pub fn outcome_json(outcome: &Outcome) -> &str {
    match outcome {
        Ok(conversion) => &conversion.json,
        Err(problem) => &problem.json,
    }
}

fn wit_context(raw: &RawContext) -> WitContext {
    WitContext {
        organization_id: raw.organization_id.clone(),
        clinic_id: raw.clinic_id.clone(),
        idempotency_key: raw.idempotency_key.clone(),
        source: raw.source.clone(),
        received_at: raw.received_at.clone(),
        delay_seconds: raw.delay_seconds,
    }
}

/// Where the component is looked for when no path is given: `$TOMBSTONE_COMPONENT`, next to the
/// running binary, then in `target/wasm/` beside the binary's `target/<profile>/` folder.
pub fn default_component_paths() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(path) = std::env::var_os("TOMBSTONE_COMPONENT") {
        paths.push(PathBuf::from(path));
    }
    paths.extend(beside_the_binary(COMPONENT_FILE));
    paths
}

/// `file` next to the running binary, then in `target/wasm/` beside the binary's
/// `target/<profile>/` folder (where `cargo run -p xtask` writes the components).
pub fn beside_the_binary(file: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        paths.push(dir.join(file));
        // target/release/tombstone or target/release/deps/<test> → target/wasm/
        for up in dir.ancestors().skip(1).take(2) {
            paths.push(up.join("wasm").join(file));
        }
    }
    paths
}

/// The first existing default component path, or an error that says how to build it.
pub fn find_component() -> anyhow::Result<PathBuf> {
    let paths = default_component_paths();
    paths
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .with_context(|| {
            let tried: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            format!(
                "the tombstone plugin ({COMPONENT_FILE}) was not found (tried: {}); build it with \
             `cargo run --release -p xtask -- plugin`, or pass --component PATH",
                tried.join(", ")
            )
        })
}
