//! Components compiled once and kept: the command line and `tombstone serve` load a component
//! on every start, and compiling one with Cranelift takes far longer than the work it then does.
//! The compiled form is kept beside the component (a hidden `.cwasm` file), named by a hash of
//! the component's bytes and of everything about the engine a compiled component depends on
//! (wasmtime's version, the target, the compiler settings), so a stale file is never found.

use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::Engine;

/// The component `bytes` (read from `path`) for `engine`: the kept compilation when there is
/// one, else compiled now and kept for the next start (best effort: a folder that cannot be
/// written only costs the next start a compilation).
pub fn component(engine: &Engine, path: &Path, bytes: &[u8]) -> anyhow::Result<Component> {
    let compiled = compiled_path(engine, path, bytes);
    if let Some(component) = load(engine, &compiled) {
        return Ok(component);
    }
    let precompiled = engine.precompile_component(bytes)?;
    // Written to a private name, then renamed: concurrent starts never see half a file.
    let partial = compiled.with_extension(format!("{}.partial", std::process::id()));
    if std::fs::write(&partial, &precompiled).is_ok()
        && std::fs::rename(&partial, &compiled).is_err()
    {
        let _ = std::fs::remove_file(&partial);
    }
    Ok(Component::new(engine, bytes)?)
}

fn compiled_path(engine: &Engine, path: &Path, bytes: &[u8]) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{:016x}.cwasm", hasher.finish()))
}

#[allow(unsafe_code)]
fn load(engine: &Engine, compiled: &Path) -> Option<Component> {
    // SAFETY: `deserialize_file` trusts the file to be wasmtime's own output. This one is
    // written only by `component` above, from the component beside it, under a name that
    // hashes that component and this engine; wasmtime also checks its version and
    // configuration header. Whoever could replace it could replace this binary too.
    unsafe { Component::deserialize_file(engine, compiled) }.ok()
}
