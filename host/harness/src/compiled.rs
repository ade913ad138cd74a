//! Components compiled once and kept: the command line and `tombstone serve` load a component
//! on every start, and compiling one with Cranelift takes far longer than the work it then does.
//! The compiled form is kept beside the component (a hidden `.cwasm` file), named by a hash of
//! the component's bytes and of everything about the engine a compiled component depends on
//! (wasmtime's version, the target, the compiler settings), so a stale file is not looked for.
//!
//! The name is only where to look. What is loaded is checked: the file starts with a header
//! holding the SHA-256 of the component it was compiled from, which must be this component's,
//! and wasmtime checks that the rest was compiled by a compatible engine. Anything else — a
//! file of another component under this name, one of an older tombstone without the header, a
//! truncated one — is compiled again and replaced.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, Precompiled};

/// What a kept compilation starts with, before the component's SHA-256.
const MAGIC: &[u8; 16] = b"tombstone-cwasm1";

/// The component `bytes` (read from `path`) for `engine`: the kept compilation when there is a
/// valid one, else compiled now and kept for the next start (best effort: a folder that cannot
/// be written only costs the next start a compilation).
pub fn component(engine: &Engine, path: &Path, bytes: &[u8]) -> anyhow::Result<Component> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let compiled = compiled_path(engine, path, bytes);
    if let Some(component) = load(engine, &compiled, &digest) {
        return Ok(component);
    }
    let precompiled = engine.precompile_component(bytes)?;
    let mut file = Vec::with_capacity(MAGIC.len() + digest.len() + precompiled.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&digest);
    file.extend_from_slice(&precompiled);
    // Written to a private name, then renamed: concurrent starts never see half a file.
    let partial = compiled.with_extension(format!("{}.partial", std::process::id()));
    if std::fs::write(&partial, &file).is_ok() && std::fs::rename(&partial, &compiled).is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    Ok(Component::new(engine, bytes)?)
}

/// Where the compilation of `bytes` (at `path`) for `engine` is kept.
pub fn compiled_path(engine: &Engine, path: &Path, bytes: &[u8]) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{:016x}.cwasm", hasher.finish()))
}

/// The kept compilation at `compiled`, if it is this component's (`digest`) and a component
/// compiled by an engine like `engine`.
#[allow(unsafe_code)]
fn load(engine: &Engine, compiled: &Path, digest: &[u8; 32]) -> Option<Component> {
    let file = std::fs::read(compiled).ok()?;
    let rest = file.strip_prefix(MAGIC.as_slice())?;
    let (of, precompiled) = rest.split_at_checked(digest.len())?;
    if of != digest || Engine::detect_precompiled(precompiled) != Some(Precompiled::Component) {
        return None;
    }
    // SAFETY: `deserialize` trusts its bytes to be wasmtime's own output. These are checked to
    // be the compilation, written by `component` above, of this very component (its SHA-256),
    // and wasmtime checks its version and configuration header against `engine`. Whoever
    // could write a matching file could replace this binary too.
    unsafe { Component::deserialize(engine, precompiled) }.ok()
}
