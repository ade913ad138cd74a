//! Build steps of the tombstone workspace.
//!
//! - `cargo run --release -p xtask -- plugin`: builds `tombstone-plugin` for
//!   `wasm32-unknown-unknown` (profile `wasm`: `opt-level 3`, LTO) and wraps the core module into a component with no imports, at
//!   `target/wasm/tombstone_adapter.wasm`.
//! - `cargo run --release -p xtask -- spin`: builds the Spin component (`tombstone-spin`,
//!   `wasm32-wasip2`, profile `wasm`) and copies it to `target/wasm/tombstone_spin.wasm`.
//! - `cargo run --release -p xtask -- extism`: builds the Extism plugin (`tombstone-extism`,
//!   `wasm32-unknown-unknown`, profile `wasm`) and copies the module to
//!   `target/wasm/tombstone_extism.wasm`.
//! - `cargo run --release -p xtask -- workers`: builds the Cloudflare Workers module
//!   (`tombstone-workers`, `wasm32-unknown-unknown`, profile `wasm`) and copies it to
//!   `workers/build/tombstone_workers.wasm`, where `workers/wrangler.toml`'s shell imports it.
//! - `cargo run --release -p xtask -- all`: all four.
//! - `cargo run --release -p xtask -- plugin-wit`: prints the plugin component's WIT.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "plugin" => build_plugin(),
        "spin" => build_spin(),
        "extism" => build_extism(),
        "workers" => build_workers(),
        "all" => build_plugin()
            .and_then(|()| build_spin())
            .and_then(|()| build_extism())
            .and_then(|()| build_workers()),
        "plugin-wit" => print_plugin_wit(),
        _ => bail!("usage: cargo run --release -p xtask -- plugin | spin | extism | workers | all | plugin-wit"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Where the component is written (the host looks for it here too).
fn component_path() -> PathBuf {
    target_dir().join("wasm").join("tombstone_adapter.wasm")
}

/// `cargo build --profile wasm --locked -p <package> --target <target>`: the command `spin.toml`
/// runs for `spin build` too.
fn cargo_build_wasm(package: &str, target: &str) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--profile",
            "wasm",
            "--locked",
            "-p",
            package,
            "--target",
            target,
        ])
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("building {package} for {target} failed");
    }
    Ok(())
}

fn report(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    let gzipped = gz.finish()?.len();
    println!(
        "{}: {} bytes ({} gzipped)",
        out.display(),
        bytes.len(),
        gzipped
    );
    Ok(())
}

/// The Spin component: rustc's wasm32-wasip2 linker already emits a component; it is copied to
/// `target/wasm/tombstone_spin.wasm`, where `tombstone serve` looks for it.
fn build_spin() -> anyhow::Result<()> {
    cargo_build_wasm("tombstone-spin", "wasm32-wasip2")?;
    let built = target_dir().join("wasm32-wasip2/wasm/tombstone_spin.wasm");
    let component =
        std::fs::read(&built).with_context(|| format!("cannot read {}", built.display()))?;
    let out = target_dir().join("wasm").join("tombstone_spin.wasm");
    std::fs::create_dir_all(out.parent().expect("has a parent"))?;
    std::fs::write(&out, &component)?;
    report(&out, &component)
}

/// The Extism plugin: a plain core module (Extism loads modules, not components), copied to
/// `target/wasm/tombstone_extism.wasm`.
fn build_extism() -> anyhow::Result<()> {
    cargo_build_wasm("tombstone-extism", "wasm32-unknown-unknown")?;
    let built = target_dir().join("wasm32-unknown-unknown/wasm/tombstone_extism.wasm");
    let module =
        std::fs::read(&built).with_context(|| format!("cannot read {}", built.display()))?;
    let out = target_dir().join("wasm").join("tombstone_extism.wasm");
    std::fs::create_dir_all(out.parent().expect("has a parent"))?;
    std::fs::write(&out, &module)?;
    report(&out, &module)
}

/// The Workers module: a plain core module, which `workers/src/index.mjs` imports from
/// `workers/build/` (wrangler bundles it from there).
fn build_workers() -> anyhow::Result<()> {
    cargo_build_wasm("tombstone-workers", "wasm32-unknown-unknown")?;
    let built = target_dir().join("wasm32-unknown-unknown/wasm/tombstone_workers.wasm");
    let module =
        std::fs::read(&built).with_context(|| format!("cannot read {}", built.display()))?;
    let out = workspace_root().join("workers/build/tombstone_workers.wasm");
    std::fs::create_dir_all(out.parent().expect("has a parent"))?;
    std::fs::write(&out, &module)?;
    report(&out, &module)
}

fn build_plugin() -> anyhow::Result<()> {
    cargo_build_wasm("tombstone-plugin", "wasm32-unknown-unknown")?;
    let module_path = target_dir().join("wasm32-unknown-unknown/wasm/tombstone_plugin.wasm");
    let module = std::fs::read(&module_path)
        .with_context(|| format!("cannot read {}", module_path.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()?;
    let out = component_path();
    std::fs::create_dir_all(out.parent().expect("has a parent"))?;
    std::fs::write(&out, &component)?;
    report(&out, &component)
}

fn print_plugin_wit() -> anyhow::Result<()> {
    let path = component_path();
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {}; run `cargo run --release -p xtask -- plugin` first",
            path.display()
        )
    })?;
    let decoded = wit_component::decode(&bytes)?;
    let mut printer = wit_component::WitPrinter::default();
    printer.print(decoded.resolve(), decoded.package(), &[])?;
    println!("{}", printer.output);
    Ok(())
}
